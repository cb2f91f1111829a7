import { badRequest } from "../errors/gateway-error.js";

/** Most parameters accepted in one query string; more is a 400 rather than unbounded work. */
export const MAX_QUERY_PARAMETERS = 1000;

/**
 * Splits the raw query (the part after "?", without "#") into decoded key/value pairs, in order
 * and keeping duplicates: pairs are separated by "&", key and value by the first "=", "+" means
 * a space (form encoding, so a literal "+" must be sent as %2B), then both are strictly
 * percent-decoded (valid escapes, valid UTF-8). Empty pairs (`a=1&&b=2`) are skipped; a key
 * without "=" gets "". Throws `GatewayError` INVALID_ARGUMENT `PG_ERR_BAD_QUERY` naming the
 * parameter (never its value) for bad encoding, and for more than `maxParameters` parameters.
 */
export function parseQueryString(raw: string, maxParameters: number = MAX_QUERY_PARAMETERS): Array<[key: string, value: string]> {
  const pairs: Array<[string, string]> = [];
  let start = 0;
  while (start <= raw.length) {
    let end = raw.indexOf("&", start);
    if (end === -1) end = raw.length;
    if (end > start) {
      if (pairs.length === maxParameters) {
        throw badRequest("PG_ERR_BAD_QUERY", `the query string has more than ${maxParameters} parameters`);
      }
      // A bounded scan: indexOf("=") could run past `end` on every pair (quadratic on "a&a&a...").
      let keyEnd = start;
      while (keyEnd < end && raw.charCodeAt(keyEnd) !== 0x3d) keyEnd++;
      const rawKey = raw.slice(start, keyEnd);
      const key = decodeFormComponent(rawKey);
      if (key === undefined) {
        throw badRequest("PG_ERR_BAD_QUERY", `query parameter name ${quote(rawKey)} has invalid percent-encoding (or is not UTF-8 once decoded)`);
      }
      const value = keyEnd === end ? "" : decodeFormComponent(raw.slice(keyEnd + 1, end));
      if (value === undefined) {
        throw badRequest("PG_ERR_BAD_QUERY", `the value of query parameter ${quote(key)} has invalid percent-encoding (or is not UTF-8 once decoded)`);
      }
      pairs.push([key, value]);
    }
    start = end + 1;
  }
  return pairs;
}

/** `+` to space, then strict percent-decoding; undefined when invalid. No allocation when neither occurs. */
function decodeFormComponent(text: string): string | undefined {
  const plus = text.indexOf("+") !== -1;
  if (!plus && text.indexOf("%") === -1) return text;
  try {
    return decodeURIComponent(plus ? text.replaceAll("+", " ") : text);
  } catch {
    return undefined;
  }
}

/** A parameter name for an error message: bounded in length, quoted. */
function quote(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}...` : name);
}
