import { describe, expect, it } from "vitest";
import type { SpanHead } from "../../../src/observe/tracing/otlp-spans.js";
import { SpanSink, type BatchLimits } from "../../../src/observe/tracing/span-sink.js";
import { createFakeClock } from "../../support/fake-clock.js";
import { decodeTraceExport } from "../../support/otlp-decode.js";

const LIMITS: BatchLimits = { maxBatchSpans: 3, scheduledDelayMs: 5_000, maxQueuedBatches: 2 };

/** A transport whose exports the test answers (or fails) one by one. */
function pausedCollector() {
  const calls: Array<{ body: Uint8Array; answer: () => void; fail: (error: Error) => void }> = [];
  const transport = {
    send: (body: Buffer) => new Promise<void>((resolve, reject) => void calls.push({ body, answer: resolve, fail: reject })),
    close: () => undefined,
  };
  return { transport, calls };
}

function setUp() {
  const clock = createFakeClock();
  const collector = pausedCollector();
  const warnings: Array<{ details: object; message: string }> = [];
  const sink = new SpanSink({
    source: { serviceName: "edge", scopeName: "protogate", scopeVersion: "0" },
    endpoint: "http://127.0.0.1:4318/v1/traces",
    headers: { "x-api-key": "k" },
    timeoutMs: 1_000,
    log: { warn: (details, message) => warnings.push({ details, message }) },
    limits: LIMITS,
    transport: collector.transport,
    timers: clock,
  });
  let n = 0;
  const span = () => {
    const head: SpanHead = { traceId: "ab".repeat(16), spanId: (++n).toString(16).padStart(16, "0"), parentSpanId: undefined, traceState: undefined, flags: 1, kind: 2, name: "s", startUnixNano: 1, endUnixNano: 2 };
    sink.batch.begin(head);
    sink.batch.end();
    sink.spanWritten();
  };
  const idsOf = (body: Uint8Array) => decodeTraceExport(body).map((s) => Number.parseInt(s.spanId, 16));
  return { clock, collector, warnings, sink, span, idsOf };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("span sink", () => {
  it("sends a full batch at once", async () => {
    const { collector, span, idsOf } = setUp();
    span();
    span();
    expect(collector.calls).toHaveLength(0);
    span();
    expect(collector.calls).toHaveLength(1);
    expect(idsOf(collector.calls[0].body)).toEqual([1, 2, 3]);
  });

  it("sends a partial batch scheduledDelayMs after its first span", async () => {
    const { clock, collector, span, idsOf } = setUp();
    span();
    clock.advance(4_999);
    span();
    expect(collector.calls).toHaveLength(0);
    clock.advance(1);
    expect(collector.calls.map((c) => idsOf(c.body))).toEqual([[1, 2]]);
    expect(clock.pending()).toBe(0);
  });

  it("sends one export at a time; flush resolves once the collector answered the last", async () => {
    const { collector, sink, span, idsOf } = setUp();
    for (let i = 0; i < 7; i++) span();
    expect(collector.calls).toHaveLength(1);
    let flushed = false;
    const flushing = sink.flush().then(() => (flushed = true));
    collector.calls[0].answer();
    await settle();
    expect(collector.calls).toHaveLength(2);
    collector.calls[1].answer();
    await settle();
    expect(flushed).toBe(false);
    collector.calls[2].answer();
    await flushing;
    expect(collector.calls.map((c) => idsOf(c.body))).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it("drops batches beyond the queue while the collector is slow, and says so", async () => {
    const { collector, warnings, sink, span, idsOf } = setUp();
    for (let i = 0; i < 12; i++) span(); // 4 batches: one on its way, two queued, one dropped
    expect(warnings).toEqual([{ details: { endpoint: "http://127.0.0.1:4318/v1/traces", spans: 3 }, message: expect.stringContaining("queue full") }]);
    const flushing = sink.flush();
    for (let i = 0; i < 3; i++) {
      collector.calls[i].answer();
      await settle();
    }
    await flushing;
    expect(collector.calls.map((c) => idsOf(c.body))).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  });

  it("a failed export: its batch is dropped with a warning, the next one is still sent", async () => {
    const { collector, warnings, sink, span } = setUp();
    for (let i = 0; i < 6; i++) span();
    const flushing = sink.flush();
    collector.calls[0].fail(new Error("the collector answered HTTP 503"));
    await settle();
    expect(collector.calls).toHaveLength(2);
    expect(warnings).toEqual([{ details: expect.objectContaining({ endpoint: "http://127.0.0.1:4318/v1/traces", reason: "the collector answered HTTP 503" }), message: expect.stringContaining("export failed") }]);
    collector.calls[1].answer();
    await flushing;
  });

  it("flush with nothing written resolves at once and sends nothing", async () => {
    const { collector, sink } = setUp();
    await sink.flush();
    expect(collector.calls).toHaveLength(0);
  });
});
