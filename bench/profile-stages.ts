/**
 * Attributes the self time of a V8 CPU profile (`node --cpu-prof`, a .cpuprofile file) to the
 * stages of a gateway request, by the source file and function of the frames on each sample's
 * stack. The table below is the whole classification; bench/profile-breakdown.ts applies it.
 */

/** The parts of a .cpuprofile this reads (Chrome DevTools protocol `Profiler.Profile`). */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  /** µs, on the same monotonic clock as `process.hrtime` (CLOCK_MONOTONIC on Linux). */
  readonly startTime: number;
  readonly endTime: number;
  /** Node id of each sample's leaf frame. */
  readonly samples?: readonly number[];
  /** µs since the previous sample (the first: since startTime). */
  readonly timeDeltas?: readonly number[];
}

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CallFrame {
  readonly functionName: string;
  /** 0-based. */
  readonly lineNumber?: number;
  /** A file URL, `node:...` for Node's own modules, or "" for builtins and V8's pseudo-frames. */
  readonly url: string;
}

/** The stages, in the order of the printed table. */
export const STAGES = [
  "HTTP parse & Fastify",
  "routing",
  "edge checks (auth, limits)",
  "JSON -> binary",
  "upstream call (incl. node:http2)",
  "binary -> JSON",
  "response write",
  "Protogate pipeline glue",
  "GC",
  "socket I/O (side unknown)",
  "event loop & native (program)",
  "other",
] as const;

export type Stage = (typeof STAGES)[number];

/**
 * One line of the classification. A frame matches when its URL matches `url` (if given) and its
 * function name matches `fn` (if given). `fallback` rules only count when no ordinary rule matches
 * any frame of the stack.
 */
export interface StageRule {
  readonly stage: Stage | "idle";
  readonly url?: RegExp;
  readonly fn?: RegExp;
  readonly fallback?: boolean;
}

/**
 * How a sample is attributed: its stack is walked from the leaf (the running function) towards the
 * root, and the first frame an ordinary rule matches decides, so the innermost known code wins
 * (a socket write under node:_http_outgoing is a response write, under node:internal/http2 an
 * upstream call). Frames no rule matches (node:events, streams, @bufbuild/protobuf's reader and
 * writer, the compiled per-message JSON functions) take the stage of the caller that is matched.
 * Within one frame the first matching rule wins, so narrower rules come first.
 */
export const STAGE_RULES: readonly StageRule[] = [
  // V8's pseudo-frames.
  { stage: "idle", fn: /^\(idle\)$/, url: /^$/ },
  { stage: "GC", fn: /^\(garbage collector\)$/, url: /^$/ },
  { stage: "event loop & native (program)", fn: /^\(program\)$/, url: /^$/ },

  // The upstream gRPC call: our clients and Node's HTTP/2 (or grpc-js) under them.
  { stage: "upstream call (incl. node:http2)", url: /\/src\/upstream\// },
  { stage: "upstream call (incl. node:http2)", url: /^node:(internal\/)?http2/ },
  { stage: "upstream call (incl. node:http2)", url: /\/node_modules\/@grpc\/grpc-js\// },

  // Transcoding, by direction. The plans in src/transcode/json serve both directions, so only
  // their entry points are named here; the rest is left to the caller that is.
  { stage: "JSON -> binary", url: /\/src\/transcode\/(binary-codecs|json\/message-plans)\.[jt]s$/, fn: /^encode$/ },
  { stage: "binary -> JSON", url: /\/src\/transcode\/(binary-codecs|json\/message-plans)\.[jt]s$/, fn: /^decode$/ },
  { stage: "JSON -> binary", url: /\/src\/transcode\/(request-encoder|request-builder|request-body|query-params|query-string|field-path|content-type)\.[jt]s$/ },
  { stage: "JSON -> binary", url: /\/src\/transcode\/json\/parse-json\.[jt]s$/ },
  { stage: "binary -> JSON", url: /\/src\/transcode\/(decode-reply|response-shaper|stream-format|json-sequence)\.[jt]s$/ },

  // Routing: ours, and Fastify's router (which hands every path to the catch-all).
  { stage: "routing", url: /\/src\/routing\// },
  { stage: "routing", url: /\/node_modules\/find-my-way\// },

  // Checks at the edge: authentication, rate limits, request checks, client address, CORS.
  { stage: "edge checks (auth, limits)", url: /\/src\/(auth|ratelimit)\// },
  { stage: "edge checks (auth, limits)", url: /\/src\/http\/(request-checks|connection-guard|client-info)\.[jt]s$/ },
  { stage: "edge checks (auth, limits)", url: /\/node_modules\/(jose|@fastify\/cors|@fastify\/proxy-addr|proxy-addr|ioredis)\// },

  // Writing the response: Fastify's reply, Node's outgoing message, our respond step.
  { stage: "response write", url: /\/node_modules\/fastify\/lib\/reply\.js$/ },
  { stage: "response write", url: /^node:_http_outgoing$/ },
  { stage: "response write", url: /^node:_http_server$/, fn: /^(writeHead|_writeHead|_implicitHeader|resOnFinish|onFinish)$/ },
  { stage: "response write", url: /\/src\/http\/adapter\.[jt]s$/, fn: /^respond$/ },

  // Reading the request: Node's HTTP/1 server and parser glue, Fastify, our body reader.
  { stage: "HTTP parse & Fastify", url: /^node:_http_(server|common|incoming)$/ },
  { stage: "HTTP parse & Fastify", url: /\/node_modules\/(fastify|avvio|light-my-request|fast-querystring|fast-json-stringify|@fastify\/[^/]+)\// },
  { stage: "HTTP parse & Fastify", url: /\/src\/http\/(body-reader|node-server)\.[jt]s$/ },

  // The rest of our own code: the pipeline, the adapter, errors, logging (src/transcode is never
  // glue: what the rules above do not name there is left to its caller).
  { stage: "Protogate pipeline glue", url: /^(?!.*\/node_modules\/).*\/src\/(?!transcode\/)/ },

  // Only when nothing above matches anywhere on the stack.
  { stage: "socket I/O (side unknown)", url: /^node:(net|internal\/stream_base_commons|internal\/streams\/)/, fallback: true },
];

/** The stage of one sample, given its stack from the leaf to the root. */
export function classifyStack(leafFirst: readonly CallFrame[], rules: readonly StageRule[] = STAGE_RULES): Stage | "idle" {
  const match = (frame: CallFrame, fallback: boolean) =>
    rules.find((rule) => (rule.fallback ?? false) === fallback && (rule.url === undefined || rule.url.test(frame.url)) && (rule.fn === undefined || rule.fn.test(frame.functionName)));
  for (const frame of leafFirst) {
    const rule = match(frame, false);
    if (rule) return rule.stage;
  }
  for (const frame of leafFirst) {
    const rule = match(frame, true);
    if (rule) return rule.stage;
  }
  return "other";
}

/** A window of the profile's clock, in µs (e.g. the measured part of a load run). */
export interface TimeWindow {
  readonly fromUs: number;
  readonly toUs: number;
}

/** Self time per stage, µs. */
export interface Breakdown {
  readonly stageUs: Readonly<Record<Stage, number>>;
  /** Sampled time that was not idle: the gateway's own CPU as the profiler saw it. */
  readonly busyUs: number;
  readonly idleUs: number;
  /** Wall time covered (the window, or the whole profile). */
  readonly wallUs: number;
  readonly samples: number;
  /** Per stage, the leaf frames with the most self time (up to 8): what to read, and how to refine the table. */
  readonly topFrames: Readonly<Record<Stage, readonly FrameTime[]>>;
}

/** Self time of one function, named "function url:line" (line 1-based). */
export interface FrameTime {
  readonly frame: string;
  readonly us: number;
}

/**
 * Sums each sample's duration (the time to the next sample, as DevTools counts it) into the stage
 * of its stack. With a window, only samples taken inside it count.
 */
export function attributeProfile(profile: CpuProfile, window?: TimeWindow, rules: readonly StageRule[] = STAGE_RULES): Breakdown {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const stageOfNode = new Map<number, Stage | "idle">();
  const stageOf = (id: number): Stage | "idle" => {
    let stage = stageOfNode.get(id);
    if (stage === undefined) {
      const stack: CallFrame[] = [];
      for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
        const node = nodes.get(at);
        if (node) stack.push(node.callFrame);
      }
      stage = classifyStack(stack, rules);
      stageOfNode.set(id, stage);
    }
    return stage;
  };

  const stageUs = Object.fromEntries(STAGES.map((stage) => [stage, 0])) as Record<Stage, number>;
  const frameUs = new Map<Stage, Map<string, number>>(STAGES.map((stage) => [stage, new Map()]));
  let idleUs = 0;
  let counted = 0;
  let time = profile.startTime;
  const times = deltas.map((delta) => (time += delta));
  for (let i = 0; i < samples.length; i++) {
    const at = times[i];
    if (window && (at < window.fromUs || at >= window.toUs)) continue;
    const next = i + 1 < times.length ? times[i + 1] : profile.endTime;
    const duration = Math.max(0, (window ? Math.min(next, window.toUs) : next) - at);
    const stage = stageOf(samples[i]);
    counted++;
    if (stage === "idle") {
      idleUs += duration;
      continue;
    }
    stageUs[stage] += duration;
    const frames = frameUs.get(stage) as Map<string, number>;
    const key = frameName(nodes.get(samples[i])?.callFrame);
    frames.set(key, (frames.get(key) ?? 0) + duration);
  }
  const busyUs = STAGES.reduce((sum, stage) => sum + stageUs[stage], 0);
  const top = (frames: Map<string, number>): FrameTime[] =>
    [...frames.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([frame, us]) => ({ frame, us }));
  const topFrames = Object.fromEntries(STAGES.map((stage) => [stage, top(frameUs.get(stage) as Map<string, number>)])) as Record<Stage, FrameTime[]>;
  return { stageUs, busyUs, idleUs, wallUs: window ? window.toUs - window.fromUs : profile.endTime - profile.startTime, samples: counted, topFrames };
}

function frameName(frame: CallFrame | undefined): string {
  if (frame === undefined) return "?";
  const where = frame.url === "" ? "" : ` ${frame.url.replace(/^file:\/\/.*?\/(src|node_modules)\//, "$1/")}${frame.lineNumber === undefined ? "" : `:${frame.lineNumber + 1}`}`;
  return `${frame.functionName || "(anonymous)"}${where}`;
}

/** The largest leaf frames of some stages, for reading the table. */
export function formatTopFrames(breakdown: Breakdown, stages: readonly Stage[], requests?: number): string {
  const perRequest = (us: number) => (requests !== undefined && requests > 0 ? `${(us / requests).toFixed(1).padStart(6)} µs/req` : "");
  return stages
    .filter((stage) => breakdown.topFrames[stage].length > 0)
    .map((stage) => [`${stage}, largest leaf frames:`, ...breakdown.topFrames[stage].map((f) => `  ${(f.us / 1000).toFixed(0).padStart(6)} ms ${perRequest(f.us)}  ${f.frame}`)].join("\n"))
    .join("\n");
}

/**
 * The breakdown as a table: sampled CPU, share of the gateway's own sampled CPU, µs per request
 * when the request count is known, and, given the CPU per request that /proc measured over the
 * same window, each share of that. The profiler's clock is wall time, so on a busy machine its
 * samples also hold time the CPU was taken by other processes; shares hold either way, and
 * share x /proc CPU is then the better µs figure.
 */
export function formatBreakdown(breakdown: Breakdown, requests?: number, procCpuUsPerRequest?: number): string {
  const perRequest = (us: number) => (requests !== undefined && requests > 0 ? (us / requests).toFixed(1) : "-");
  const share = (us: number) => (breakdown.busyUs > 0 ? us / breakdown.busyUs : Number.NaN);
  const ofProc = (us: number) => (procCpuUsPerRequest !== undefined && breakdown.busyUs > 0 ? (share(us) * procCpuUsPerRequest).toFixed(1) : "-");
  const row = (label: string, us: number) => [label, (us / 1000).toFixed(0), Number.isNaN(share(us)) ? "-" : `${(100 * share(us)).toFixed(1)}%`, perRequest(us), ofProc(us)];
  const rows = [...STAGES.map((stage) => row(stage, breakdown.stageUs[stage])), row("total (busy, not idle)", breakdown.busyUs)];
  const header = ["stage", "sampled ms", "share", "sampled µs/req", "share x /proc µs/req"];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((cells) => cells[column].length)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join("  ");
  return [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)].join("\n");
}
