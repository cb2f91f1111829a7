import { ScalarType, type DescMessage } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import fc from "fast-check";

/*
 * Test helper: protobuf bytes of one message in the shapes a backend may send besides the
 * canonical encoding: top-level fields in any order, some sent twice, unknown fields (every wire
 * type, groups included) in between, repeated scalars packed or not, and broken bytes.
 */

/** The top-level fields of a message's bytes, each with its tag. */
export function topLevelFields(bytes: Uint8Array): Uint8Array[] {
  const reader = new BinaryReader(bytes);
  const fields: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [number, wireType] = reader.tag();
    reader.skip(wireType, number);
    fields.push(bytes.subarray(start, reader.pos));
  }
  return fields;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

/** The element wire type of a repeated field that may be packed, else undefined. */
function packableWireType(desc: DescMessage, number: number): WireType | undefined {
  const field = desc.fields.find((f) => f.number === number);
  if (field?.fieldKind !== "list" || field.listKind === "message") return undefined;
  if (field.listKind === "enum") return WireType.Varint;
  switch (field.scalar) {
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
    case ScalarType.FLOAT:
      return WireType.Bit32;
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
    case ScalarType.DOUBLE:
      return WireType.Bit64;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return undefined;
    default:
      return WireType.Varint;
  }
}

/** Reads one raw element of `wireType` (its bytes as they are). */
function rawElement(reader: BinaryReader, wireType: WireType): Uint8Array {
  return reader.skip(wireType);
}

/** A packed field as unpacked elements, an unpacked element as a packed run of one: the same values either way. */
export function repack(desc: DescMessage, field: Uint8Array): Uint8Array {
  const reader = new BinaryReader(field);
  const [number, wireType] = reader.tag();
  const element = packableWireType(desc, number);
  if (element === undefined) return field;
  const writer = new BinaryWriter();
  if (wireType === WireType.LengthDelimited) {
    const end = reader.uint32() + reader.pos;
    while (reader.pos < end) writer.tag(number, element).raw(rawElement(reader, element));
  } else if (wireType === element) {
    writer.tag(number, WireType.LengthDelimited).bytes(rawElement(reader, element));
  } else return field;
  return writer.finish();
}

/** Unknown fields (numbers from 1000 on: no test message uses them) of every wire type (a group holds field number + 1). */
export const unknownField: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.integer({ min: 1000, max: 2 ** 29 - 2 }), fc.constantFrom("varint", "fixed32", "fixed64", "bytes", "group"), fc.uint8Array({ maxLength: 6 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
  .map(([number, kind, bytes, n]) => {
    const writer = new BinaryWriter();
    switch (kind) {
      case "varint":
        writer.tag(number, WireType.Varint).uint64(n);
        break;
      case "fixed32":
        writer.tag(number, WireType.Bit32).fixed32(Number(n & 0xffffffffn));
        break;
      case "fixed64":
        writer.tag(number, WireType.Bit64).fixed64(n);
        break;
      case "bytes":
        writer.tag(number, WireType.LengthDelimited).bytes(bytes);
        break;
      case "group":
        writer.tag(number, WireType.StartGroup).tag(number + 1, WireType.Varint).uint64(n).tag(number, WireType.EndGroup);
        break;
    }
    return writer.finish();
  });

/**
 * The bytes of a message (`canonical`, as an encoder writes them) reshaped: top-level fields
 * shuffled, some twice (a later one then replaces a singular field, adds to a list or map),
 * packed and unpacked, with unknown fields in between.
 */
export function reshaped(desc: DescMessage, canonical: Uint8Array): fc.Arbitrary<Uint8Array> {
  const fields = topLevelFields(canonical);
  const count = fields.length;
  return fc
    .tuple(
      fc.shuffledSubarray(fields, { minLength: count, maxLength: count }),
      fc.subarray(fields),
      fc.array(fc.boolean(), { minLength: count * 2, maxLength: count * 2 }),
      fc.array(unknownField, { maxLength: 3 }),
    )
    .chain(([order, again, repacks, unknowns]) => {
      const parts = [...order, ...again].map((f, i) => (repacks[i] ? repack(desc, f) : f));
      return fc.shuffledSubarray([...parts.map((p, i) => ({ i, p })), ...unknowns.map((p) => ({ i: -1, p }))], { minLength: parts.length + unknowns.length, maxLength: parts.length + unknowns.length }).map((all) => {
        // Keep the fields' own order (the shuffle above chose it); put unknowns anywhere between them.
        const known = all.filter((x) => x.i >= 0).sort((a, b) => a.i - b.i);
        let k = 0;
        return concat(all.map((x) => (x.i >= 0 ? known[k++].p : x.p)));
      });
    });
}

/** Valid bytes broken: cut short, a byte changed, or bytes put in. */
export function broken(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  const at = fc.integer({ min: 0, max: Math.max(0, bytes.length - 1) });
  return fc.oneof(
    at.map((i) => bytes.subarray(0, i)),
    fc.tuple(at, fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
      const copy = Uint8Array.from(bytes);
      if (copy.length > 0) copy[i] = b;
      return copy;
    }),
    fc.tuple(at, fc.uint8Array({ minLength: 1, maxLength: 4 })).map(([i, extra]) => concat([bytes.subarray(0, i), extra, bytes.subarray(i)])),
  );
}
