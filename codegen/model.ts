import type { DescMethod } from "@bufbuild/protobuf";
import type { AuthRuleData, BodySelector, IdempotencyLevel, MethodKind, SuccessData } from "../src/binding.js";
import type { PathTemplate } from "../src/routing/template.js";

/**
 * One validated HTTP binding of one RPC, as codegen sees it: the `google.api.http` rule (or one of
 * its `additional_bindings`) parsed and checked against the request and response messages.
 * Emitters (route tables, OpenAPI) consume only this model, never raw HttpRule options.
 */
export interface CodegenBinding {
  /** The RPC, with `parent` (service), `input` and `output` message descriptors. */
  readonly rpc: DescMethod;
  readonly kind: MethodKind;
  /** Upper-case HTTP method, or the `custom` kind as written. */
  readonly httpMethod: string;
  /** The path template exactly as written in the proto. */
  readonly pattern: string;
  readonly template: PathTemplate;
  readonly body: BodySelector;
  /** `response_body` as proto field names; empty for the whole response message. */
  readonly responseBody: readonly string[];
  /** `proto/file.proto:LINE` of the rule. */
  readonly source: string;
  /** 0 for the main rule, 1.. for `additional_bindings` in order. */
  readonly bindingIndex: number;
  /** The RPC's `(protogate.v1.rule)`, else its service's `(protogate.v1.default_rule)`, else null. */
  readonly auth: AuthRuleData | null;
  /** Services whose upstream serves this binding when its own has none, first configured wins (operation routes: see codegen/operations). */
  readonly upstreamServices?: readonly string[];
  /** The RPC's `option idempotency_level`, when declared. */
  readonly idempotency?: IdempotencyLevel;
  /** The method's `(protogate.v1.success)`, when it answers 201, 202 or 204. */
  readonly success?: SuccessData;
}
