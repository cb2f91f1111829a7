import { describe, expect, it } from "vitest";
import type { GrpcUpstreamOptions } from "../../src/upstream/grpc-upstream.js";
import type { UpstreamTransport } from "../../src/upstream/upstream-options.js";
import { createUpstreamPool } from "../../src/upstream/upstream-pool.js";
import type { Upstream } from "../../src/upstream/upstream.js";

function fakeFactory() {
  const created: Array<{ address: string; transport: UpstreamTransport; options: GrpcUpstreamOptions; closed: number }> = [];
  const createUpstream = (target: { address: string; transport: UpstreamTransport }, options: GrpcUpstreamOptions): Upstream => {
    const record = { address: target.address, transport: target.transport, options, closed: 0 };
    created.push(record);
    return {
      call: () => Promise.reject(new Error("fake")),
      stream: () => {
        throw new Error("fake");
      },
      close: () => void record.closed++,
    };
  };
  return { created, createUpstream };
}

describe("createUpstreamPool", () => {
  it("shares one upstream per distinct address", () => {
    const { created, createUpstream } = fakeFactory();
    const pool = createUpstreamPool(
      { "a.v1.Users": "127.0.0.1:5001", "a.v1.Orders": "127.0.0.1:5001", "b.v1.Pay": { address: "127.0.0.1:5002" } },
      { createUpstream },
    );
    expect(created.map((c) => c.address)).toEqual(["127.0.0.1:5001", "127.0.0.1:5002"]);
    expect(pool.get("a.v1.Users")).toBe(pool.get("a.v1.Orders"));
    expect(pool.get("b.v1.Pay")).not.toBe(pool.get("a.v1.Users"));
    expect(pool.get("c.v1.Missing")).toBeUndefined();
    pool.close();
    expect(created.map((c) => c.closed)).toEqual([1, 1]);
  });

  it("passes per-upstream options and keeps differently configured targets apart", () => {
    const { created, createUpstream } = fakeFactory();
    const pool = createUpstreamPool(
      { "a.v1.S": { address: "h:1", maxReceiveMessageBytes: 1024 }, "a.v1.T": "h:1" },
      { createUpstream, keepaliveTimeMs: 30_000 },
    );
    expect(created).toHaveLength(2);
    expect(created[0].options).toEqual({ keepaliveTimeMs: 30_000, maxReceiveMessageBytes: 1024 });
    expect(created[1].options).toEqual({ keepaliveTimeMs: 30_000 });
    pool.close();
  });

  it("uses the wire transport unless the pool or the target names another, and keeps transports apart", () => {
    const { created, createUpstream } = fakeFactory();
    const pool = createUpstreamPool(
      { "a.v1.S": "h:1", "a.v1.T": { address: "h:1", transport: "grpc-js" }, "a.v1.U": { address: "h:1", transport: "wire" }, "a.v1.V": { address: "h:1", transport: "http2" } },
      { createUpstream },
    );
    expect(created.map((c) => [c.address, c.transport])).toEqual([["h:1", "wire"], ["h:1", "grpc-js"], ["h:1", "http2"]]);
    expect(pool.get("a.v1.S")).toBe(pool.get("a.v1.U"));
    expect(pool.get("a.v1.S")).not.toBe(pool.get("a.v1.V"));
    expect(created[1].options).toEqual({});
    pool.close();

    const grpcJsPool = createUpstreamPool({ "a.v1.S": "h:1", "a.v1.T": { address: "h:2", transport: "http2" } }, { createUpstream, transport: "grpc-js" });
    expect(created.slice(3).map((c) => c.transport)).toEqual(["grpc-js", "http2"]);
    grpcJsPool.close();
  });
});
