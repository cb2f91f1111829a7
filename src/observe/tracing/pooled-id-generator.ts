import { randomBytes } from "node:crypto";

/** Hex characters drawn from the OS's random source at once: 8 KiB, enough for ~256 requests' IDs. */
const POOL_BYTES = 8_192;

/** Where trace IDs (32 hex) and span IDs (16 hex) come from. */
export interface TraceIdSource {
  generateTraceId(): string;
  generateSpanId(): string;
}

/**
 * Trace and span IDs cut from a pool of random hex: one `randomBytes(...).toString("hex")` per
 * ~256 requests instead of a Buffer write and hex encoding per ID (as OpenTelemetry's SDK does),
 * which bench/tracing-observer-cost.ts measured as the largest part of span creation after the
 * span itself. An all-zero ID (invalid in W3C trace context) is skipped.
 */
export class PooledIdGenerator implements TraceIdSource {
  private pool = "";
  private at = 0;

  constructor(private readonly fill: (bytes: number) => string = (bytes) => randomBytes(bytes).toString("hex")) {}

  generateTraceId(): string {
    return this.next(32);
  }

  generateSpanId(): string {
    return this.next(16);
  }

  private next(length: number): string {
    for (;;) {
      if (this.at + length > this.pool.length) {
        this.pool = this.fill(POOL_BYTES);
        this.at = 0;
      }
      const id = this.pool.slice(this.at, (this.at += length));
      if (!ALL_ZERO.test(id)) return id;
    }
  }
}

const ALL_ZERO = /^0+$/;
