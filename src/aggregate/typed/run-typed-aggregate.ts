import type { JsonValue } from "@bufbuild/protobuf";
import { renderError } from "../../errors/error-writer.js";
import { GatewayError } from "../../errors/gateway-error.js";
import { GrpcCode } from "../../errors/grpc-code.js";
import { toGatewayError } from "../../errors/to-gateway-error.js";
import { ClientDisconnect } from "../../http/client-disconnect.js";
import { callOnBehalf, type OnBehalfOf } from "../../gateway/call-on-behalf.js";
import type { PreparedRoute } from "../../gateway/prepared-route.js";
import type { CodecRegistry } from "../../transcode/json/codec-registry.js";
import { claimsOf } from "../compile-aggregate.js";
import type { AggregateAnswer, AggregateRequest, AggregateRunner } from "../run-aggregate.js";
import type { AggregateContext, DefaultCallOptions, PartialCallOptions, TypedAggregate, UnaryMethod } from "./define-aggregate.js";

/** What running a typed aggregate needs beyond an aggregate's: the route table (by rpc path) and the JSON codecs. */
export interface TypedAggregateRunner extends AggregateRunner {
  /** The route table's unary routes by `/pkg.Service/Method`. */
  readonly routesByRpcPath: ReadonlyMap<string, PreparedRoute>;
  readonly codecs: CodecRegistry;
}

type AnyOptions<Res> = { readonly deadlineMs?: number; readonly onError?: "fail" } | PartialCallOptions | DefaultCallOptions<Res>;

/**
 * Runs an aggregate's code: every `ctx.call` goes through callOnBehalf (the method's rule,
 * limits, deadline inside the aggregate's, identity metadata), and its failure follows the call's
 * policy. The handler's answer is the body, with `errors` (google.rpc.Status per `partial` key)
 * when a partial call failed. A handler that rejects answers the request with its error (a call's
 * status under `fail`; anything else is an internal error, logged). Calls still running when the
 * handler settles are cancelled.
 */
export async function runTypedAggregate(typed: TypedAggregate, request: AggregateRequest, runner: TypedAggregateRunner): Promise<AggregateAnswer> {
  const deadlineAt = runner.timers.now() + request.timeoutMs;
  const cancel = new ClientDisconnect();
  const onClientGone = () => cancel.abort();
  request.signal.addEventListener("abort", onClientGone, { once: true });
  const onBehalf: OnBehalfOf = { ...request, deadlineAt, cancelled: cancel };
  const errors: Record<string, JsonValue> = {};
  let upstreamCode: number = GrpcCode.OK;

  async function call<Req, Res>(method: UnaryMethod<Req, Res>, partialRequest: Partial<Req>, options: AnyOptions<Res> = {}): Promise<Res | undefined> {
    const route = runner.routesByRpcPath.get(method.path);
    try {
      if (route === undefined) throw new GatewayError(GrpcCode.INTERNAL, "PG_ERR_AGGREGATE_MODULE", `aggregate "${request.aggregate.name}" calls ${method.path}, which is not a unary method with an HTTP rule in the route table`);
      const reply = await callOnBehalf(
        {
          route,
          what: `call ${method.path.slice(1)}`,
          ...(options.deadlineMs !== undefined && { deadlineMs: options.deadlineMs }),
          // Fields left out take their defaults: the decoded empty message is every default.
          request: () => method.requestSerialize({ ...method.requestDeserialize(Buffer.alloc(0)), ...partialRequest }),
        },
        onBehalf,
        runner,
      );
      return method.responseDeserialize(Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength));
    } catch (thrown) {
      const error = toGatewayError(thrown);
      request.callFailed(error);
      if (upstreamCode === GrpcCode.OK) upstreamCode = error.code;
      const policy = options.onError;
      if (policy === "partial" && "key" in options) {
        errors[options.key] = JSON.parse(renderError(error, runner.anyToJson, request.requestId).body) as JsonValue;
        return undefined;
      }
      if (typeof policy === "object") return { ...method.responseDeserialize(Buffer.alloc(0)), ...policy.default };
      throw error;
    }
  }

  const path: Record<string, string> = {};
  for (const variable of request.variables) path[variable.fieldPath.join(".")] = variable.value;
  const context: AggregateContext = {
    path,
    query: new URLSearchParams(request.query.map(([key, value]): [string, string] => [key, value])),
    claims: Object.fromEntries(claimsOf(request.caller)),
    // One implementation behind the overloads: the options decide what a failure resolves.
    call: call as AggregateContext["call"],
    json: (method, response) => {
      const route = runner.routesByRpcPath.get(method.path);
      if (route === undefined) throw new GatewayError(GrpcCode.INTERNAL, "PG_ERR_AGGREGATE_MODULE", `${method.path} is not in the route table`);
      const plan = runner.codecs.plan(route.binding.responseType);
      return plan.writeJson(plan.decode(method.responseSerialize(response)), 1);
    },
  };

  try {
    const answer = await typed.handler(context);
    if (typeof answer !== "object" || answer === null || Array.isArray(answer)) {
      throw new GatewayError(GrpcCode.INTERNAL, "PG_ERR_AGGREGATE_MODULE", `aggregate "${request.aggregate.name}": its module answered ${Array.isArray(answer) ? "an array" : typeof answer}, not an object`);
    }
    const body: Record<string, unknown> = { ...answer };
    delete body.errors;
    if (Object.keys(errors).length > 0) body.errors = errors;
    return { body: JSON.stringify(body), upstreamCode };
  } catch (thrown) {
    // A call's GatewayError keeps its status; anything else the code threw is an internal error (logged by the pipeline, never shown).
    throw thrown instanceof GatewayError ? thrown : new GatewayError(GrpcCode.INTERNAL, "PG_ERR_INTERNAL", "internal error", { cause: thrown });
  } finally {
    request.signal.removeEventListener("abort", onClientGone);
    cancel.abort();
  }
}
