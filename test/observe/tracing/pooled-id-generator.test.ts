import { describe, expect, it } from "vitest";
import { PooledIdGenerator } from "../../../src/observe/tracing/pooled-id-generator.js";

describe("pooled ID generator", () => {
  it("cuts 32-hex trace IDs and 16-hex span IDs from the pool, refilling it when it runs out", () => {
    const fills: number[] = [];
    let fill = 0;
    const generator = new PooledIdGenerator((bytes) => {
      fills.push(bytes);
      fill++;
      return String(fill % 10).repeat(bytes * 2);
    });
    const ids = Array.from({ length: 1_024 }, (_, i) => (i % 2 === 0 ? generator.generateTraceId() : generator.generateSpanId()));
    expect(ids[0]).toBe("1".repeat(32));
    expect(ids[1]).toBe("1".repeat(16));
    // 8 KiB of bytes is 16 384 hex characters: 341 trace/span pairs (48 each) per fill.
    expect(ids[682]).toBe("2".repeat(32));
    expect(fills).toEqual([8_192, 8_192]);
  });

  it("never hands out an all-zero ID (invalid in W3C trace context)", () => {
    const pools = ["0".repeat(16_384), "0".repeat(16) + "a".repeat(16_368)];
    const generator = new PooledIdGenerator(() => pools.shift() ?? "f".repeat(16_384));
    expect(generator.generateSpanId()).toBe("a".repeat(16));
    expect(generator.generateTraceId()).toBe("a".repeat(32));
  });

  it("gives distinct lower-case hex IDs from the real random source", () => {
    const generator = new PooledIdGenerator();
    const ids = new Set(Array.from({ length: 2_000 }, () => generator.generateTraceId()));
    expect(ids.size).toBe(2_000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });
});
