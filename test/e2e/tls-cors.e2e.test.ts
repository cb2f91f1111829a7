import { ServerCredentials, status } from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import { connect } from "node:http2";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { send, startTestGateway, startUserBackend } from "./support/gateway-harness.js";

const TLS = join(import.meta.dirname, "../fixtures/tls");
const ca = readFileSync(join(TLS, "ca.pem"));
const user = (userId: string) => ({ userId, displayName: "Tls", email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0" });

describe("HTTPS listener with HTTP/2 and HTTP/1.1 (ALPN)", () => {
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  let gateway: RunningGateway;

  beforeAll(async () => {
    backend = await startUserBackend({ getUser: (call, callback) => callback(null, user((call.request as { userId: string }).userId)) });
    gateway = await startTestGateway({ "demo.v1.UserService": backend.address }, { server: { tls: { certFile: join(TLS, "server.pem"), keyFile: join(TLS, "server.key") } } });
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it("serves HTTP/2 when the client offers h2", async () => {
    expect(gateway.url).toMatch(/^https:\/\//);
    const session = connect(gateway.url, { ca });
    try {
      const { status: code, body, alpn } = await new Promise<{ status: number; body: string; alpn: string | false | undefined }>((resolve, reject) => {
        const stream = session.request({ ":path": "/v1/users/h2" });
        let headersStatus = 0;
        let text = "";
        stream.on("response", (headers) => (headersStatus = Number(headers[":status"])));
        stream.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
        stream.on("end", () => resolve({ status: headersStatus, body: text, alpn: session.alpnProtocol }));
        stream.on("error", reject);
        stream.end();
      });
      expect(alpn).toBe("h2");
      expect(code).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ userId: "h2" });
    } finally {
      session.close();
    }
  });

  // node:https offers no ALPN protocol at all, so the server must fall back to HTTP/1.1.
  it("serves HTTP/1.1 over TLS to a client that does not speak h2", async () => {
    const url = new URL(gateway.url);
    const { code, body } = await new Promise<{ code: number; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: url.hostname, port: url.port, path: "/v1/users/h1", ca }, (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk)).on("end", () => resolve({ code: res.statusCode ?? 0, body: text }));
      });
      req.on("error", reject);
      req.end();
    });
    expect(code).toBe(200);
    expect(JSON.parse(body)).toMatchObject({ userId: "h1" });
  });
});

describe("TLS toward the upstream, with a client certificate", () => {
  let backend: Awaited<ReturnType<typeof startUserBackend>>;

  beforeAll(async () => {
    const credentials = ServerCredentials.createSsl(ca, [{ cert_chain: readFileSync(join(TLS, "server.pem")), private_key: readFileSync(join(TLS, "server.key")) }], true);
    backend = await startUserBackend({ getUser: (call, callback) => callback(null, user((call.request as { userId: string }).userId)) }, credentials);
  });
  afterAll(() => backend?.close());

  it("calls a TLS upstream that requires a client certificate", async () => {
    const gateway = await startTestGateway({}, {
      upstreams: {
        "demo.v1.UserService": { address: backend.address, tls: { caFile: join(TLS, "ca.pem"), certFile: join(TLS, "client.pem"), keyFile: join(TLS, "client.key"), serverName: "localhost" } },
      },
    });
    try {
      const response = await send(gateway.url, "GET", "/v1/users/secure");
      expect(response.status).toBe(200);
      expect(response.json).toMatchObject({ userId: "secure" });
    } finally {
      await gateway.close();
    }
  });

  it("without the client certificate the upstream refuses: 503", async () => {
    const gateway = await startTestGateway({}, {
      upstreams: { "demo.v1.UserService": { address: backend.address, tls: { caFile: join(TLS, "ca.pem"), serverName: "localhost" } } },
    });
    try {
      const response = await send(gateway.url, "GET", "/v1/users/secure");
      expect(response.status).toBe(503);
      expect((response.json as { code: number }).code).toBe(status.UNAVAILABLE);
    } finally {
      await gateway.close();
    }
  });
});

describe("CORS", () => {
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  let gateway: RunningGateway;

  beforeAll(async () => {
    backend = await startUserBackend({ getUser: (call, callback) => callback(null, user((call.request as { userId: string }).userId)) });
    gateway = await startTestGateway({ "demo.v1.UserService": backend.address }, { cors: { origins: ["https://app.example.com"], exposedHeaders: ["grpc-metadata-x-request-id"] } });
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  it("answers a preflight from an allowed origin", async () => {
    const response = await send(gateway.url, "OPTIONS", "/v1/users/u-1", {
      headers: { origin: "https://app.example.com", "access-control-request-method": "PATCH", "access-control-request-headers": "content-type" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(response.headers.get("access-control-allow-methods")).toContain("PATCH");
  });

  it("marks a real response for an allowed origin and exposes the configured headers", async () => {
    const response = await send(gateway.url, "GET", "/v1/users/u-1", { headers: { origin: "https://app.example.com" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(response.headers.get("access-control-expose-headers")).toContain("grpc-metadata-x-request-id");
  });

  it("gives no CORS grant to another origin", async () => {
    const response = await send(gateway.url, "GET", "/v1/users/u-1", { headers: { origin: "https://evil.example" } });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});
