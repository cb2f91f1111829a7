import type { MetricObjectWithValues, MetricValue } from "prom-client";
import type { ReadinessReport } from "../admin/readiness.js";
import type { ActiveConfig } from "../app.js";
import type { GatewayConfig } from "../config/schema.js";
import type { ConfigIdentity } from "../reload/config-identity.js";
import type { ReloadRefusal } from "../reload/reload-refused.js";

/*
 * The IPC protocol between the primary and its workers (node:cluster's channel, "advanced"
 * serialization: structured clone, so NaN and Infinity in metric values survive). Every message
 * carries a `protogate` tag so that nothing else on the channel is mistaken for one.
 */

/** The primary's messages to a worker. */
export type PrimaryMessage =
  /**
   * Start serving this (validated) config. Every worker listens with the same host and port, as
   * node:cluster shares one listening socket per (host, port) it is asked for: with port 0 the
   * first worker's listen takes a free port and every other worker gets that same socket.
   */
  | { readonly protogate: "start"; readonly config: GatewayConfig; readonly configSha256: string; readonly startupWarnings: boolean }
  /** A request the worker answers with a `reply` of the same id. */
  | { readonly protogate: "request"; readonly id: number; readonly request: WorkerRequest };

/** What the primary asks of a worker. */
export type WorkerRequest =
  | { readonly kind: "metrics" }
  | { readonly kind: "readiness" }
  | { readonly kind: "config" }
  /** Build the next generation from this config (the route table as it is on disk now), not serving it yet. */
  | { readonly kind: "prepare-reload"; readonly config: GatewayConfig; readonly configSha256: string }
  /** Serve the prepared generation from now on. */
  | { readonly kind: "commit-reload" }
  /** Close the prepared generation unused (another worker refused). */
  | { readonly kind: "abort-reload" };

/** The answer to each kind of request. */
export interface WorkerReplies {
  readonly metrics: readonly WorkerMetric[];
  readonly readiness: ReadinessReport;
  readonly config: ActiveConfig;
  readonly "prepare-reload": ConfigIdentity;
  readonly "commit-reload": ConfigIdentity;
  readonly "abort-reload": null;
}

/** One metric of a worker's registry, as `registry.getMetricsAsJSON()` gives it. */
export type WorkerMetric = MetricObjectWithValues<MetricValue<string>>;

/** A worker's messages to the primary. */
export type WorkerMessage =
  /**
   * The worker listens for messages now: the primary sends `start` in answer (a message sent
   * before the worker's code has a listener would be lost).
   */
  | { readonly protogate: "hello" }
  /** The worker's gateway listens (on `port`; `url` is its `http(s)://HOST:PORT`). */
  | { readonly protogate: "ready"; readonly url: string; readonly port: number }
  /** The answer to request `id`: the value, or why the worker could not give it (a refused reload: which refusal). */
  | { readonly protogate: "reply"; readonly id: number; readonly value?: unknown; readonly error?: string; readonly refusal?: ReloadRefusal };

/** Whether a message on the channel is one of ours (the channel is shared with node:cluster's own). */
export function isProtogateMessage<T extends { readonly protogate: string }>(message: unknown): message is T {
  return typeof message === "object" && message !== null && typeof (message as { protogate?: unknown }).protogate === "string";
}
