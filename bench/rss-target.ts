/**
 * Issue 12's memory target: over a saturated run of several minutes, the gateway's resident memory
 * stays flat, within 10 % of where it stood once warm. Judged on the measured window only (after
 * the warm-up, when V8 has sized its heap and the connection pools are full): the peak against
 * the median of the window's first 30 s; the last 30 s are reported as the trend.
 */
export const RSS_TARGET = { maxGrowth: 0.1, edgeSeconds: 30 } as const;

/** Resident memory of the gateway's process tree at one moment of the run. */
export interface RssSample {
  /** Seconds since the measured window began (negative during the warm-up). */
  readonly atSeconds: number;
  readonly rssBytes: number;
}

export interface RssVerdict {
  readonly minutes: number;
  readonly samples: number;
  /** Median of the first 30 s of the measured window. */
  readonly baselineBytes: number;
  /** Median of the last 30 s. */
  readonly finalBytes: number;
  readonly peakBytes: number;
  /** peak / baseline - 1; the target is at most RSS_TARGET.maxGrowth. */
  readonly peakGrowth: number;
  readonly met: boolean;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** Judges the samples of a run whose measured window lasted `windowSeconds`; throws without enough samples. */
export function judgeRss(samples: readonly RssSample[], windowSeconds: number): RssVerdict {
  const measured = samples.filter((s) => s.atSeconds >= 0 && s.atSeconds <= windowSeconds);
  const first = measured.filter((s) => s.atSeconds < RSS_TARGET.edgeSeconds).map((s) => s.rssBytes);
  const last = measured.filter((s) => s.atSeconds > windowSeconds - RSS_TARGET.edgeSeconds).map((s) => s.rssBytes);
  if (first.length === 0 || last.length === 0) throw new Error(`too few RSS samples to judge (${measured.length} in a ${windowSeconds} s window)`);
  const baselineBytes = median(first);
  const peakBytes = Math.max(...measured.map((s) => s.rssBytes));
  const peakGrowth = peakBytes / baselineBytes - 1;
  return { minutes: windowSeconds / 60, samples: measured.length, baselineBytes, finalBytes: median(last), peakBytes, peakGrowth, met: peakGrowth <= RSS_TARGET.maxGrowth };
}

export function formatRss(verdict: RssVerdict, requestsPerSecond: number): string {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return (
    `RSS over ${verdict.minutes} min saturated (GET, ${requestsPerSecond.toFixed(0)} req/s, ${verdict.samples} samples): ` +
    `first 30 s ${mb(verdict.baselineBytes)}, last 30 s ${mb(verdict.finalBytes)}, peak ${mb(verdict.peakBytes)} ` +
    `(+${(100 * verdict.peakGrowth).toFixed(1)} %, target <= ${100 * RSS_TARGET.maxGrowth} %) ${verdict.met ? "ok" : "MISSED"}`
  );
}

/** Per minute of the measured window: the lowest, median and highest RSS, to tell a trend (a leak) from a band (GC and the allocator). */
export function formatRssMinutes(samples: readonly RssSample[]): string {
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
  const minutes = new Map<number, number[]>();
  for (const sample of samples) {
    if (sample.atSeconds < 0) continue;
    const minute = Math.floor(sample.atSeconds / 60);
    minutes.set(minute, [...(minutes.get(minute) ?? []), sample.rssBytes]);
  }
  const parts = [...minutes].map(([minute, values]) => `min ${minute + 1}: ${mb(Math.min(...values))}/${mb(median(values))}/${mb(Math.max(...values))}`);
  return `  RSS per minute, lowest/median/highest MB: ${parts.join(", ")}`;
}
