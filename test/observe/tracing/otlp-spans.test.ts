import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { attributeKey, encodeAttributes, OtlpSpanBatch, type SpanHead } from "../../../src/observe/tracing/otlp-spans.js";
import { ProtoWriter, varintSize } from "../../../src/observe/tracing/proto-writer.js";
import { decodeTraceExport } from "../../support/otlp-decode.js";

// The hand-written OTLP encoder against protobufjs reading the official schema (the reference):
// random spans, written and decoded, come back field for field.

const hexId = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString("hex"));
/** Short and long text (long enough that nested lengths need 2 and 3 varint bytes), any Unicode. */
const text = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: "grapheme", maxLength: 200 }), fc.string({ minLength: 5_000, maxLength: 20_000 }));
const attribute = fc.tuple(fc.string({ minLength: 1, maxLength: 40 }), fc.oneof(text, fc.nat({ max: 2 ** 53 - 1 })));

const span = fc.record({
  head: fc.record({
    traceId: hexId(16),
    spanId: hexId(8),
    parentSpanId: fc.option(hexId(8), { nil: undefined }),
    traceState: fc.option(fc.string({ minLength: 1, maxLength: 60 }), { nil: undefined }),
    flags: fc.nat({ max: 0x3ff }),
    kind: fc.integer({ min: 0, max: 5 }),
    name: text,
    startUnixNano: fc.nat({ max: 2 ** 53 - 1 }),
    endUnixNano: fc.nat({ max: 2 ** 53 - 1 }),
  }),
  attributes: fc.uniqueArray(attribute, { maxLength: 6, selector: ([key]) => key }),
  constant: fc.uniqueArray(attribute, { maxLength: 3, selector: ([key]) => `constant.${key}` }),
  status: fc.option(fc.record({ code: fc.integer({ min: 0, max: 2 }), message: fc.option(text, { nil: undefined }) }), { nil: undefined }),
});
type Span = typeof span extends fc.Arbitrary<infer T> ? T : never;

function write(batch: OtlpSpanBatch, { head, attributes, constant, status }: Span): void {
  batch.begin(head as SpanHead);
  for (const [key, value] of attributes) {
    if (typeof value === "string") batch.stringAttribute(attributeKey(key), value);
    else batch.intAttribute(attributeKey(key), value);
  }
  batch.attributes(encodeAttributes(constant.map(([key, value]) => [`constant.${key}`, value])));
  if (status !== undefined) batch.status(status.code, status.message);
  batch.end();
}

const source = { serviceName: "edge-ü", scopeName: "protogate", scopeVersion: "1.2.3" };

describe("OTLP span encoder", () => {
  it("writes spans that the reference decoder reads back exactly (property)", () => {
    fc.assert(
      fc.property(fc.array(span, { minLength: 1, maxLength: 8 }), (spans) => {
        const batch = new OtlpSpanBatch(source);
        for (const s of spans) write(batch, s);
        expect(batch.count).toBe(spans.length);
        const decoded = decodeTraceExport(batch.take()!);
        expect(decoded).toEqual(
          spans.map(({ head, attributes, constant, status }) => ({
            service: "edge-ü",
            scope: { name: "protogate", version: "1.2.3" },
            traceId: head.traceId,
            spanId: head.spanId,
            parentSpanId: head.parentSpanId,
            traceState: head.traceState ?? "",
            flags: head.flags,
            name: head.name,
            kind: head.kind,
            startTimeUnixNano: BigInt(head.startUnixNano),
            endTimeUnixNano: BigInt(head.endUnixNano),
            attributes: Object.fromEntries([...attributes, ...constant.map(([key, value]) => [`constant.${key}`, value] as const)]),
            statusCode: status?.code ?? 0,
            statusMessage: status?.message ?? "",
          })),
        );
      }),
      { numRuns: 150 },
    );
  });

  it("starts an empty batch after take, and has nothing to take when empty", () => {
    const batch = new OtlpSpanBatch(source);
    expect(batch.take()).toBeUndefined();
    fc.assert(
      fc.property(span, span, (first, second) => {
        write(batch, first);
        decodeTraceExport(batch.take()!);
        write(batch, second);
        expect(decodeTraceExport(batch.take()!).map((s) => s.spanId)).toEqual([second.head.spanId]);
      }),
      { numRuns: 30 },
    );
  });

  it("keeps a batch larger than its first buffer (64 KiB) intact", () => {
    const batch = new OtlpSpanBatch(source);
    const head: SpanHead = { traceId: "ab".repeat(16), spanId: "cd".repeat(8), parentSpanId: undefined, traceState: undefined, flags: 1, kind: 2, name: "x".repeat(300), startUnixNano: 1, endUnixNano: 2 };
    for (let i = 0; i < 1_000; i++) {
      batch.begin(head);
      batch.intAttribute(attributeKey("i"), i);
      batch.end();
    }
    const spans = decodeTraceExport(batch.take()!);
    expect(spans.map((s) => s.attributes.i)).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
  });
});

describe("proto writer", () => {
  it.each([
    [0, [0x00]],
    [1, [0x01]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
    [2 ** 53 - 1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
  ])("varint %d", (value, bytes) => {
    const writer = new ProtoWriter(1);
    writer.varint(value);
    expect([...writer.view()]).toEqual(bytes);
    expect(varintSize(value)).toBe(bytes.length);
  });

  it("fixed64 is little-endian and exact below 2^53 (property)", () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 53 - 1 }), (value) => {
        const writer = new ProtoWriter(1);
        writer.fixed64(value);
        expect(writer.view().readBigUInt64LE(0)).toBe(BigInt(value));
      }),
    );
  });
});
