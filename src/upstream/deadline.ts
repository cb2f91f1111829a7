import { badRequest } from "../errors/gateway-error.js";
import type { StreamCall } from "./upstream.js";

/** Milliseconds per `grpc-timeout` unit (gRPC over HTTP/2: Hours, Minutes, Seconds, milli, micro, nano). */
const MS_PER_UNIT: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 1e-3, n: 1e-6 };
const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;

/**
 * Parses a `grpc-timeout` header (1 to 8 digits and a unit, e.g. `250m`, `5S`) into milliseconds,
 * fractional for `u` and `n`. Throws INVALID_ARGUMENT `PG_ERR_BAD_TIMEOUT` otherwise.
 */
export function parseGrpcTimeout(header: string): number {
  const match = GRPC_TIMEOUT.exec(header);
  if (match === null) {
    throw badRequest("PG_ERR_BAD_TIMEOUT", `invalid grpc-timeout header ${JSON.stringify(header.slice(0, 32))}: expected 1 to 8 digits followed by one of H, M, S, m, u, n`);
  }
  return Number(match[1]) * MS_PER_UNIT[match[2]];
}

/**
 * The timeout of an upstream call in ms: the route's default, shortened (never lengthened) by the
 * client's `grpc-timeout` header when present.
 */
export function callTimeoutMs(routeDefaultMs: number, clientHeader: string | undefined): number {
  return clientHeader === undefined ? routeDefaultMs : Math.min(routeDefaultMs, parseGrpcTimeout(clientHeader));
}

/**
 * A transport's deadline timer may fire, and an upstream's own DEADLINE_EXCEEDED arrive, this
 * close before the wall clock reaches the deadline; either then counts as the gateway's deadline.
 */
const DEADLINE_CLOCK_SLACK_MS = 5;

/** Whether a DEADLINE_EXCEEDED seen at `nowMs` is the gateway's deadline rather than the upstream's own. */
export function gatewayDeadlineReached(call: Pick<StreamCall, "deadline">, nowMs: number): boolean {
  return call.deadline !== undefined && nowMs >= call.deadline - DEADLINE_CLOCK_SLACK_MS;
}

/**
 * The longest timer Node runs as asked: a longer one fires after 1 ms (with a warning). A
 * deadline further out (about 24.8 days) is armed for this long instead.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
