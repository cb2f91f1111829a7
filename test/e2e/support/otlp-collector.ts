import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeTraceExport, type DecodedSpan } from "../../support/otlp-decode.js";

/** One span as an OTLP/HTTP export carries it, flattened for assertions. */
export type CollectedSpan = DecodedSpan;

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk)).on("end", () => resolve(Buffer.concat(chunks))).on("error", reject);
  });
}

/**
 * A stand-in OTLP/HTTP collector on an ephemeral loopback port: it takes protobuf trace exports on
 * `/v1/traces` and keeps their spans; `received(n)` resolves once n spans arrived (no polling).
 */
export async function startOtlpCollector(): Promise<{
  readonly endpoint: string;
  readonly spans: CollectedSpan[];
  readonly contentTypes: string[];
  /** Every export's raw body. */
  readonly bodies: Buffer[];
  received(count: number): Promise<CollectedSpan[]>;
  close(): Promise<void>;
}> {
  const spans: CollectedSpan[] = [];
  const contentTypes: string[] = [];
  const bodies: Buffer[] = [];
  const waiting: Array<{ count: number; resolve: (spans: CollectedSpan[]) => void }> = [];
  const check = () => {
    for (let i = waiting.length - 1; i >= 0; i--) {
      if (spans.length >= waiting[i].count) waiting.splice(i, 1)[0].resolve(spans.slice());
    }
  };
  const server = createServer((request, response) => {
    void readBody(request).then((body) => {
      if (request.method !== "POST" || request.url !== "/v1/traces") {
        response.writeHead(404).end();
        return;
      }
      contentTypes.push(request.headers["content-type"] ?? "");
      bodies.push(body);
      try {
        spans.push(...decodeTraceExport(body));
      } catch {
        response.writeHead(400).end();
        return;
      }
      // An empty ExportTraceServiceResponse: everything accepted.
      response.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      check();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    contentTypes,
    bodies,
    received: (count) =>
      new Promise((resolve) => {
        waiting.push({ count, resolve });
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
