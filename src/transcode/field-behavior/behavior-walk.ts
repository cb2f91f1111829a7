import { ScalarType } from "@bufbuild/protobuf";
import { WIRE_BIT32, WIRE_BIT64, WIRE_LENGTH_DELIMITED, WIRE_VARINT, WireCursor } from "../json/wire-cursor.js";
import type { FieldRule, MessageRules } from "./behavior-plan.js";

/** What a walk over a request found: field paths (JSON names, `a.b[1].c`, `m["key"].c`) in the order met. */
export interface BehaviorFindings {
  /** REQUIRED fields that are missing (see FieldRule.presence for what missing means). */
  readonly missing: string[];
  /** OUTPUT_ONLY fields the request sets, each path once. */
  readonly outputOnly: string[];
}

/**
 * Walks the protobuf bytes of a message against its rules: records missing REQUIRED fields and
 * present OUTPUT_ONLY ones (a REQUIRED field is only checked inside a message that is present),
 * and, with `strip`, returns the bytes without the OUTPUT_ONLY fields (the same array when there
 * were none). It reads the bytes the gateway's own encoder wrote, which sets each singular message
 * field once, so each occurrence is checked as the whole value; malformed bytes throw.
 *
 * Hand-written over the reply writer's WireCursor rather than @bufbuild/protobuf's BinaryReader:
 * that one allocates per tag and per nested message, which made the check cost as much as the
 * encoding itself on the demo's requests (see bench/field-behavior-cost.ts).
 */
export function walkMessage(bytes: Uint8Array, rules: MessageRules, prefix: string, strip: boolean, findings: BehaviorFindings): Uint8Array {
  const walker = new Walker(bytes, strip, findings);
  const parts = walker.message(0, bytes.length, rules, prefix);
  return parts === undefined ? bytes : concat(parts);
}

/** The tag of a map entry's value (field 2, length-delimited). */
const MAP_VALUE_TAG = new Uint8Array([(2 << 3) | WIRE_LENGTH_DELIMITED]);

class Walker {
  private readonly cursor: WireCursor;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly strip: boolean,
    private readonly findings: BehaviorFindings,
  ) {
    this.cursor = new WireCursor(bytes);
  }

  /**
   * Walks the message in [start, end): its findings are recorded; the result is undefined when
   * nothing is left out below it, else the parts its bytes are made of now.
   */
  message(start: number, end: number, rules: MessageRules, prefix: string): Uint8Array[] | undefined {
    const { cursor, bytes } = this;
    cursor.pos = start;
    let seen = 0; // bit i: rules.required[i] is set (messages with more than 31 REQUIRED fields use `seenMore`)
    let seenMore: boolean[] | undefined;
    let listCounts: Map<FieldRule, number> | undefined;
    let parts: Uint8Array[] | undefined;
    let keptFrom = start;

    while (cursor.pos < end) {
      const fieldStart = cursor.pos;
      const tag = cursor.tag(end);
      const rule = rules.fields.get(tag >>> 3);
      if (rule === undefined) {
        cursor.skip(tag, end);
        continue;
      }
      if (rule.outputOnly) {
        const path = prefix + rule.jsonName;
        if (!this.findings.outputOnly.includes(path)) this.findings.outputOnly.push(path);
        cursor.skip(tag, end);
        if (this.strip) {
          (parts ??= []).push(bytes.subarray(keptFrom, fieldStart));
          keptFrom = cursor.pos;
        }
        continue;
      }
      const valueStart = cursor.pos;
      const wireType = tag & 7;
      if (rule.nested === undefined || wireType !== WIRE_LENGTH_DELIMITED) {
        cursor.skip(tag, end);
        if (rule.requiredIndex >= 0 && isSet(rule, wireType, bytes, valueStart, cursor.pos)) {
          if (rule.requiredIndex < 31) seen |= 1 << rule.requiredIndex;
          else (seenMore ??= [])[rule.requiredIndex] = true;
        }
        continue;
      }
      if (rule.requiredIndex >= 0) {
        if (rule.requiredIndex < 31) seen |= 1 << rule.requiredIndex;
        else (seenMore ??= [])[rule.requiredIndex] = true;
      }
      const valueEnd = cursor.lengthEnd(end);
      const contentStart = cursor.pos;
      let path = prefix + rule.jsonName;
      let inner: Uint8Array[] | undefined;
      if (rule.cardinality === "map") {
        inner = this.mapEntry(contentStart, valueEnd, rule, path);
      } else {
        if (rule.cardinality === "list") {
          const index = (listCounts ??= new Map()).get(rule) ?? 0;
          listCounts.set(rule, index + 1);
          path = `${path}[${index}]`;
        }
        inner = this.message(contentStart, valueEnd, rule.nested, `${path}.`);
      }
      cursor.pos = valueEnd;
      if (inner !== undefined) {
        // The field again: its tag as it was, the new length, the new content.
        (parts ??= []).push(bytes.subarray(keptFrom, fieldStart), bytes.subarray(fieldStart, valueStart), varint(totalLength(inner)), ...inner);
        keptFrom = valueEnd;
      }
    }

    const { required } = rules;
    for (let i = 0; i < required.length; i++) {
      const set = i < 31 ? (seen & (1 << i)) !== 0 : seenMore?.[i] === true;
      if (!set) this.findings.missing.push(prefix + required[i].jsonName);
    }
    if (parts === undefined) return undefined;
    parts.push(bytes.subarray(keptFrom, end));
    return parts;
  }

  /** One map entry (key 1, value 2) whose value is a message with rules, walked under `path["key"]`; its new parts if its value changed. */
  private mapEntry(start: number, end: number, rule: FieldRule, path: string): Uint8Array[] | undefined {
    const { cursor, bytes } = this;
    cursor.pos = start;
    let key = "";
    let keyPart: Uint8Array | undefined;
    let valueStart = end;
    let valueEnd = end;
    while (cursor.pos < end) {
      const fieldStart = cursor.pos;
      const tag = cursor.tag(end);
      if (tag >>> 3 === 1) {
        key = readKey(cursor, rule.mapKey ?? ScalarType.STRING, tag, end);
        keyPart = bytes.subarray(fieldStart, cursor.pos);
      } else if (tag >>> 3 === 2 && (tag & 7) === WIRE_LENGTH_DELIMITED) {
        valueEnd = cursor.lengthEnd(end);
        valueStart = cursor.pos;
        cursor.pos = valueEnd;
      } else cursor.skip(tag, end);
    }
    // An entry without a value holds the empty message: walked as such.
    const inner = this.message(valueStart, valueEnd, rule.nested as MessageRules, `${path}[${JSON.stringify(key)}].`);
    if (inner === undefined) return undefined;
    return [...(keyPart === undefined ? [] : [keyPart]), MAP_VALUE_TAG, varint(totalLength(inner)), ...inner];
  }
}

/**
 * Whether a value sets its field: any occurrence for fields with presence (a packed run only when
 * not empty); for proto3 implicit presence, a value that is not the default (a varint or fixed
 * value with a bit set, a non-empty string or bytes).
 */
function isSet(rule: FieldRule, wireType: number, bytes: Uint8Array, start: number, end: number): boolean {
  if (rule.presence && !(rule.packable && wireType === WIRE_LENGTH_DELIMITED)) return true;
  switch (wireType) {
    case WIRE_VARINT:
      for (let i = start; i < end; i++) if ((bytes[i] & 0x7f) !== 0) return true;
      return false;
    case WIRE_BIT64:
    case WIRE_BIT32:
      for (let i = start; i < end; i++) if (bytes[i] !== 0) return true;
      return false;
    case WIRE_LENGTH_DELIMITED:
      // The length's varint: zero is an empty string, bytes or packed run.
      return bytes[start] !== 0;
    default:
      return true;
  }
}

/** A map key as text (its JSON form), read by its scalar type. */
function readKey(cursor: WireCursor, type: ScalarType, tag: number, end: number): string {
  switch (type) {
    case ScalarType.STRING:
      return cursor.string(end);
    case ScalarType.BOOL:
      return String(cursor.bool(end));
    case ScalarType.INT32:
      return String(cursor.int32(end));
    case ScalarType.UINT32:
      return String(cursor.uint32(end));
    case ScalarType.SINT32:
      return String(cursor.sint32(end));
    case ScalarType.INT64:
      return cursor.int64(end);
    case ScalarType.UINT64:
      return cursor.uint64(end);
    case ScalarType.SINT64:
      return cursor.sint64(end);
    case ScalarType.FIXED32:
      return String(cursor.fixed32(end));
    case ScalarType.SFIXED32:
      return String(cursor.sfixed32(end));
    case ScalarType.FIXED64:
      return cursor.fixed64(end);
    case ScalarType.SFIXED64:
      return cursor.sfixed64(end);
    default:
      cursor.skip(tag, end);
      return "";
  }
}

function totalLength(parts: readonly Uint8Array[]): number {
  let length = 0;
  for (const part of parts) length += part.length;
  return length;
}

/** A length as a varint (lengths of a request stay far below 2^31). */
function varint(value: number): Uint8Array {
  let size = 1;
  for (let v = value; v > 0x7f; v >>>= 7) size++;
  const out = new Uint8Array(size);
  for (let i = 0; i < size - 1; i++) {
    out[i] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[size - 1] = value;
  return out;
}

/** The parts as one array. */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(totalLength(parts));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
