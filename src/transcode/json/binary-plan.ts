import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { tooDeep, valueError } from "./json-field-error.js";
import { MAX_DEPTH } from "./json-policy.js";
import { hasExplicitPresence } from "./field-plan.js";
import type { MessagePlan, PlanContext } from "./plan-types.js";
import { scalarJson } from "./scalar-json.js";
import type { ProtoWriter } from "./wire-writer.js";

/**
 * The protobuf wire format of ts-proto shaped values, compiled per message type: the object
 * path's codecs (binary-codecs.ts) and Any payloads, written with BinaryWriter; the direct JSON
 * encoder (json-binary.ts) also has the well-known types written by it, into its WireWriter.
 */
export interface BinaryPlan {
  encodeTo(message: unknown, writer: ProtoWriter, depth: number): void;
  decodeFrom(reader: BinaryReader, end: number, depth: number): Record<string, unknown>;
}

/** How one scalar type is written and read (the direct JSON encoder writes with these too). */
export interface ScalarWire {
  readonly wireType: WireType;
  write(writer: ProtoWriter, value: unknown): void;
  read(reader: BinaryReader): unknown;
}

type Write = (writer: ProtoWriter, value: unknown) => void;

export function scalarWire(type: ScalarType): ScalarWire {
  const s = (wireType: WireType, write: Write, read: (r: BinaryReader) => unknown): ScalarWire => ({ wireType, write, read });
  switch (type) {
    case ScalarType.INT32:
      return s(WireType.Varint, (w, v) => w.int32(v as number), (r) => r.int32());
    case ScalarType.SINT32:
      return s(WireType.Varint, (w, v) => w.sint32(v as number), (r) => r.sint32());
    case ScalarType.SFIXED32:
      return s(WireType.Bit32, (w, v) => w.sfixed32(v as number), (r) => r.sfixed32());
    case ScalarType.UINT32:
      return s(WireType.Varint, (w, v) => w.uint32(v as number), (r) => r.uint32());
    case ScalarType.FIXED32:
      return s(WireType.Bit32, (w, v) => w.fixed32(v as number), (r) => r.fixed32());
    case ScalarType.INT64:
      return s(WireType.Varint, (w, v) => w.int64(v as string), (r) => String(r.int64()));
    case ScalarType.SINT64:
      return s(WireType.Varint, (w, v) => w.sint64(v as string), (r) => String(r.sint64()));
    case ScalarType.SFIXED64:
      return s(WireType.Bit64, (w, v) => w.sfixed64(v as string), (r) => String(r.sfixed64()));
    case ScalarType.UINT64:
      return s(WireType.Varint, (w, v) => w.uint64(v as string), (r) => String(r.uint64()));
    case ScalarType.FIXED64:
      return s(WireType.Bit64, (w, v) => w.fixed64(v as string), (r) => String(r.fixed64()));
    case ScalarType.FLOAT:
      return s(WireType.Bit32, (w, v) => w.float(v as number), (r) => r.float());
    case ScalarType.DOUBLE:
      return s(WireType.Bit64, (w, v) => w.double(v as number), (r) => r.double());
    case ScalarType.BOOL:
      return s(WireType.Varint, (w, v) => w.bool(v as boolean), (r) => r.bool());
    case ScalarType.STRING:
      return s(WireType.LengthDelimited, (w, v) => w.string(v as string), (r) => r.string());
    case ScalarType.BYTES:
      return s(WireType.LengthDelimited, (w, v) => w.bytes(v as Uint8Array), (r) => Buffer.from(r.bytes()));
  }
}

export const ENUM_WIRE: ScalarWire = { wireType: WireType.Varint, write: (w, v) => w.int32(v as number), read: (r) => r.int32() };

/** How one field's value (in ts-proto field shape) is written and read. */
interface FieldWire {
  readonly number: number;
  readonly prop: string;
  encode(writer: ProtoWriter, value: unknown, depth: number): void;
  /** Reads one occurrence (wire type already checked) into `message`. */
  decode(reader: BinaryReader, wireType: WireType, message: Record<string, unknown>, depth: number): void;
}

/** Compiles the wire codec of a message type; `create` gives its default ts-proto object. */
export function compileBinary(desc: DescMessage, ctx: PlanContext, create: () => Record<string, unknown>): BinaryPlan {
  const fields = desc.fields.map((f) => fieldWire(f, ctx));
  const byNumber = new Map(fields.map((f) => [f.number, f]));
  return {
    encodeTo(message, writer, depth) {
      if (depth > MAX_DEPTH) throw tooDeep();
      const m = message as Record<string, unknown>;
      for (const f of fields) f.encode(writer, m[f.prop], depth);
    },
    decodeFrom(reader, end, depth) {
      if (depth > MAX_DEPTH) throw tooDeep();
      const m = create();
      while (reader.pos < end) {
        const [number, wireType] = reader.tag();
        const f = byNumber.get(number);
        if (f === undefined) reader.skip(wireType, number);
        else f.decode(reader, wireType, m, depth);
      }
      if (reader.pos !== end) throw valueError(`${desc.typeName} bytes are truncated`);
      return m;
    },
  };
}

function fieldWire(field: DescField, ctx: PlanContext): FieldWire {
  if (field.fieldKind === "message" && field.delimitedEncoding) throw new Error(`${field.toString()}: groups are not supported`);
  const number = field.number;
  const prop = field.jsonName;
  switch (field.fieldKind) {
    case "scalar":
    case "enum": {
      const wire = field.fieldKind === "enum" ? ENUM_WIRE : scalarWire(field.scalar);
      const zero = field.fieldKind === "enum" ? (field.enum.values[0]?.number ?? 0) : scalarJson(field.scalar).zero;
      const isZero = field.fieldKind === "scalar" && field.scalar === ScalarType.BYTES ? (v: unknown) => (v as Uint8Array).length === 0 : (v: unknown) => v === zero;
      const explicit = hasExplicitPresence(field);
      return {
        number,
        prop,
        encode(writer, value) {
          if (value === undefined || (!explicit && isZero(value))) return;
          wire.write(writer.tag(number, wire.wireType), value);
        },
        decode(reader, wireType, message) {
          if (wireType !== wire.wireType) return void reader.skip(wireType, number);
          message[prop] = wire.read(reader);
        },
      };
    }
    case "message": {
      const plan = ctx.plan(field.message);
      return {
        number,
        prop,
        encode(writer, value, depth) {
          if (value === undefined) return;
          writer.tag(number, WireType.LengthDelimited).fork();
          plan.encodeTo(plan.toMessage(value), writer, depth + 1);
          writer.join();
        },
        decode(reader, wireType, message, depth) {
          if (wireType !== WireType.LengthDelimited) return void reader.skip(wireType, number);
          message[prop] = readNested(reader, plan, depth);
        },
      };
    }
    case "list":
      return listWire(field, ctx);
    case "map":
      return mapWire(field, ctx);
  }
}

function readNested(reader: BinaryReader, plan: MessagePlan, depth: number): unknown {
  const length = reader.uint32();
  return plan.toField(plan.decodeFrom(reader, reader.pos + length, depth + 1));
}

function listWire(field: DescField & { fieldKind: "list" }, ctx: PlanContext): FieldWire {
  const number = field.number;
  const prop = field.jsonName;
  if (field.listKind === "message") {
    const plan = ctx.plan(field.message);
    return {
      number,
      prop,
      encode(writer, value, depth) {
        for (const item of value as unknown[]) {
          writer.tag(number, WireType.LengthDelimited).fork();
          plan.encodeTo(plan.toMessage(item), writer, depth + 1);
          writer.join();
        }
      },
      decode(reader, wireType, message, depth) {
        if (wireType !== WireType.LengthDelimited) return void reader.skip(wireType, number);
        (message[prop] as unknown[]).push(readNested(reader, plan, depth));
      },
    };
  }
  const wire = field.listKind === "enum" ? ENUM_WIRE : scalarWire(field.scalar);
  const packable = wire.wireType !== WireType.LengthDelimited;
  const packed = packable && field.packed;
  return {
    number,
    prop,
    encode(writer, value) {
      const list = value as unknown[];
      if (list.length === 0) return;
      if (packed) {
        writer.tag(number, WireType.LengthDelimited).fork();
        for (const item of list) wire.write(writer, item);
        writer.join();
      } else {
        for (const item of list) wire.write(writer.tag(number, wire.wireType), item);
      }
    },
    decode(reader, wireType, message) {
      const list = message[prop] as unknown[];
      if (packable && wireType === WireType.LengthDelimited) {
        const end = reader.uint32() + reader.pos;
        while (reader.pos < end) list.push(wire.read(reader));
        if (reader.pos !== end) throw valueError(`packed field ${field.name} is truncated`);
      } else if (wireType === wire.wireType) {
        list.push(wire.read(reader));
      } else {
        reader.skip(wireType, number);
      }
    },
  };
}

/** A map key or scalar value that equals its type's zero (empty bytes included). */
function isZeroScalar(value: unknown, zero: unknown): boolean {
  return value instanceof Uint8Array ? value.length === 0 : value === zero;
}

function mapWire(field: DescField & { fieldKind: "map" }, ctx: PlanContext): FieldWire {
  const number = field.number;
  const prop = field.jsonName;
  const keyWire = scalarWire(field.mapKey);
  const keyZero = scalarJson(field.mapKey).zero;
  const plan = field.mapKind === "message" ? ctx.plan(field.message) : undefined;
  const valueWire = field.mapKind === "enum" ? ENUM_WIRE : field.mapKind === "scalar" ? scalarWire(field.scalar) : undefined;
  const valueZero = field.mapKind === "enum" ? (field.enum.values[0]?.number ?? 0) : field.mapKind === "scalar" ? scalarJson(field.scalar).zero : undefined;
  return {
    number,
    prop,
    // Each entry is a message one level below `depth` (the map's message), its value two levels.
    encode(writer, value, depth) {
      const map = value as Map<unknown, unknown>;
      if (map.size > 0 && depth + 1 > MAX_DEPTH) throw tooDeep();
      for (const [k, v] of map) {
        writer.tag(number, WireType.LengthDelimited).fork();
        // A zero key or scalar value is left out of the entry, as ts-proto writes it (the
        // reader then takes the zero): the same bytes as the codecs the gateway used before.
        if (!isZeroScalar(k, keyZero)) keyWire.write(writer.tag(1, keyWire.wireType), k);
        if (plan !== undefined) {
          if (v !== undefined) {
            writer.tag(2, WireType.LengthDelimited).fork();
            plan.encodeTo(plan.toMessage(v), writer, depth + 2);
            writer.join();
          }
        } else if (!isZeroScalar(v, valueZero)) {
          valueWire!.write(writer.tag(2, valueWire!.wireType), v);
        }
        writer.join();
      }
    },
    decode(reader, wireType, message, depth) {
      if (wireType !== WireType.LengthDelimited) return void reader.skip(wireType, number);
      if (depth + 1 > MAX_DEPTH) throw tooDeep();
      const end = reader.uint32() + reader.pos;
      let key: unknown = keyZero;
      let value: unknown = valueZero;
      while (reader.pos < end) {
        const [n, wt] = reader.tag();
        if (n === 1 && wt === keyWire.wireType) key = keyWire.read(reader);
        else if (n === 2 && plan !== undefined && wt === WireType.LengthDelimited) value = readNested(reader, plan, depth + 1);
        else if (n === 2 && valueWire !== undefined && wt === valueWire.wireType) value = valueWire.read(reader);
        else reader.skip(wt, n);
      }
      if (reader.pos !== end) throw valueError(`map entry of ${field.name} is truncated`);
      if (plan !== undefined && value === undefined) value = plan.toField(plan.create());
      (message[prop] as Map<unknown, unknown>).set(key, value);
    },
  };
}
