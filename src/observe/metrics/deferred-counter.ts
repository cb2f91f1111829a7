import { Counter, type LabelValues, type Registry } from "prom-client";

/** One labelled series of a DeferredCounter: a plain number the hot path increments. */
export interface CounterSeries {
  pending: number;
}

interface Series<L extends string> extends CounterSeries {
  readonly labels: LabelValues<L>;
}

/**
 * A prom-client Counter whose series are counted in plain numbers on the hot path and handed to
 * prom-client when /metrics is scraped (its `collect`). prom-client hashes the label values on
 * every `inc`, even through `labels(...)`; a request then pays a property increment instead.
 * Callers keep the series they get (one per label set, cached by route) and never make one per
 * request.
 */
export class DeferredCounter<L extends string> {
  private readonly all: Array<Series<L>> = [];

  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[]) {
    const all = this.all;
    new Counter<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        for (const series of all) {
          if (series.pending === 0) continue;
          this.inc(series.labels, series.pending);
          series.pending = 0;
        }
      },
    });
  }

  /** A new series with these label values (call once per label set and keep it). */
  series(labels: LabelValues<L>): CounterSeries {
    const series: Series<L> = { labels, pending: 0 };
    this.all.push(series);
    return series;
  }
}

/** The series of a DeferredCounter by a key, made on first use (for small, bounded key sets). */
export class CounterSeriesMap<K, L extends string> {
  private readonly byKey = new Map<K, CounterSeries>();

  constructor(
    private readonly counter: DeferredCounter<L>,
    private readonly labelsOf: (key: K) => LabelValues<L>,
  ) {}

  get(key: K): CounterSeries {
    let series = this.byKey.get(key);
    if (series === undefined) {
      series = this.counter.series(this.labelsOf(key));
      this.byKey.set(key, series);
    }
    return series;
  }
}
