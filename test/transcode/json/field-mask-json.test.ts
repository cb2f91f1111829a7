import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatFieldMask, parseFieldMask } from "../../../src/transcode/json/field-mask-json.js";
import { fuzzRuns } from "../../support/fuzz.js";

describe("parseFieldMask", () => {
  it.each([
    ["", []],
    ["a", ["a"]],
    ["user.displayName,tags", ["user.display_name", "tags"]],
    ["fooBar.bazQux2", ["foo_bar.baz_qux2"]],
  ])("%j", (text, paths) => {
    expect(parseFieldMask(text)).toEqual(paths);
  });
  it.each(["foo_bar", "a,,b", ",a", "a.", ".a", "a..b", "a b", "a-b"])("rejects %j", (text) => {
    expect(typeof parseFieldMask(text)).toBe("string");
  });
});

describe("formatFieldMask", () => {
  it.each([
    [[], ""],
    [["user.display_name", "tags"], "user.displayName,tags"],
    [["a_b_c"], "aBC"],
  ])("%j", (paths, text) => {
    expect(formatFieldMask(paths)).toBe(text);
  });
  it.each([[["fooBar"]], [["foo_"]], [["foo__bar"]], [["foo_1"]]])("rejects %j", (paths) => {
    expect(formatFieldMask(paths)).toHaveProperty("error");
  });

  it("round-trips snake_case paths", () => {
    const word = fc.stringMatching(/^[a-z][a-z0-9]{0,5}(_[a-z][a-z0-9]{0,3}){0,2}$/);
    const path = fc.array(word, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("."));
    fc.assert(
      fc.property(fc.array(path, { maxLength: 4 }), (paths) => {
        const text = formatFieldMask(paths);
        expect(typeof text).toBe("string");
        expect(parseFieldMask(text as string)).toEqual(paths);
      }),
      fuzzRuns(100),
    );
  });
});
