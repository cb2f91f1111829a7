import { BinaryWriter } from "@bufbuild/protobuf/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WireWriter, type ProtoWriter } from "../../../src/transcode/json/wire-writer.js";
import { fuzzRuns } from "../../support/fuzz.js";

/*
 * WireWriter against @bufbuild/protobuf's BinaryWriter (the object path's writer) as the model:
 * the same calls give the same bytes, nested parts (lengths of one byte or more) included.
 */

type Op = (w: ProtoWriter) => void;

const int64Text = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
const uint64Text = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String);
/** 64-bit values at the word and safe-integer edges. */
const edge64 = fc.constantFrom("0", "-1", "1", "4294967295", "4294967296", "-4294967296", "-4294967297", "9007199254740991", "-9007199254740991", "999999999999999", "-99999999999999", "1000000000000000", "9223372036854775807", "-9223372036854775808");
const signed64 = fc.oneof(int64Text, edge64);
const text = fc.oneof(fc.string({ unit: "grapheme", maxLength: 60 }), fc.string({ maxLength: 300 }), fc.constantFrom("a".repeat(127), "é".repeat(64), "€".repeat(43), "x".repeat(6000)));

const scalarOp: fc.Arbitrary<Op> = fc.oneof(
  fc.integer().map((v): Op => (w) => w.int32(v)),
  fc.integer({ min: 0, max: 0xffffffff }).map((v): Op => (w) => w.uint32(v)),
  fc.integer().map((v): Op => (w) => w.sint32(v)),
  fc.integer({ min: 0, max: 0xffffffff }).map((v): Op => (w) => w.fixed32(v)),
  fc.integer().map((v): Op => (w) => w.sfixed32(v)),
  signed64.map((v): Op => (w) => w.int64(v)),
  fc.oneof(uint64Text, edge64.filter((v) => !v.startsWith("-"))).map((v): Op => (w) => w.uint64(v)),
  signed64.map((v): Op => (w) => w.sint64(v)),
  fc.oneof(uint64Text, edge64.filter((v) => !v.startsWith("-"))).map((v): Op => (w) => w.fixed64(v)),
  signed64.map((v): Op => (w) => w.sfixed64(v)),
  fc.oneof(fc.float(), fc.constantFrom(NaN, Infinity, -Infinity, -0)).map((v): Op => (w) => w.float(v)),
  fc.oneof(fc.double(), fc.constantFrom(NaN, -0)).map((v): Op => (w) => w.double(v)),
  fc.boolean().map((v): Op => (w) => w.bool(v)),
  text.map((v): Op => (w) => w.string(v)),
  fc.uint8Array({ maxLength: 200 }).map((v): Op => (w) => w.bytes(v)),
  fc.tuple(fc.integer({ min: 1, max: 536870911 }), fc.constantFrom(0, 1, 2, 5)).map(([n, t]): Op => (w) => w.tag(n, t)),
);

const { ops } = fc.letrec<{ ops: Op[]; op: Op }>((tie) => ({
  ops: fc.array(tie("op"), { maxLength: 8 }),
  op: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalarOp, tie("ops").map((inner): Op => (w) => {
    w.fork();
    for (const o of inner) o(w);
    w.join();
  })),
}));

describe("WireWriter", () => {
  it("writes what BinaryWriter writes for the same calls", () => {
    fc.assert(
      fc.property(ops, (list) => {
        const model = new BinaryWriter();
        const subject = new WireWriter(8); // small: growing is exercised
        for (const op of list) {
          op(model);
          op(subject);
        }
        expect(Buffer.from(subject.finish()).toString("hex")).toBe(Buffer.from(model.finish()).toString("hex"));
      }),
      fuzzRuns(500),
    );
  });

  it("starts afresh after reset", () => {
    const w = new WireWriter();
    w.fork().string("abandoned");
    w.reset();
    w.tag(1, 2).string("x");
    expect(w.finish().toString("hex")).toBe("0a0178");
  });

  it("after a large message (whose buffer it lets go), writes small ones as before", () => {
    const w = new WireWriter(16);
    w.bytes(new Uint8Array(100_000).fill(7));
    expect(w.finish().length).toBe(100_003);
    w.reset();
    w.tag(2, 0).int32(-1);
    expect(w.finish().toString("hex")).toBe("10ffffffffffffffffff01");
  });
});
