import { createFileRegistry, fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import { decodeReply } from "../../../src/transcode/decode-reply.js";
import { MAX_DEPTH } from "../../../src/transcode/json/json-policy.js";
import { BAIL } from "../../../src/transcode/json/wire-cursor.js";
import { writeWireJson } from "../../../src/transcode/json/wire-json.js";
import { compileFieldWireJson } from "../../../src/transcode/json/wire-json-field.js";
import { resolveFieldPath } from "../../../src/transcode/field-path.js";
import { createMessageShaper, createResponseShaper } from "../../../src/transcode/response-shaper.js";
import { fuzzRuns } from "../../support/fuzz.js";
import { arbitraryMessage } from "./arbitrary-message.js";
import { kitchen, kitchenDescriptorSet, replyBinding } from "./kitchen-fixture.js";
import { broken, reshaped, unknownField } from "./wire-arbitrary.js";

/*
 * The direct binary -> JSON writer against the object path as the model: the bytes decoded
 * (decode-reply.ts), then written (createMessageShaper). The direct writer must give the model's
 * text exactly, or bail (BAIL) and leave the reply to the model; it must never give text where
 * the model fails. Valid replies must not bail (the point is to take the fast path), whatever
 * their field order, duplicates, unknown fields or packing. And the shaper (direct writer with
 * the model as fallback) gives what the model gives: the same text or the same error.
 */

const files = createFileRegistry(fromBinary(FileDescriptorSetSchema, kitchenDescriptorSet));
const runs = fuzzRuns(120);

type Outcome = { ok: true; body: string | Buffer; contentType: string } | { ok: false; error: unknown };

function outcome(fn: () => { body: string | Buffer; contentType: string }): Outcome {
  try {
    const { body, contentType } = fn();
    return { ok: true, body, contentType };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A GatewayError as the client sees it. */
function seen(result: Outcome): unknown {
  if (result.ok) return result;
  const e = result.error;
  if (!(e instanceof GatewayError)) return { notGatewayError: String(e) };
  return { code: e.code, reason: e.reason, message: e.message, httpStatus: e.httpStatus };
}

interface Subject {
  /** The object path (the model). */
  model(bytes: Uint8Array): Outcome;
  /** The shaper the gateway uses. */
  shape(bytes: Uint8Array): Outcome;
  /** The direct writer alone. */
  direct(bytes: Uint8Array): Outcome;
}

function subject(typeName: string, responseBody = ""): Subject {
  const binding = replyBinding(typeName, responseBody);
  const fromMessage = createMessageShaper(kitchen, binding);
  const shaper = createResponseShaper(kitchen, binding);
  const root = kitchen.plan(typeName);
  let write = (bytes: Uint8Array): string => writeWireJson(root, bytes);
  if (responseBody !== "") {
    const resolved = resolveFieldPath(root, responseBody.split("."), false);
    if (typeof resolved === "string") throw new Error(resolved);
    const leafMessage = resolved.leaf.cardinality === "singular" ? resolved.leaf.element.message : undefined;
    write = compileFieldWireJson(root, resolved.fields, leafMessage?.jsonIsObject ? "{}" : "null", (desc) => kitchen.plan(desc.typeName));
  }
  return {
    model: (bytes) => outcome(() => fromMessage(decodeReply(binding, bytes))),
    shape: (bytes) => outcome(() => shaper(bytes)),
    direct: (bytes) => outcome(() => ({ body: write(bytes), contentType: "application/json" })),
  };
}

/** The direct writer gave the model's text, or bailed; `mustWrite`: it must not have bailed. */
function expectAgreement(s: Subject, bytes: Uint8Array, mustWrite: boolean): void {
  const model = s.model(bytes);
  const direct = s.direct(bytes);
  if (direct.ok) expect(model).toEqual(direct);
  else expect(direct.error).toBe(BAIL);
  if (mustWrite) expect(direct.ok).toBe(true);
  expect(seen(s.shape(bytes))).toEqual(seen(model));
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
  "google.protobuf.Struct",
  "google.protobuf.Value",
  "google.protobuf.ListValue",
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
  "google.protobuf.Any",
  "google.protobuf.Empty",
  "google.protobuf.Int64Value",
  "google.protobuf.BytesValue",
] as const;

/** Random messages of `desc` with its canonical bytes (what the object path's encoder writes). */
function encoded(desc: DescMessage): fc.Arbitrary<Uint8Array> {
  const plan = kitchen.plan(desc.typeName);
  return arbitraryMessage(desc).map((message) => new Uint8Array(plan.encode(message)));
}

describe.each(TYPES)("%s: the direct writer against the object path", (typeName) => {
  const desc = files.getMessage(typeName)!;
  const s = subject(typeName);
  // Random Values may hold NaN or an out-of-range number: those have no JSON, and the model fails.
  const valid = (bytes: Uint8Array): boolean => s.model(bytes).ok;

  it("writes the canonical bytes of random messages exactly as the object path does", () => {
    fc.assert(
      fc.property(encoded(desc), (bytes) => expectAgreement(s, bytes, valid(bytes))),
      runs,
    );
  });

  it("writes reordered, repeated, repacked fields and unknown fields exactly as the object path does", () => {
    fc.assert(
      fc.property(
        encoded(desc).chain((bytes) => reshaped(desc, bytes)),
        (bytes) => expectAgreement(s, bytes, valid(bytes)),
      ),
      runs,
    );
  });

  it("never writes what the object path rejects: broken bytes fail alike", () => {
    fc.assert(
      fc.property(
        encoded(desc).chain((bytes) => broken(bytes)),
        (bytes) => expectAgreement(s, bytes, false),
      ),
      runs,
    );
  });

  it("random byte strings fail (or pass) alike", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => expectAgreement(s, bytes, false)),
      runs,
    );
  });
});

describe("response_body: the direct writer of one field against the object path", () => {
  const desc = files.getMessage("kitchen.v1.GetThingRequest")!;
  const paths = [...desc.fields.map((f) => f.name), "tree.left", "tree.left.node_name", "tree.children", "tree.inner.labels", "inner.count"];

  it.each(paths)("response_body %s", (path) => {
    const s = subject("kitchen.v1.GetThingRequest", path);
    fc.assert(
      fc.property(
        encoded(desc).chain((bytes) => fc.oneof(fc.constant(bytes), reshaped(desc, bytes), broken(bytes))),
        (bytes) => expectAgreement(s, bytes, false),
      ),
      fuzzRuns(60),
    );
  });

  it("writes valid replies directly, an unset field included", () => {
    for (const path of paths) {
      const s = subject("kitchen.v1.GetThingRequest", path);
      fc.assert(
        fc.property(encoded(desc), (bytes) => expectAgreement(s, bytes, s.model(bytes).ok)),
        fuzzRuns(30),
      );
      expectAgreement(s, new Uint8Array(0), true);
    }
  });
});

/** Bytes from a writer callback. */
function bytesOf(write: (w: BinaryWriter) => void): Uint8Array {
  const w = new BinaryWriter();
  write(w);
  return w.finish();
}

/** A message nested `levels` deep through a message field: each level is field `number` of the one above. */
function nested(levels: number, number: number, innermost: Uint8Array = new Uint8Array(0)): Uint8Array {
  let bytes = innermost;
  for (let i = 1; i < levels; i++) bytes = bytesOf((w) => w.tag(number, WireType.LengthDelimited).bytes(bytes));
  return bytes;
}

describe("the direct writer's edge cases", () => {
  it(`writes a Tree ${MAX_DEPTH} levels deep, and bails one level deeper (the object path's 502)`, () => {
    const s = subject("kitchen.v1.Tree");
    expectAgreement(s, nested(MAX_DEPTH, 2), true);
    const tooDeep = nested(MAX_DEPTH + 1, 2);
    expectAgreement(s, tooDeep, false);
    expect(s.direct(tooDeep)).toEqual({ ok: false, error: BAIL });
    const error = s.shape(tooDeep);
    expect(!error.ok && error.error instanceof GatewayError && error.error.httpStatus).toBe(502);
  });

  it("counts map entries and Struct levels as the decoder does", () => {
    // Value -> struct_value (Struct) -> fields entry -> Value ...: three levels per JSON object.
    const value = (levels: number): Uint8Array => {
      let bytes = bytesOf((w) => w.tag(3, WireType.LengthDelimited).string("x"));
      for (let level = 1; level + 3 <= levels; level += 3) {
        const entry = bytesOf((w) => w.tag(1, WireType.LengthDelimited).string("k").tag(2, WireType.LengthDelimited).bytes(bytes));
        const struct = bytesOf((w) => w.tag(1, WireType.LengthDelimited).bytes(entry));
        bytes = bytesOf((w) => w.tag(5, WireType.LengthDelimited).bytes(struct));
      }
      return bytes;
    };
    const s = subject("google.protobuf.Value");
    for (let levels = MAX_DEPTH - 6; levels <= MAX_DEPTH + 6; levels++) expectAgreement(s, value(levels), false);
    expect(s.direct(value(MAX_DEPTH - 2)).ok).toBe(true);
    expect(s.direct(value(MAX_DEPTH + 3)).ok).toBe(false);
  });

  it("writes an Any of every known payload kind, and leaves an unknown type to the object path's error", () => {
    const s = subject("google.protobuf.Any");
    const any = (typeUrl: string, value: Uint8Array): Uint8Array =>
      bytesOf((w) => w.tag(1, WireType.LengthDelimited).string(typeUrl).tag(2, WireType.LengthDelimited).bytes(value));
    const url = (type: string): string => `type.googleapis.com/${type}`;
    for (const bytes of [
      any(url("google.protobuf.Empty"), new Uint8Array(0)),
      any(url("google.protobuf.Value"), new Uint8Array(0)),
      any(url("google.protobuf.Value"), bytesOf((w) => w.tag(4, WireType.Varint).bool(true))),
      any(url("google.protobuf.Struct"), new Uint8Array(0)),
      any(url("google.protobuf.Timestamp"), bytesOf((w) => w.tag(1, WireType.Varint).int64(1))),
      any(url("kitchen.v1.Inner"), bytesOf((w) => w.tag(1, WireType.LengthDelimited).string("n"))),
      any(url("kitchen.v1.Inner"), new Uint8Array(0)),
      any(url("google.protobuf.Any"), any(url("kitchen.v1.Inner"), new Uint8Array(0))),
      any("", new Uint8Array(0)),
    ]) {
      expectAgreement(s, bytes, true);
    }
    for (const bytes of [
      any(url("kitchen.v1.Nope"), new Uint8Array(0)),
      any("", new Uint8Array([8, 1])),
      any(url("kitchen.v1.Inner"), new Uint8Array([0x0a, 5])),
      any(url("google.protobuf.Timestamp"), bytesOf((w) => w.tag(1, WireType.Varint).int64(-1e15))),
    ]) {
      expectAgreement(s, bytes, false);
      expect(s.shape(bytes).ok).toBe(false);
    }
  });

  it("prints a Value field with no kind as nothing, a list element or map value as null, a kind given twice by the object path's order", () => {
    const s = subject("kitchen.v1.WellKnown");
    const noKind = bytesOf((w) => w.tag(5, WireType.LengthDelimited).bytes(new Uint8Array(0)).tag(25, WireType.LengthDelimited).bytes(new Uint8Array(0)));
    expectAgreement(s, noKind, true);
    expect(s.direct(noKind)).toMatchObject({ body: '{"rValue":[null]}' });
    const twoKinds = bytesOf((w) => w.tag(5, WireType.LengthDelimited).bytes(bytesOf((v) => v.tag(4, WireType.Varint).bool(true).tag(3, WireType.LengthDelimited).string("s"))));
    expectAgreement(s, twoKinds, true);
    expect(s.direct(twoKinds)).toMatchObject({ body: '{"value":"s"}' });
    const maps = subject("kitchen.v1.Maps");
    const entryWithoutValue = bytesOf((w) => w.tag(20, WireType.LengthDelimited).bytes(bytesOf((e) => e.tag(1, WireType.LengthDelimited).string("k"))));
    expectAgreement(maps, entryWithoutValue, true);
    expect(maps.direct(entryWithoutValue)).toMatchObject({ body: '{"stringValue":{"k":null}}' });
  });

  it("skips unknown fields of every wire type, groups included, and bails on a group that does not end", () => {
    const s = subject("kitchen.v1.Inner");
    fc.assert(
      fc.property(fc.array(unknownField, { maxLength: 4 }), (unknowns) => expectAgreement(s, Buffer.concat(unknowns), true)),
      runs,
    );
    expectAgreement(s, bytesOf((w) => w.tag(1000, WireType.StartGroup).tag(1001, WireType.EndGroup)), false);
    expectAgreement(s, bytesOf((w) => w.tag(1000, WireType.EndGroup)), false);
  });
});
