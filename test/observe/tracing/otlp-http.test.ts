import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createOtlpHttpTransport, type OtlpTransport } from "../../../src/observe/tracing/otlp-http.js";

/** A loopback collector answering `status` to every export; keeps what it received. */
async function collectorAnswering(status: number) {
  const received: Array<{ method: string | undefined; url: string | undefined; headers: IncomingHttpHeaders; body: Buffer; socket: string }> = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ method: request.method, url: request.url, headers: request.headers, body: Buffer.concat(chunks), socket: `${request.socket.remotePort}` });
      response.writeHead(status).end(status === 200 ? "" : "busy");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  return { endpoint, received, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function transportTo(status: number): Promise<{ transport: OtlpTransport; collector: Awaited<ReturnType<typeof collectorAnswering>> }> {
  const collector = await collectorAnswering(status);
  const transport = createOtlpHttpTransport({ endpoint: collector.endpoint, headers: { "x-api-key": "k" }, timeoutMs: 10_000 });
  cleanup.push(collector.close, () => transport.close());
  return { transport, collector };
}

describe("OTLP/HTTP transport", () => {
  it("POSTs protobuf bodies with the configured headers, over one kept-alive connection", async () => {
    const { transport, collector } = await transportTo(200);
    await transport.send(Buffer.from([1, 2, 3]));
    await transport.send(Buffer.from([4]));
    expect(collector.received.map(({ method, url, body }) => ({ method, url, body: [...body] }))).toEqual([
      { method: "POST", url: "/v1/traces", body: [1, 2, 3] },
      { method: "POST", url: "/v1/traces", body: [4] },
    ]);
    expect(collector.received[0].headers).toMatchObject({ "content-type": "application/x-protobuf", "x-api-key": "k", "content-length": "3" });
    expect(collector.received[1].socket).toBe(collector.received[0].socket);
  });

  it("rejects with the collector's status when it does not accept", async () => {
    const { transport } = await transportTo(503);
    await expect(transport.send(Buffer.from([1]))).rejects.toThrow("the collector answered HTTP 503");
  });

  it("rejects when no collector listens", async () => {
    const { endpoint, close } = await collectorAnswering(200);
    await close();
    const transport = createOtlpHttpTransport({ endpoint, timeoutMs: 10_000 });
    cleanup.push(() => transport.close());
    await expect(transport.send(Buffer.from([1]))).rejects.toThrow(/ECONNREFUSED/);
  });
});
