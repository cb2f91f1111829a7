import { z } from "zod";

/**
 * Where the access log may not go: stdout carries only the ready line that scripts parse, so
 * every spelling of it is refused.
 */
const STDOUT_SPELLINGS = new Set(["stdout", "-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"]);

/**
 * `accessLog` in gateway.yaml: one JSON line per request. Default `errors`: every refusal and
 * failure is logged (who was refused, why), successes are left to the metrics; see the README's
 * access-log section for why.
 */
export const accessLogConfigSchema = z.strictObject({
  /** `all`: every request; `errors`: status >= 400 or a gRPC code other than OK (499s, failed streams); `off`: none. */
  mode: z.enum(["all", "errors", "off"]).default("errors"),
  /** In mode `all`, the share of successful requests logged (failures are always logged). */
  successSampleRate: z.number().min(0).max(1).default(1),
  /** `stderr` (with the gateway's own log lines), or a file the lines are appended to. */
  destination: z
    .string()
    .min(1)
    .refine((value) => !STDOUT_SPELLINGS.has(value), { message: "stdout is reserved for the ready line: use stderr or a file path" })
    .default("stderr"),
});

export type AccessLogConfig = z.infer<typeof accessLogConfigSchema>;
