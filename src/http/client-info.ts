import type { IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import proxyAddr from "@fastify/proxy-addr";
import type { GatewayConfig } from "../config/schema.js";
import type { ClientInfo } from "../upstream/metadata.js";

/** A function that says whether the hop `i` away (0: the peer) at `address` is a trusted proxy. */
type TrustFunction = (address: string, hop: number) => boolean;

/** The parts of a Node request (HTTP/1, HTTP/2 compat, or an upgrade) the client's identity comes from. */
export interface ClientSource {
  readonly headers: IncomingHttpHeaders;
  readonly socket: Socket;
}

/**
 * What the gateway knows of the client, computed the way Fastify computes `request.ip`, `ips`,
 * `host` and `protocol` under `trustProxy` (proxy-addr walks X-Forwarded-For back to the first
 * untrusted hop; X-Forwarded-Host and -Proto are believed only from a trusted peer), but in one
 * place for plain requests and WebSocket upgrades alike (an upgrade never reaches Fastify).
 */
export function createClientInfo(trustProxy: GatewayConfig["server"]["trustProxy"]): (request: ClientSource) => ClientInfo {
  const trust: TrustFunction | undefined =
    trustProxy === undefined ? undefined : typeof trustProxy === "number" ? (_address, hop) => hop < trustProxy : proxyAddr.compile([...trustProxy]);
  return (request) => {
    const { headers, socket } = request;
    const encrypted = (socket as TLSSocket).encrypted === true;
    const host = headers.host ?? (headers[":authority"] as string | undefined) ?? "";
    if (trust === undefined) return { ip: socket.remoteAddress ?? "", host, protocol: encrypted ? "https" : "http" };
    // Boundary: proxy-addr types its request as an IncomingMessage; it reads only headers and socket.
    const forwardedFor = proxyAddr.all(request as Parameters<typeof proxyAddr.all>[0], trust);
    const peerTrusted = trust(socket.remoteAddress ?? "", 0);
    const forwardedHost = headers["x-forwarded-host"];
    const forwardedProto = headers["x-forwarded-proto"];
    return {
      ip: forwardedFor[forwardedFor.length - 1],
      forwardedFor,
      host: peerTrusted && typeof forwardedHost === "string" && forwardedHost !== "" ? lastEntry(forwardedHost) : host,
      protocol: peerTrusted && typeof forwardedProto === "string" && forwardedProto !== "" ? lastEntry(forwardedProto) : encrypted ? "https" : "http",
    };
  };
}

/** The last entry of a header that was sent more than once (joined with commas). */
function lastEntry(value: string): string {
  const comma = value.lastIndexOf(",");
  return comma === -1 ? value.trim() : value.slice(comma + 1).trim();
}
