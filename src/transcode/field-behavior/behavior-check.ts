import type { DescMessage } from "@bufbuild/protobuf";
import { GatewayError } from "../../errors/gateway-error.js";
import { GrpcCode } from "../../errors/grpc-code.js";
import type { BehaviorPlans } from "./behavior-plan.js";
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
export function createBehaviorCheck(plans: BehaviorPlans, message: DescMessage, mode: OutputOnlyMode): ((bytes: Uint8Array) => Uint8Array) | undefined {
  const rules = plans.forRequest(message);
  if (rules === undefined) return undefined;
  const strip = mode === "drop";
  return (bytes) => {
    const findings: BehaviorFindings = { missing: [], outputOnly: [] };
    const checked = walkMessage(bytes, rules, "", strip, findings);
    const refused = strip ? [] : findings.outputOnly;
    if (findings.missing.length === 0 && refused.length === 0) return checked;
    throw behaviorError(findings.missing, refused);
  };
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
