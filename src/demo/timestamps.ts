import type { Timestamp } from "../../generated/google/protobuf/timestamp.js";

/** A Date as a ts-proto `google.protobuf.Timestamp` (seconds as a decimal string). */
export function toTimestamp(date: Date): Timestamp {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** A ts-proto Timestamp as epoch milliseconds (sub-millisecond precision is dropped). */
export function timestampToMillis(timestamp: Timestamp): number {
  return Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1_000_000);
}

/** Compares two Timestamps exactly (negative, zero or positive). */
export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  const bySeconds = BigInt(a.seconds) - BigInt(b.seconds);
  if (bySeconds !== 0n) return bySeconds < 0n ? -1 : 1;
  return Math.sign(a.nanos - b.nanos);
}
