import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { AnyBinding } from "../../binding.js";
import type { AuthFailureReason } from "../../errors/gateway-error.js";
import { GrpcCode } from "../../errors/grpc-code.js";
import type { RateLimitDecision, RateLimitEvents, RateLimitStoreHealth } from "../../ratelimit/rate-limiter.js";
import type { ResilienceTallies } from "../../upstream/resilience/balanced-upstream.js";
import type { UpstreamStatus } from "../../upstream/upstream.js";
import type { Exchange, RouteIdentity, StreamDirection } from "../exchange.js";
import type { ExchangeObserver } from "../observer.js";
import { CounterSeriesMap, DeferredCounter, type CounterSeries } from "./deferred-counter.js";
import { DeferredHistogram, type HistogramSeries } from "./deferred-histogram.js";

/** The route label of a request no route matched (refusals, 404s, the docs pages). */
export const UNMATCHED_ROUTE = "unmatched";
/** The method label of a method no route (and no standard verb) uses. */
export const OTHER_METHOD = "other";
/** The grpc_code label of a request that ended without an outcome (the client went away first). */
export const NO_CODE = "none";

/** Seconds; from 1 ms (a hot unary call) to 10 s (a slow upstream near its deadline). */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface GatewayMetricsOptions {
  /** The route table: the method and route labels are bounded by it. */
  readonly bindings: readonly AnyBinding[];
  /** HTTP methods answered by routing even when no route uses them (GET, HEAD, ...). */
  readonly standardMethods: readonly string[];
  /** prom-client's process metrics (CPU, memory, event loop, GC); on by default. */
  readonly processMetrics?: boolean;
}

/** The gateway's Prometheus metrics: the registry /metrics serves and the hooks that feed it. */
export interface GatewayMetrics {
  /** This gateway's own registry (never the global one: several gateways may share a process). */
  readonly registry: Registry;
  /** Hears every request (HTTP counts and durations, upstream calls, streams, auth failures). */
  readonly observer: ExchangeObserver;
  /** Hears every rate-limit decision. */
  readonly rateLimitEvents: RateLimitEvents;
  /** Hears every JWKS download attempt. */
  jwksFetched(issuer: string, outcome: "success" | "failure"): void;
  /** Where the rate-limit store's state is read at scrape time (set once the limiter exists, again on reload). */
  watchRateLimitStore(health: () => RateLimitStoreHealth): void;
  /** The counters a balanced upstream of `service` increments (retries, ejections, refusals). */
  upstreamTallies(service: string): ResilienceTallies;
  /** Where the upstreams' states (addresses, breakers) are read at scrape time (set again on reload). */
  watchUpstreams(statuses: () => readonly UpstreamStatus[]): void;
  /** A reloaded route table: its methods join the known ones (the series of its routes continue those of the same routes before). */
  addRoutes(bindings: readonly AnyBinding[]): void;
}

/** The series of one method of one route (the label set of the HTTP metrics). */
interface MethodSeries {
  readonly labels: { method: string; route: string };
  readonly duration: HistogramSeries;
  /** Requests by outcome: status * 32 + gRPC code (NO_CODE_KEY when none). */
  readonly outcomes: Map<number, CounterSeries>;
}

/** The cached series of one route (or of every unmatched request). */
interface RouteSeries {
  readonly route: string;
  readonly byMethod: Map<string, MethodSeries>;
  /** Upstream calls by gRPC code; undefined for the unmatched requests (they make none). */
  readonly upstream: { readonly labels: { service: string; rpc: string }; readonly duration: HistogramSeries; readonly byCode: Array<CounterSeries | undefined> } | undefined;
  readonly streamSent: CounterSeries;
  readonly streamReceived: CounterSeries;
  readonly streaming: boolean;
}

const NO_CODE_KEY = 31;

/** Builds the registry, the metrics, and the observer that feeds them. */
export function createGatewayMetrics(options: GatewayMetricsOptions): GatewayMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  let inFlight = 0;
  let streamsOpen = 0;
  let storeHealth: (() => RateLimitStoreHealth) | undefined;
  let upstreamStatuses: (() => readonly UpstreamStatus[]) | undefined;

  const requests = new DeferredCounter(registry, "protogate_http_requests_total", "HTTP requests (and WebSocket calls) answered, by method, route template, status and gRPC code.", [
    "method",
    "route",
    "status",
    "grpc_code",
  ]);
  const requestDuration = new DeferredHistogram(
    registry,
    "protogate_http_request_duration_seconds",
    "From a request's arrival to the end of its response (a stream: its whole life), by method and route template.",
    ["method", "route"],
    DURATION_BUCKETS,
  );
  new Gauge({
    name: "protogate_http_requests_in_flight",
    help: "Requests (and WebSocket calls) arrived and not yet over.",
    registers: [registry],
    collect() {
      this.set(inFlight);
    },
  });
  const upstreamRequests = new DeferredCounter(registry, "protogate_upstream_requests_total", "gRPC calls to upstreams, by service, method and the gRPC code they ended with.", [
    "service",
    "rpc",
    "grpc_code",
  ]);
  const upstreamDuration = new DeferredHistogram(
    registry,
    "protogate_upstream_request_duration_seconds",
    "gRPC calls to upstreams, from the call's start to its end (a stream: its whole life).",
    ["service", "rpc"],
    DURATION_BUCKETS,
  );
  const streamMessages = new DeferredCounter(registry, "protogate_stream_messages_total", "Messages of streaming calls, by route template and direction (sent: client to upstream; received: upstream to client).", [
    "route",
    "direction",
  ]);
  new Gauge({
    name: "protogate_streams_open",
    help: "Streaming calls (HTTP and WebSocket) whose upstream stream has started and whose response is not over.",
    registers: [registry],
    collect() {
      this.set(streamsOpen);
    },
  });
  const authFailures = new CounterSeriesMap<AuthFailureReason, "reason">(
    new DeferredCounter(registry, "protogate_auth_failures_total", "Requests refused by authentication or authorisation, by reason.", ["reason"]),
    (reason) => ({ reason }),
  );
  const rateLimitDecisions = new CounterSeriesMap<string, "policy" | "decision">(
    new DeferredCounter(registry, "protogate_rate_limit_decisions_total", "Rate-limit decisions per limit (policy): admitted, limited, fallback (store down, local limit), store_error (store down, fails closed).", [
      "policy",
      "decision",
    ]),
    (key) => {
      const split = key.indexOf("\u0000");
      return { policy: key.slice(0, split), decision: key.slice(split + 1) };
    },
  );
  /** The decision series of each policy (limit names are bounded by the config). */
  const decisionSeries = new Map<string, Record<RateLimitDecision, CounterSeries>>();
  const jwksFetches = new CounterSeriesMap<string, "issuer" | "outcome">(
    new DeferredCounter(registry, "protogate_jwks_fetches_total", "JWKS download attempts, by issuer and outcome (success, failure).", ["issuer", "outcome"]),
    (key) => {
      const split = key.indexOf("\u0000");
      return { issuer: key.slice(0, split), outcome: key.slice(split + 1) };
    },
  );
  new Gauge({
    name: "protogate_rate_limit_store_up",
    help: "1 when the rate-limit store can be used (memory: always; Redis: connected and its breaker not open), 0 otherwise.",
    registers: [registry],
    // With workers: 0 when any worker's store is down.
    aggregator: "min",
    collect() {
      const health = storeHealth?.();
      if (health === undefined) return;
      this.set(health.store === "memory" || (health.connected && health.breaker !== "open") ? 1 : 0);
    },
  });
  new Gauge({
    name: "protogate_rate_limit_breaker_state",
    help: "The Redis rate-limit store's circuit breaker: 1 for its current state (closed, open, half-open), 0 for the others.",
    labelNames: ["state"],
    registers: [registry],
    // With workers: 1 for each state some worker's breaker is in.
    aggregator: "max",
    collect() {
      const health = storeHealth?.();
      if (health === undefined || health.store !== "redis") return;
      for (const state of ["closed", "open", "half-open"] as const) this.set({ state }, health.breaker === state ? 1 : 0);
    },
  });

  const upstreamRetries = new DeferredCounter(
    registry,
    "protogate_upstream_retries_total",
    "Upstream calls sent again, by service and kind: retry (an idempotent call after UNAVAILABLE before any response), transparent (to another address, the first never reached the upstream).",
    ["service", "kind"],
  );
  const upstreamEjections = new DeferredCounter(registry, "protogate_upstream_ejections_total", "Upstream addresses ejected by outlier detection, by service.", ["service"]);
  const upstreamRefusals = new DeferredCounter(
    registry,
    "protogate_upstream_refusals_total",
    "Calls and streams the gateway refused to send (503 with Retry-After), by service and reason: overloaded (maxConcurrentCalls in flight), breaker_open.",
    ["service", "reason"],
  );
  /** The balanced upstreams of the config (bounded by it), read at scrape time. */
  const balancedNow = () => (upstreamStatuses?.() ?? []).filter((status) => status.balancing !== undefined);
  new Gauge({
    name: "protogate_upstream_addresses",
    help: "Addresses of each balanced upstream by health: healthy (in rotation), ejected (outlier detection), unhealthy (health checks).",
    labelNames: ["service", "health"],
    registers: [registry],
    collect() {
      this.reset();
      for (const status of balancedNow()) {
        const endpoints = status.balancing?.endpoints ?? [];
        for (const health of ["healthy", "ejected", "unhealthy"] as const) this.set({ service: status.service, health }, endpoints.filter((endpoint) => endpoint.health === health).length);
      }
    },
  });
  new Gauge({
    name: "protogate_upstream_breaker_state",
    help: "Each balanced upstream's circuit breaker: 1 for its current state (closed, open, half-open), 0 for the others.",
    labelNames: ["service", "state"],
    registers: [registry],
    collect() {
      this.reset();
      for (const status of balancedNow()) {
        const breaker = status.balancing?.breaker;
        if (breaker === undefined) continue;
        for (const state of ["closed", "open", "half-open"] as const) this.set({ service: status.service, state }, breaker === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: "protogate_upstream_calls_in_flight",
    help: "Calls and streams in flight on each balanced upstream (what maxConcurrentCalls bounds).",
    labelNames: ["service"],
    registers: [registry],
    collect() {
      this.reset();
      for (const status of balancedNow()) this.set({ service: status.service }, status.balancing?.active ?? 0);
    },
  });

  const knownMethods = new Set([...options.standardMethods, ...options.bindings.map((binding) => binding.httpMethod)]);
  /**
   * By binding object (the hot path's lookup), and behind it by what the labels come from: a
   * reloaded route table's bindings are new objects, and the same route must keep its series (two
   * series with one label set would be one series twice on the page). Weak, so that the bindings
   * of a route table reloaded away (and their codecs) can go.
   */
  const routeSeries = new WeakMap<RouteIdentity, RouteSeries>();
  const routeSeriesByKey = new Map<string, RouteSeries>();
  /** Per RPC, not per binding: a method with several HTTP rules makes one upstream series. */
  const upstreamByRpc = new Map<string, NonNullable<RouteSeries["upstream"]>>();
  const upstreamSeries = (binding: RouteIdentity): NonNullable<RouteSeries["upstream"]> => {
    let series = upstreamByRpc.get(binding.rpcPath);
    if (series === undefined) {
      const labels = { service: binding.service, rpc: binding.method };
      series = { labels, duration: upstreamDuration.series(labels), byCode: [] };
      upstreamByRpc.set(binding.rpcPath, series);
    }
    return series;
  };
  const newRouteSeries = (binding: RouteIdentity | undefined): RouteSeries => {
    const route = binding?.pattern ?? UNMATCHED_ROUTE;
    return {
      route,
      byMethod: new Map(),
      upstream: binding && upstreamSeries(binding),
      streamSent: streamMessages.series({ route, direction: "sent" }),
      streamReceived: streamMessages.series({ route, direction: "received" }),
      streaming: binding !== undefined && binding.kind !== "unary",
    };
  };
  const unmatched = newRouteSeries(undefined);
  const seriesOf = (binding: RouteIdentity | undefined): RouteSeries => {
    if (binding === undefined) return unmatched;
    let series = routeSeries.get(binding);
    if (series === undefined) {
      const key = `${binding.httpMethod} ${binding.pattern} ${binding.rpcPath} ${binding.kind}`;
      series = routeSeriesByKey.get(key);
      if (series === undefined) {
        series = newRouteSeries(binding);
        routeSeriesByKey.set(key, series);
      }
      routeSeries.set(binding, series);
    }
    return series;
  };
  /** The series of a request's method on a route; a method no route uses shares OTHER_METHOD. */
  const methodSeriesOf = (route: RouteSeries, requestMethod: string): MethodSeries => {
    const method = knownMethods.has(requestMethod) ? requestMethod : OTHER_METHOD;
    let series = route.byMethod.get(method);
    if (series === undefined) {
      const labels = { method, route: route.route };
      series = { labels, duration: requestDuration.series(labels), outcomes: new Map() };
      route.byMethod.set(method, series);
    }
    return series;
  };

  const observer: ExchangeObserver = {
    started() {
      inFlight++;
    },
    upstreamStarted(exchange) {
      if (exchange.binding !== undefined && exchange.binding.kind !== "unary") streamsOpen++;
    },
    upstreamEnded(exchange) {
      const upstream = seriesOf(exchange.binding).upstream;
      if (upstream === undefined || exchange.upstreamMs === undefined) return;
      const code = exchange.upstreamCode ?? GrpcCode.UNKNOWN;
      let counter = upstream.byCode[code];
      if (counter === undefined) {
        counter = upstreamRequests.series({ ...upstream.labels, grpc_code: grpcCodeLabel(code) });
        upstream.byCode[code] = counter;
      }
      counter.pending++;
      upstreamDuration.record(upstream.duration, exchange.upstreamMs / 1000);
    },
    streamMessage(exchange, direction: StreamDirection) {
      const route = seriesOf(exchange.binding);
      (direction === "sent" ? route.streamSent : route.streamReceived).pending++;
    },
    ended(exchange: Exchange) {
      inFlight--;
      const route = seriesOf(exchange.binding);
      if (route.streaming && exchange.upstreamStartedAt !== undefined) streamsOpen--;
      // A method no route uses is cached under OTHER_METHOD only (so random methods add no entries).
      const method = route.byMethod.get(exchange.head.method) ?? methodSeriesOf(route, exchange.head.method);
      const code = exchange.grpcCode;
      const key = exchange.status * 32 + (code ?? NO_CODE_KEY);
      let outcome = method.outcomes.get(key);
      if (outcome === undefined) {
        outcome = requests.series({ ...method.labels, status: String(exchange.status), grpc_code: code === undefined ? NO_CODE : grpcCodeLabel(code) });
        method.outcomes.set(key, outcome);
      }
      outcome.pending++;
      if (exchange.durationMs !== undefined) requestDuration.record(method.duration, exchange.durationMs / 1000);
      const authFailure = exchange.error?.authFailure;
      if (authFailure !== undefined) authFailures.get(authFailure).pending++;
    },
  };

  return {
    registry,
    observer,
    rateLimitEvents: {
      decided(policy, decision) {
        let series = decisionSeries.get(policy);
        if (series === undefined) {
          const of = (d: RateLimitDecision): CounterSeries => rateLimitDecisions.get(`${policy}\u0000${d}`);
          series = { admitted: of("admitted"), limited: of("limited"), fallback: of("fallback"), store_error: of("store_error") };
          decisionSeries.set(policy, series);
        }
        series[decision].pending++;
      },
    },
    jwksFetched(issuer, outcome) {
      jwksFetches.get(`${issuer}\u0000${outcome}`).pending++;
    },
    watchRateLimitStore(health) {
      storeHealth = health;
    },
    upstreamTallies(service) {
      return {
        retries: upstreamRetries.series({ service, kind: "retry" }),
        transparentRetries: upstreamRetries.series({ service, kind: "transparent" }),
        ejections: upstreamEjections.series({ service }),
        overloaded: upstreamRefusals.series({ service, reason: "overloaded" }),
        breakerOpen: upstreamRefusals.series({ service, reason: "breaker_open" }),
      };
    },
    watchUpstreams(statuses) {
      upstreamStatuses = statuses;
    },
    addRoutes(bindings) {
      for (const binding of bindings) knownMethods.add(binding.httpMethod);
    },
  };
}

/** The grpc_code label: the code's name (OK, NOT_FOUND, ...), or its number when it has none. */
export function grpcCodeLabel(code: number): string {
  return GrpcCode[code] ?? String(code);
}
