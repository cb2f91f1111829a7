import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { gcraParams, type GcraParams } from "../ratelimit/gcra.js";
import { durationJson, retryAfter } from "../errors/retry-after.js";
import { createMemoryStore, type MemoryStore } from "../ratelimit/memory-store.js";
import type { LimitCheck } from "../ratelimit/store.js";
import { isGatewaySideRejection } from "./jwt/jwt-errors.js";

/** `auth.failedAttempts`: failed authentications allowed per client IP. */
export interface FailedAttemptsConfig {
  readonly requests: number;
  readonly periodSeconds: number;
  /** Failures allowed at once (default `requests`). */
  readonly burst?: number;
}

/** Throttles clients whose credentials keep failing. */
export interface FailedAttemptLimiter {
  /**
   * Throws the 429 RESOURCE_EXHAUSTED (with Retry-After) when `clientIp` has used up its failed
   * attempts; returns normally otherwise. Called before any credential is looked at.
   */
  check(clientIp: string): void;
  /** Counts `error` against `clientIp` when it is a failed authentication the client caused. */
  record(clientIp: string, error: unknown): void;
}

export interface FailedAttemptLimiterOptions {
  /** Clock in microseconds (tests inject one). */
  readonly nowUs?: () => number;
  /** Bound on the client IPs tracked (default 100,000). */
  readonly maxKeys?: number;
}

const DEFAULT_MAX_KEYS = 100_000;
const QUOTA_FAILURE_TYPE = "type.googleapis.com/google.rpc.QuotaFailure";

/**
 * A GCRA bucket per client IP in the rate limiter's memory store (per replica, bounded like it):
 * each failed authentication takes one token; while the bucket is empty, every request from that
 * IP is answered 429 before its credentials are read, so an attacker guessing API keys or
 * replaying junk tokens gets `requests` tries per `periodSeconds` (after a first `burst`) and no
 * signature verification beyond that. Successful requests cost nothing and refill nothing.
 *
 * What counts as a failure: a presented credential rejected with 401 (malformed, invalid,
 * expired, unknown key...), except rejections that are the gateway's own trouble ("key set
 * unavailable" while the JWKS server is down must not lock legitimate clients out). A request
 * without credentials on a protected method (401 without `error`) and a 403 do not count: they
 * cost the gateway no verification and guess nothing.
 *
 * IPv6 clients are keyed by their /64 (one subscriber's allocation), so cycling addresses within
 * it buys nothing.
 */
export function createFailedAttemptLimiter(config: FailedAttemptsConfig, options: FailedAttemptLimiterOptions = {}): FailedAttemptLimiter {
  const params: GcraParams = gcraParams(config.requests, config.periodSeconds, config.burst ?? config.requests);
  const store: MemoryStore = createMemoryStore({ maxKeys: options.maxKeys ?? DEFAULT_MAX_KEYS, ...(options.nowUs && { nowUs: options.nowUs }) });
  const checksFor = (clientIp: string): LimitCheck[] => [{ key: clientKey(clientIp), params }];
  const description = `at most ${config.requests} failed authentications per ${config.periodSeconds} s per client IP`;

  return {
    check(clientIp) {
      const decision = store.peek(checksFor(clientIp));
      if (decision.allowed) return;
      const retryAfterUs = decision.states[0].retryAfterUs;
      const wait = retryAfter(retryAfterUs);
      throw new GatewayError(GrpcCode.RESOURCE_EXHAUSTED, "PG_ERR_RATE_LIMITED", `too many failed authentication attempts from this client; retry after ${durationJson(retryAfterUs)}`, {
        headers: { "retry-after": wait.header },
        authFailure: "locked_out",
        details: [
          wait.detail,
          { "@type": QUOTA_FAILURE_TYPE, violations: [{ subject: "limit:auth.failedAttempts", description }] },
        ],
      });
    },
    record(clientIp, error) {
      if (!isClientAuthFailure(error)) return;
      store.consume(checksFor(clientIp));
    },
  };
}

/** A 401 about presented credentials that the client, not the gateway, is to blame for. */
function isClientAuthFailure(error: unknown): boolean {
  return error instanceof GatewayError && error.code === GrpcCode.UNAUTHENTICATED && !isGatewaySideRejection(error);
}

/**
 * The bucket key of a client address: an IPv4 address as it is (an IPv4-mapped IPv6 address as
 * its IPv4 form), an IPv6 address as its /64 prefix.
 */
export function clientKey(ip: string): string {
  if (!ip.includes(":")) return ip;
  let address = ip.toLowerCase();
  const zone = address.indexOf("%");
  if (zone >= 0) address = address.slice(0, zone);
  if (address.startsWith("::ffff:") && address.includes(".")) return address.slice("::ffff:".length);
  const halves = address.split("::");
  if (halves.length > 2) return address; // not an address; keyed as it is
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const tail = halves.length === 1 || halves[1] === "" ? [] : halves[1].split(":");
  // An embedded IPv4 tail (::1.2.3.4) fills two groups; only the first four groups matter here.
  const tailGroups = tail.length > 0 && tail[tail.length - 1].includes(".") ? tail.length + 1 : tail.length;
  const groups = halves.length === 1 ? head : [...head, ...new Array<string>(Math.max(0, 8 - head.length - tailGroups)).fill("0"), ...tail];
  const prefix = groups.slice(0, 4).map((group) => (/^[0-9a-f]{1,4}$/.test(group) ? Number.parseInt(group, 16).toString(16) : group));
  return `${prefix.join(":")}::/64`;
}
