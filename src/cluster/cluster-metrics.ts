import { AggregatorRegistry, type Registry } from "prom-client";
import type { WorkerMetric } from "./messages.js";

/** The label that tells the processes' own metrics apart: a worker's slot number, or `primary`. */
export const PROCESS_LABEL = "worker";

/** The gateway's own metrics (`protogate_*`) are summed over the workers; the rest are one process's each. */
const GATEWAY_METRIC_PREFIX = "protogate_";

/**
 * /metrics of a gateway with workers, from each worker's registry (as JSON, over IPC) and the
 * primary's own process metrics:
 * - `protogate_*`: one series per label set, the sum over the workers (each metric's
 *   `aggregator` decides: counters, histograms and the in-flight gauges sum; a store's `up` takes
 *   the minimum), as if one process had served every request;
 * - prom-client's process metrics (`process_*`, `nodejs_*`): per process, with a `worker` label
 *   (`1`..`N`, `primary`): a sum of heap sizes, start times or event-loop lags means nothing.
 * The summing is prom-client's own (AggregatorRegistry.aggregate); its `clusterMetrics()` is
 * not used because it asks the global registry of each worker (ours are per gateway) and cannot
 * label per process.
 */
export function aggregateClusterMetrics(workers: ReadonlyArray<{ readonly worker: number; readonly metrics: readonly WorkerMetric[] }>, primary: readonly WorkerMetric[]): Registry {
  const sets: WorkerMetric[][] = workers.map(({ worker, metrics }) => metrics.map((metric) => (metric.name.startsWith(GATEWAY_METRIC_PREFIX) ? metric : perProcess(metric, String(worker)))));
  sets.push(primary.map((metric) => perProcess(metric, "primary")));
  return AggregatorRegistry.aggregate(sets);
}

/** A process's own metric, labelled with the process; "sum" then keeps each process's series apart. */
function perProcess(metric: WorkerMetric, process: string): WorkerMetric {
  return {
    ...metric,
    aggregator: "sum",
    values: metric.values.map((value) => ({ ...value, labels: { ...value.labels, [PROCESS_LABEL]: process } })),
  };
}
