import { readFileSync } from "node:fs";
import type { Server } from "node:net";
import type { Socket } from "node:net";

/** Caps on open client connections. */
export interface ConnectionLimits {
  readonly maxConnections: number;
  /** 0: no cap per address. */
  readonly maxConnectionsPerIp: number;
}

/** Why a connection was refused, for the refusal's message. */
export type RefusalReason = "server" | "client";

export interface ConnectionGuardOptions {
  /** Peers exempt from the per-address cap (the trusted proxies in front of the gateway). */
  readonly isTrustedPeer: (address: string) => boolean;
  /** Answers and closes a refused connection (nothing else has touched the socket yet). */
  readonly refuse: (socket: Socket, reason: RefusalReason) => void;
}

/** Live connection counts, for tests and (later) metrics. */
export interface ConnectionGuard {
  readonly open: () => number;
  readonly openFrom: (address: string) => number;
}

/**
 * Caps the connections a server holds, in total and per client address, so that one client (or
 * a crowd of slow ones) cannot use up the process's file descriptors and lock everyone else out.
 *
 * It sits in front of the server's own `connection` listeners (Node's HTTP parser, the TLS
 * handshake): a refused socket never reaches them, so it costs no parser and no handshake.
 */
export function guardConnections(server: Server, limits: ConnectionLimits, options: ConnectionGuardOptions): ConnectionGuard {
  const downstream = server.listeners("connection") as Array<(socket: Socket) => void>;
  server.removeAllListeners("connection");
  let open = 0;
  const perAddress = new Map<string, number>();

  server.on("connection", (socket: Socket) => {
    const address = peerAddress(socket);
    const fromHere = perAddress.get(address) ?? 0;
    const capAddress = limits.maxConnectionsPerIp > 0 && !options.isTrustedPeer(address);
    if (open >= limits.maxConnections || (capAddress && fromHere >= limits.maxConnectionsPerIp)) {
      options.refuse(socket, open >= limits.maxConnections ? "server" : "client");
      return;
    }
    open++;
    perAddress.set(address, fromHere + 1);
    socket.once("close", () => {
      open--;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left === 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
    for (const listener of downstream) listener.call(server, socket);
  });
  return { open: () => open, openFrom: (address) => perAddress.get(address) ?? 0 };
}

/** The peer's address, with IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as plain IPv4. */
export function peerAddress(socket: Pick<Socket, "remoteAddress">): string {
  const address = socket.remoteAddress ?? "";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/**
 * The default of `server.maxConnections` ("auto"): 80% of the soft open-file limit, keeping the
 * rest for upstream connections, Redis, key servers and logs. 10,000 where the limit is unknown.
 */
export function defaultMaxConnections(limitsFile = "/proc/self/limits"): number {
  try {
    const line = readFileSync(limitsFile, "utf8")
      .split("\n")
      .find((row) => row.startsWith("Max open files"));
    const soft = line === undefined ? NaN : Number(line.slice("Max open files".length).trim().split(/ +/)[0]);
    if (Number.isFinite(soft) && soft > 0) return Math.max(16, Math.floor(soft * 0.8));
  } catch {
    // Not Linux, or no /proc: fall through.
  }
  return 10_000;
}
