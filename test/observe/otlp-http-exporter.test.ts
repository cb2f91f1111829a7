import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { OtlpHttpJsonExporter } from "../../src/observe/otlp-http-exporter.js";
import { otlpTraceJson } from "../../src/observe/otlp-json.js";

interface Received {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A collector answering every POST with `status`, keeping what it received. */
async function collector(status: number): Promise<{ endpoint: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      received.push({ method: request.method, url: request.url, headers: request.headers, body });
      response.writeHead(status, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, received, server };
}
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections());
});

async function twoSpans(): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  provider.getTracer("t").startSpan("a").end();
  provider.getTracer("t").startSpan("b").end();
  await provider.forceFlush();
  return memory.getFinishedSpans();
}

const exportOnce = (exporter: OtlpHttpJsonExporter, spans: ReadableSpan[]) => new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));

function warnings() {
  const lines: Array<{ details: object; message: string }> = [];
  return { lines, log: { warn: (details: object, message: string) => lines.push({ details, message }) } };
}

describe("OTLP/HTTP JSON exporter", () => {
  it("POSTs one JSON body per batch to the endpoint, with the configured headers", async () => {
    const { endpoint, received } = await collector(200);
    const exporter = new OtlpHttpJsonExporter({ endpoint, headers: { "x-api-key": "k1" }, timeoutMs: 5_000 });
    const spans = await twoSpans();
    expect(await exportOnce(exporter, spans)).toEqual({ code: ExportResultCode.SUCCESS });
    expect(received).toHaveLength(1);
    const [{ method, url, headers, body }] = received;
    expect({ method, url, apiKey: headers["x-api-key"], type: headers["content-type"], length: Number(headers["content-length"]) }).toEqual({
      method: "POST",
      url: "/v1/traces",
      apiKey: "k1",
      type: "application/json",
      length: Buffer.byteLength(body),
    });
    expect(body).toBe(otlpTraceJson(spans));
    await exporter.shutdown();
  });

  it.each([
    ["a refusal (HTTP 400)", 400, "HTTP 400"],
    ["an unavailable collector (HTTP 503)", 503, "HTTP 503"],
  ])("%s: FAILED, logged once per interval with the count of those held back", async (_name, status, reason) => {
    const { endpoint } = await collector(status);
    const { lines, log } = warnings();
    const exporter = new OtlpHttpJsonExporter({ endpoint, timeoutMs: 5_000, log, logIntervalMs: 60_000 });
    const spans = await twoSpans();
    for (let i = 0; i < 3; i++) expect((await exportOnce(exporter, spans)).code).toBe(ExportResultCode.FAILED);
    expect(lines).toHaveLength(1);
    expect(lines[0].details).toMatchObject({ endpoint, spans: 2 });
    expect(String((lines[0].details as { reason: string }).reason)).toContain(reason);
    await exporter.shutdown();
  });

  it("a collector that is not there: FAILED, logged, nothing thrown", async () => {
    const { endpoint, server } = await collector(200);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const { lines, log } = warnings();
    const exporter = new OtlpHttpJsonExporter({ endpoint, timeoutMs: 5_000, log });
    expect((await exportOnce(exporter, await twoSpans())).code).toBe(ExportResultCode.FAILED);
    expect(lines).toHaveLength(1);
    await exporter.shutdown();
  });

  it("after shutdown: FAILED without a request; shutdown waits for the export in flight", async () => {
    const { endpoint, received } = await collector(200);
    const exporter = new OtlpHttpJsonExporter({ endpoint, timeoutMs: 5_000 });
    const spans = await twoSpans();
    const inFlight = exportOnce(exporter, spans);
    await exporter.shutdown();
    expect(received).toHaveLength(1);
    expect((await inFlight).code).toBe(ExportResultCode.SUCCESS);
    expect((await exportOnce(exporter, spans)).code).toBe(ExportResultCode.FAILED);
    expect(received).toHaveLength(1);
  });
});
