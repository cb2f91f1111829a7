import { TIMESTAMP_STRING } from "./json-policy.js";

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in Unix seconds: the Timestamp range. */
const MIN_SECONDS = -62135596800;
const MAX_SECONDS = 253402300799;

/** A Timestamp or Duration as ts-proto holds it (forceLong=string). */
export interface SecondsNanos {
  seconds: string;
  nanos: number;
}

/** Parses RFC 3339 into {seconds, nanos}; returns an error detail string when invalid. */
export function parseTimestamp(text: string): SecondsNanos | string {
  const m = TIMESTAMP_STRING.exec(text);
  if (m === null) return `${JSON.stringify(short(text))} is not an RFC 3339 timestamp (like "1972-01-01T10:00:20.021Z")`;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return `${JSON.stringify(short(text))} is not a valid date and time`;
  }
  let seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  if (m[8] !== undefined) {
    const offsetHours = Number(m[9]);
    const offsetMinutes = Number(m[10]);
    if (offsetHours > 23 || offsetMinutes > 59) return `${JSON.stringify(short(text))} has an invalid UTC offset`;
    const offset = offsetHours * 3600 + offsetMinutes * 60;
    seconds += m[8] === "+" ? -offset : offset;
  }
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) {
    return `${JSON.stringify(short(text))} is outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z`;
  }
  const nanos = m[7] === undefined ? 0 : Number(m[7].padEnd(9, "0"));
  return { seconds: String(seconds), nanos };
}

/** Formats {seconds, nanos} as "1972-01-01T10:00:20.021Z"; returns an error detail when out of range. */
export function formatTimestamp(value: SecondsNanos): string | { error: string } {
  const seconds = Number(value.seconds);
  const nanos = value.nanos;
  if (!Number.isInteger(seconds) || seconds < MIN_SECONDS || seconds > MAX_SECONDS) {
    return { error: `seconds ${String(value.seconds)} is outside the Timestamp range` };
  }
  if (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) return { error: `nanos ${String(nanos)} is outside 0..999999999` };
  const days = Math.floor(seconds / 86400);
  let rest = seconds - days * 86400;
  const [year, month, day] = civilFromDays(days);
  const hour = Math.floor(rest / 3600);
  rest -= hour * 3600;
  const minute = Math.floor(rest / 60);
  const second = rest - minute * 60;
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${fraction(nanos)}Z`;
}

/** ".021", ".000021", ".000000021" or "" : 0, 3, 6 or 9 digits, as few as exact. */
export function fraction(nanos: number): string {
  if (nanos === 0) return "";
  if (nanos % 1_000_000 === 0) return `.${pad(nanos / 1_000_000, 3)}`;
  if (nanos % 1000 === 0) return `.${pad(nanos / 1000, 6)}`;
  return `.${pad(nanos, 9)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

function short(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeap(year) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

// Days since 1970-01-01 in the proleptic Gregorian calendar (Date.UTC mangles years < 100).
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (month <= 2 ? 1 : 0), month, day];
}
