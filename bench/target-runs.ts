// The bench's runs after the rounds that judge issue 12's latency and memory targets.
import { judgeLatency, latencyRate, type LatencyVerdict } from "./latency-target.js";
import { treeRss } from "./process-tree-memory.js";
import { judgeRss, type RssSample, type RssVerdict } from "./rss-target.js";
import type { PairSummary } from "./report.js";
import { BENCH_ROUTES } from "./routes.js";
import { directTarget, PROTOGATE_VARIANTS, protogateTarget, type BenchContext, type RunningTarget } from "./targets.js";

const LATENCY_WARMUP_SECONDS = 2;
const RSS_WARMUP_SECONDS = 60;
const RSS_SAMPLE_MS = 5_000;

/**
 * Per route: the plain gateway (already running, warm) and direct grpc-js calls, each loaded at
 * half the gateway's saturated req/s (the median of the rounds), one after the other.
 */
export async function runLatencyTarget(protogate: RunningTarget, summaries: readonly PairSummary[], context: BenchContext, seconds: number): Promise<LatencyVerdict[]> {
  const direct = await directTarget().start(context);
  const verdicts: LatencyVerdict[] = [];
  try {
    for (const route of BENCH_ROUTES) {
      const saturated = summaries.find((s) => s.target === "protogate" && s.route === route.id);
      if (saturated === undefined) continue;
      const load = { connections: context.settings.connections, durationSeconds: seconds, ratePerSecond: latencyRate(saturated.requestsPerSecond) };
      console.log(`  latency ${route.label} at ${load.ratePerSecond} req/s: protogate, direct`);
      const through = await protogate.measure(route, LATENCY_WARMUP_SECONDS, load);
      const straight = await direct.measure(route, LATENCY_WARMUP_SECONDS, load);
      if (through.errors + through.non2xx + straight.errors + straight.non2xx > 0) throw new Error(`the latency run of ${route.label} had failed requests`);
      verdicts.push(judgeLatency(route.id, route.label, load.ratePerSecond, through.p99Ms, straight.p99Ms));
    }
  } finally {
    await direct.stop();
  }
  return verdicts;
}

/** A fresh plain gateway under saturated GET load for `minutes` after a warm-up, its process tree's RSS sampled every 5 s. */
export async function runRssTarget(context: BenchContext, minutes: number): Promise<{ verdict: RssVerdict; requestsPerSecond: number; samples: RssSample[] }> {
  const route = BENCH_ROUTES[0];
  const protogate = await protogateTarget(PROTOGATE_VARIANTS[0]).start(context);
  const samples: RssSample[] = [];
  try {
    const pid = protogate.pid;
    if (pid === undefined) throw new Error("the Protogate target has no process id to sample");
    await protogate.check(route);
    const windowSeconds = minutes * 60;
    console.log(`RSS: ${minutes} min of saturated ${route.label} after ${RSS_WARMUP_SECONDS} s of warm-up`);
    const measuredFrom = performance.now() + RSS_WARMUP_SECONDS * 1000;
    const sample = () => {
      const rssBytes = treeRss(pid);
      if (rssBytes !== undefined) samples.push({ atSeconds: (performance.now() - measuredFrom) / 1000, rssBytes });
    };
    const timer = setInterval(sample, RSS_SAMPLE_MS);
    let result;
    try {
      result = await protogate.measure(route, RSS_WARMUP_SECONDS, { connections: context.settings.connections, durationSeconds: windowSeconds, ratePerSecond: 0 });
    } finally {
      clearInterval(timer);
    }
    sample();
    if (result.errors + result.non2xx > 0) throw new Error(`the RSS run had ${result.errors + result.non2xx} failed requests`);
    return { verdict: judgeRss(samples, windowSeconds), requestsPerSecond: result.requestsPerSecond, samples };
  } finally {
    await protogate.stop();
  }
}
