import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatTimestamp, parseTimestamp } from "../../../src/transcode/json/timestamp-json.js";
import { fuzzRuns } from "../../support/fuzz.js";

describe("parseTimestamp", () => {
  it.each([
    ["1970-01-01T00:00:00Z", "0", 0],
    ["1972-01-01T10:00:20.021Z", "63108020", 21000000],
    ["1972-01-01T10:00:20.021-05:00", "63126020", 21000000],
    ["1972-01-01T10:00:20+01:30", "63102620", 0],
    ["2000-02-29T00:00:00Z", "951782400", 0],
    ["0001-01-01T00:00:00Z", "-62135596800", 0],
    ["9999-12-31T23:59:59.999999999Z", "253402300799", 999999999],
    ["1969-12-31T23:59:59.5Z", "-1", 500000000],
    ["2020-01-01T00:00:00.000000001Z", "1577836800", 1],
  ])("%s", (text, seconds, nanos) => {
    expect(parseTimestamp(text)).toEqual({ seconds, nanos });
  });

  it.each([
    ["1970-01-01", "not an RFC 3339 timestamp"],
    ["1970-01-01T00:00:00", "not an RFC 3339 timestamp"],
    ["1970-01-01t00:00:00Z", "not an RFC 3339 timestamp"],
    ["1970-01-01T00:00:00z", "not an RFC 3339 timestamp"],
    ["1970-1-1T0:0:0Z", "not an RFC 3339 timestamp"],
    ["1970-01-01T00:00:00.Z", "not an RFC 3339 timestamp"],
    ["1970-01-01T00:00:00.1234567890Z", "not an RFC 3339 timestamp"],
    [" 1970-01-01T00:00:00Z", "not an RFC 3339 timestamp"],
    ["2021-02-29T00:00:00Z", "not a valid date and time"],
    ["2021-02-30T00:00:00Z", "not a valid date and time"],
    ["1900-02-29T00:00:00Z", "not a valid date and time"],
    ["2021-13-01T00:00:00Z", "not a valid date and time"],
    ["2021-00-01T00:00:00Z", "not a valid date and time"],
    ["2021-04-31T00:00:00Z", "not a valid date and time"],
    ["2021-01-01T25:00:00Z", "not a valid date and time"],
    ["2021-01-01T23:60:00Z", "not a valid date and time"],
    ["2021-01-01T23:59:60Z", "not a valid date and time"],
    ["2021-01-01T00:00:00+24:00", "invalid UTC offset"],
    ["2021-01-01T00:00:00+01:60", "invalid UTC offset"],
    ["0000-12-31T23:59:59Z", "outside"],
    ["0001-01-01T00:00:00+00:01", "outside"],
    ["9999-12-31T23:59:59-00:01", "outside"],
  ])("rejects %s", (text, detail) => {
    const result = parseTimestamp(text);
    expect(typeof result).toBe("string");
    expect(result).toContain(detail);
  });
});

describe("formatTimestamp", () => {
  it.each([
    ["0", 0, "1970-01-01T00:00:00Z"],
    ["63108020", 21000000, "1972-01-01T10:00:20.021Z"],
    ["63108020", 21000, "1972-01-01T10:00:20.000021Z"],
    ["63108020", 21, "1972-01-01T10:00:20.000000021Z"],
    ["-1", 500000000, "1969-12-31T23:59:59.500Z"],
    ["-62135596800", 0, "0001-01-01T00:00:00Z"],
    ["253402300799", 999999999, "9999-12-31T23:59:59.999999999Z"],
    ["951782400", 0, "2000-02-29T00:00:00Z"],
  ])("%s s %s ns", (seconds, nanos, text) => {
    expect(formatTimestamp({ seconds, nanos })).toBe(text);
  });

  it.each([
    ["-62135596801", 0],
    ["253402300800", 0],
    ["0", -1],
    ["0", 1_000_000_000],
    ["0", 0.5],
    ["x", 0],
  ])("rejects %s s %s ns", (seconds, nanos) => {
    expect(formatTimestamp({ seconds, nanos })).toHaveProperty("error");
  });

  it("round-trips every valid timestamp and agrees with Date", () => {
    fc.assert(
      fc.property(fc.integer({ min: -62135596800, max: 253402300799 }), fc.integer({ min: 0, max: 999_999_999 }), (seconds, nanos) => {
        const text = formatTimestamp({ seconds: String(seconds), nanos });
        expect(typeof text).toBe("string");
        expect(parseTimestamp(text as string)).toEqual({ seconds: String(seconds), nanos });
        const date = new Date(seconds * 1000);
        expect((text as string).slice(0, 19)).toBe(`${String(date.getUTCFullYear()).padStart(4, "0")}${date.toISOString().slice(date.toISOString().indexOf("-", 1), 19)}`);
      }),
      fuzzRuns(100),
    );
  });
});
