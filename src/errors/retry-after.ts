/**
 * How every "try again later" answer of the gateway says when: the `Retry-After` header (whole
 * seconds, rounded up, at least 1) and a `google.rpc.RetryInfo` detail with the exact delay.
 * Rate limits, failed-attempt lock-outs and an overloaded or broken upstream all answer through
 * it, so a client reads one format whatever refused it.
 */

const US_PER_SECOND = 1_000_000;
const RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo";

/** The parts of a GatewayError that tell a client to come back after a delay. */
export interface RetryAfterFields {
  /** The `retry-after` header's value. */
  readonly header: string;
  /** The `google.rpc.RetryInfo` detail (JSON form). */
  readonly detail: { readonly "@type": string; readonly retryDelay: string };
}

/** Retry-After and RetryInfo for a delay of `us` microseconds. */
export function retryAfter(us: number): RetryAfterFields {
  return { header: String(Math.max(1, ceilSeconds(us))), detail: { "@type": RETRY_INFO_TYPE, retryDelay: durationJson(us) } };
}

/** Whole seconds, rounded up, so a client that waits that long is never early. */
export function ceilSeconds(us: number): number {
  return Math.ceil(us / US_PER_SECOND);
}

/** `google.protobuf.Duration` JSON for a whole number of microseconds, e.g. `1.500s`. */
export function durationJson(us: number): string {
  const seconds = Math.floor(us / US_PER_SECOND);
  const micros = us % US_PER_SECOND;
  if (micros === 0) return `${seconds}s`;
  const fraction = String(micros).padStart(6, "0");
  return `${seconds}.${fraction.endsWith("000") ? fraction.slice(0, 3) : fraction}s`;
}
