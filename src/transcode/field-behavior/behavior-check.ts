import type { DescMessage } from "@bufbuild/protobuf";
import { GatewayError } from "../../errors/gateway-error.js";
import { GrpcCode } from "../../errors/grpc-code.js";
import type { BehaviorPlans, FieldRule, MessageRules } from "./behavior-plan.js";
import { walkMessage, type BehaviorFindings } from "./behavior-walk.js";

/** What the gateway does with OUTPUT_ONLY fields in a request (`transcoding.outputOnlyFields`). */
export type OutputOnlyMode = "drop" | "reject";

/** At most this many violations are listed in one error (a request of many list elements could name thousands). */
export const MAX_LISTED_VIOLATIONS = 100;

const BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest";

/**
 * The edge check of one request message type, run on the request's protobuf bytes before the
 * upstream call (whatever set the fields: body, path or query): OUTPUT_ONLY fields are dropped
 * (or, with "reject", refused), then every missing REQUIRED field is reported in one 400
 * INVALID_ARGUMENT with a `google.rpc.BadRequest` detail. Undefined when the message has nothing
 * to check: such routes pay nothing.
 */
export function createBehaviorCheck(
  plans: BehaviorPlans,
  message: DescMessage,
  mode: OutputOnlyMode,
  pathBound: readonly (readonly string[])[] = [],
): ((bytes: Uint8Array) => Uint8Array) | undefined {
  const planned = plans.forRequest(message);
  if (planned === undefined) return undefined;
  const rules = withPathBoundKept(planned, message, pathBound);
  const strip = mode === "drop";
  return (bytes) => {
    const findings: BehaviorFindings = { missing: [], outputOnly: [] };
    const checked = walkMessage(bytes, rules, "", strip, findings);
    const refused = strip ? [] : findings.outputOnly;
    if (findings.missing.length === 0 && refused.length === 0) return checked;
    throw behaviorError(findings.missing, refused);
  };
}

/**
 * The rules with the fields bound by the route's path template kept even when OUTPUT_ONLY (an
 * AIP-style `{book.name=...}` on a resource whose `name` is output only): the URL says which
 * resource the call is about, so the value is the client's to give. The shared rules are not
 * changed: the messages on the way to such a field are copied for this route.
 */
function withPathBoundKept(rules: MessageRules, message: DescMessage, paths: readonly (readonly string[])[]): MessageRules {
  let result = rules;
  for (const path of paths) result = keepAt(result, message, path);
  return result;
}

function keepAt(rules: MessageRules, message: DescMessage, path: readonly string[]): MessageRules {
  const field = message.fields.find((f) => f.name === path[0]);
  const rule = field === undefined ? undefined : rules.fields.get(field.number);
  if (field === undefined || rule === undefined) return rules;
  let copy: FieldRule;
  if (path.length === 1) {
    if (!rule.outputOnly) return rules;
    copy = { ...rule, outputOnly: false };
  } else {
    if (rule.nested === undefined || field.fieldKind !== "message") return rules;
    const nested = keepAt(rule.nested, field.message, path.slice(1));
    if (nested === rule.nested) return rules;
    copy = { ...rule, nested };
  }
  const fields = new Map(rules.fields);
  fields.set(copy.number, copy);
  return { typeName: rules.typeName, fields, required: rules.required.map((r) => (r === rule ? copy : r)) };
}

function behaviorError(missing: readonly string[], outputOnly: readonly string[]): GatewayError {
  const violations = [
    ...outputOnly.map((field) => ({ field, description: "is output only: the server sets it; leave it out of the request" })),
    ...missing.map((field) => ({ field, description: "is required" })),
  ];
  const listed = violations.slice(0, MAX_LISTED_VIOLATIONS);
  const more = violations.length - listed.length;
  const parts = [
    outputOnly.length > 0 ? `output-only field${outputOnly.length === 1 ? "" : "s"} set: ${outputOnly.slice(0, 10).join(", ")}${outputOnly.length > 10 ? ", ..." : ""}` : undefined,
    missing.length > 0 ? `missing required field${missing.length === 1 ? "" : "s"}: ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? `, ... (${missing.length} in all)` : ""}` : undefined,
  ].filter((part) => part !== undefined);
  const detail = { "@type": BAD_REQUEST_TYPE, fieldViolations: more > 0 ? [...listed, { field: "", description: `${more} more violations are not listed` }] : listed };
  return new GatewayError(GrpcCode.INVALID_ARGUMENT, outputOnly.length > 0 ? "PG_ERR_OUTPUT_ONLY_FIELD" : "PG_ERR_REQUIRED_FIELD", parts.join("; "), { details: [detail] });
}
