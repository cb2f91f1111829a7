import { createFileRegistry, fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BodySelector, MessageFns } from "../../src/binding.js";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { createBinaryCodecs } from "../../src/transcode/binary-codecs.js";
import type { CodecRegistry } from "../../src/transcode/json/codec-registry.js";
import { MAX_DEPTH } from "../../src/transcode/json/json-policy.js";
import { parseJsonText } from "../../src/transcode/json/parse-json.js";
import { WireWriter } from "../../src/transcode/json/wire-writer.js";
import { createRequestBuilder, type RequestInput } from "../../src/transcode/request-builder.js";
import { createRequestEncoder } from "../../src/transcode/request-encoder.js";
import { fuzzRuns } from "../support/fuzz.js";
import { bodyField, makeBinding } from "./binding-fixture.js";
import { arbitraryMessage } from "./json/arbitrary-message.js";
import { kitchen, kitchenDescriptorSet, kitchenLenient } from "./json/kitchen-fixture.js";

/*
 * The request encoder (direct JSON -> binary, json/json-binary.ts, with the builder's path as
 * fallback) against today's path as the model: the request builder's message encoded by the
 * binding's codec. Same bytes, or the same error (code, reason, message, HTTP status, details);
 * and valid bodies must take the direct path (encodeJson must not throw for them).
 */

const files = createFileRegistry(fromBinary(FileDescriptorSetSchema, kitchenDescriptorSet));
const codecOf = createBinaryCodecs(files);
const runs = fuzzRuns(100);

type Outcome = { ok: true; bytes: string } | { ok: false; error: unknown };

function outcome(fn: () => Uint8Array): Outcome {
  try {
    return { ok: true, bytes: Buffer.from(fn()).toString("hex") };
  } catch (error) {
    if (!(error instanceof GatewayError)) return { ok: false, error: { notGatewayError: String(error) } };
    return { ok: false, error: { code: error.code, reason: error.reason, message: error.message, httpStatus: error.httpStatus, details: error.details } };
  }
}

interface Subject {
  model(input: RequestInput): Outcome;
  encoder(input: RequestInput): Outcome;
  /** Whether the encoder's last call took the direct path (it did not encode a built message; meaningful when it succeeded). */
  wasDirect(): boolean;
}

function subject(registry: CodecRegistry, typeName: string, body: BodySelector, variables: readonly string[] = [], streamedMessages = false): Subject {
  const binding = { ...makeBinding({ requestType: typeName, body, variables }), requestCodec: codecOf(typeName) };
  const options = { ignoreUnknownQueryParameters: false, streamedMessages };
  const build = createRequestBuilder(registry, binding, options);
  let encodedObjects = 0;
  const counting: MessageFns<unknown> = {
    encode: (message) => (encodedObjects++, binding.requestCodec.encode(message)),
    decode: (bytes) => binding.requestCodec.decode(bytes),
  };
  const encode = createRequestEncoder(registry, { ...binding, requestCodec: counting }, options);
  let before = 0;
  return {
    model: (input) => outcome(() => binding.requestCodec.encode(build(input)).finish()),
    encoder: (input) => {
      before = encodedObjects;
      return outcome(() => encode(input));
    },
    wasDirect: () => encodedObjects === before,
  };
}

const input = (text: string | undefined, variables: RequestInput["variables"] = [], query: RequestInput["query"] = []): RequestInput => ({
  variables,
  query,
  body: text === undefined ? undefined : Buffer.from(text),
  contentType: "application/json",
});

/** The direct encoder alone: its bytes, or "bailed". */
function direct(registry: CodecRegistry, typeName: string, text: string): string {
  const w = new WireWriter(16); // small, so growing and moving lengths are exercised
  try {
    registry.plan(typeName).encodeJson(parseJsonText(text), w, 1, undefined);
  } catch {
    return "bailed";
  }
  return w.finish().toString("hex");
}

/** A tiny seeded generator for the mutations (the seed comes from fast-check). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

const NUMBER_MARK = "\u0000num:";
const INTEGER = /^-?[0-9]+$/;
const ODD_VALUES: readonly unknown[] = [null, 0, -1, 1.5, "x", "", true, false, [], {}, [null], { a: 1 }, "1e2", "9223372036854775808", "NaN", "-0", "\ud800", "AA==", "2020-01-01T00:00:00Z", "1s", 4294967296];

/*
 * JSON text of a body, mutated from a valid one: keys shuffled or given by proto name (snake
 * case), 64-bit strings as bare numbers (exact or not, as the parser then reads them), nulls,
 * unknown keys, and (when `breakValues`) odd values anywhere.
 */
function mutatedText(json: unknown, seed: number, breakValues: boolean): string {
  const random = rng(seed);
  const chance = (p: number): boolean => random() < p;
  const walk = (value: unknown): unknown => {
    if (breakValues && chance(0.04)) return ODD_VALUES[Math.floor(random() * ODD_VALUES.length)];
    if (typeof value === "string" && INTEGER.test(value) && chance(0.5)) return NUMBER_MARK + value;
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== "object" || value === null) return value;
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]): [string, unknown] => [chance(0.3) ? snake(k) : k, walk(v)]);
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [entries[i], entries[j]] = [entries[j], entries[i]];
    }
    if (chance(0.1)) entries.push(["unknownKey", 1]);
    if (chance(0.1) && entries.length > 0) entries[Math.floor(random() * entries.length)][1] = null;
    return Object.fromEntries(entries);
  };
  return JSON.stringify(walk(json)).replace(/"\\u0000num:(-?[0-9]+)"/g, "$1");
}

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const TYPES = [
  "kitchen.v1.Scalars",
  "kitchen.v1.Optionals",
  "kitchen.v1.Maps",
  "kitchen.v1.Oneofs",
  "kitchen.v1.WellKnown",
  "kitchen.v1.Tree",
  "kitchen.v1.Kitchen",
  "kitchen.v1.GetThingRequest",
  "kitchen.v1.Inner",
] as const;

/** JSON text of random valid messages of `desc` (the object path's own JSON of them). */
function validText(desc: DescMessage): fc.Arbitrary<string> {
  const plan = kitchen.plan(desc.typeName);
  return arbitraryMessage(desc)
    .map((message) => {
      try {
        return JSON.stringify(plan.writeJson(message, 1));
      } catch {
        return undefined; // a Value holding NaN has no JSON
      }
    })
    .filter((text): text is string => text !== undefined);
}

describe.each(TYPES)("%s: the request encoder against today's path", (typeName) => {
  const desc = files.getMessage(typeName)!;
  const strict = subject(kitchen, typeName, { kind: "all" });
  const lenient = subject(kitchenLenient, typeName, { kind: "all" });

  it("encodes random valid bodies directly, to the model's bytes", () => {
    fc.assert(
      fc.property(validText(desc), (text) => {
        const model = strict.model(input(text));
        expect(model.ok).toBe(true);
        expect(strict.encoder(input(text))).toEqual(model);
        expect(strict.wasDirect()).toBe(true);
        expect(direct(kitchen, typeName, text)).toBe((model as { bytes: string }).bytes);
      }),
      runs,
    );
  });

  it.each([
    ["reshaped bodies (proto names, numbers, nulls, unknown keys), strict and lenient", false],
    ["bodies with odd values anywhere", true],
  ] as const)("gives the model's bytes or error for %s", (_what, oddValues) => {
    fc.assert(
      fc.property(validText(desc), fc.integer(), (text, seed) => {
        const body = mutatedText(JSON.parse(text), seed, oddValues);
        for (const [s, registry] of [[strict, kitchen], [lenient, kitchenLenient]] as const) {
          const model = s.model(input(body));
          expect(s.encoder(input(body))).toEqual(model);
          const d = direct(registry, typeName, body);
          if (d !== "bailed") expect(model).toEqual({ ok: true, bytes: d });
        }
      }),
      runs,
    );
  });
});

describe("request encoder: path variables, query parameters, bodies", () => {
  const type = "kitchen.v1.GetThingRequest";

  it("path variables on top-level scalars and enums win over the body, as in the model", () => {
    const s = subject(kitchen, type, { kind: "all" }, ["name", "id", "color", "big", "flag"]);
    const values = fc.record({
      name: fc.oneof(fc.string(), fc.constant("\ud800")),
      id: fc.oneof(fc.integer().map(String), fc.constantFrom("x", "1e2", "2147483648", "")),
      color: fc.constantFrom("COLOR_UNSPECIFIED", "RED", "GREEN", "1", "99", "nope"),
      big: fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n }).map(String), fc.constant("-0")),
      flag: fc.constantFrom("true", "false", "1"),
    });
    fc.assert(
      fc.property(values, validText(files.getMessage(type)!), fc.boolean(), (v, text, withBody) => {
        const variables = Object.entries(v).map(([k, value]) => ({ fieldPath: [k], value }));
        const i = input(withBody ? text : undefined, variables);
        const model = s.model(i);
        expect(s.encoder(i)).toEqual(model);
        if (model.ok) expect(s.wasDirect()).toBe(true);
      }),
      runs,
    );
  });

  it("a GET without a body and a path variable: the model's bytes, directly", () => {
    const s = subject(kitchen, type, { kind: "none" }, ["name"]);
    const i = input(undefined, [{ fieldPath: ["name"], value: "things/1" }]);
    expect(s.encoder(i)).toEqual(s.model(i));
    expect(s.wasDirect()).toBe(true);
    expect(s.encoder(i)).toEqual({ ok: true, bytes: "0a08" + Buffer.from("things/1").toString("hex") });
  });

  it("query parameters take the model's path", () => {
    const query = subject(kitchen, type, { kind: "none" }, ["name"]);
    const withQuery = input(undefined, [{ fieldPath: ["name"], value: "n" }], [["tags", "a"], ["filter", "x"]]);
    expect(query.encoder(withQuery)).toEqual(query.model(withQuery));
    expect(query.model(withQuery).ok).toBe(true);
    expect(query.wasDirect()).toBe(false);
  });

  /** Body selectors and path variables, with whether valid requests go the direct way. */
  const SHAPES: ReadonlyArray<readonly [string, string, BodySelector, readonly string[], boolean]> = [
    ["body field, nested path variable in it", "kitchen.v1.UpdateThingRequest", bodyField("thing"), ["thing.name", "parent"], true],
    ["body field of another field than the variable", "kitchen.v1.UpdateThingRequest", bodyField("update_mask"), ["thing.name"], false],
    ["message body field", "kitchen.v1.GetThingRequest", bodyField("inner"), ["name"], true],
    ["list body field", "kitchen.v1.GetThingRequest", bodyField("tags"), ["id"], true],
    ["map body field", "kitchen.v1.GetThingRequest", bodyField("labels"), [], true],
    ["Value body field", "kitchen.v1.GetThingRequest", bodyField("dyn"), [], false],
    ["Timestamp body field", "kitchen.v1.GetThingRequest", bodyField("at"), [], false],
    ["scalar body field", "kitchen.v1.GetThingRequest", bodyField("token"), ["name"], true],
    ["path variable through a message, body *", "kitchen.v1.GetThingRequest", { kind: "all" }, ["inner.name", "tree.inner.count"], true],
    ["path variable in a oneof", "kitchen.v1.GetThingRequest", { kind: "all" }, ["pick_a"], false],
    ["path variable into a wrapper", "kitchen.v1.GetThingRequest", { kind: "none" }, ["limit"], false],
    ["path variable deep, no body", "kitchen.v1.Kitchen", { kind: "none" }, ["tree.left.node_name", "scalars.f_int64"], true],
  ];

  it.each(SHAPES)("%s: the model's bytes or error (directly: %s)", (_name, typeName, body, variables, directly) => {
    const s = subject(kitchen, typeName, body, variables);
    const root = kitchen.plan(typeName);
    const bodyPlanField = body.kind === "field" ? root.field(body.fieldPath[0]) : undefined;
    fc.assert(
      fc.property(validText(files.getMessage(typeName)!), fc.integer(), fc.boolean(), fc.array(fc.oneof(fc.string(), fc.constantFrom("1", "-5", "x", "true")), { minLength: variables.length, maxLength: variables.length }), (text, seed, breakIt, values) => {
        const json = JSON.parse(text) as Record<string, unknown>;
        // The body: the whole message, or the body field's value in it (maybe absent: an empty body).
        const bodyJson = bodyPlanField === undefined ? json : json[bodyPlanField.jsonName];
        const bodyText = bodyJson === undefined ? undefined : breakIt ? mutatedText(bodyJson, seed, true) : JSON.stringify(bodyJson);
        const i = input(bodyText, variables.map((v, k) => ({ fieldPath: v.split("."), value: values[k] })));
        const model = s.model(i);
        expect(s.encoder(i)).toEqual(model);
        // Valid requests (whose values all parse) of a direct shape go the direct way.
        if (directly && !breakIt && model.ok) expect(s.wasDirect()).toBe(true);
        if (!directly && model.ok) expect(s.wasDirect()).toBe(false);
      }),
      runs,
    );
  });

  it("a client stream's message under a rule without body is the whole message, directly", () => {
    const s = subject(kitchen, "kitchen.v1.Inner", { kind: "none" }, ["name"], true);
    const i = input('{"count": 2, "name": "body"}', [{ fieldPath: ["name"], value: "path" }]);
    const model = s.model(i);
    expect(s.encoder(i)).toEqual(model);
    expect(s.wasDirect()).toBe(true);
    expect(model).toEqual({ ok: true, bytes: "0a04" + Buffer.from("path").toString("hex") + "1002" });
  });

  it("errors before the body is read are the model's: media type, bad JSON, bad UTF-8", () => {
    const s = subject(kitchen, type, { kind: "all" });
    const cases: RequestInput[] = [
      { ...input('{"id": 1}'), contentType: "text/plain" },
      { ...input('{"id": 1}'), contentType: undefined },
      input('{"id": 1'),
      input('{"id": 1, "id": 2}'),
      { ...input(undefined), body: Buffer.from([0x7b, 0xff, 0x7d]) },
      input("[]"),
      input("null"),
      input("12"),
      input(""),
    ];
    for (const c of cases) expect(s.encoder(c)).toEqual(s.model(c));
  });

  it("nesting: at the depth limit the bytes, beyond it the model's error", () => {
    const s = subject(kitchen, "kitchen.v1.Tree", { kind: "all" });
    const nested = (levels: number): string => (levels === 1 ? '{"nodeName":"leaf"}' : `{"left":${nested(levels - 1)}}`);
    for (const levels of [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1]) {
      const i = input(nested(levels));
      expect(s.encoder(i)).toEqual(s.model(i));
    }
    expect(s.model(input(nested(MAX_DEPTH + 1))).ok).toBe(false);
    expect(direct(kitchen, "kitchen.v1.Tree", nested(MAX_DEPTH))).not.toBe("bailed");
  });

  it("long strings and messages over 127 bytes get multi-byte lengths, as in the model", () => {
    const s = subject(kitchen, "kitchen.v1.Tree", { kind: "all" });
    for (const n of [42, 43, 127, 128, 300, 20000]) {
      const text = JSON.stringify({ left: { nodeName: "é".repeat(n % 7) + "a".repeat(n) }, children: [{ nodeName: "€".repeat(n) }] });
      expect(s.encoder(input(text))).toEqual(s.model(input(text)));
      expect(direct(kitchen, "kitchen.v1.Tree", text)).not.toBe("bailed");
    }
  });
});
