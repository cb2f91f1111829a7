import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { TS_PROTO_OPTIONS } from "../../codegen/ts-proto-options.js";
import type { MessageFns } from "../../src/binding.js";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { createCodecRegistry } from "../../src/transcode/json/codec-registry.js";
import { parseJsonText } from "../../src/transcode/json/parse-json.js";
import { WireWriter } from "../../src/transcode/json/wire-writer.js";
import { AllTypes, Nested, WellKnown } from "../fixtures/jsonmap/gen/jsonmap.js";

/**
 * The proto3 JSON mapping, checked case by case against python's google.protobuf.json_format
 * (the table and the script that made it: test/fixtures/jsonmap/). Python's outcome is the
 * expectation unless the case says python deviates from the spec (`spec`) or that
 * implementations disagree (`lenient`).
 */

interface JsonCase {
  readonly name: string;
  readonly type: string;
  readonly input: string;
  readonly ok: boolean;
  readonly binaryHex?: string;
  readonly json?: unknown;
  readonly error?: string;
  readonly errorField?: string | readonly string[];
  readonly spec?: { readonly ok: boolean; readonly sameAs?: string };
  readonly lenient?: boolean;
  /** JSON.parse would round an integer of the input; such cases are read with `parseJsonText`. */
  readonly jsParseLossy?: boolean;
  readonly compareAsFloat32?: boolean;
  readonly note?: string;
}

interface CaseTable {
  readonly oracle: string;
  readonly caseCount: number;
  readonly cases: readonly JsonCase[];
}

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, "..", "fixtures", "jsonmap");
const table = JSON.parse(readFileSync(join(here, "json-cases.json"), "utf8")) as CaseTable;
const byName = new Map(table.cases.map((c) => [c.name, c]));

const binaryCodecs: Readonly<Record<string, MessageFns<unknown>>> = {
  "jsonmap.v1.AllTypes": AllTypes,
  "jsonmap.v1.WellKnown": WellKnown,
  "jsonmap.v1.Nested": Nested,
};

const registry = createCodecRegistry(readFileSync(join(fixtures, "jsonmap.binpb")), { ignoreUnknownFields: false });

function binaryCodec(c: JsonCase): MessageFns<unknown> {
  const fns = binaryCodecs[c.type];
  if (!fns) throw new Error(`${c.name}: no ts-proto codec for ${c.type}`);
  return fns;
}

/** JSON text -> gateway object -> ts-proto binary -> ts-proto object -> gateway JSON. */
function roundTrip(c: JsonCase, parse: (text: string) => unknown = JSON.parse): unknown {
  const codec = registry.codec<unknown>(c.type);
  const fns = binaryCodec(c);
  const message = codec.fromJson(parse(c.input));
  return codec.toJson(fns.decode(fns.encode(message).finish()));
}

/** Python's binary encoding -> ts-proto object -> gateway JSON (checks output on its own). */
function printPythonBinary(c: JsonCase): unknown {
  const fns = binaryCodec(c);
  return registry.codec<unknown>(c.type).toJson(fns.decode(Buffer.from(c.binaryHex ?? "", "hex")));
}

function roundToFloat32(value: unknown): unknown {
  if (typeof value === "number") return Math.fround(value);
  if (Array.isArray(value)) return value.map(roundToFloat32);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundToFloat32(v)]));
  }
  return value;
}

function expectSameJson(c: JsonCase, actual: unknown, expected: unknown, what: string): void {
  if (c.compareAsFloat32) expect(roundToFloat32(actual), what).toEqual(roundToFloat32(expected));
  else expect(actual, what).toEqual(expected);
}

function expectRejected(c: JsonCase, run: () => unknown): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught, `${c.name}: fromJson accepted input that must be rejected`).toBeInstanceOf(GatewayError);
  const error = caught as GatewayError;
  expect(error.code, error.message).toBe(GrpcCode.INVALID_ARGUMENT);
  expect(error.reason, error.message).toMatch(/^PG_ERR_/);
  if (c.errorField !== undefined) {
    // The json name as sent, or the same field's proto (snake_case) name.
    const given = typeof c.errorField === "string" ? [c.errorField] : c.errorField;
    const names = [...new Set(given.flatMap((n) => [n, n.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`)]))];
    expect(
      names.some((n) => error.message.includes(n)),
      `message ${JSON.stringify(error.message)} should name ${names.join(" or ")}`,
    ).toBe(true);
  }
}

function expectAccepted(c: JsonCase, expected: unknown): void {
  expectSameJson(c, roundTrip(c), expected, "round trip through the gateway codec");
}

const lossy = table.cases.filter((c) => c.jsParseLossy);
const lenient = table.cases.filter((c) => !c.jsParseLossy && c.lenient);
const checked = table.cases.filter((c) => !c.jsParseLossy && !c.lenient);

describe("json-cases table", () => {
  it("has enough uniquely named cases from the python oracle", () => {
    expect(table.cases.length).toBe(table.caseCount);
    expect(table.cases.length).toBeGreaterThanOrEqual(180);
    expect(byName.size).toBe(table.cases.length);
    expect(table.oracle).toMatch(/json_format/);
  });

  it("records bytes and JSON for every python success and points sameAs at one", () => {
    for (const c of table.cases) {
      if (c.ok) expect(typeof c.binaryHex === "string" && c.json !== undefined, c.name).toBe(true);
      if (c.spec?.sameAs !== undefined) expect(byName.get(c.spec.sameAs)?.ok, c.name).toBe(true);
      expect(binaryCodecs[c.type], c.name).toBeDefined();
    }
  });

  it("generates the fixture with exactly the ts-proto options the gateway relies on", () => {
    const template = parseYaml(readFileSync(join(fixtures, "buf.gen.yaml"), "utf8")) as {
      plugins: Array<{ opt: string[] }>;
    };
    expect(template.plugins[0].opt).toEqual([...TS_PROTO_OPTIONS]);
  });
});

describe("proto3 JSON mapping vs python json_format", () => {
  it.each(checked)("$name", (c) => {
    const expectedOk = c.spec ? c.spec.ok : c.ok;
    if (!expectedOk) {
      expectRejected(c, () => registry.codec<unknown>(c.type).fromJson(JSON.parse(c.input)));
      return;
    }
    if (c.spec?.sameAs !== undefined) {
      expectAccepted(c, byName.get(c.spec.sameAs)?.json);
      return;
    }
    expectAccepted(c, c.json);
    expectSameJson(c, printPythonBinary(c), c.json, "python's binary printed by the gateway codec");
  });
});

describe("cases where conforming implementations disagree (either outcome, never a crash)", () => {
  it.each(lenient)("$name", (c) => {
    let accepted: unknown;
    let caught: unknown;
    try {
      accepted = roundTrip(c);
    } catch (error) {
      caught = error;
    }
    if (caught !== undefined) {
      expectRejected(c, () => {
        throw caught;
      });
    } else if (c.ok) {
      // Both accept: then they must agree on the value.
      expectSameJson(c, accepted, c.json, "accepted like python, so the output must match");
    }
    if (c.ok) expectSameJson(c, printPythonBinary(c), c.json, "python's binary printed by the gateway codec");
  });
});

describe("integers beyond 2^53 that JSON.parse would round (read with the gateway's lossless parser)", () => {
  it.each(lossy)("$name", (c) => {
    // The flag must be justified: the input really holds an integer JSON.parse cannot keep.
    const integers = c.input.match(/-?\d{16,}(?![.\deE])/g) ?? [];
    expect(integers.some((digits) => String(Number(digits)) !== digits), "input has no lossy integer").toBe(true);
    if (c.ok) {
      expectSameJson(c, roundTrip(c, parseJsonText), c.json, "round trip from the lossless parse");
      expectSameJson(c, printPythonBinary(c), c.json, "python's binary printed by the gateway codec");
    } else {
      expectRejected(c, () => registry.codec<unknown>(c.type).fromJson(parseJsonText(c.input)));
    }
  });
});

describe("the direct JSON -> binary encoder (json-binary.ts) on every case", () => {
  const parse = (text: string): unknown => {
    try {
      return parseJsonText(text);
    } catch {
      return undefined; // not JSON: the request never gets to an encoder
    }
  };

  it.each(table.cases)("$name: the object path's bytes, or a bail where the object path rejects", (c) => {
    const json = parse(c.input);
    if (json === undefined || json === null) return;
    const plan = registry.plan(c.type);
    let expected: string | undefined;
    try {
      expected = plan.encode(plan.readJson(json, 1)).toString("hex");
    } catch {
      expected = undefined;
    }
    const w = new WireWriter();
    let direct: string | undefined;
    try {
      plan.encodeJson(json, w, 1, undefined);
      direct = w.finish().toString("hex");
    } catch {
      direct = undefined;
    }
    if (direct !== undefined) expect(direct).toBe(expected);
    // Accepted cases other than explicit JSON nulls of unsettable fields go the direct way.
    if (expected !== undefined && !c.input.includes("null")) expect(direct).toBe(expected);
  });
});
