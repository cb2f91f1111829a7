import { describe, expect, it } from "vitest";
import { isJsonContentType } from "../../src/transcode/content-type.js";

describe("isJsonContentType", () => {
  it.each([
    ["application/json", true],
    ["application/json; charset=utf-8", true],
    ["application/json;charset=UTF8", true],
    ['application/json; charset="utf-8"', true],
    ["APPLICATION/JSON", true],
    [" application/json ", true],
    ["application/problem+json", true],
    ["application/vnd.api+json; profile=x", true],
    ["application/json; charset=latin1", false],
    ["text/json", false],
    ["text/plain", false],
    ["application/jsonx", false],
    ["application/x-json-stream", false],
    ["multipart/form-data; boundary=x", false],
    ["", false],
    [undefined, false],
  ])("%j -> %s", (header, expected) => {
    expect(isJsonContentType(header)).toBe(expected);
  });
});
