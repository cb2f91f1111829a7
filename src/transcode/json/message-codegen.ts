import type { JsonValue } from "@bufbuild/protobuf";
import { SKIP } from "./enum-json.js";
import { JsonFieldError, fieldSegment, valueError, withSegment } from "./json-field-error.js";
import { setOwn } from "./json-object.js";
import type { FieldPlan } from "./plan-types.js";

/*
 * Generated per-message reader and writer. A loop over FieldPlan closures makes every property
 * access and call megamorphic (one site for all fields of all types); generating straight-line
 * code per message type gives each field its own monomorphic site, like ts-proto's own
 * generated code. Generated text only ever contains JSON-quoted names and indices into the
 * arrays passed in; all logic stays in the typed closures.
 */

/** Reads the fields of one JSON object into `message`; the caller checks the object and depth. */
export type FieldsReader = (json: Record<string, unknown>, message: Record<string, unknown>, depth: number, skipType: boolean) => void;
export type FieldsWriter = (message: Record<string, unknown>, depth: number) => Record<string, JsonValue>;

const q = (text: string): string => JSON.stringify(text);

interface Helpers {
  readonly SKIP: typeof SKIP;
  unknown(): JsonFieldError;
  twice(other: string): JsonFieldError;
  oneof(oneof: string): JsonFieldError;
  seg(error: unknown, segment: string): unknown;
  setOwn(target: Record<string, unknown>, key: string, value: unknown): void;
}

const helpers: Helpers = {
  SKIP,
  unknown: () => new JsonFieldError("unknown", ""),
  // Both names of one field: the same duplicate as a key given twice (JSON.parse would keep one).
  twice: (other) => new JsonFieldError("duplicate", `also given as ${JSON.stringify(other)}`),
  oneof: (oneof) => valueError(`another field of oneof "${oneof}" is already set`),
  seg: (error, segment) => withSegment(error, fieldSegment(segment)),
  setOwn,
};

/** Compiles the reader of a regular message's fields. */
export function compileFieldsReader(fields: readonly FieldPlan[], ignoreUnknown: boolean): FieldsReader {
  const reads = fields.map((f) => f.read);
  const nulls = fields.map((f) => f.nullValue);
  // One bit per field that has two names (to reject both given) and per oneof.
  const aliasBit = new Map<number, number>();
  const oneofBit = new Map<string, number>();
  let bits = 0;
  fields.forEach((f, i) => {
    if (f.jsonName !== f.protoName) aliasBit.set(i, bits++);
  });
  for (const f of fields) if (f.oneof !== undefined && !oneofBit.has(f.oneof)) oneofBit.set(f.oneof, bits++);
  const word = (bit: number): string => `s${Math.floor(bit / 30)}`;
  const mask = (bit: number): number => 1 << bit % 30;

  const cases = fields.map((f, i) => {
    const labels = f.jsonName === f.protoName ? [f.jsonName] : [f.jsonName, f.protoName];
    const lines: string[] = [];
    const alias = aliasBit.get(i);
    if (alias !== undefined) {
      lines.push(`if ((${word(alias)} & ${mask(alias)}) !== 0) throw h.twice(key === ${q(f.jsonName)} ? ${q(f.protoName)} : ${q(f.jsonName)});`);
      lines.push(`${word(alias)} |= ${mask(alias)};`);
    }
    const oneof = f.oneof === undefined ? undefined : oneofBit.get(f.oneof)!;
    const markOneof =
      oneof === undefined ? "" : `if ((${word(oneof)} & ${mask(oneof)}) !== 0) throw h.oneof(${q(f.oneof!)}); ${word(oneof)} |= ${mask(oneof)};`;
    const set = (expr: string): string => (f.prop === "__proto__" ? `h.setOwn(m, ${q(f.prop)}, ${expr});` : `m[${q(f.prop)}] = ${expr};`);
    lines.push(nulls[i] === SKIP ? "if (value === null) continue;" : `if (value === null) { ${set(`n[${i}]`)} ${markOneof} continue; }`);
    lines.push(`v = r[${i}](value, depth); if (v === h.SKIP) continue;`);
    lines.push(set("v"));
    if (markOneof) lines.push(markOneof);
    return `${labels.map((l) => `case ${q(l)}:`).join(" ")} { ${lines.join(" ")} break; }`;
  });
  const words = Array.from({ length: Math.ceil(bits / 30) }, (_, w) => `let s${w} = 0;`).join(" ");
  const source = `return function readFields(json, m, depth, skipType) {
  ${words}
  let key = "", v;
  try {
    const keys = Object.keys(json);
    for (let k = 0; k < keys.length; k++) {
      key = keys[k];
      const value = json[key];
      if (value === undefined) continue;
      switch (key) {
        ${cases.join("\n        ")}
        default:
          if (${ignoreUnknown ? "true" : "false"} || (skipType && key === "@type")) continue;
          throw h.unknown();
      }
    }
  } catch (e) { throw h.seg(e, key); }
};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- see the note at the top of the file.
  return new Function("r", "n", "h", source)(reads, nulls, helpers) as FieldsReader;
}

/** Compiles the writer of a regular message's fields (declaration order, defaults omitted). */
export function compileFieldsWriter(fields: readonly FieldPlan[]): FieldsWriter {
  const writes = fields.map((f) => f.write);
  const zeros = fields.map((f) => f.element.zero);
  const statements = fields.map((f, i) => {
    let present: string;
    if (f.cardinality === "list") present = "v !== undefined && v.length !== 0";
    else if (f.cardinality === "map") present = "v !== undefined && v.size !== 0";
    else if (f.explicitPresence) {
      present = f.element.acceptsNull ? "v !== undefined" : "v !== undefined && v !== null";
    } else if (f.desc.fieldKind === "scalar" && zeros[i] instanceof Uint8Array) present = "v !== undefined && v.length !== 0";
    else present = `v !== undefined && v !== z[${i}]`;
    const store = f.jsonName === "__proto__" ? `h.setOwn(out, ${q(f.jsonName)}, w[${i}](v, depth))` : `out[${q(f.jsonName)}] = w[${i}](v, depth)`;
    return `i = ${i}; v = m[${q(f.prop)}]; if (${present}) ${store};`;
  });
  const source = `return function writeFields(m, depth) {
  const out = {};
  let i = 0, v;
  try {
    ${statements.join("\n    ")}
  } catch (e) { throw h.seg(e, j[i]); }
  return out;
};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- see the note at the top of the file.
  return new Function("w", "z", "j", "h", source)(writes, zeros, fields.map((f) => f.jsonName), helpers) as FieldsWriter;
}
