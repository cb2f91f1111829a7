import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { OpenApiDocument } from "../../../codegen/openapi/index.js";
import { renderOpenApi } from "../../../codegen/openapi/index.js";

/** The same JSON value with every object's keys inserted in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).reverse()) {
    Object.defineProperty(out, key, { value: reversedKeys((value as Record<string, unknown>)[key]), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

// Boundary: renderOpenApi prints any JSON object; the properties feed it arbitrary documents.
const asDocument = (value: unknown) => value as OpenApiDocument;

describe("renderOpenApi", () => {
  it("prints the root keys in the conventional order and other keys sorted, 2-space, with a trailing newline", () => {
    const doc = { components: { schemas: { b: { type: "string" }, a: { type: "object" } } }, paths: { "/z": {}, "/a": {} }, info: { version: "1", title: "t" }, openapi: "3.1.0", tags: [] };
    expect(renderOpenApi(asDocument(doc))).toBe(
      [
        "{",
        '  "openapi": "3.1.0",',
        '  "info": {',
        '    "title": "t",',
        '    "version": "1"',
        "  },",
        '  "tags": [],',
        '  "paths": {',
        '    "/a": {},',
        '    "/z": {}',
        "  },",
        '  "components": {',
        '    "schemas": {',
        '      "a": {',
        '        "type": "object"',
        "      },",
        '      "b": {',
        '        "type": "string"',
        "      }",
        "    }",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("prints equal documents identically whatever their key insertion order, and round-trips through JSON", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (doc) => {
        const text = renderOpenApi(asDocument(doc));
        expect(renderOpenApi(asDocument(reversedKeys(doc)))).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(doc)));
        expect(renderOpenApi(asDocument(JSON.parse(text)))).toBe(text);
        expect(text.endsWith("\n")).toBe(true);
      }),
    );
  });
});
