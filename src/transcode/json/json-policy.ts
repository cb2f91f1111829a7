/**
 * The judgement calls of the proto3 JSON mapping, in one place. Where the spec is loose or
 * implementations differ, we follow Google's reference behaviour (python `json_format`, checked
 * by test/transcode/json-cases.json); the few deliberate departures are marked.
 */

/**
 * Nesting limit, in protobuf message levels as binary decoders count them: the root message is
 * level 1 and every nested message is one level more, including the entry message of each map
 * entry and, inside google.protobuf.Struct, every Struct, fields entry, Value and ListValue (a JSON
 * object nested in a Struct costs 3 levels, a JSON array in a ListValue 2). An Any's payload
 * counts as one level below the Any.
 *
 * 100 is what ts-proto's decoder accepts (it fails at level 101: the gateway's own decode of a
 * reply, and a ts-proto upstream's decode of the request); protobuf C++, Java and python also
 * stop at 100 nested levels (below the root), and protobufjs does not count map entries, so a
 * request within this limit decodes everywhere. Counting JSON levels instead (as Google's JSON
 * parsers do) let a Struct 35 JSON levels deep through to a decoder that then failed.
 */
export const MAX_DEPTH = 100;

/**
 * Integer fields given a JSON string: a JSON number literal with an integral value. The spec
 * accepts exponent notation in quoted and unquoted form ("1e2" is 100; protobuf-go agrees,
 * python rejects it); "+5", "007", " 5" and "0x10" are not JSON numbers and are rejected.
 */
export const INTEGER_STRING = /^(-)?(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/;

/** Float/double fields given a JSON string (besides "NaN", "Infinity", "-Infinity"): a JSON number. */
export const FLOAT_STRING = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** Largest finite float32; a float field given a value that rounds beyond it is out of range. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Enum fields given a string that names no value: Google also accepts the value's number as a
 * string ("2"). We do the same for JSON bodies; query and path always accept numbers.
 */
export const ENUM_NUMBER_STRING = /^-?[0-9]+$/;

/** Timestamp JSON: RFC 3339 with upper-case T and Z (Google rejects lower case), 0-9 fraction digits. */
export const TIMESTAMP_STRING = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(?:Z|([+-])([0-9]{2}):([0-9]{2}))$/;

/** Duration JSON: optional minus, seconds, up to 9 fraction digits, "s". */
export const DURATION_STRING = /^(-)?([0-9]+)(?:\.([0-9]{1,9}))?s$/;

/**
 * bytes: standard or URL-safe alphabet, padding optional (but if present, correct). Departure:
 * python's decoder silently drops invalid characters; we reject them.
 */
export const BASE64_STRING = /^[A-Za-z0-9+/\-_]*={0,2}$/;
