import { DURATION_STRING } from "./json-policy.js";
import { fraction, type SecondsNanos } from "./timestamp-json.js";

/** ±10,000 years in seconds: the Duration range. */
const MAX_SECONDS = 315_576_000_000;

/** Parses "1.5s" / "-0.000000001s" into {seconds, nanos} (same sign); an error detail when invalid. */
export function parseDuration(text: string): SecondsNanos | string {
  const m = DURATION_STRING.exec(text);
  if (m === null) return `${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text)} is not a duration (like "1.5s")`;
  const negative = m[1] !== undefined;
  const seconds = m[2].length > 12 ? Infinity : Number(m[2]);
  if (seconds > MAX_SECONDS) return `${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text)} is outside the Duration range (±${MAX_SECONDS}s)`;
  const nanos = m[3] === undefined ? 0 : Number(m[3].padEnd(9, "0"));
  return {
    seconds: negative && seconds !== 0 ? `-${seconds}` : String(seconds),
    nanos: negative && nanos !== 0 ? -nanos : nanos,
  };
}

/** Formats {seconds, nanos} as "1.500s"; an error detail when out of range or of mixed sign. */
export function formatDuration(value: SecondsNanos): string | { error: string } {
  const seconds = Number(value.seconds);
  const nanos = value.nanos;
  if (!Number.isInteger(seconds) || Math.abs(seconds) > MAX_SECONDS) return { error: `seconds ${String(value.seconds)} is outside the Duration range` };
  if (!Number.isInteger(nanos) || Math.abs(nanos) > 999_999_999) return { error: `nanos ${String(nanos)} is outside -999999999..999999999` };
  if ((seconds < 0 && nanos > 0) || (seconds > 0 && nanos < 0)) return { error: "seconds and nanos have different signs" };
  const negative = seconds < 0 || nanos < 0;
  return `${negative ? "-" : ""}${Math.abs(seconds)}${fraction(Math.abs(nanos))}s`;
}
