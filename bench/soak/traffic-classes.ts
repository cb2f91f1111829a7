// The soak's traffic mix: one row per request class, each with the status it must get. A new
// class (a stream, once the gateway has them) is one more row here.
import { searchBody } from "../routes.js";
import type { SoakAuth } from "./soak-auth.js";

/** One HTTP request to send. */
export interface SoakRequest {
  readonly method: "GET" | "POST";
  /** Path and query. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/**
 * Answers of another status that a class may get a bounded number of: a rate-limited caller is
 * admitted within its quota (GCRA admits at most `burst + requests * t / period` in `t` seconds).
 */
export interface Allowance {
  readonly status: number;
  /** How many such answers are allowed after `elapsedSeconds` of traffic. */
  max(elapsedSeconds: number): number;
  readonly why: string;
}

/** A kind of request in the mix. */
export interface TrafficClass {
  readonly name: string;
  readonly description: string;
  /** Its share of the traffic, relative to the other classes' weights. */
  readonly weight: number;
  /** The status every answer must have; any other (beyond `allowance`) is an unexpected error. */
  readonly status: number;
  readonly allowance?: Allowance;
  /** The `seq`-th request of this class (seq from 0; vary ids by it). */
  build(seq: number, callers: SoakCallers): Promise<SoakRequest>;
}

/** Who the traffic comes from. */
export interface SoakCallers {
  readonly auth: SoakAuth;
  /** Subjects of well-behaved callers (never rate limited). */
  readonly users: readonly string[];
  /** Subjects whose tier has a tiny quota: nearly every request of theirs is a 429. */
  readonly greedy: readonly string[];
}

/** The rate-limit tier of the greedy callers and its quota: one request per hour, burst 1. */
export const GREEDY_TIER = "greedy";
export const GREEDY_QUOTA = { requests: 1, periodSeconds: 3600, burst: 1 } as const;
/** How many greedy callers the soak uses (the rate-limited class's allowance counts them). */
export const GREEDY_CALLER_COUNT = 3;
/** How many well-behaved authenticated callers. */
export const USER_COUNT = 4;

const JSON_HEADERS = { "content-type": "application/json" };
const SEARCH_BODY = searchBody();
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const pick = <T>(items: readonly T[], seq: number): T => items[seq % items.length];

/** Bad input the gateway itself must refuse with 400 (before any upstream call). */
const BAD_INPUTS: readonly ((seq: number) => Omit<SoakRequest, "headers"> & { headers?: Record<string, string> })[] = [
  (seq) => ({ method: "POST", path: "/v1/users:search", headers: JSON_HEADERS, body: JSON.stringify({ query: "x", [`unknownField${seq % 100}`]: seq }) }),
  (seq) => ({ method: "GET", path: `/v1/users?pageSize=many-${seq}` }),
  () => ({ method: "POST", path: "/v1/users:search", headers: JSON_HEADERS, body: '{"query": "unterminated' }),
  (seq) => ({ method: "GET", path: `/v1/users/u-1?notAField=${seq}` }),
];

/** The mix. Weights add up to 100, so each reads as a percentage. */
export const TRAFFIC_CLASSES: readonly TrafficClass[] = [
  {
    name: "get-public",
    description: "GET /v1/users/u-1, anonymous (a public method)",
    weight: 25,
    status: 200,
    build: async () => ({ method: "GET", path: "/v1/users/u-1", headers: {} }),
  },
  {
    name: "get-authenticated",
    description: "GET /v1/users/u-1/orders/o-1 with a valid token",
    weight: 10,
    status: 200,
    build: async (seq, callers) => ({ method: "GET", path: "/v1/users/u-1/orders/o-1", headers: bearer(await callers.auth.token(pick(callers.users, seq))) }),
  },
  {
    name: "post-search",
    description: "POST /v1/users:search with a ~1 KB JSON body and a valid token",
    weight: 20,
    status: 200,
    build: async (seq, callers) => ({ method: "POST", path: "/v1/users:search", headers: { ...JSON_HEADERS, ...bearer(await callers.auth.token(pick(callers.users, seq))) }, body: SEARCH_BODY }),
  },
  {
    name: "upstream-not-found",
    description: "GET /v1/users/nobody-N: the backend answers NOT_FOUND (a distinct id each time)",
    weight: 10,
    status: 404,
    build: async (seq) => ({ method: "GET", path: `/v1/users/nobody-${seq}`, headers: {} }),
  },
  {
    name: "upstream-invalid",
    description: "POST /v1/users with a malformed email: the backend answers INVALID_ARGUMENT with BadRequest details",
    weight: 5,
    status: 400,
    build: async (seq, callers) => ({
      method: "POST",
      path: "/v1/users",
      headers: { ...JSON_HEADERS, ...bearer(await callers.auth.token(pick(callers.users, seq))) },
      body: JSON.stringify({ displayName: `Soak ${seq}`, email: `not-an-email-${seq}` }),
    }),
  },
  {
    name: "bad-input",
    description: "unknown JSON field, bad query value, malformed JSON, unknown query parameter: the gateway's own 400",
    weight: 10,
    status: 400,
    build: async (seq, callers) => {
      const request = pick(BAD_INPUTS, seq)(seq);
      return { ...request, headers: { ...request.headers, ...bearer(await callers.auth.token(pick(callers.users, seq))) } };
    },
  },
  {
    name: "no-route",
    description: "GET /v1/nothing-here/N: no route, the gateway's own 404",
    weight: 5,
    status: 404,
    build: async (seq) => ({ method: "GET", path: `/v1/nothing-here/${seq}`, headers: {} }),
  },
  {
    name: "auth-missing",
    description: "POST /v1/users:search without credentials",
    weight: 5,
    status: 401,
    build: async () => ({ method: "POST", path: "/v1/users:search", headers: JSON_HEADERS, body: SEARCH_BODY }),
  },
  {
    name: "auth-invalid",
    description: "GET /v1/users/u-1/orders/o-1 with a token signed by an unknown key or expired, never the same token twice",
    weight: 5,
    status: 401,
    build: async (seq, callers) => ({ method: "GET", path: "/v1/users/u-1/orders/o-1", headers: bearer(await callers.auth.invalidToken(seq)) }),
  },
  {
    name: "rate-limited",
    description: `GET /v1/users/u-1/orders/o-1 by callers of the "${GREEDY_TIER}" tier (${GREEDY_QUOTA.requests} request per ${GREEDY_QUOTA.periodSeconds} s, burst ${GREEDY_QUOTA.burst})`,
    weight: 5,
    status: 429,
    allowance: {
      status: 200,
      why: "admitted within the greedy tier's quota",
      // Per caller: GCRA admits at most burst + requests * t / period in t seconds.
      max: (elapsedSeconds) => GREEDY_CALLER_COUNT * (GREEDY_QUOTA.burst + Math.floor((elapsedSeconds * GREEDY_QUOTA.requests) / GREEDY_QUOTA.periodSeconds)),
    },
    build: async (seq, callers) => ({ method: "GET", path: "/v1/users/u-1/orders/o-1", headers: bearer(await callers.auth.token(pick(callers.greedy, seq), GREEDY_TIER)) }),
  },
];

/** The soak's callers: USER_COUNT users and GREEDY_CALLER_COUNT greedy ones. */
export function soakCallers(auth: SoakAuth): SoakCallers {
  return {
    auth,
    users: Array.from({ length: USER_COUNT }, (_, i) => `soak-user-${i + 1}`),
    greedy: Array.from({ length: GREEDY_CALLER_COUNT }, (_, i) => `soak-greedy-${i + 1}`),
  };
}

/**
 * The `rateLimits:` section the mix needs: one per-caller limit that well-behaved callers never
 * reach (anonymous requests all come from one IP, so that tier is large too) and a tiny quota
 * for the greedy tier.
 */
export function soakRateLimits(tierClaim: string): Record<string, unknown> {
  return {
    tierClaim,
    limits: [{ name: "per-caller", key: "caller", requests: 1_000_000, periodSeconds: 1, tiers: { [GREEDY_TIER]: { ...GREEDY_QUOTA } } }],
  };
}
