import { INTEGER_STRING } from "./json-policy.js";

// Up to 15 digits: exact as a double, the common case.
const PLAIN_SMALL_INTEGER = /^-?(?:0|[1-9][0-9]{0,14})$/;

/**
 * The exact value of an integer JSON string ("42", "-7", "1e2", "1.50e1"): a safe number, a
 * bigint beyond 2^53, or undefined when the text is not a number or not integral.
 */
export function integerFromString(text: string): number | bigint | undefined {
  if (PLAIN_SMALL_INTEGER.test(text)) {
    const n = Number(text);
    return n === 0 ? 0 : n;
  }
  const m = INTEGER_STRING.exec(text);
  if (m === null) return undefined;
  const [, minus, whole, fraction, exponent] = m;
  if (fraction === undefined && exponent === undefined) {
    if (whole.length <= 15) {
      const n = Number(text);
      return n === 0 ? 0 : n;
    }
    return BigInt(text);
  }
  let digits = whole + (fraction ?? "");
  let scale = Number(exponent ?? "0") - (fraction?.length ?? 0);
  digits = digits.replace(/^0+(?=[0-9])/, "");
  if (/^0+$/.test(digits)) return 0;
  if (scale < 0) {
    // Integral only if the digits dropped by the negative scale are zeros.
    if (-scale >= digits.length || !/^0+$/.test(digits.slice(scale))) return undefined;
    digits = digits.slice(0, scale);
    scale = 0;
  }
  if (digits.length + scale > 40) return minus ? -(10n ** 40n) : 10n ** 40n; // out of every range
  const big = BigInt(digits) * 10n ** BigInt(scale) * (minus ? -1n : 1n);
  return big >= -(2n ** 53n) && big <= 2n ** 53n ? Number(big) : big;
}
