import { Metadata } from "@grpc/grpc-js";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { send, startTestGateway, startUserBackend } from "./support/gateway-harness.js";

describe("metadata through the gateway", () => {
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  let gateway: RunningGateway;

  beforeAll(async () => {
    backend = await startUserBackend({
      getUser: (call, callback) => {
        const headers = new Metadata();
        headers.set("x-served-by", "backend-1");
        headers.set("x-trace-bin", Buffer.from([1, 2, 3]));
        call.sendMetadata(headers);
        const trailers = new Metadata();
        trailers.set("x-cost", "7");
        const { userId } = call.request as { userId: string };
        if (userId === "missing") {
          const errorTrailers = new Metadata();
          errorTrailers.set("x-why", "gone");
          return callback({ code: 5, details: "no such user", metadata: errorTrailers });
        }
        callback(null, { userId, displayName: "", email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0" }, trailers);
      },
    });
    gateway = await startTestGateway({ "demo.v1.UserService": backend.address });
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  const lastMetadata = () => backend.calls.at(-1)?.metadata;

  it("forwards allow-listed headers and Grpc-Metadata-* headers, and sets x-forwarded-*", async () => {
    const response = await send(gateway.url, "GET", "/v1/users/u-1", {
      headers: {
        "x-request-id": "req-42",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "grpc-metadata-tenant": "acme",
        "grpc-metadata-blob-bin": Buffer.from("hi").toString("base64"),
        "x-not-allowed": "dropped",
      },
    });
    expect(response.status).toBe(200);
    const metadata = lastMetadata();
    expect(metadata?.get("x-request-id")).toEqual(["req-42"]);
    expect(metadata?.get("traceparent")).toEqual(["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"]);
    expect(metadata?.get("tenant")).toEqual(["acme"]);
    expect(metadata?.get("blob-bin")).toEqual([Buffer.from("hi")]);
    expect(metadata?.get("x-not-allowed")).toEqual([]);
    expect(metadata?.get("x-forwarded-for")).toEqual(["127.0.0.1"]);
    expect(metadata?.get("x-forwarded-proto")).toEqual(["http"]);
  });

  it("never forwards hop-by-hop headers, even when a client names them", async () => {
    const url = new URL(gateway.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: "/v1/users/u-2", headers: { connection: "keep-alive, x-hop", "keep-alive": "timeout=5", "x-hop": "secret", upgrade: "h2c", te: "trailers" } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(200);
    const metadata = lastMetadata();
    for (const key of ["connection", "keep-alive", "x-hop", "upgrade", "host"]) expect(metadata?.get(key), key).toEqual([]);
  });

  it("a Grpc-Metadata header with a reserved key is a 400", async () => {
    const response = await send(gateway.url, "GET", "/v1/users/u-1", { headers: { "grpc-metadata-grpc-timeout": "1S" } });
    expect(response.status).toBe(400);
  });

  it("returns the upstream's header and trailer metadata as Grpc-Metadata-* headers", async () => {
    const response = await send(gateway.url, "GET", "/v1/users/u-3");
    expect(response.status).toBe(200);
    expect(response.headers.get("grpc-metadata-x-served-by")).toBe("backend-1");
    expect(response.headers.get("grpc-metadata-x-trace-bin")).toBe(Buffer.from([1, 2, 3]).toString("base64"));
    expect(response.headers.get("grpc-metadata-x-cost")).toBe("7");
  });

  it("returns the upstream's metadata on an error too", async () => {
    const response = await send(gateway.url, "GET", "/v1/users/missing");
    expect(response.status).toBe(404);
    expect(response.json).toEqual({ code: 5, message: "no such user", details: [] });
    expect(response.headers.get("grpc-metadata-x-why")).toBe("gone");
  });
});
