import { createServer, connect, type Socket } from "node:net";

/** A gateway process behind the balancer: its public port and its admin /readyz. */
export interface BalancedBackend {
  readonly port: number;
  readonly readyzUrl: string;
}

/** A TCP round-robin balancer for tests, placing each client connection on a ready backend. */
export interface RoundRobinBalancer {
  /** `http://127.0.0.1:PORT` of the balancer. */
  readonly url: string;
  /** Puts `backend` in `slot` (replacing what was there); it takes no connection before its /readyz answered 200. */
  set(slot: number, backend: BalancedBackend): void;
  /** Resolves once the backend now in `slot` answered /readyz 200. */
  ready(slot: number): Promise<void>;
  /** Client connections accepted so far. */
  accepted(): number;
  /** Client connections that no backend took (none ready, or the connect to the chosen one failed): closed at once. */
  failures(): number;
  close(): Promise<void>;
}

interface Slot {
  readonly backend: BalancedBackend;
  /** Whether its last /readyz check answered 200. */
  ready: boolean;
  checking: boolean;
  readonly waiters: Array<() => void>;
}

/**
 * What a cloud or Kubernetes load balancer does in front of gateway replicas, reduced to what a
 * rolling-restart test needs: a backend takes new connections only while its /readyz answered 200
 * at the last check, each check every `checkIntervalMs` (an L4 balancer: a client connection stays
 * on the backend it was placed on until either side closes it). It never retries a connection on
 * another backend: a gateway that refuses one shows as a failure, not hidden by the balancer.
 */
export async function startRoundRobinBalancer(checkIntervalMs = 100): Promise<RoundRobinBalancer> {
  const slots: Slot[] = [];
  const open = new Set<Socket>();
  let next = 0;
  let accepted = 0;
  let failures = 0;

  const check = async (slot: Slot): Promise<void> => {
    if (slot.checking) return;
    slot.checking = true;
    try {
      const response = await fetch(slot.backend.readyzUrl, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      slot.ready = response.status === 200;
    } catch {
      slot.ready = false;
    } finally {
      slot.checking = false;
    }
    if (slot.ready) for (const resolve of slot.waiters.splice(0)) resolve();
  };
  const poll = setInterval(() => slots.forEach((slot) => void check(slot)), checkIntervalMs);

  const pick = (): Slot | undefined => {
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[(next + i) % slots.length];
      if (slot.ready) {
        next = (next + i + 1) % slots.length;
        return slot;
      }
    }
    return undefined;
  };

  const server = createServer((client) => {
    accepted++;
    open.add(client);
    client.once("close", () => open.delete(client));
    const slot = pick();
    if (!slot) {
      failures++;
      client.destroy();
      return;
    }
    const upstream = connect(slot.backend.port, "127.0.0.1");
    open.add(upstream);
    upstream.once("close", () => open.delete(upstream));
    let connected = false;
    upstream.once("connect", () => (connected = true));
    // Each side's end (FIN) is passed on by pipe; an error or reset on one side resets the other.
    client.pipe(upstream);
    upstream.pipe(client);
    upstream.on("error", () => {
      if (!connected) failures++;
      client.destroy();
    });
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    set: (index, backend) => {
      slots[index] = { backend, ready: false, checking: false, waiters: [] };
    },
    ready: (index) => {
      const slot = slots[index];
      return slot.ready ? Promise.resolve() : new Promise((resolve) => slot.waiters.push(resolve));
    },
    accepted: () => accepted,
    failures: () => failures,
    close: async () => {
      clearInterval(poll);
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
