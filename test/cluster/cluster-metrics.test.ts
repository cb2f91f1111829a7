import { collectDefaultMetrics, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { AnyBinding } from "../../src/binding.js";
import { aggregateClusterMetrics } from "../../src/cluster/cluster-metrics.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { STANDARD_METHODS } from "../../src/gateway/pipeline.js";
import { ExchangeRecorder } from "../../src/observe/exchange-recorder.js";
import { createGatewayMetrics } from "../../src/observe/metrics/gateway-metrics.js";
import type { RateLimitStoreHealth } from "../../src/ratelimit/rate-limiter.js";

const GET_USER = { service: "demo.v1.UserService", method: "GetUser", rpcPath: "/demo.v1.UserService/GetUser", kind: "unary", httpMethod: "GET", pattern: "/v1/users/{id}" } as unknown as AnyBinding;

/** A worker's gateway metrics after `requests` answered GETs taking `ms` each (its process metrics on). */
function workerMetrics(requests: number, ms: number, store: RateLimitStoreHealth) {
  let now = 0;
  const metrics = createGatewayMetrics({ bindings: [GET_USER], standardMethods: STANDARD_METHODS });
  metrics.watchRateLimitStore(() => store);
  const recorder = new ExchangeRecorder({ observer: metrics.observer, now: () => now, newRequestId: () => "id" });
  for (let i = 0; i < requests; i++) {
    const exchange = recorder.begin({ method: "GET", url: "/v1/users/u", headers: {}, rawHeaders: [], client: { ip: "127.0.0.1", host: "h", protocol: "http" } });
    exchange.binding = GET_USER;
    now += ms;
    exchange.settle(GrpcCode.OK);
    exchange.status = 200;
    recorder.end(exchange);
  }
  // One request still in flight in each worker.
  recorder.begin({ method: "GET", url: "/v1/users/u", headers: {}, rawHeaders: [], client: { ip: "127.0.0.1", host: "h", protocol: "http" } });
  return metrics.registry.getMetricsAsJSON();
}

/** The lines of `text` for metric `name` (its samples, without HELP and TYPE). */
const lines = (text: string, name: string) => text.split("\n").filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));

describe("/metrics with workers", () => {
  it("sums the gateway's metrics over the workers and keeps each process's own metrics apart, labelled", async () => {
    const primary = new Registry();
    collectDefaultMetrics({ register: primary });
    const redisUp: RateLimitStoreHealth = { store: "redis", connected: true, breaker: "closed" };
    const redisDown: RateLimitStoreHealth = { store: "redis", connected: false, breaker: "open" };
    const registry = aggregateClusterMetrics(
      [
        { worker: 1, metrics: await workerMetrics(3, 2, redisUp) },
        { worker: 2, metrics: await workerMetrics(4, 20, redisDown) },
      ],
      await primary.getMetricsAsJSON(),
    );
    const text = await registry.metrics();

    expect(lines(text, "protogate_http_requests_total")).toEqual(['protogate_http_requests_total{method="GET",route="/v1/users/{id}",status="200",grpc_code="OK"} 7']);
    expect(lines(text, "protogate_http_requests_in_flight")).toEqual(["protogate_http_requests_in_flight 2"]);
    // 3 requests at 2 ms (le 0.0025), 4 at 20 ms (le 0.025): the buckets of both add up.
    const buckets = lines(text, "protogate_http_request_duration_seconds_bucket");
    expect(buckets.find((line) => line.includes('le="0.0025"'))).toMatch(/ 3$/);
    expect(buckets.find((line) => line.includes('le="0.025"'))).toMatch(/ 7$/);
    expect(lines(text, "protogate_http_request_duration_seconds_count")).toEqual(['protogate_http_request_duration_seconds_count{method="GET",route="/v1/users/{id}"} 7']);
    // A store down in any worker is down.
    expect(lines(text, "protogate_rate_limit_store_up")).toEqual(["protogate_rate_limit_store_up 0"]);
    expect(lines(text, "protogate_rate_limit_breaker_state").sort()).toEqual([
      'protogate_rate_limit_breaker_state{state="closed"} 1',
      'protogate_rate_limit_breaker_state{state="half-open"} 0',
      'protogate_rate_limit_breaker_state{state="open"} 1',
    ]);
    // Process metrics: one series per process, never a sum (one HELP and TYPE for the family).
    expect(lines(text, "process_start_time_seconds").map((line) => /worker="([^"]+)"/.exec(line)?.[1])).toEqual(["1", "2", "primary"]);
    expect(lines(text, "process_resident_memory_bytes")).toHaveLength(3);
    expect(text.match(/^# TYPE process_resident_memory_bytes gauge$/gm)).toHaveLength(1);
    expect(lines(text, "nodejs_heap_space_size_used_bytes").filter((line) => line.includes('space="old"')).map((line) => /worker="([^"]+)"/.exec(line)?.[1])).toEqual(["1", "2", "primary"]);
  });

  it("with no worker ready, serves the primary's own metrics", async () => {
    const primary = new Registry();
    collectDefaultMetrics({ register: primary });
    const text = await aggregateClusterMetrics([], await primary.getMetricsAsJSON()).metrics();
    expect(lines(text, "process_start_time_seconds")).toHaveLength(1);
    expect(text).not.toContain("protogate_");
  });
});
