import { ScalarType } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { FieldRule, MessageRules } from "./behavior-plan.js";

/** What a walk over a request found: field paths (JSON names, `a.b[1].c`, `m["key"].c`) in the order met. */
export interface BehaviorFindings {
  /** REQUIRED fields that are missing (see FieldRule.presence for what missing means). */
  readonly missing: string[];
  /** OUTPUT_ONLY fields the request sets. */
  readonly outputOnly: string[];
}

/**
 * Walks the protobuf bytes of a message against its rules: records missing REQUIRED fields and
 * present OUTPUT_ONLY ones (a REQUIRED field is only checked inside a message that is present),
 * and, with `strip`, returns the bytes without the OUTPUT_ONLY fields (the same array when there
 * were none). Reads the bytes the gateway's own encoder wrote, which sets each singular message
 * field once, so each occurrence is checked as the whole value.
 */
export function walkMessage(bytes: Uint8Array, rules: MessageRules, prefix: string, strip: boolean, findings: BehaviorFindings): Uint8Array {
  const reader = new BinaryReader(bytes);
  let seen: Set<FieldRule> | undefined;
  let listIndex: Map<FieldRule, number> | undefined;
  // Rewritten output, only made once something is left out or rewritten: kept spans and new parts.
  let chunks: Uint8Array[] | undefined;
  let keptFrom = 0;
  const replace = (start: number, replacement: Uint8Array | undefined): void => {
    chunks ??= [];
    chunks.push(bytes.subarray(keptFrom, start));
    if (replacement !== undefined) chunks.push(replacement);
    keptFrom = reader.pos;
  };

  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [number, wireType] = reader.tag();
    const rule = rules.fields.get(number);
    if (rule === undefined) {
      reader.skip(wireType, number);
      continue;
    }
    const path = prefix + rule.jsonName;
    if (rule.outputOnly) {
      if (!findings.outputOnly.includes(path)) findings.outputOnly.push(path);
      reader.skip(wireType, number);
      if (strip) replace(start, undefined);
      continue;
    }
    if (rule.nested === undefined || wireType !== WireType.LengthDelimited) {
      // Only whether it is set matters.
      if (rule.required && isSet(reader, rule, wireType, number)) (seen ??= new Set()).add(rule);
      continue;
    }
    const value = reader.bytes();
    if (rule.required) (seen ??= new Set()).add(rule);
    let rewritten: Uint8Array;
    if (rule.cardinality === "map") {
      rewritten = walkMapEntry(value, rule, path, strip, findings);
    } else {
      let elementPath = path;
      if (rule.cardinality === "list") {
        const index = (listIndex ??= new Map()).get(rule) ?? 0;
        listIndex.set(rule, index + 1);
        elementPath = `${path}[${index}]`;
      }
      rewritten = walkMessage(value, rule.nested, `${elementPath}.`, strip, findings);
    }
    if (rewritten !== value) replace(start, lengthDelimited(number, rewritten));
  }

  for (const rule of rules.required) if (!seen?.has(rule)) findings.missing.push(prefix + rule.jsonName);
  if (chunks === undefined) return bytes;
  chunks.push(bytes.subarray(keptFrom));
  return Buffer.concat(chunks);
}

/** Whether a field occurrence sets the field (consumes it). */
function isSet(reader: BinaryReader, rule: FieldRule, wireType: WireType, number: number): boolean {
  if (rule.presence && !(rule.packable && wireType === WireType.LengthDelimited)) {
    reader.skip(wireType, number);
    return true;
  }
  switch (wireType) {
    case WireType.Varint:
      return String(reader.uint64()) !== "0";
    case WireType.Bit64:
      return String(reader.fixed64()) !== "0";
    case WireType.Bit32:
      return reader.fixed32() !== 0;
    case WireType.LengthDelimited:
      // A string or bytes value, or a packed list: empty is not set.
      return reader.bytes().length > 0;
    default:
      reader.skip(wireType, number);
      return true;
  }
}

/** One map entry (key 1, value 2) whose value is a message with rules: walked under `path["key"]`, rebuilt if its value changes. */
function walkMapEntry(entry: Uint8Array, rule: FieldRule, path: string, strip: boolean, findings: BehaviorFindings): Uint8Array {
  const reader = new BinaryReader(entry);
  let key = "";
  let value: Uint8Array = new Uint8Array(0);
  let keyBytes: Uint8Array = new Uint8Array(0);
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [number, wireType] = reader.tag();
    if (number === 1) {
      key = readKey(reader, rule.mapKey ?? ScalarType.STRING, wireType, number);
      keyBytes = entry.subarray(start, reader.pos);
    } else if (number === 2 && wireType === WireType.LengthDelimited) value = reader.bytes();
    else reader.skip(wireType, number);
  }
  const nested = rule.nested as MessageRules;
  const walked = walkMessage(value, nested, `${path}[${JSON.stringify(key)}].`, strip, findings);
  if (walked === value) return entry;
  return Buffer.concat([keyBytes, lengthDelimited(2, walked)]);
}

/** A map key as text (its JSON form), read by its scalar type. */
function readKey(reader: BinaryReader, type: ScalarType, wireType: WireType, number: number): string {
  switch (type) {
    case ScalarType.STRING:
      return reader.string();
    case ScalarType.BOOL:
      return String(reader.bool());
    case ScalarType.INT32:
      return String(reader.int32());
    case ScalarType.UINT32:
      return String(reader.uint32());
    case ScalarType.SINT32:
      return String(reader.sint32());
    case ScalarType.INT64:
      return String(reader.int64());
    case ScalarType.UINT64:
      return String(reader.uint64());
    case ScalarType.SINT64:
      return String(reader.sint64());
    case ScalarType.FIXED32:
      return String(reader.fixed32());
    case ScalarType.SFIXED32:
      return String(reader.sfixed32());
    case ScalarType.FIXED64:
      return String(reader.fixed64());
    case ScalarType.SFIXED64:
      return String(reader.sfixed64());
    default:
      reader.skip(wireType, number);
      return "";
  }
}

function lengthDelimited(number: number, bytes: Uint8Array): Uint8Array {
  return new BinaryWriter().tag(number, WireType.LengthDelimited).bytes(bytes).finish();
}
