import { describe, expect, it } from "vitest";
import type { AnyBinding } from "../../src/binding.js";
import { unauthenticated, permissionDenied } from "../../src/auth/auth-errors.js";
import { jwtRejected } from "../../src/auth/jwt/jwt-errors.js";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { STANDARD_METHODS } from "../../src/gateway/pipeline.js";
import type { RequestHead } from "../../src/gateway/request.js";
import { ExchangeRecorder } from "../../src/observe/exchange-recorder.js";
import { createGatewayMetrics, type GatewayMetrics } from "../../src/observe/metrics/gateway-metrics.js";

/** Just what the metrics read of a binding. */
const binding = (pattern: string, httpMethod: string, kind: AnyBinding["kind"], method: string): AnyBinding =>
  ({ service: "demo.v1.UserService", method, rpcPath: `/demo.v1.UserService/${method}`, kind, httpMethod, pattern }) as unknown as AnyBinding;
const GET_USER = binding("/v1/users/{id}", "GET", "unary", "GetUser");
const WATCH = binding("/v1/users:watch", "GET", "server", "WatchUsers");
const PURGE = binding("/v1/users:purge", "PURGE", "unary", "PurgeUsers");

const head = (method: string, url: string): RequestHead => ({ method, url, headers: {}, rawHeaders: [], client: { ip: "127.0.0.1", host: "localhost", protocol: "http" } });

function setUp() {
  let now = 0;
  const metrics = createGatewayMetrics({ bindings: [GET_USER, WATCH, PURGE], standardMethods: STANDARD_METHODS, processMetrics: false });
  const recorder = new ExchangeRecorder({ observer: metrics.observer, now: () => now, newRequestId: () => "id" });
  return { metrics, recorder, advance: (ms: number) => (now += ms) };
}

interface Sample {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

async function samples(metrics: GatewayMetrics, name: string): Promise<Sample[]> {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  return (await metric.get()).values as Sample[];
}

/** `name{a="x",b="y"} value` lines, sorted, for exact comparisons. */
async function series(metrics: GatewayMetrics, name: string): Promise<string[]> {
  return (await samples(metrics, name))
    .filter((sample) => sample.metricName === undefined || sample.metricName === name)
    .map((sample) => `${Object.entries(sample.labels).map(([k, v]) => `${k}=${v}`).join(",")} ${sample.value}`)
    .sort();
}

describe("gateway metrics: the labels of each kind of exchange", () => {
  const cases: Array<{ name: string; run: (r: ExchangeRecorder, advance: (ms: number) => void) => void; requests: string[]; upstream: string[]; auth?: string[] }> = [
    {
      name: "a matched unary call: its template, method, status and code; one upstream call",
      run: (r, advance) => {
        const exchange = r.begin(head("GET", "/v1/users/u-1?x=1"));
        exchange.binding = GET_USER;
        r.upstreamStarted(exchange, []);
        advance(3);
        r.upstreamEnded(exchange, GrpcCode.OK);
        exchange.settle(GrpcCode.OK);
        exchange.status = 200;
        r.end(exchange);
      },
      requests: ["method=GET,route=/v1/users/{id},status=200,grpc_code=OK 1"],
      upstream: ["service=demo.v1.UserService,rpc=GetUser,grpc_code=OK 1"],
    },
    {
      name: "an upstream error: the upstream's code on both counters",
      run: (r) => {
        const exchange = r.begin(head("GET", "/v1/users/u-2"));
        exchange.binding = GET_USER;
        r.upstreamStarted(exchange, []);
        r.upstreamEnded(exchange, GrpcCode.NOT_FOUND);
        r.failed(exchange, new GatewayError(GrpcCode.NOT_FOUND, "PG_ERR_UPSTREAM", "no such user"));
        exchange.status = 404;
        r.end(exchange);
      },
      requests: ["method=GET,route=/v1/users/{id},status=404,grpc_code=NOT_FOUND 1"],
      upstream: ["service=demo.v1.UserService,rpc=GetUser,grpc_code=NOT_FOUND 1"],
    },
    {
      name: "unmatched paths share one route label, whatever the path",
      run: (r) => {
        for (const url of ["/a", "/b/c", "/v1/users/u-1/nope"]) {
          const exchange = r.begin(head("GET", url));
          r.failed(exchange, new GatewayError(GrpcCode.NOT_FOUND, "PG_ERR_ROUTE_NOT_FOUND", "no route"));
          exchange.status = 404;
          r.end(exchange);
        }
      },
      requests: ["method=GET,route=unmatched,status=404,grpc_code=NOT_FOUND 3"],
      upstream: [],
    },
    {
      name: "a method no route uses is 'other'; a custom verb a route uses keeps its name",
      run: (r) => {
        for (const method of ["PROPFIND", "BREW", "PURGE"]) {
          const exchange = r.begin(head(method, "/x"));
          r.failed(exchange, new GatewayError(GrpcCode.UNIMPLEMENTED, "PG_ERR_METHOD_NOT_IMPLEMENTED", "no"));
          exchange.status = 501;
          r.end(exchange);
        }
      },
      requests: ["method=PURGE,route=unmatched,status=501,grpc_code=UNIMPLEMENTED 1", "method=other,route=unmatched,status=501,grpc_code=UNIMPLEMENTED 2"],
      upstream: [],
    },
    {
      name: "refusals by auth count their reason; a client that left before an outcome has code none",
      run: (r) => {
        const refusals = [unauthenticated("none", "authentication required"), jwtRejected("token expired"), permissionDenied(["users:write"])];
        for (const error of refusals) {
          const exchange = r.begin(head("POST", "/v1/users"));
          exchange.binding = GET_USER;
          r.failed(exchange, error);
          exchange.status = error.code === GrpcCode.PERMISSION_DENIED ? 403 : 401;
          r.end(exchange);
        }
        const gone = r.begin(head("GET", "/v1/users/u-3"));
        gone.binding = GET_USER;
        gone.status = 499;
        r.end(gone);
      },
      requests: [
        "method=GET,route=/v1/users/{id},status=499,grpc_code=none 1",
        "method=POST,route=/v1/users/{id},status=401,grpc_code=UNAUTHENTICATED 2",
        "method=POST,route=/v1/users/{id},status=403,grpc_code=PERMISSION_DENIED 1",
      ],
      upstream: [],
      auth: ["reason=expired 1", "reason=insufficient_scope 1", "reason=missing 1"],
    },
  ];

  it.each(cases)("$name", async ({ run, requests, upstream, auth = [] }) => {
    const { metrics, recorder, advance } = setUp();
    run(recorder, advance);
    expect(await series(metrics, "protogate_http_requests_total")).toEqual(requests);
    expect(await series(metrics, "protogate_upstream_requests_total")).toEqual(upstream);
    expect(await series(metrics, "protogate_auth_failures_total")).toEqual(auth);
    expect(await series(metrics, "protogate_http_requests_in_flight")).toEqual([" 0"]);
    // Counts are handed to prom-client once: a second scrape shows the same totals.
    expect(await series(metrics, "protogate_http_requests_total")).toEqual(requests);
  });

  it("streams: messages by route and direction, the open-stream gauge up while the stream runs", async () => {
    const { metrics, recorder } = setUp();
    const exchange = recorder.begin(head("GET", "/v1/users:watch"));
    exchange.binding = WATCH;
    recorder.upstreamStarted(exchange, []);
    for (let i = 0; i < 3; i++) recorder.streamMessage(exchange, "received");
    recorder.streamMessage(exchange, "sent");
    expect(await series(metrics, "protogate_streams_open")).toEqual([" 1"]);
    expect(await series(metrics, "protogate_http_requests_in_flight")).toEqual([" 1"]);
    recorder.upstreamEnded(exchange, GrpcCode.OK);
    exchange.settle(GrpcCode.OK);
    exchange.status = 200;
    recorder.end(exchange);
    expect(await series(metrics, "protogate_streams_open")).toEqual([" 0"]);
    expect(await series(metrics, "protogate_stream_messages_total")).toEqual(["route=/v1/users:watch,direction=received 3", "route=/v1/users:watch,direction=sent 1"]);
  });

  it("histograms: one observation per request and per upstream call, in seconds", async () => {
    const { metrics, recorder, advance } = setUp();
    const exchange = recorder.begin(head("GET", "/v1/users/u-1"));
    exchange.binding = GET_USER;
    advance(1);
    recorder.upstreamStarted(exchange, []);
    advance(20);
    recorder.upstreamEnded(exchange, GrpcCode.OK);
    advance(9);
    exchange.settle(GrpcCode.OK);
    exchange.status = 200;
    recorder.end(exchange);
    const http = await samples(metrics, "protogate_http_request_duration_seconds");
    expect(http.find((s) => s.metricName?.endsWith("_count"))).toMatchObject({ labels: { method: "GET", route: "/v1/users/{id}" }, value: 1 });
    expect(http.find((s) => s.metricName?.endsWith("_sum"))?.value).toBeCloseTo(0.03, 9);
    expect(http.find((s) => s.labels.le === 0.025)?.value).toBe(0);
    expect(http.find((s) => s.labels.le === 0.05)?.value).toBe(1);
    const upstream = await samples(metrics, "protogate_upstream_request_duration_seconds");
    expect(upstream.find((s) => s.metricName?.endsWith("_count"))).toMatchObject({ labels: { service: "demo.v1.UserService", rpc: "GetUser" }, value: 1 });
    expect(upstream.find((s) => s.metricName?.endsWith("_sum"))?.value).toBeCloseTo(0.02, 9);
  });

  it("rate-limit decisions by policy, JWKS fetches by issuer and outcome, the memory store always up", async () => {
    const { metrics } = setUp();
    for (const decision of ["admitted", "admitted", "limited", "fallback", "store_error"] as const) metrics.rateLimitEvents.decided("per-caller", decision);
    metrics.jwksFetched("https://issuer.example", "success");
    metrics.jwksFetched("https://issuer.example", "failure");
    metrics.jwksFetched("https://issuer.example", "failure");
    expect(await series(metrics, "protogate_rate_limit_decisions_total")).toEqual([
      "policy=per-caller,decision=admitted 2",
      "policy=per-caller,decision=fallback 1",
      "policy=per-caller,decision=limited 1",
      "policy=per-caller,decision=store_error 1",
    ]);
    expect(await series(metrics, "protogate_jwks_fetches_total")).toEqual(["issuer=https://issuer.example,outcome=failure 2", "issuer=https://issuer.example,outcome=success 1"]);
    metrics.watchRateLimitStore(() => ({ store: "memory" }));
    expect(await series(metrics, "protogate_rate_limit_store_up")).toEqual([" 1"]);
    expect(await series(metrics, "protogate_rate_limit_breaker_state")).toEqual([]);
  });

  it.each([
    { connected: true, breaker: "closed" as const, up: 1 },
    { connected: true, breaker: "open" as const, up: 0 },
    { connected: false, breaker: "half-open" as const, up: 0 },
  ])("a Redis store connected=$connected with its breaker $breaker: up $up", async ({ connected, breaker, up }) => {
    const { metrics } = setUp();
    metrics.watchRateLimitStore(() => ({ store: "redis", connected, breaker }));
    expect(await series(metrics, "protogate_rate_limit_store_up")).toEqual([` ${up}`]);
    expect(await series(metrics, "protogate_rate_limit_breaker_state")).toEqual(["closed", "half-open", "open"].map((state) => `state=${state} ${state === breaker ? 1 : 0}`).sort());
  });

  it("the registry is the gateway's own: two gateways' metrics never mix", async () => {
    const a = setUp();
    const b = setUp();
    const exchange = a.recorder.begin(head("GET", "/x"));
    exchange.status = 404;
    a.recorder.end(exchange);
    expect(await series(a.metrics, "protogate_http_requests_total")).toHaveLength(1);
    expect(await series(b.metrics, "protogate_http_requests_total")).toEqual([]);
  });
});

describe("the auth layer's typed failure reasons", () => {
  it.each([
    { error: () => unauthenticated("none", "authentication required"), reason: "missing" },
    { error: () => unauthenticated("invalid_request", "multiple authorization headers"), reason: "malformed" },
    { error: () => unauthenticated("invalid_token", "invalid API key"), reason: "invalid" },
    { error: () => jwtRejected("token missing"), reason: "missing" },
    { error: () => jwtRejected("malformed token"), reason: "malformed" },
    { error: () => jwtRejected("token expired"), reason: "expired" },
    { error: () => jwtRejected("signature verification failed"), reason: "invalid" },
    { error: () => jwtRejected("key set unavailable"), reason: "key_set_unavailable" },
    { error: () => permissionDenied(["orders:write"]), reason: "insufficient_scope" },
    { error: () => new GatewayError(GrpcCode.NOT_FOUND, "PG_ERR_ROUTE_NOT_FOUND", "no route"), reason: undefined },
  ])("$reason", ({ error, reason }) => {
    expect(error().authFailure).toBe(reason);
  });
});
