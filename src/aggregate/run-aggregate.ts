import { fromBinary, fromJson, type JsonValue } from "@bufbuild/protobuf";
import type { Caller } from "../auth/caller.js";
import type { AnyToJson } from "../errors/any-detail.js";
import { renderError } from "../errors/error-writer.js";
import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { toGatewayError } from "../errors/to-gateway-error.js";
import { ClientDisconnect } from "../http/client-disconnect.js";
import type { LimitedRequest } from "../ratelimit/rate-limiter.js";
import type { RouteVariableValue } from "../routing/router.js";
import type { CancelSignal, MetadataEntries } from "../upstream/upstream.js";
import { callOnBehalf, type BehalfRunner, type OnBehalfOf } from "../gateway/call-on-behalf.js";
import { claimsOf, jsonToCel, type CallInputs, type CallResult, type CompiledCall, type PreparedAggregate } from "./compile-aggregate.js";
import type { AnswerPruning } from "./answer-fields.js";
import type { CelVariables } from "./cel-source.js";

/** What running an aggregate needs from the pipeline (its pieces, not a copy of them). */
export interface AggregateRunner extends BehalfRunner {
  readonly anyToJson: AnyToJson;
}

/** One admitted aggregate request. */
export interface AggregateRequest {
  readonly aggregate: PreparedAggregate;
  readonly variables: readonly RouteVariableValue[];
  readonly query: ReadonlyArray<readonly [string, string]>;
  readonly caller: Caller | undefined;
  /** Who is calling, for the calls' rate limits. */
  readonly limited: LimitedRequest;
  /** The client's `Authorization` (passed on only where a method's rule says so). */
  readonly authorization: string | undefined;
  /** The upstream metadata of a REST call (forwarded headers), before identity is applied per call. */
  readonly baseMetadata: MetadataEntries;
  /** Added to every call: the request ID and the trace context. */
  readonly sharedMetadata: MetadataEntries;
  /** The aggregate's time budget (its deadline, shortened by the client's grpc-timeout). */
  readonly timeoutMs: number;
  /** The client went away: every call is cancelled. */
  readonly signal: CancelSignal;
  readonly requestId: string;
  /** A call failed (the pipeline logs unexpected failures, as it does its own). */
  readonly callFailed: (error: GatewayError) => void;
  /** `?fields=`: the answer is pruned, and a call whose key is pruned away runs only if a kept call reads it. */
  readonly pruning?: AnswerPruning;
}

export interface AggregateAnswer {
  /** The JSON body: each visible call's selected result under its name, then `errors` if any call failed under `partial`. */
  readonly body: string;
  /** OK, or the code of the first call that failed (for the upstream metrics). */
  readonly upstreamCode: number;
}

type Outcome = { readonly ok: true; readonly result: CallResult } | { readonly ok: false; readonly error: GatewayError };

/**
 * Runs the calls of an aggregate: each as soon as the calls it reads have finished (so
 * independent calls run in parallel), each through its method's own authorisation rule and rate
 * limits with its caller's identity metadata, each within its own deadline inside what is left of
 * the aggregate's. A call that fails under `fail` cancels the others and rejects with its error
 * (the client gets its status); under `partial` its status goes to `errors`; under `default` its
 * default stands in for its response (also for the calls that read it).
 */
export async function runAggregate(request: AggregateRequest, runner: AggregateRunner): Promise<AggregateAnswer> {
  const { aggregate } = request;
  const deadlineAt = runner.timers.now() + request.timeoutMs;
  // Plain cancel signals: an AbortController per request and call costs measurable throughput (its DOMException, its EventTarget).
  const cancel = new ClientDisconnect();
  const onClientGone = () => cancel.abort();
  request.signal.addEventListener("abort", onClientGone, { once: true });

  const results = new Map<string, CallResult>();
  const path = new Map(request.variables.map((variable) => [variable.fieldPath.join("."), variable.value]));
  const query = new Map<string, string[]>();
  for (const [key, value] of request.query) {
    const values = query.get(key);
    if (values === undefined) query.set(key, [value]);
    else values.push(value);
  }
  const claims = claimsOf(request.caller);
  const onBehalf: OnBehalfOf = { ...request, deadlineAt, cancelled: cancel };
  let cel: CelVariables | undefined;
  const inputs: CallInputs = {
    path,
    query,
    claims,
    results,
    celVariables: () =>
      (cel ??= {
        path,
        query: new Map([...query].map(([key, values]) => [key, values[0]])),
        claims: new Map([...claims].map(([key, value]) => [key, jsonToCel(value)])),
        calls: { get: (name: string) => results.get(name)?.message() },
      }),
  };

  let failFast: (error: GatewayError) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (failFast = reject));
  failed.catch(() => undefined);
  const outcomes = new Map<string, Promise<Outcome>>();
  const byName = new Map(aggregate.calls.map((call) => [call.name, call]));

  const run = (call: CompiledCall): Promise<Outcome> => {
    let outcome = outcomes.get(call.name);
    if (outcome === undefined) {
      outcome = (async (): Promise<Outcome> => {
        const inputsOk = await Promise.all(call.dependsOn.map((name) => run(byName.get(name)!)));
        const missing = call.dependsOn.filter((_, i) => !inputsOk[i].ok);
        let result: Outcome;
        if (missing.length > 0) {
          result = { ok: false, error: new GatewayError(GrpcCode.FAILED_PRECONDITION, "PG_ERR_AGGREGATE_INPUT", `call "${call.name}" did not run: it reads ${missing.map((name) => `"${name}"`).join(", ")}, which failed`) };
        } else {
          result = await callOnce(call, inputs, onBehalf, runner).then(
            (value): Outcome => ({ ok: true, result: value }),
            (thrown: unknown): Outcome => ({ ok: false, error: toGatewayError(thrown) }),
          );
        }
        if (result.ok) {
          results.set(call.name, result.result);
          return result;
        }
        request.callFailed(result.error);
        if (call.policy.kind === "default") {
          const json = call.policy.json;
          const fallback: CallResult = { json, message: lazy(() => fromJson(call.responseDesc, json)) };
          results.set(call.name, fallback);
          return { ok: true, result: fallback };
        }
        if (call.policy.kind === "fail") failFast(result.error);
        return result;
      })();
      outcomes.set(call.name, outcome);
    }
    return outcome;
  };

  try {
    const running = request.pruning === undefined ? aggregate.calls : callsNeeded(aggregate.calls, request.pruning.keptCalls);
    const settled = await Promise.race([Promise.all(running.map(run)), failed]);
    let body: Record<string, JsonValue> = {};
    const errors: Record<string, JsonValue> = {};
    let upstreamCode: number = GrpcCode.OK;
    running.forEach((call, i) => {
      const outcome = settled[i];
      if (outcome.ok) {
        if (!call.hidden) body[call.name] = call.selection === undefined ? outcome.result.json : call.selection.apply(outcome.result.json);
        return;
      }
      if (upstreamCode === GrpcCode.OK) upstreamCode = outcome.error.code;
      errors[call.name] = JSON.parse(renderError(outcome.error, runner.anyToJson, request.requestId).body) as JsonValue;
    });
    if (Object.keys(errors).length > 0) body.errors = errors;
    if (request.pruning !== undefined) body = request.pruning.apply(body);
    return { body: JSON.stringify(body), upstreamCode };
  } finally {
    request.signal.removeEventListener("abort", onClientGone);
    // A call failed under `fail` (or all are done): whatever still runs is cancelled.
    cancel.abort();
  }
}

/** The kept calls and every call they read (directly or not), in declaration order. */
export function callsNeeded(calls: readonly CompiledCall[], kept: ReadonlySet<string>): CompiledCall[] {
  const byName = new Map(calls.map((call) => [call.name, call]));
  const needed = new Set<string>();
  const need = (name: string): void => {
    if (needed.has(name)) return;
    needed.add(name);
    for (const input of byName.get(name)?.dependsOn ?? []) need(input);
  };
  for (const name of kept) need(name);
  return calls.filter((call) => needed.has(call.name));
}

/** One call: authorised and limited as if the client had made it, its request built from its inputs, sent within its deadline. */
async function callOnce(call: CompiledCall, inputs: CallInputs, onBehalf: OnBehalfOf, runner: AggregateRunner): Promise<CallResult> {
  const reply = await callOnBehalf(
    {
      route: call.route,
      what: `call "${call.name}" (${call.route.binding.rpcPath.slice(1)})`,
      deadlineMs: call.deadlineMs,
      request: () => {
        const message = call.requestPlan.create();
        for (const field of call.fields) {
          try {
            field.set(message, inputs);
          } catch (error) {
            throw new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_FIELD", `call "${call.name}", field "${field.path}": ${(error as Error).message}`, { cause: error });
          }
        }
        return call.requestPlan.encode(message);
      },
    },
    onBehalf,
    runner,
  );
  const json = call.responsePlan.writeJson(call.responsePlan.decode(reply), 1);
  return { json, message: lazy(() => fromBinary(call.responseDesc, reply)) };
}

function lazy<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}
