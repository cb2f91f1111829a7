import type { DescMessage, JsonValue } from "@bufbuild/protobuf";
import { describe, tooDeep, valueError } from "./json-field-error.js";
import { isJsonObject } from "./json-object.js";
import { MAX_DEPTH } from "./json-policy.js";
import { compileField } from "./field-plan.js";
import { compileFieldsReader, compileFieldsWriter, type FieldsReader, type FieldsWriter } from "./message-codegen.js";
import { compileObjectFactory, type InitialValue } from "./object-factory.js";
import type { MessagePlan, PlanContext } from "./plan-types.js";

/** The JSON part of a plan for a regular message (no special JSON form). */
export type RegularJson = Pick<MessagePlan, "create" | "readJson" | "writeJson" | "fields" | "field"> & {
  /** Reads the fields of an Any payload: like readJson, but the "@type" key is not a field. */
  readAnyFields(json: Record<string, unknown>, depth: number): Record<string, unknown>;
};

/**
 * Compiles a regular message: its field plans (also used by the request builder), a factory for
 * complete default objects, and generated straight-line readers and writers (generated on first
 * use), so a call does no descriptor work at all.
 */
export function compileRegular(desc: DescMessage, ctx: PlanContext): RegularJson {
  const fields = desc.fields.map((f) => compileField(f, ctx));
  const byName = new Map<string, number>();
  fields.forEach((f, i) => {
    byName.set(f.jsonName, i);
    byName.set(f.protoName, i);
  });

  // The default object: what ts-proto's createBase gives (lists and maps fresh per object).
  const create = compileObjectFactory(
    fields.map((f) => f.prop),
    fields.map((f): InitialValue => {
      if (f.cardinality === "list") return { kind: "list" };
      if (f.cardinality === "map") return { kind: "map" };
      return { kind: "value", value: f.explicitPresence ? undefined : f.element.zero };
    }),
  );

  // Generated on first use: a large API (Compute v1: ~1000 types reachable from its routes)
  // would otherwise spend most of the gateway's start-up generating code for types no request
  // may ever carry. The first call replaces the variable, so later calls go straight to the code.
  let readFields: FieldsReader = (...args) => (readFields = compileFieldsReader(fields, ctx.ignoreUnknownFields))(...args);
  let writeFields: FieldsWriter = (...args) => (writeFields = compileFieldsWriter(fields))(...args);
  const typeName = desc.typeName;

  const read = (json: unknown, depth: number, skipType: boolean): Record<string, unknown> => {
    if (!isJsonObject(json)) throw valueError(`expected a JSON object for ${typeName}, got ${describe(json)}`);
    if (depth > MAX_DEPTH) throw tooDeep();
    const m = create();
    readFields(json, m, depth, skipType);
    return m;
  };

  const write = (message: unknown, depth: number): JsonValue => {
    if (typeof message !== "object" || message === null) throw valueError(`expected a ${typeName} object, got ${describe(message)}`);
    if (depth > MAX_DEPTH) throw tooDeep();
    return writeFields(message as Record<string, unknown>, depth);
  };

  return {
    create,
    readJson: (json, depth) => read(json, depth, false),
    readAnyFields: (json, depth) => read(json, depth, true),
    writeJson: write,
    fields,
    field: (name) => {
      const i = byName.get(name);
      return i === undefined ? undefined : fields[i];
    },
  };
}

