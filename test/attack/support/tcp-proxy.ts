import { connect, createServer, type AddressInfo, type Socket } from "node:net";

/**
 * A loopback TCP proxy in front of a backend, so that a test sees each connection attempt a
 * client makes, and can point the client at a new backend at a moment of its choosing. A
 * connection the backend refuses (or resets) is reset towards the client, as the backend's own
 * refusal would be; bytes pass through untouched.
 */
export interface TcpProxy {
  /** Where clients connect. */
  readonly address: string;
  /** The backend new connections go to (`host:port`). */
  target: string;
  /** Resolves once `count` connection attempts in all have failed to reach the target. */
  failedAttempts(count: number): Promise<void>;
  /** Stops listening and resets every connection. */
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  let failed = 0;
  const waiters = new Set<{ count: number; resolve(): void }>();
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  };
  const attemptFailed = () => {
    failed++;
    for (const waiter of waiters) {
      if (failed < waiter.count) continue;
      waiters.delete(waiter);
      waiter.resolve();
    }
  };
  const server = createServer((client) => {
    track(client);
    const colon = proxy.target.lastIndexOf(":");
    const backend = connect({ host: proxy.target.slice(0, colon), port: Number(proxy.target.slice(colon + 1)) });
    track(backend);
    let connected = false;
    backend.once("connect", () => (connected = true));
    // The client's bytes wait in the backend socket until it connects.
    client.pipe(backend);
    backend.pipe(client);
    // A refused or reset backend connection is reset towards the client; a backend's end (FIN) is passed on by the pipe.
    backend.once("close", (hadError) => {
      if (!hadError) return;
      if (!connected) attemptFailed();
      if (!client.destroyed) client.resetAndDestroy();
    });
    client.once("close", () => backend.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxy: TcpProxy = {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    target,
    failedAttempts: (count) => (failed >= count ? Promise.resolve() : new Promise((resolve) => void waiters.add({ count, resolve }))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.resetAndDestroy();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
