import { describe, expect, it } from "vitest";
import { configFromObject, ConfigError } from "../../src/config/load-config.js";

function upstreamConfig(upstream: unknown) {
  return configFromObject({ upstreams: { "demo.v1.UserService": upstream } }).upstreams["demo.v1.UserService"];
}

describe("upstreams.<service>: addresses and resilience options", () => {
  it("keeps the HOST:PORT shorthand, and takes a dns:/// target the same way", () => {
    expect(upstreamConfig("127.0.0.1:50051")).toEqual({ address: "127.0.0.1:50051" });
    expect(upstreamConfig("dns:///users.internal:50051")).toEqual({ address: "dns:///users.internal:50051" });
  });

  it("fills each block's defaults when the block is there (Envoy's for outlier detection and retries)", () => {
    expect(upstreamConfig({ addresses: ["127.0.0.1:1", "127.0.0.1:2"], retries: {}, outlierDetection: {}, circuitBreaker: {}, healthCheck: {} })).toEqual({
      addresses: ["127.0.0.1:1", "127.0.0.1:2"],
      retries: { maxAttempts: 2, initialBackoffMs: 25, maxBackoffMs: 250, budgetPercent: 20, minRetryConcurrency: 3 },
      outlierDetection: { consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 10 },
      circuitBreaker: { consecutiveFailures: 5, coolDownMs: 10_000 },
      healthCheck: { service: "", intervalMs: 10_000, timeoutMs: 1_000, unhealthyThreshold: 3, healthyThreshold: 2 },
    });
  });

  it.each<[string, unknown, string]>([
    ["a number", 5, "upstreams.demo.v1.UserService: expected HOST:PORT, dns:///NAME:PORT or an object with address or addresses"],
    ["a bad shorthand", "users", "upstreams.demo.v1.UserService.address: expected HOST:PORT or dns:///NAME:PORT"],
    ["address and addresses", { address: "h:1", addresses: ["h:2"] }, "upstreams.demo.v1.UserService.addresses: give either address or addresses (one of them, not both)"],
    ["neither", { balancing: "round_robin" }, "upstreams.demo.v1.UserService.address: give either address or addresses (one of them, not both)"],
    ["an empty list", { addresses: [] }, "upstreams.demo.v1.UserService.addresses: Too small"],
    ["a dns:/// target in addresses", { addresses: ["dns:///a:1"] }, "upstreams.demo.v1.UserService.addresses.0: expected HOST:PORT"],
    ["the same address twice", { addresses: ["h:1", "h:2", "h:1"] }, "upstreams.demo.v1.UserService.addresses: h:1 is listed twice"],
    ["an unknown balancing", { address: "h:1", balancing: "random" }, "upstreams.demo.v1.UserService.balancing: Invalid option"],
    ["dnsRefreshMs without dns", { address: "h:1", dnsRefreshMs: 1000 }, "upstreams.demo.v1.UserService.dnsRefreshMs: dnsRefreshMs applies to a dns:///NAME:PORT address only"],
    ["one attempt", { address: "h:1", retries: { maxAttempts: 1 } }, "upstreams.demo.v1.UserService.retries.maxAttempts: Too small"],
    ["a backoff cap below its start", { address: "h:1", retries: { initialBackoffMs: 100, maxBackoffMs: 10 } }, "upstreams.demo.v1.UserService.retries.maxBackoffMs: maxBackoffMs must be at least initialBackoffMs"],
    ["a share over 100 %", { address: "h:1", outlierDetection: { maxEjectionPercent: 150 } }, "upstreams.demo.v1.UserService.outlierDetection.maxEjectionPercent: Too big"],
    ["a health check slower than its interval", { address: "h:1", healthCheck: { intervalMs: 1000, timeoutMs: 2000 } }, "upstreams.demo.v1.UserService.healthCheck.timeoutMs: timeoutMs must not exceed intervalMs"],
    ["a bound of zero", { address: "h:1", maxConcurrentCalls: 0 }, "upstreams.demo.v1.UserService.maxConcurrentCalls: Too small"],
    ["a misspelt key", { address: "h:1", retry: {} }, 'upstreams.demo.v1.UserService: unknown key(s) "retry"'],
  ])("refuses %s with an error naming the key", (_name, upstream, message) => {
    expect(() => upstreamConfig(upstream)).toThrow(ConfigError);
    expect(() => upstreamConfig(upstream)).toThrow(message);
  });
});
