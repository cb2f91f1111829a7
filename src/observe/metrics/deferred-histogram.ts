import { Histogram, type LabelValues, type MetricObjectWithValues, type MetricValueWithName, type Registry } from "prom-client";

/** One labelled series of a DeferredHistogram: counts per bucket, kept in plain numbers. */
export interface HistogramSeries {
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: number[];
  sum: number;
  count: number;
}

interface Series<L extends string> extends HistogramSeries {
  readonly labels: LabelValues<L>;
}

/**
 * A prom-client Histogram whose series are kept in plain numbers on the hot path and rendered by
 * prom-client's registry when scraped (`get` is overridden; everything else is prom-client's).
 * prom-client's own `observe` hashes the label values into a string and indexes its buckets by
 * the bound's string form on every call: about a microsecond per observation, a few per request.
 */
export class DeferredHistogram<L extends string> extends Histogram<L> {
  private readonly all: Array<Series<L>> = [];
  private readonly bounds: readonly number[];

  constructor(
    registry: Registry,
    private readonly metricName: string,
    private readonly helpText: string,
    labelNames: readonly L[],
    buckets: readonly number[],
  ) {
    const name = metricName;
    const help = helpText;
    super({ name, help, labelNames, buckets: [...buckets], registers: [] });
    this.bounds = [...buckets].sort((a, b) => a - b);
    registry.registerMetric(this);
  }

  /** A new series with these label values (call once per label set and keep it). */
  series(labels: LabelValues<L>): HistogramSeries {
    const series: Series<L> = { labels, counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
    this.all.push(series);
    return series;
  }

  /** Records `value` in `series` (le: the first bound at or above it). */
  record(series: HistogramSeries, value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    series.counts[i]++;
    series.sum += value;
    series.count++;
  }

  /** What prom-client's registry renders (its Histogram's own method of that name reads its internal map). */
  getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<L>>> {
    return this.get();
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<L>>> {
    const values: Array<MetricValueWithName<L>> = [];
    for (const series of this.all) {
      if (series.count === 0) continue;
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += series.counts[i];
        const le = i < this.bounds.length ? this.bounds[i] : "+Inf";
        // Boundary: prom-client types `labels` by the metric's label names; `le` is the bucket label it adds itself.
        values.push({ labels: { le, ...series.labels } as LabelValues<L>, value: cumulative, metricName: `${this.metricName}_bucket` });
      }
      values.push({ labels: series.labels, value: series.sum, metricName: `${this.metricName}_sum` });
      values.push({ labels: series.labels, value: series.count, metricName: `${this.metricName}_count` });
    }
    // Boundary: prom-client's typings declare `type` as a numeric enum it does not export at run
    // time, while its registry writes the string it finds here ("histogram", as its own metrics have).
    const metric = { name: this.metricName, help: this.helpText, type: "histogram", values, aggregator: "sum" };
    return metric as unknown as MetricObjectWithValues<MetricValueWithName<L>>;
  }
}
