import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../../src/transcode/json/duration-json.js";
import { fuzzRuns } from "../../support/fuzz.js";

describe("parseDuration", () => {
  it.each([
    ["0s", "0", 0],
    ["1s", "1", 0],
    ["1.5s", "1", 500000000],
    ["-1.5s", "-1", -500000000],
    ["-0.000000001s", "0", -1],
    ["0.010s", "0", 10000000],
    ["315576000000s", "315576000000", 0],
    ["-315576000000.999999999s", "-315576000000", -999999999],
    ["-0s", "0", 0],
  ])("%s", (text, seconds, nanos) => {
    expect(parseDuration(text)).toEqual({ seconds, nanos });
  });

  it.each(["", "s", "1", "1m", "1.s", ".5s", "+1s", " 1s", "1.0000000001s", "1e3s", "315576000001s", "99999999999999999999s", "1 s", "--1s"])("rejects %j", (text) => {
    expect(typeof parseDuration(text)).toBe("string");
  });
});

describe("formatDuration", () => {
  it.each([
    ["0", 0, "0s"],
    ["1", 0, "1s"],
    ["1", 10000000, "1.010s"],
    ["1", 100, "1.000000100s"],
    ["-3", -100000000, "-3.100s"],
    ["0", -1, "-0.000000001s"],
    ["315576000000", 0, "315576000000s"],
  ])("%s s %s ns", (seconds, nanos, text) => {
    expect(formatDuration({ seconds, nanos })).toBe(text);
  });

  it.each([
    ["315576000001", 0],
    ["1", -1],
    ["-1", 1],
    ["0", 1_000_000_000],
  ])("rejects %s s %s ns", (seconds, nanos) => {
    expect(formatDuration({ seconds, nanos })).toHaveProperty("error");
  });

  it("round-trips every valid duration", () => {
    const sameSign = fc
      .tuple(fc.integer({ min: -315576000000, max: 315576000000 }), fc.integer({ min: 0, max: 999_999_999 }))
      .map(([s, n]) => ({ seconds: String(s), nanos: n !== 0 && (s < 0 || (s === 0 && n % 2 === 1)) ? -n : n }));
    fc.assert(
      fc.property(sameSign, (value) => {
        const text = formatDuration(value);
        expect(typeof text).toBe("string");
        expect(parseDuration(text as string)).toEqual(value);
      }),
      fuzzRuns(100),
    );
  });
});
