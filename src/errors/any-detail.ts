import type { JsonValue } from "@bufbuild/protobuf";

/** A `google.protobuf.Any` still in binary form: a status detail the gateway has not decoded. */
export interface RawAny {
  readonly typeUrl: string;
  readonly value: Uint8Array;
}

/**
 * Turns the binary value of an `Any` into its proto3 JSON form (including `"@type"`), or returns
 * undefined when the type is unknown. The JSON codec registry provides it.
 */
export type AnyToJson = (typeUrl: string, value: Uint8Array) => JsonValue | undefined;

/** Whether a status detail is a `RawAny` (as opposed to an already-JSON detail). */
export function isRawAny(detail: unknown): detail is RawAny {
  return (
    typeof detail === "object" &&
    detail !== null &&
    typeof (detail as RawAny).typeUrl === "string" &&
    (detail as RawAny).value instanceof Uint8Array
  );
}

/**
 * The JSON form of one status detail: JSON details pass through; a `RawAny` goes through
 * `anyToJson`, falling back to `{"@type": typeUrl, "value": base64}` for unknown types or bytes
 * the codec cannot decode.
 */
export function detailToJson(detail: unknown, anyToJson: AnyToJson): unknown {
  if (!isRawAny(detail)) return detail;
  try {
    const json = anyToJson(detail.typeUrl, detail.value);
    if (json !== undefined) return json;
  } catch {
    // Malformed detail bytes from an upstream must not turn a clean error into a 500.
  }
  return { "@type": detail.typeUrl, value: Buffer.from(detail.value.buffer, detail.value.byteOffset, detail.value.byteLength).toString("base64") };
}
