import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRequestBuilder } from "../../src/transcode/request-builder.js";
import { parseQueryString } from "../../src/transcode/query-string.js";
import { fuzzRuns } from "../support/fuzz.js";
import { makeBinding } from "./binding-fixture.js";
import { kitchen } from "./json/kitchen-fixture.js";

/*
 * Query parameters against the JSON body as the reference: the same field values, sent once as a
 * query string (proto or JSON names, any order, percent-encoded) and once as a JSON body, must
 * build the same request message.
 */

const viaQuery = createRequestBuilder(kitchen, makeBinding({ requestType: "kitchen.v1.GetThingRequest", httpMethod: "GET" }), { ignoreUnknownQueryParameters: false });
const viaBody = createRequestBuilder(kitchen, makeBinding({ requestType: "kitchen.v1.GetThingRequest", body: { kind: "all" } }), { ignoreUnknownQueryParameters: false });

/** One field: its two names, its JSON value and its query values (several for repeated fields). */
interface FieldValue {
  readonly names: readonly [proto: string, json: string];
  readonly json: unknown;
  readonly query: ReadonlyArray<readonly [suffix: string, value: string]>;
}

const text = fc.string({ unit: "grapheme", maxLength: 6 });
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
const single = (proto: string, json: string, value: unknown, query: string): FieldValue => ({ names: [proto, json], json: value, query: [["", query]] });

const fieldValues: ReadonlyArray<fc.Arbitrary<FieldValue>> = [
  text.map((v) => single("name", "name", v, v)),
  int64.map((v) => single("id", "id", v, v)),
  fc.constantFrom("COLOR_RED", "COLOR_BLUE", "COLOR_UNSPECIFIED").map((v) => single("color", "color", v, v)),
  fc.boolean().map((v) => single("flag", "flag", v, String(v))),
  fc.integer({ min: -62135596800000, max: 253402300799999 }).map((ms) => new Date(ms).toISOString()).map((v) => single("at", "at", v, v)),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => single("ratio", "ratio", v, String(v))),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String).map((v) => single("big", "big", v, v)),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((v) => single("limit", "limit", v, String(v))),
  fc.integer({ min: 0, max: 315576000000 }).map((s) => `${s}s`).map((v) => single("timeout", "timeout", v, v)),
  fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b).toString("base64")).map((v) => single("token", "token", v, v)),
  text.map((v) => single("filter", "filter", v, v)),
  text.map((v) => single("renamed_field", "custom_json", v, v)),
  fc.array(text, { minLength: 1, maxLength: 3 }).map((vs): FieldValue => ({ names: ["tags", "tags"], json: vs, query: vs.map((v) => ["", v] as const) })),
  fc.array(int64, { minLength: 1, maxLength: 3 }).map((vs): FieldValue => ({ names: ["ids", "ids"], json: vs, query: vs.map((v) => ["", v] as const) })),
  fc.dictionary(fc.string({ unit: fc.constantFrom("a", "b", ".", "[", " ", "é"), minLength: 1, maxLength: 3 }), text, { minKeys: 1, maxKeys: 3 }).map(
    (map): FieldValue => ({ names: ["labels", "labels"], json: map, query: Object.entries(map).map(([k, v]) => [`[${k}]`, v] as const) }),
  ),
];

describe("query parameters build what the same JSON body builds (property)", () => {
  it("for every field kind with a string form, by proto or JSON name, in any order", () => {
    const input = fc
      .uniqueArray(fc.nat({ max: fieldValues.length - 1 }), { minLength: 1, maxLength: 6 })
      .chain((picks) => fc.tuple(fc.tuple(...picks.map((i) => fieldValues[i])), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), fc.boolean()));
    fc.assert(
      fc.property(input, ([fields, useJsonName, plusForSpace]) => {
        const json: Record<string, unknown> = {};
        const pairs: Array<[string, string]> = [];
        fields.forEach((field, i) => {
          json[field.names[1]] = field.json;
          const name = field.names[useJsonName[i] ? 1 : 0];
          for (const [suffix, value] of field.query) pairs.push([`${name}${suffix}`, value]);
        });
        const encode = (s: string) => (plusForSpace ? encodeURIComponent(s).replaceAll("%20", "+") : encodeURIComponent(s));
        const raw = pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join("&");
        const fromQuery = viaQuery({ variables: [], query: parseQueryString(raw), body: undefined, contentType: undefined });
        const fromBody = viaBody({ variables: [], query: [], body: Buffer.from(JSON.stringify(json)), contentType: "application/json" });
        expect(fromQuery).toStrictEqual(fromBody);
      }),
      fuzzRuns(500),
    );
  });
});
