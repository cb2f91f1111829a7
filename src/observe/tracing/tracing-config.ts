import { z } from "zod";

/** Where spans go: an OTLP/HTTP (protobuf) collector endpoint, e.g. `http://127.0.0.1:4318/v1/traces`. */
const otlpSchema = z.strictObject({
  /** The full URL spans are POSTed to (http or https). */
  endpoint: z.url({ protocol: /^https?$/, error: "expected an http(s) URL such as http://127.0.0.1:4318/v1/traces" }),
  /** Extra request headers for the collector (an API key, for instance). */
  headers: z.record(z.string().min(1), z.string()).optional(),
  /** How long one export may take before it is abandoned (default 10 s). */
  timeoutMs: z.number().int().positive().default(10_000),
});

/**
 * OpenTelemetry tracing (`tracing:` in gateway.yaml). Off when the block is absent, or with
 * `enabled: false`.
 */
export const tracingConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** The `service.name` resource attribute of every span. */
  serviceName: z.string().min(1).default("protogate"),
  /** The fraction of new traces recorded (0..1); a sampled or unsampled parent is followed. */
  samplingRatio: z.number().min(0).max(1).default(1),
  otlp: otlpSchema,
});

export type TracingConfig = z.infer<typeof tracingConfigSchema>;
