import { describe, expect, it } from "vitest";
import type { GrpcUpstreamOptions } from "../../src/upstream/grpc-upstream.js";
import type { UpstreamTransport } from "../../src/upstream/upstream-options.js";
import { createUpstreamPool } from "../../src/upstream/upstream-pool.js";
import type { Upstream } from "../../src/upstream/upstream.js";
import { BalancedUpstream } from "../../src/upstream/resilience/balanced-upstream.js";
import { createFakeClock } from "../support/fake-clock.js";

function fakeFactory() {
  const created: Array<{ address: string; transport: UpstreamTransport; options: GrpcUpstreamOptions; closed: number; upstream?: Upstream }> = [];
  const createUpstream = (target: { address: string; transport: UpstreamTransport }, options: GrpcUpstreamOptions): Upstream => {
    const record: (typeof created)[number] = { address: target.address, transport: target.transport, options, closed: 0 };
    created.push(record);
    record.upstream = {
      call: () => Promise.reject(new Error("fake")),
      stream: () => {
        throw new Error("fake");
      },
      close: () => void record.closed++,
    };
    return record.upstream;
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

  it("hands out the plain upstream for one address without resilience options (nothing added per call)", () => {
    const { created, createUpstream } = fakeFactory();
    const pool = createUpstreamPool({ "a.v1.S": "h:1", "a.v1.T": { address: "h:2" }, "a.v1.U": { addresses: ["h:3"] } }, { createUpstream });
    expect(created).toHaveLength(3);
    ["a.v1.S", "a.v1.T", "a.v1.U"].forEach((service, i) => expect(pool.get(service)).toBe(created[i].upstream));
    for (const service of ["a.v1.S", "a.v1.T", "a.v1.U"]) expect(pool.get(service)).not.toBeInstanceOf(BalancedUpstream);
    expect(pool.statuses?.().map((status) => [status.address, status.balancing])).toEqual([
      ["h:1", undefined],
      ["h:2", undefined],
      ["h:3", undefined],
    ]);
    pool.close();
  });

  it("balances several addresses (each one upstream, shared with a service at that address) or one with options", () => {
    const { created, createUpstream } = fakeFactory();
    const pool = createUpstreamPool(
      { "a.v1.S": { addresses: ["h:1", "h:2"] }, "a.v1.T": "h:2", "a.v1.U": { address: "h:3", maxConcurrentCalls: 10 } },
      { createUpstream },
    );
    expect(created.map((c) => c.address)).toEqual(["h:1", "h:2", "h:3"]);
    expect(pool.get("a.v1.S")).toBeInstanceOf(BalancedUpstream);
    expect(pool.get("a.v1.U")).toBeInstanceOf(BalancedUpstream);
    const statuses = pool.statuses?.() ?? [];
    expect(statuses.map((status) => [status.service, status.address, status.balancing?.endpoints.map((endpoint) => endpoint.address)])).toEqual([
      ["a.v1.S", "h:1,h:2", ["h:1", "h:2"]],
      ["a.v1.T", "h:2", undefined],
      ["a.v1.U", "h:3", ["h:3"]],
    ]);
    pool.close();
    expect(created.map((c) => c.closed)).toEqual([1, 1, 1]);
  });

  it("resolves a dns:/// target through the injected resolver; its addresses' upstreams are its own", async () => {
    const { created, createUpstream } = fakeFactory();
    const asked: string[] = [];
    const pool = createUpstreamPool(
      { "a.v1.S": "dns:///users.test:50051" },
      { createUpstream, resilience: { resolve: async (host) => (asked.push(host), ["127.0.0.1", "127.0.0.2"]), timers: createFakeClock() } },
    );
    const upstream = pool.get("a.v1.S") as BalancedUpstream;
    await expect(upstream.call({ rpcPath: "/a.v1.S/M", request: new Uint8Array(), metadata: [], deadline: Date.now() + 1_000 })).rejects.toThrow("fake");
    expect(asked).toEqual(["users.test"]);
    expect(created.map((c) => c.address)).toEqual(["127.0.0.1:50051", "127.0.0.2:50051"]);
    expect(pool.statuses?.()[0].address).toBe("dns:///users.test:50051");
    pool.close();
    expect(created.map((c) => c.closed)).toEqual([1, 1]);
  });
});
