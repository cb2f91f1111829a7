import type { EffectiveRule } from "../auth/authorize.js";
import type { EdgeAuth } from "../auth/edge-auth.js";
import type { AnyBinding } from "../binding.js";
import type { GatewayConfig } from "../config/schema.js";
import type { MethodLimiter, RateLimiter } from "../ratelimit/rate-limiter.js";
import type { CodecRegistry } from "../transcode/json/codec-registry.js";
import type { BehaviorPlans } from "../transcode/field-behavior/behavior-plan.js";
import { createBehaviorCheck } from "../transcode/field-behavior/behavior-check.js";
import { createMaskFiller } from "../transcode/patch-mask.js";
import type { RequestInput } from "../transcode/request-builder.js";
import { createRequestEncoder } from "../transcode/request-encoder.js";
import { createResponseShaper, repliesAreRaw, type ShapedResponse } from "../transcode/response-shaper.js";
import type { Upstream, UpstreamPool } from "../upstream/upstream.js";
import { upstreamServiceOf } from "../upstream/upstream-service.js";
import { createPartialResponse, type PartialResponse } from "./partial-response.js";
import { routeDeadlineMs, streamTimeLimits, type StreamTimeLimits } from "./deadlines.js";
import { createSuccessReply, type SuccessReply } from "./success-reply.js";

/** A binding with everything the hot path needs, prepared once at start-up. */
export interface PreparedRoute {
  readonly binding: AnyBinding;
  readonly rule: EffectiveRule;
  /** The request message's protobuf bytes (for a client stream: one of its messages). */
  readonly encodeRequest: (input: RequestInput) => Uint8Array;
  /** An upstream reply (protobuf bytes) as the HTTP body: JSON, or raw bytes for HttpBody. */
  readonly shape: (reply: Uint8Array) => ShapedResponse;
  /** The status (and Location) of a successful unary call: 200 unless the method's proto says 201, 202 or 204. */
  readonly success: SuccessReply;
  /** Replies are raw bytes (`google.api.HttpBody`): a stream of them is written as is, not framed. */
  readonly rawReplies: boolean;
  /** The unary deadline (streams use `stream` instead). */
  readonly deadlineMs: number;
  /** The time limits of a streaming method. */
  readonly stream: StreamTimeLimits;
  readonly upstream: Upstream | undefined;
  readonly limiter: MethodLimiter | undefined;
  /**
   * A call may be sent again after it may have reached the upstream (when the upstream has
   * `retries`): a GET binding (safe by HTTP's semantics), or a method declared IDEMPOTENT or
   * NO_SIDE_EFFECTS in its proto. Other verbs (even PUT and DELETE) only by their proto's word:
   * a REST verb says nothing certain about what the RPC behind it does.
   */
  readonly idempotent: boolean;
  /** The `fields` parameter (partial responses) of a unary route; undefined when the request message has a field of that name or the route streams. */
  readonly partial: PartialResponse | undefined;
}

export interface RouteDependencies {
  readonly config: Readonly<GatewayConfig>;
  readonly codecs: CodecRegistry;
  readonly upstreams: UpstreamPool;
  readonly auth: EdgeAuth;
  readonly rateLimiter: RateLimiter;
  /** The field-behavior rules of request messages, shared by every route of a pipeline. */
  readonly behaviorPlans: BehaviorPlans;
}

/** Prepares one binding: its access rule, message builder and shaper, time limits, upstream and limiter. */
export function prepareRoute(binding: AnyBinding, deps: RouteDependencies): PreparedRoute {
  const { config } = deps;
  const streamed = binding.kind === "client" || binding.kind === "bidi";
  return {
    binding,
    rule: deps.auth.ruleFor(binding),
    encodeRequest: createCheckedEncoder(binding, deps, streamed),
    shape: createResponseShaper(deps.codecs, binding),
    success: createSuccessReply(deps.codecs, binding),
    rawReplies: repliesAreRaw(deps.codecs, binding),
    deadlineMs: routeDeadlineMs(config.deadlines, binding.service, binding.method),
    stream: streamTimeLimits(config.deadlines.streams, binding.service, binding.method),
    upstream: deps.upstreams.get(upstreamServiceOf(binding, (service) => deps.upstreams.get(service) !== undefined)),
    limiter: deps.rateLimiter.forMethod(binding.service, binding.method),
    idempotent: binding.httpMethod === "GET" || binding.idempotency !== undefined,
    partial: createPartialResponse(deps.codecs, binding),
  };
}

/**
 * The route's request encoder; then, on a PATCH of a resource with an empty FieldMask, the mask
 * filled from the body (patch-mask.ts); then the edge checks of the request message's field
 * behaviors (REQUIRED, OUTPUT_ONLY) when it has any: every message sent upstream passes them.
 */
function createCheckedEncoder(binding: AnyBinding, deps: RouteDependencies, streamed: boolean): (input: RequestInput) => Uint8Array {
  const { transcoding } = deps.config;
  const encode = createRequestEncoder(deps.codecs, binding, { ignoreUnknownQueryParameters: transcoding.ignoreUnknownQueryParameters, streamedMessages: streamed });
  const fill = streamed ? undefined : createMaskFiller(deps.codecs, binding, { skipOutputOnly: transcoding.outputOnlyFields === "drop" });
  const pathBound = binding.template.variables.map((variable) => variable.fieldPath);
  const check = createBehaviorCheck(deps.behaviorPlans, deps.codecs.plan(binding.requestType).desc, transcoding.outputOnlyFields, pathBound);
  const filled = fill === undefined ? encode : (input: RequestInput) => fill(input, encode(input));
  return check === undefined ? filled : (input) => check(filled(input));
}
