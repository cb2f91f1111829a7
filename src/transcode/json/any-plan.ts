import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { JsonFieldError, describe, fail, tooDeep, valueError, withSegment } from "./json-field-error.js";
import { isJsonObject, setOwn } from "./json-object.js";
import { MAX_DEPTH } from "./json-policy.js";
import type { PlanContext } from "./plan-types.js";
import type { WktJson } from "./wkt-plans.js";

const EMPTY = "google.protobuf.Empty";
const identity = (v: unknown): unknown => v;

interface AnyMessage {
  typeUrl: string;
  value: Uint8Array;
}

/**
 * google.protobuf.Any: `{"@type": url, ...fields}`, or `{"@type": url, "value": json}` when the
 * payload type has its own JSON form. The payload type must be in the registry; the payload
 * travels as binary in the message, so reading encodes it and writing decodes it.
 */
export function anyJson(ctx: PlanContext, create: () => Record<string, unknown>): WktJson {
  const read = (json: unknown, depth: number): unknown => {
    if (!isJsonObject(json)) throw valueError(`expected a JSON object for google.protobuf.Any, got ${describe(json)}`);
    if (depth > MAX_DEPTH) throw tooDeep();
    const keys = Object.keys(json);
    if (keys.length === 0) return create();
    const typeUrl = json["@type"];
    if (typeof typeUrl !== "string" || typeUrl === "") throw valueError(`an Any needs a "@type" string, got ${describe(typeUrl)}`);
    const plan = ctx.planForTypeUrl(typeUrl);
    if (plan === undefined) throw valueError(`unknown message type ${describe(typeUrl)} in "@type"`);
    let payload: unknown;
    if (plan.wellKnown) {
      for (const key of keys) {
        if (key === "@type" || key === "value" || ctx.ignoreUnknownFields) continue;
        throw withSegment(new JsonFieldError("unknown", `(an Any of ${plan.typeName} has only "@type" and "value")`), `.${key}`);
      }
      if (!("value" in json)) throw valueError(`an Any of ${plan.typeName} needs a "value"`);
      try {
        payload = json.value === null && plan.typeName !== "google.protobuf.Value" ? fail(`"value" must not be null`) : plan.readJson(json.value, depth + 1);
      } catch (error) {
        throw withSegment(error, ".value");
      }
    } else if (plan.typeName === EMPTY && keys.length === 2 && isJsonObject(json.value) && Object.keys(json.value).length === 0) {
      // Empty inside an Any: Google's python inlines its (no) fields, protobuf-go writes
      // {"value": {}}; both mean the same, so both are read (and the inline form written).
      payload = plan.create();
    } else {
      payload = plan.readAnyFields(json, depth + 1);
    }
    return { typeUrl, value: plan.encode(payload, depth + 1) };
  };
  const write = (message: unknown, depth: number): JsonValue => {
    const { typeUrl, value } = message as AnyMessage;
    if (typeUrl === "" && value.length === 0) return {};
    return writeAnyJson(ctx, typeUrl, value, depth);
  };
  return {
    jsonIsObject: true,
    wellKnown: true,
    readJson: read,
    writeJson: write,
    readField: read,
    writeField: write,
    readFieldString: undefined,
    toMessage: identity,
    toField: identity,
  };
}

/** The JSON of an Any with this type URL and payload; `depth` is the Any's own level. */
export function writeAnyJson(ctx: PlanContext, typeUrl: string, value: Uint8Array, depth: number): JsonValue {
  const plan = ctx.planForTypeUrl(typeUrl);
  if (plan === undefined) throw valueError(`the Any holds unknown message type ${describe(typeUrl)}`);
  let payload: unknown;
  try {
    payload = plan.decode(value, depth + 1);
  } catch (error) {
    if (error instanceof JsonFieldError && error.problem === "depth") throw error;
    throw new JsonFieldError("undecodable", `the Any's ${plan.typeName} bytes do not decode`);
  }
  const body = plan.writeJson(payload, depth + 1);
  if (plan.wellKnown) return { "@type": typeUrl, value: body };
  const out: JsonObject = { "@type": typeUrl };
  for (const key of Object.keys(body as JsonObject)) setOwn(out, key, (body as JsonObject)[key]);
  return out;
}
