import { GraphQLError } from "graphql";
import type { AnyToJson } from "../errors/any-detail.js";
import { renderError } from "../errors/error-writer.js";
import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { toGatewayError } from "../errors/to-gateway-error.js";
import { callOnBehalf, type BehalfRunner, type OnBehalfOf } from "../gateway/call-on-behalf.js";
import type { PreparedRoute } from "../gateway/prepared-route.js";
import type { MessageJsonCodec } from "../transcode/json/codec-registry.js";
import type { MessagePlan } from "../transcode/json/plan-types.js";
import type { ResolverContext } from "./executable-schema.js";
import { JoinLoaders, type JsonObject } from "./join-loader.js";
import { streamOnBehalf } from "../gateway/stream-on-behalf.js";
import { RpcEvents } from "./subscriptions/rpc-events.js";

/** An RPC a resolver may call: its route (rule, limits, upstream, deadline) and its messages' codecs. */
export interface RpcTarget {
  readonly route: PreparedRoute;
  readonly requestCodec: MessageJsonCodec<unknown>;
  readonly requestPlan: MessagePlan;
  readonly responsePlan: MessagePlan;
  /** The edge checks of the request's field behaviors (REQUIRED reported, OUTPUT_ONLY dropped), as over REST; absent when it has none. */
  readonly checkRequest?: (bytes: Uint8Array) => Uint8Array;
}

/** What the RPCs of one GraphQL request share. */
export interface GraphqlRequestRpcs {
  /** The RPCs by gRPC path (`/demo.v1.UserService/GetUser`). */
  readonly targets: ReadonlyMap<string, RpcTarget>;
  readonly onBehalf: OnBehalfOf;
  readonly runner: BehalfRunner;
  readonly anyToJson: AnyToJson;
  /** RPCs this request may make at most (`graphql.maxRpcCalls`). */
  readonly maxRpcCalls: number;
  readonly requestId: string;
  /** An RPC failed (the pipeline logs unexpected failures). */
  readonly callFailed: (error: GatewayError) => void;
}

/** A request's resolver context, and what the pipeline records of its RPCs. */
export interface GraphqlRequestState {
  readonly context: ResolverContext;
  /** RPCs made (or refused by their own checks) so far. */
  calls(): number;
  /** OK, or the gRPC code of the first RPC that failed (for the upstream metrics). */
  upstreamCode(): number;
}

/**
 * The context of one GraphQL request's resolvers: each RPC goes through callOnBehalf (the
 * method's own rule and rate limits, identity metadata, its deadline inside the request's), at
 * most `maxRpcCalls` of them; a failure becomes a GraphQL error on the field that asked for it,
 * with `extensions: {code: "PERMISSION_DENIED", grpcCode: 7, details: [...]}` (the details of
 * the google.rpc.Status the REST route would have answered). A Subscription field's stream goes
 * through streamOnBehalf (the method's rule, limits, stream deadline and idle timeout), counted as
 * one RPC; its failure is the stream's last event (rpc-events.ts).
 */
export function createGraphqlRequestState(rpcs: GraphqlRequestRpcs): GraphqlRequestState {
  let calls = 0;
  let firstFailure: number = GrpcCode.OK;
  const fail = (thrown: unknown): GraphQLError => {
    if (thrown instanceof GraphQLError) return thrown;
    const error = toGatewayError(thrown);
    if (firstFailure === GrpcCode.OK) firstFailure = error.code;
    rpcs.callFailed(error);
    return rpcErrorToGraphql(error, rpcs.anyToJson, rpcs.requestId);
  };
  /** Counts one more RPC; throws when it is past the request's limit. */
  const count = (what: string): void => {
    calls++;
    if (calls > rpcs.maxRpcCalls) {
      throw new GraphQLError(`${what} was not called: the request reached its limit of ${rpcs.maxRpcCalls} RPC calls (graphql.maxRpcCalls)`, {
        extensions: { code: "RPC_LIMIT_EXCEEDED", maxRpcCalls: rpcs.maxRpcCalls },
      });
    }
  };
  const targetOf = (rpcPath: string, what: string): RpcTarget => {
    const target = rpcs.targets.get(rpcPath);
    if (target === undefined) throw new GatewayError(GrpcCode.UNIMPLEMENTED, "PG_ERR_ROUTE_NOT_FOUND", `${what}: ${rpcPath.slice(1)} is not in the route table (run protogate generate again)`);
    return target;
  };
  const rpc = async (rpcPath: string, request: JsonObject, what: string): Promise<JsonObject> => {
    count(what);
    try {
      const target = targetOf(rpcPath, what);
      const reply = await callOnBehalf({ route: target.route, what, request: () => encodeRequest(target, request) }, rpcs.onBehalf, rpcs.runner);
      return target.responsePlan.writeJson(target.responsePlan.decode(reply), 1) as JsonObject;
    } catch (thrown) {
      throw fail(thrown);
    }
  };
  const stream = (rpcPath: string, request: JsonObject, what: string): AsyncIterableIterator<JsonObject | GraphQLError> => {
    try {
      count(what);
      const target = targetOf(rpcPath, what);
      const replies = streamOnBehalf({ route: target.route, what, request: () => encodeRequest(target, request) }, rpcs.onBehalf, rpcs.runner);
      return new RpcEvents(replies, (reply) => target.responsePlan.writeJson(target.responsePlan.decode(reply), 1) as JsonObject, fail);
    } catch (thrown) {
      return new RpcEvents(failedReplies(thrown), () => ({}), fail);
    }
  };
  return { context: { rpc, loaders: new JoinLoaders(rpc), stream }, calls: () => calls, upstreamCode: () => firstFailure };
}

/** A failed RPC as a GraphQL error: the status's message, its code by name and number, and its details as proto3 JSON. */
export function rpcErrorToGraphql(error: GatewayError, anyToJson: AnyToJson, requestId: string): GraphQLError {
  // The google.rpc.Status the REST route would answer (internal causes hidden, details rendered).
  const status = JSON.parse(renderError(error, anyToJson, requestId).body) as { message: string; details: unknown[] };
  return new GraphQLError(status.message, { originalError: error, extensions: { code: GrpcCode[error.code] ?? "UNKNOWN", grpcCode: error.code, details: status.details } });
}

/** Replies of a stream that could not be opened: the first read throws why. */
function failedReplies(thrown: unknown): AsyncIterator<Uint8Array> {
  return { next: () => Promise.reject(thrown) };
}

/** The request message's bytes from its proto3 JSON, through the same field-behavior checks as a REST request. */
function encodeRequest(target: RpcTarget, request: JsonObject): Uint8Array {
  const bytes = target.requestPlan.encode(target.requestCodec.fromJson(request));
  return target.checkRequest === undefined ? bytes : target.checkRequest(bytes);
}
