import { CircuitBreaker } from "../../circuit-breaker.js";
import { GrpcCode } from "../../errors/grpc-code.js";
import type { Timers } from "../../timers.js";
import { UpstreamError, failedCall } from "../upstream-error.js";
import type { BalancingStatus, StreamCall, UnaryCall, UnaryResult, Upstream, UpstreamConnectionState, UpstreamStream } from "../upstream.js";
import { mayRetry, verdictOf, type AttemptVerdict } from "./attempt-outcome.js";
import { BalancedStream, RefusedStream, type StreamOwner } from "./balanced-stream.js";
import { Balancer } from "./balancer.js";
import type { Endpoint } from "./endpoint.js";
import type { EndpointSet } from "./endpoint-set.js";
import { HealthChecker } from "./health-check.js";
import { OutlierDetector } from "./outlier-detector.js";
import type { ResilienceOptions, RetryOptions } from "./resilience-options.js";
import { RetryBudget } from "./retry-budget.js";

/** A counter the metrics read (a plain number the hot path increments; see observe/metrics). */
export interface Tally {
  pending: number;
}

/** What a balanced upstream counts, for the metrics. */
export interface ResilienceTallies {
  /** Idempotent calls sent again after an UNAVAILABLE before any response. */
  readonly retries: Tally;
  /** Calls sent to another address because the first provably never reached the upstream. */
  readonly transparentRetries: Tally;
  readonly ejections: Tally;
  /** Calls and streams refused by `maxConcurrentCalls`. */
  readonly overloaded: Tally;
  /** Calls and streams refused by the open breaker. */
  readonly breakerOpen: Tally;
}

/** What a balanced upstream runs on besides its options. */
export interface BalancedUpstreamContext {
  /** The clock of outlier detection and the breaker, and the timers of retry backoffs and health checks. */
  readonly timers: Timers;
  /** The retry backoff's jitter, in [0, 1). */
  readonly random: () => number;
  readonly tallies: ResilienceTallies;
  /** Where ejections, health changes and DNS changes are logged. */
  readonly log: { info(details: object, message: string): void; warn(details: object, message: string): void };
  /** The service, for logs. */
  readonly service: string;
}

/** Retry-After of a call refused because too many are in flight: they end fast, so soon. */
const OVERLOADED_RETRY_AFTER_MS = 1_000;

/** Tallies that count nowhere (no metrics). */
export function silentTallies(): ResilienceTallies {
  return { retries: { pending: 0 }, transparentRetries: { pending: 0 }, ejections: { pending: 0 }, overloaded: { pending: 0 }, breakerOpen: { pending: 0 } };
}

/** Connection states from best to worst: a balanced upstream is as good as its best address. */
const STATE_RANK: readonly UpstreamConnectionState[] = ["ready", "connecting", "idle", "transient_failure", "unknown", "shutdown"];

/**
 * One upstream spread over several addresses (each a plain upstream on one connection), with what
 * keeps a sick address or a sick upstream from failing requests: balancing over the addresses in
 * rotation, outlier detection, retries, a circuit breaker and a bound on calls in flight, health
 * checks. The pipeline sees one `Upstream` per service as with a single address.
 *
 * Per call it costs a few field updates and one async frame: the options that are off are
 * undefined and skipped, nothing is allocated per call beyond the frame (a retry allocates the
 * list of addresses it tried). With one address and no options the pool never builds one.
 */
export class BalancedUpstream implements Upstream, StreamOwner {
  /** Calls and streams in flight. */
  private inFlight = 0;
  private readonly balancer: Balancer;
  private readonly outlier: OutlierDetector | undefined;
  private readonly retries: RetryOptions | undefined;
  private readonly budget: RetryBudget | undefined;
  private readonly breaker: CircuitBreaker | undefined;
  private readonly health: HealthChecker | undefined;
  private readonly maxInFlight: number;

  constructor(
    private readonly endpoints: EndpointSet,
    options: ResilienceOptions,
    private readonly context: BalancedUpstreamContext,
  ) {
    const { timers, tallies, log, service } = context;
    const now = () => timers.now();
    this.balancer = new Balancer(options.balancing ?? "round_robin");
    const outlier = options.outlierDetection;
    this.outlier =
      outlier &&
      new OutlierDetector(outlier, now, (endpoint, durationMs) => {
        tallies.ejections.pending++;
        log.warn({ service, address: endpoint.address, ejectedMs: durationMs, times: endpoint.timesEjected }, "upstream address ejected (outlier detection)");
      });
    this.retries = options.retries;
    this.budget = options.retries && new RetryBudget(options.retries.budgetPercent, options.retries.minRetryConcurrency);
    const breaker = options.circuitBreaker;
    this.breaker =
      breaker &&
      new CircuitBreaker({
        failureThreshold: breaker.consecutiveFailures,
        coolDownMs: breaker.coolDownMs,
        now,
        onTrip: () => log.warn({ service, coolDownMs: breaker.coolDownMs }, "upstream circuit breaker open"),
        onRecover: (downForMs) => log.info({ service, downForMs }, "upstream circuit breaker closed"),
      });
    this.maxInFlight = options.maxConcurrentCalls ?? Number.POSITIVE_INFINITY;
    if (options.healthCheck) {
      this.health = new HealthChecker(options.healthCheck, () => this.endpoints.list, timers, (endpoint) => {
        if (endpoint.healthy) log.info({ service, address: endpoint.address }, "upstream address healthy again (health checks)");
        else log.warn({ service, address: endpoint.address }, "upstream address unhealthy (health checks)");
      });
      this.health.start();
    }
  }

  call(unary: UnaryCall): Promise<UnaryResult> {
    if (this.inFlight >= this.maxInFlight) return Promise.reject(this.overloaded(unary));
    const breaker = this.breaker;
    if (breaker === undefined) return this.run(unary, 0);
    const ticket = breaker.admit();
    return ticket === undefined ? Promise.reject(this.breakerOpen(unary, breaker)) : this.run(unary, ticket);
  }

  stream(call: StreamCall): UpstreamStream {
    if (this.inFlight >= this.maxInFlight) return new RefusedStream(this.overloaded(call));
    const endpoint = this.pick(undefined, true);
    if (endpoint === undefined) return new RefusedStream(this.noAddress(call));
    let ticket = 0;
    const breaker = this.breaker;
    if (breaker !== undefined) {
      const admitted = breaker.admit();
      if (admitted === undefined) return new RefusedStream(this.breakerOpen(call, breaker));
      ticket = admitted;
    }
    this.inFlight++;
    endpoint.active++;
    return new BalancedStream(endpoint.upstream.stream(call), this, endpoint, ticket);
  }

  /** An address left the list (a DNS answer dropped it): it no longer counts as ejected. */
  forget(endpoint: Endpoint): void {
    this.outlier?.forget(endpoint);
  }

  close(): void {
    this.health?.stop();
    this.endpoints.close();
  }

  connectionState(): UpstreamConnectionState {
    let best = STATE_RANK.length - 1;
    for (const endpoint of this.endpoints.list) best = Math.min(best, STATE_RANK.indexOf(endpoint.upstream.connectionState?.() ?? "unknown"));
    return this.endpoints.list.length === 0 ? "idle" : STATE_RANK[best];
  }

  balancing(): BalancingStatus {
    this.outlier?.refresh(this.endpoints.list);
    return {
      endpoints: this.endpoints.list.map((endpoint) => ({
        address: endpoint.address,
        state: endpoint.upstream.connectionState?.() ?? "unknown",
        health: endpoint.health(),
        active: endpoint.active,
      })),
      ...(this.breaker !== undefined && { breaker: this.breaker.state }),
      active: this.inFlight,
    };
  }

  /** A call refused because `maxConcurrentCalls` are in flight. */
  private overloaded(call: StreamCall): UpstreamError {
    this.context.tallies.overloaded.pending++;
    return refused(call, "overloaded", `${this.maxInFlight} calls in flight on the upstream (maxConcurrentCalls)`, OVERLOADED_RETRY_AFTER_MS);
  }

  /** A call refused by the breaker: open (until its next probe), or half-open with the probe in flight. */
  private breakerOpen(call: StreamCall, breaker: CircuitBreaker): UpstreamError {
    this.context.tallies.breakerOpen.pending++;
    if (breaker.state === "open") return refused(call, "breaker", "the upstream's circuit breaker is open", breaker.msUntilProbe());
    return refused(call, "breaker", "the upstream's circuit breaker is half-open: its probe call is in flight", OVERLOADED_RETRY_AFTER_MS);
  }

  /**
   * The call's attempts: the first on the balancer's pick, then, while allowed, a transparent
   * retry on an address not yet tried (the upstream never saw the call) or a retry of an
   * idempotent call after its backoff. Every way out gives the breaker its verdict.
   */
  private async run(unary: UnaryCall, ticket: number): Promise<UnaryResult> {
    this.inFlight++;
    let retrySlot = false;
    try {
      let endpoint = this.pick(undefined, true) ?? (await this.firstEndpoint(unary, ticket));
      let tried: Endpoint[] | undefined;
      let attempts = 1;
      for (;;) {
        let error: unknown;
        endpoint.active++;
        try {
          const result = await endpoint.upstream.call(unary);
          this.outlier?.success(endpoint);
          this.breaker?.success(ticket);
          return result;
        } catch (thrown) {
          error = thrown;
        } finally {
          endpoint.done();
          if (retrySlot) {
            (this.budget as RetryBudget).release();
            retrySlot = false;
          }
        }
        const verdict = verdictOf(error);
        this.judgeEndpoint(endpoint, verdict);
        (tried ??= []).push(endpoint);
        let next: Endpoint | undefined;
        if (error instanceof UpstreamError && error.unprocessed && this.endpoints.list.length > 1) {
          // gRPC's transparent retry: the upstream never saw it, so any call may go elsewhere, at once.
          next = this.pick(tried, false);
          if (next !== undefined) this.context.tallies.transparentRetries.pending++;
        }
        const retries = this.retries;
        if (next === undefined && retries !== undefined && attempts < retries.maxAttempts && mayRetry(error, unary.idempotent === true)) {
          const delay = this.backoffMs(attempts, retries);
          if (Date.now() + delay < unary.deadline && (this.budget as RetryBudget).acquire(this.inFlight)) {
            retrySlot = true;
            attempts++;
            this.context.tallies.retries.pending++;
            if (delay > 0) await this.sleep(delay);
            next = this.pick(tried, true);
          }
        }
        if (next === undefined) {
          this.judgeCall(ticket, verdict);
          throw error;
        }
        endpoint = next;
      }
    } finally {
      this.inFlight--;
      if (retrySlot) (this.budget as RetryBudget).release();
    }
  }

  /** An address for a call when the list is still empty (a name not yet resolved): waits for the first answer, within the call's deadline. */
  private async firstEndpoint(unary: UnaryCall, ticket: number): Promise<Endpoint> {
    const pending = this.endpoints.firstAnswer;
    if (pending !== undefined) {
      let timer: unknown;
      const deadline = new Promise<void>((resolve) => (timer = this.context.timers.setTimeout(resolve, Math.max(0, unary.deadline - Date.now()))));
      await Promise.race([pending, deadline]);
      this.context.timers.clearTimeout(timer);
    }
    const endpoint = this.pick(undefined, true);
    if (endpoint !== undefined) return endpoint;
    this.judgeCall(ticket, "failure");
    throw this.noAddress(unary);
  }

  private pick(avoid: readonly Endpoint[] | undefined, repeat: boolean): Endpoint | undefined {
    const list = this.endpoints.list;
    if (this.outlier !== undefined && this.outlier.ejected > 0) this.outlier.refresh(list);
    return this.balancer.pick(list, avoid, repeat);
  }

  /** Backoff before retry `retry` (1 for the first): full jitter up to the exponential cap (gRPC's and Envoy's). */
  private backoffMs(retry: number, options: RetryOptions): number {
    const cap = Math.min(options.maxBackoffMs, options.initialBackoffMs * 2 ** Math.min(retry - 1, 30));
    return Math.floor(this.context.random() * cap);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => this.context.timers.setTimeout(resolve, ms));
  }

  private judgeEndpoint(endpoint: Endpoint, verdict: AttemptVerdict): void {
    const outlier = this.outlier;
    if (outlier === undefined) return;
    if (verdict === "failure") outlier.failure(endpoint, this.endpoints.list);
    else if (verdict === "answered") outlier.success(endpoint);
  }

  /** The breaker's verdict on a whole call (after its retries). */
  private judgeCall(ticket: number, verdict: AttemptVerdict): void {
    const breaker = this.breaker;
    if (breaker === undefined) return;
    if (verdict === "failure") breaker.failure(ticket, undefined);
    else if (verdict === "answered") breaker.success(ticket);
    else breaker.release(ticket);
  }

  streamJudged(endpoint: Endpoint, ticket: number, error: unknown): void {
    const verdict = error === undefined ? "answered" : verdictOf(error);
    this.judgeEndpoint(endpoint, verdict);
    this.judgeCall(ticket, verdict);
  }

  streamEnded(endpoint: Endpoint): void {
    this.inFlight--;
    endpoint.done();
  }

  private noAddress(call: StreamCall): UpstreamError {
    return new UpstreamError(failedCall(call, Date.now()), {
      origin: "connection",
      code: GrpcCode.UNAVAILABLE,
      message: `no address to call: ${this.endpoints.target} has none yet`,
      unprocessed: true,
    });
  }
}

function refused(call: StreamCall, origin: "overloaded" | "breaker", message: string, retryAfterMs: number): UpstreamError {
  return new UpstreamError(failedCall(call, Date.now()), { origin, code: GrpcCode.UNAVAILABLE, message, unprocessed: true, retryAfterMs });
}
