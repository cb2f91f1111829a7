/**
 * The paths the admin listener serves. One definition for the server, and for whatever must
 * agree with it: the Dockerfile's HEALTHCHECK and the Kubernetes probes (test/deploy/ checks them).
 */
export const ADMIN_PATHS = Object.freeze({
  /** Liveness: 200 while the process runs. */
  health: "/healthz",
  /** Readiness: 200 while serving, 503 before that and from SIGTERM on. */
  ready: "/readyz",
  /** Prometheus text format. */
  metrics: "/metrics",
  /** The active config's hashes and load time. */
  config: "/config",
  /** POST: re-read gateway.yaml and the generated folder (hot reload). */
  reload: "/reload",
} as const);
