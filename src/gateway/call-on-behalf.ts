import type { Caller } from "../auth/caller.js";
import type { EdgeAuth } from "../auth/edge-auth.js";
import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { ClientDisconnect } from "../http/client-disconnect.js";
import type { LimitedRequest } from "../ratelimit/rate-limiter.js";
import type { Timers } from "../timers.js";
import type { CancelSignal, MetadataEntries, Upstream } from "../upstream/upstream.js";
import type { PreparedRoute } from "./prepared-route.js";

/**
 * What every RPC a gateway request makes on its client's behalf shares (the calls of an
 * aggregate, the resolvers of a GraphQL query): who is calling, what goes with each call, and the
 * request's time budget and cancellation.
 */
export interface OnBehalfOf {
  readonly caller: Caller | undefined;
  /** Who is calling, for the methods' rate limits. */
  readonly limited: LimitedRequest;
  /** The client's `Authorization` (passed on only where a method's rule says so). */
  readonly authorization: string | undefined;
  /** The upstream metadata of a REST call (forwarded headers), before identity is applied per method. */
  readonly baseMetadata: MetadataEntries;
  /** Added to every call: the request ID and the trace context. */
  readonly sharedMetadata: MetadataEntries;
  /** No call runs past this instant (on the runner's clock, ms). */
  readonly deadlineAt: number;
  /** The request is over (the client went away, or a call it needed failed): every call is cancelled. */
  readonly cancelled: CancelSignal;
}

/** The pipeline's pieces a call on behalf of a client needs. */
export interface BehalfRunner {
  readonly auth: Pick<EdgeAuth, "authorize" | "metadata">;
  readonly timers: Timers;
}

/** One RPC to make on a client's behalf. */
export interface BehalfCall {
  readonly route: PreparedRoute;
  /** Names the call in errors, e.g. `call "user" (demo.v1.UserService/GetUser)`. */
  readonly what: string;
  /** Its own deadline (ms), inside the request's; default the method's configured one. */
  readonly deadlineMs?: number;
  /** The request message's bytes, built only once the call is admitted (a refused call builds nothing). */
  readonly request: () => Uint8Array;
}

/**
 * Makes one RPC as if the client had called the method itself: the method's authorisation rule
 * and rate limits, the caller's identity metadata as that rule maps it, the method's deadline
 * (within what is left of the request's). Resolves with the reply's protobuf bytes; rejects with
 * a GatewayError (or the upstream's error) otherwise.
 */
export async function callOnBehalf(call: BehalfCall, onBehalf: OnBehalfOf, runner: BehalfRunner): Promise<Uint8Array> {
  const { route, what } = call;
  const { timers } = runner;
  await admitOnBehalf(route, onBehalf, runner);
  const requestBytes = call.request();
  const upstream = upstreamOf(route);

  const ownDeadlineMs = call.deadlineMs ?? route.deadlineMs;
  const timeoutMs = Math.min(ownDeadlineMs, onBehalf.deadlineAt - timers.now());
  if (timeoutMs <= 0) throw deadlineExceeded(what, ownDeadlineMs);
  const metadata = identityMetadata(route, onBehalf, runner);

  // The call's own cancellation: the request's (the client gone, a call it needed failed) or its deadline.
  const { cancelled } = onBehalf;
  if (cancelled.aborted) throw new GatewayError(GrpcCode.CANCELLED, "PG_ERR_CANCELLED", `${what} was cancelled`);
  // Plain cancel signals: an AbortController per call costs measurable throughput (its DOMException, its EventTarget).
  const own = new ClientDisconnect();
  const stop = () => own.abort();
  cancelled.addEventListener("abort", stop, { once: true });
  let timer: unknown;
  const timedOut = new Promise<never>((_, reject) => {
    timer = timers.setTimeout(() => {
      reject(deadlineExceeded(what, timeoutMs));
      own.abort();
    }, timeoutMs);
  });
  timedOut.catch(() => undefined);
  try {
    const reply = await Promise.race([
      upstream.call({ rpcPath: route.binding.rpcPath, request: requestBytes, metadata, deadline: Date.now() + timeoutMs, timeoutMs, signal: own, idempotent: route.idempotent }),
      timedOut,
    ]);
    return reply.response;
  } catch (thrown) {
    // Cancelled by the request (a call it needed failed, the client went away): say so, whatever the transport made of it.
    if (cancelled.aborted && !(thrown instanceof GatewayError)) throw new GatewayError(GrpcCode.CANCELLED, "PG_ERR_CANCELLED", `${what} was cancelled`, { cause: thrown });
    throw thrown;
  } finally {
    timers.clearTimeout(timer);
    cancelled.removeEventListener("abort", stop);
  }
}

/** The method's rule and rate limits, as if the client had called it: throws (or rejects with) the refusal. */
export async function admitOnBehalf(route: PreparedRoute, onBehalf: OnBehalfOf, runner: BehalfRunner): Promise<void> {
  runner.auth.authorize(route.rule, onBehalf.caller);
  if (route.limiter !== undefined) {
    const checked = route.limiter.check(onBehalf.limited);
    if (checked instanceof Promise) await checked;
  }
}

/** The route's upstream; UNAVAILABLE when none is configured for its service. */
export function upstreamOf(route: PreparedRoute): Upstream {
  if (route.upstream === undefined) throw new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_NOT_CONFIGURED", `no upstream is configured for ${route.binding.service}`);
  return route.upstream;
}

/** The metadata of a call to `route` on the client's behalf: forwarded headers, identity as the method's rule maps it, then the shared entries. */
export function identityMetadata(route: PreparedRoute, onBehalf: OnBehalfOf, runner: BehalfRunner): Array<[string, string | Buffer]> {
  const metadata = runner.auth.metadata(
    onBehalf.baseMetadata.map(([key, value]): [string, string | Buffer] => [key, value]),
    onBehalf.caller,
    route.rule,
    onBehalf.authorization,
  );
  for (const [key, value] of onBehalf.sharedMetadata) metadata.push([key, value]);
  return metadata;
}

function deadlineExceeded(what: string, ms: number): GatewayError {
  return new GatewayError(GrpcCode.DEADLINE_EXCEEDED, "PG_ERR_DEADLINE_EXCEEDED", `${what} did not answer within ${Math.round(ms)} ms`);
}
