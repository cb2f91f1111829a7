import { Agent, request as httpRequest } from "node:http";
import { createLatencyRecorder, type LatencyRecorder } from "../latency-recorder.js";
import type { SoakCallers, SoakRequest, TrafficClass } from "./traffic-classes.js";

/** How the traffic is paced. */
export interface TrafficSettings {
  /** `http://HOST:PORT` of the gateway. */
  readonly baseUrl: string;
  readonly classes: readonly TrafficClass[];
  readonly callers: SoakCallers;
  /** Requests per second over all classes; request i is due at i / rate s after start. */
  readonly ratePerSecond: number;
  /** At most this many requests in flight; past it, requests wait (and the run falls behind its schedule). */
  readonly maxInFlight: number;
  /** A request without a complete answer after this long counts as unanswered (and is aborted). */
  readonly requestTimeoutMs: number;
}

/** Counts of one class. */
export interface ClassCounts {
  readonly name: string;
  readonly expectedStatus: number;
  sent: number;
  /** Answered with the expected status (or within the class's allowance). */
  expected: number;
  /** Of `expected`, answers counted under the allowance (e.g. a greedy caller's 200 within its quota). */
  allowed: number;
  /** Any other outcome: wrong status, a body that is not JSON / a google.rpc.Status, a transport error, no answer. */
  unexpected: number;
  /** Answers by HTTP status. */
  readonly statuses: Record<string, number>;
  /** Unexpected outcomes by reason. */
  readonly reasons: Record<string, number>;
  /** The first few unexpected outcomes, with a piece of the body. */
  readonly examples: string[];
  latencyMs?: { p50: number; p99: number; max: number };
}

/** The traffic's running totals. */
export interface TrafficTotals {
  readonly sent: number;
  readonly completed: number;
  readonly unexpected: number;
  readonly inFlight: number;
  /** How far behind schedule the sender is (ms): more than a little means the gateway cannot keep up. */
  readonly lagMs: number;
}

/** A paced mixed load against one gateway. */
export interface TrafficDriver {
  start(): void;
  /** Stops sending, waits for (or times out) what is in flight, and returns the counts per class. */
  stop(): Promise<ClassCounts[]>;
  totals(): TrafficTotals;
}

const MAX_EXAMPLES = 5;
const TICK_MS = 5;

/**
 * Picks classes in proportion to their weights, interleaved evenly (smooth weighted round robin,
 * as nginx balances upstreams): deterministic, and every window of the run gets the same mix.
 */
export function createClassPicker(weights: readonly number[]): () => number {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const current = weights.map(() => 0);
  return () => {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i] += weights[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    return best;
  };
}

/** Creates the driver; nothing is sent before start(). */
export function createTrafficDriver(settings: TrafficSettings): TrafficDriver {
  const { classes, callers, ratePerSecond, maxInFlight, requestTimeoutMs } = settings;
  const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight });
  const pickClass = createClassPicker(classes.map((c) => c.weight));
  const counts: ClassCounts[] = classes.map((c) => ({ name: c.name, expectedStatus: c.status, sent: 0, expected: 0, allowed: 0, unexpected: 0, statuses: {}, reasons: {}, examples: [] }));
  const latencies: LatencyRecorder[] = classes.map(() => createLatencyRecorder());
  const sequence = classes.map(() => 0);
  let startedAt = 0;
  let scheduled = 0;
  let completed = 0;
  let inFlight = 0;
  let lagMs = 0;
  let timer: NodeJS.Timeout | undefined;
  const idle: (() => void)[] = [];

  const fail = (index: number, reason: string, detail: string) => {
    const c = counts[index];
    c.unexpected++;
    c.reasons[reason] = (c.reasons[reason] ?? 0) + 1;
    if (c.examples.length < MAX_EXAMPLES) c.examples.push(`${reason}: ${detail}`.slice(0, 400));
  };

  const judge = (index: number, status: number, body: string, label: string) => {
    const cls = classes[index];
    const c = counts[index];
    c.statuses[status] = (c.statuses[status] ?? 0) + 1;
    const elapsedSeconds = (performance.now() - startedAt) / 1000;
    const allowed = cls.allowance !== undefined && status === cls.allowance.status && c.allowed < cls.allowance.max(elapsedSeconds);
    if (status !== cls.status && !allowed) return fail(index, `status ${status} (expected ${cls.status})`, `${label} -> ${body.slice(0, 200)}`);
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return fail(index, "body is not JSON", `${label} -> ${body.slice(0, 200)}`);
    }
    // Every error the gateway writes is a google.rpc.Status.
    if (status >= 400 && typeof (json as { code?: unknown } | null)?.code !== "number") return fail(index, "error body is not a google.rpc.Status", `${label} -> ${body.slice(0, 200)}`);
    c.expected++;
    if (allowed && status !== cls.status) c.allowed++;
  };

  const send = (index: number, req: SoakRequest) => {
    const label = `${req.method} ${req.path}`;
    const began = performance.now();
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      outcome();
      finishOne();
    };
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers["content-length"] = String(Buffer.byteLength(req.body));
    const outgoing = httpRequest(settings.baseUrl + req.path, { method: req.method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("end", () =>
        settle(() => {
          latencies[index].record(performance.now() - began);
          judge(index, res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"), label);
        }),
      );
      res.once("error", (error) => settle(() => fail(index, `transport error: ${(error as NodeJS.ErrnoException).code ?? error.message}`, label)));
    });
    const deadline = setTimeout(() => {
      settle(() => fail(index, `no answer within ${requestTimeoutMs} ms`, label));
      outgoing.destroy();
    }, requestTimeoutMs);
    outgoing.once("error", (error) => settle(() => fail(index, `transport error: ${(error as NodeJS.ErrnoException).code ?? error.message}`, label)));
    outgoing.end(req.body);
  };

  const finishOne = () => {
    completed++;
    inFlight--;
    if (inFlight === 0) for (const resolve of idle.splice(0)) resolve();
  };

  const launch = () => {
    const index = pickClass();
    const seq = sequence[index]++;
    counts[index].sent++;
    inFlight++;
    classes[index].build(seq, callers).then(
      (req) => send(index, req),
      (error: unknown) => {
        fail(index, "could not build the request", String(error));
        finishOne();
      },
    );
  };

  const tick = () => {
    const now = performance.now();
    const due = Math.floor(((now - startedAt) * ratePerSecond) / 1000) + 1;
    while (scheduled < due && inFlight < maxInFlight) {
      scheduled++;
      launch();
    }
    lagMs = scheduled < due ? now - (startedAt + ((scheduled + 1) * 1000) / ratePerSecond) : 0;
  };

  return {
    start() {
      startedAt = performance.now();
      timer = setInterval(tick, TICK_MS);
      tick();
    },
    async stop() {
      clearInterval(timer);
      if (inFlight > 0) await new Promise<void>((resolve) => idle.push(resolve));
      agent.destroy();
      return counts.map((c, i) => {
        const recorder = latencies[i];
        return recorder.count === 0 ? c : { ...c, latencyMs: { p50: recorder.percentile(50), p99: recorder.percentile(99), max: recorder.percentile(100) } };
      });
    },
    totals: () => ({ sent: scheduled, completed, unexpected: counts.reduce((sum, c) => sum + c.unexpected, 0), inFlight, lagMs: Math.max(0, lagMs) }),
  };
}
