import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { connect, type IncomingHttpHeaders } from "node:http2";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTemplate } from "../../codegen/http-rule/parse-template.js";
import { startGateway, type RunningGateway } from "../../src/app.js";
import { ConfigError, configFromObject } from "../../src/config/load-config.js";
import { DOCS_CONTENT_SECURITY_POLICY } from "../../src/docs/docs-page.js";
import { demoGenerated, send, startTestGateway } from "./support/gateway-harness.js";

const OPENAPI = readFileSync(new URL("../../generated/openapi.json", import.meta.url), "utf8");
const STATUS_SHAPE = { code: expect.any(Number), message: expect.any(String), details: expect.any(Array) };

/** A GET over a fresh keep-alive HTTP/1.1 connection: the status and the Connection header. */
async function connectionOf(url: string): Promise<{ status: number; connection: string | undefined }> {
  const agent = new Agent({ keepAlive: true });
  try {
    return await new Promise((resolve, reject) => {
      request(url, { agent }, (response) => {
        response.resume().on("end", () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection }));
      })
        .on("error", reject)
        .end();
    });
  } finally {
    agent.destroy();
  }
}

describe("served docs (docs.enabled: true)", () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({}, { docs: { enabled: true }, cors: { origins: ["https://app.example.com"] } });
  });
  afterAll(() => gateway?.close());

  it("GET /openapi.json is the generated folder's openapi.json, byte for byte", async () => {
    const response = await send(gateway.url, "GET", "/openapi.json");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.text).toBe(OPENAPI);
  });

  it("GET /docs is the page, with a same-origin-only Content-Security-Policy; every file it loads is served", async () => {
    const response = await send(gateway.url, "GET", "/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("content-security-policy")).toBe(DOCS_CONTENT_SECURITY_POLICY);
    expect(DOCS_CONTENT_SECURITY_POLICY).toMatch(/default-src 'none'; script-src 'self'; style-src 'self';/);
    const files = [...response.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(files).toHaveLength(4);
    for (const file of files) {
      const asset = await send(gateway.url, "GET", file);
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get("content-type"), file).toMatch(/^(text\/(javascript|css); charset=utf-8|image\/png)$/);
    }
  });

  it("regression: a bodiless GET answered at once (before Node marks the request complete) no longer closes the connection", async () => {
    expect(await connectionOf(`${gateway.url}/docs`)).toEqual({ status: 200, connection: "keep-alive" });
  });

  it("revalidation: If-None-Match with the page's ETag is 304", async () => {
    const first = await send(gateway.url, "GET", "/docs/assets/swagger-ui-bundle.js");
    const etag = first.headers.get("etag") ?? "";
    expect(etag).not.toBe("");
    const again = await send(gateway.url, "GET", "/docs/assets/swagger-ui-bundle.js", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
  });

  it("another method on a docs path is 405 with Allow, as a google.rpc.Status", async () => {
    const response = await send(gateway.url, "DELETE", "/openapi.json");
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
    expect(response.json).toMatchObject({ ...STATUS_SHAPE, code: 12, details: [{ reason: "PG_ERR_METHOD_NOT_ALLOWED" }] });
  });

  it("HEAD has the headers and no body", async () => {
    const response = await send(gateway.url, "HEAD", "/openapi.json");
    expect(response.status).toBe(200);
    expect(Number(response.headers.get("content-length"))).toBe(Buffer.byteLength(OPENAPI));
    expect(response.text).toBe("");
  });

  it("a file under /docs/assets/ that the page does not have goes to the pipeline: 404 as a google.rpc.Status", async () => {
    const response = await send(gateway.url, "GET", "/docs/assets/swagger-ui-bundle.js.map");
    expect(response.status).toBe(404);
    expect(response.json).toMatchObject({ ...STATUS_SHAPE, details: [{ reason: "PG_ERR_ROUTE_NOT_FOUND" }] });
  });

  it("CORS applies to the docs routes too (another origin's viewer may read /openapi.json)", async () => {
    const response = await send(gateway.url, "GET", "/openapi.json", { headers: { origin: "https://app.example.com" } });
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
  });

  it("the API is unchanged beside the docs", async () => {
    const response = await send(gateway.url, "GET", "/v1/users/u-1");
    // No upstream is configured here: the route is found, and answers 503.
    expect(response.status).toBe(503);
    expect(response.json).toMatchObject({ details: [{ reason: "PG_ERR_UPSTREAM_NOT_CONFIGURED" }] });
  });
});

describe("served docs: off by default, moved by config, refused over a route", () => {
  it("without docs.enabled, /docs and /openapi.json are not served (404 from the pipeline)", async () => {
    const gateway = await startTestGateway({});
    try {
      for (const path of ["/docs", "/openapi.json"]) {
        const response = await send(gateway.url, "GET", path);
        expect(response.status, path).toBe(404);
        expect(response.json).toMatchObject({ details: [{ reason: "PG_ERR_ROUTE_NOT_FOUND" }] });
      }
    } finally {
      await gateway.close();
    }
  });

  it("docs.path and docs.openApiPath move the page, its assets and the document", async () => {
    const gateway = await startTestGateway({}, { docs: { enabled: true, path: "/gateway/docs", openApiPath: "/gateway/openapi.json" } });
    try {
      expect((await send(gateway.url, "GET", "/gateway/openapi.json")).text).toBe(OPENAPI);
      const page = await send(gateway.url, "GET", "/gateway/docs");
      expect(page.text).toContain('data-openapi="/gateway/openapi.json"');
      expect((await send(gateway.url, "GET", "/gateway/docs/assets/swagger-ui.css")).status).toBe(200);
      expect((await send(gateway.url, "GET", "/docs")).status).toBe(404);
    } finally {
      await gateway.close();
    }
  });

  it("over HTTPS with HTTP/2, the page and the document are served too", async () => {
    const tls = join(import.meta.dirname, "../fixtures/tls");
    const gateway = await startTestGateway({}, { docs: { enabled: true }, server: { tls: { certFile: join(tls, "server.pem"), keyFile: join(tls, "server.key") } } });
    const session = connect(gateway.url, { ca: readFileSync(join(tls, "ca.pem")) });
    try {
      const get = (path: string) =>
        new Promise<{ status: number; csp: unknown; body: string }>((resolve, reject) => {
          const stream = session.request({ ":path": path });
          let head: IncomingHttpHeaders = {};
          let body = "";
          stream.on("response", (headers) => (head = headers));
          stream.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
          stream.on("end", () => resolve({ status: Number(head[":status"]), csp: head["content-security-policy"], body }));
          stream.on("error", reject);
          stream.end();
        });
      const page = await get("/docs");
      expect(page.status).toBe(200);
      expect(page.csp).toBe(DOCS_CONTENT_SECURITY_POLICY);
      expect((await get("/openapi.json")).body).toBe(OPENAPI);
    } finally {
      session.close();
      await gateway.close();
    }
  });

  it("a generated route on the docs path fails the start with a ConfigError naming the route and its proto line", async () => {
    const demo = await demoGenerated();
    const clash = { ...demo.bindings[0], httpMethod: "GET", pattern: "/docs", template: parseTemplate("/docs"), source: "team/v1/docs.proto:7" };
    const config = configFromObject({ docs: { enabled: true }, logging: { level: "silent" }, auth: { mode: "off" } }, { host: "127.0.0.1", port: 0, adminPort: 0 });
    const started = startGateway(config, { ...demo, bindings: [...demo.bindings, clash] });
    await expect(started).rejects.toBeInstanceOf(ConfigError);
    await expect(started).rejects.toThrow(`docs.path /docs is matched by GET /docs (${clash.service}.${clash.method}, team/v1/docs.proto:7)`);
  });
});
