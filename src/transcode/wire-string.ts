import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/**
 * The value of a singular string field at `numbers` (field numbers from the root, through singular
 * message fields) in a message's protobuf bytes, as a decoder would see it: the last occurrence
 * wins, and occurrences of a message field merge. Undefined when the field is absent or empty.
 * Reads the bytes in place (bytes that do not decode throw, as decoding the reply would).
 */
export function readStringField(bytes: Uint8Array, numbers: readonly number[]): string | undefined {
  return readAt(bytes, numbers, 0);
}

function readAt(bytes: Uint8Array, numbers: readonly number[], level: number): string | undefined {
  const reader = new BinaryReader(bytes);
  const wanted = numbers[level];
  const leaf = level === numbers.length - 1;
  let found: string | undefined;
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo !== wanted || wireType !== WireType.LengthDelimited) {
      reader.skip(wireType, fieldNo);
      continue;
    }
    if (leaf) {
      found = reader.string();
      continue;
    }
    const inner = readAt(reader.bytes(), numbers, level + 1);
    if (inner !== undefined) found = inner;
  }
  return found === "" ? undefined : found;
}
