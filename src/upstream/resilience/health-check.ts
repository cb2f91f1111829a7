import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { Timers } from "../../timers.js";
import type { Upstream } from "../upstream.js";
import type { Endpoint } from "./endpoint.js";
import type { HealthCheckOptions } from "./resilience-options.js";

/** The gRPC health checking protocol's method (grpc/grpc doc/health-checking.md). */
export const HEALTH_CHECK_PATH = "/grpc.health.v1.Health/Check";
/** `HealthCheckResponse.ServingStatus.SERVING`. */
const SERVING = 1;
const NO_METADATA = Object.freeze([]) as readonly [];

/** `grpc.health.v1.HealthCheckRequest { string service = 1; }`. */
export function encodeHealthCheckRequest(service: string): Uint8Array {
  const writer = new BinaryWriter();
  if (service !== "") writer.tag(1, WireType.LengthDelimited).string(service);
  return writer.finish();
}

/** `HealthCheckResponse.status` (field 1, an enum); 0 (UNKNOWN) when absent; throws on bytes that are not a message. */
export function decodeHealthCheckStatus(bytes: Uint8Array): number {
  const reader = new BinaryReader(bytes);
  let status = 0;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.Varint) status = reader.int32();
    else reader.skip(wireType, field);
  }
  return status;
}

/** Whether a reply says SERVING (a reply that does not decode does not). */
function isServing(reply: Uint8Array): boolean {
  try {
    return decodeHealthCheckStatus(reply) === SERVING;
  } catch {
    return false;
  }
}

/**
 * Active health checks of one upstream's addresses: every `intervalMs`, each address is asked
 * `grpc.health.v1.Health/Check` on its own connection. An answer other than SERVING within
 * `timeoutMs` (NOT_SERVING, an error status such as UNIMPLEMENTED from a server without the
 * health service, no connection, no answer in time) fails the check. `unhealthyThreshold` failed
 * checks in a row take the address out of rotation, `healthyThreshold` passed ones put it back.
 * Addresses start healthy, so a gateway serves at once; the first round runs right after start.
 * A check still in flight when the next round comes is not doubled. Checks are not calls: they
 * count toward neither outlier detection, the breaker nor the concurrency bound.
 */
export class HealthChecker {
  private readonly request: Uint8Array;
  private timer: unknown;
  private stopped = false;

  constructor(
    private readonly options: HealthCheckOptions,
    /** The addresses to check now (they may change between rounds). */
    private readonly endpoints: () => readonly Endpoint[],
    /** Schedules rounds and times checks out (tests pass a manual clock). */
    private readonly timers: Timers,
    /** Told when an address changes health (logs). */
    private readonly onChange: (endpoint: Endpoint) => void,
  ) {
    this.request = encodeHealthCheckRequest(options.service);
  }

  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    const timer = this.timers.setTimeout(() => this.round(), ms);
    // A health check alone must not keep the process alive.
    (timer as { unref?: () => void } | undefined)?.unref?.();
    this.timer = timer;
  }

  private round(): void {
    for (const endpoint of this.endpoints()) {
      if (!endpoint.checking && !endpoint.removed) void this.check(endpoint);
    }
    this.schedule(this.options.intervalMs);
  }

  /** Checks one address; resolves once its result is recorded. */
  async check(endpoint: Endpoint): Promise<void> {
    endpoint.checking = true;
    let passed: boolean;
    try {
      passed = await this.ask(endpoint.upstream);
    } catch {
      passed = false;
    } finally {
      endpoint.checking = false;
    }
    if (!this.stopped && !endpoint.removed) this.record(endpoint, passed);
  }

  /** Whether the address answers SERVING within the timeout (on the injected timers). */
  private ask(upstream: Upstream): Promise<boolean> {
    const timeoutMs = this.options.timeoutMs;
    return new Promise<boolean>((resolve) => {
      const timer = this.timers.setTimeout(() => resolve(false), timeoutMs);
      // The call's own deadline (wall clock) ends it on the upstream too.
      upstream.call({ rpcPath: HEALTH_CHECK_PATH, request: this.request, metadata: NO_METADATA, deadline: Date.now() + timeoutMs, timeoutMs }).then(
        (result) => {
          this.timers.clearTimeout(timer);
          resolve(isServing(result.response));
        },
        () => {
          this.timers.clearTimeout(timer);
          resolve(false);
        },
      );
    });
  }

  private record(endpoint: Endpoint, passed: boolean): void {
    if (passed === endpoint.healthy) {
      endpoint.healthStreak = 0;
      return;
    }
    const threshold = passed ? this.options.healthyThreshold : this.options.unhealthyThreshold;
    if (++endpoint.healthStreak < threshold) return;
    endpoint.healthy = passed;
    endpoint.healthStreak = 0;
    endpoint.refresh();
    this.onChange(endpoint);
  }
}
