import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { stringify } from "yaml";
import { spawnNode, spawnTs, tail, type ChildHandle, type CpuAffinity } from "./child-process.js";
import { RESULT_PREFIX, type LoadResult } from "./latency-recorder.js";
import { captureResponse, type CapturedResponses } from "./floor-responses.js";
import { RATE_LIMIT_VARIANTS } from "./rate-limit-variants.js";
import { TRACING_VARIANTS } from "./tracing-variant.js";
import { BENCH_ROUTES, type BenchRoute } from "./routes.js";
import { SERVING_NODE_FLAGS } from "../src/cli/node-flags.js";

/** How hard and how long each (target, route) pair is loaded (warm-up is per measurement). */
export interface LoadSettings {
  readonly connections: number;
  readonly durationSeconds: number;
  /** A fixed HTTP request rate (all connections together); 0: as fast as the target answers. */
  readonly ratePerSecond: number;
}

/** What every target gets when it starts. */
export interface BenchContext {
  /** `host:port` of the demo gRPC backend. */
  readonly backendAddress: string;
  /** Fully qualified services the backend serves. */
  readonly services: readonly string[];
  readonly settings: LoadSettings;
  /** CPUs for the process under test (a server, or the direct grpc-js client); none: unpinned. */
  readonly serverAffinity?: CpuAffinity;
  /** CPUs for the HTTP load generators (the backend is already running on them). */
  readonly loadAffinity?: CpuAffinity;
  /** The script `node` runs as `protogate` (bench/protogate-entry.ts: dist/ or the sources). */
  readonly protogateEntry: string;
}

export type TargetFamily = "protogate" | "proxy" | "direct" | "floor";

/** Something the routes are measured through. */
export interface BenchTarget {
  readonly name: string;
  readonly family: TargetFamily;
  readonly description: string;
  start(context: BenchContext): Promise<RunningTarget>;
}

/** A started target. */
export interface RunningTarget {
  /** Sends one request and throws unless the answer is the expected success. */
  check(route: BenchRoute): Promise<void>;
  /** Warm-up plus the measured run, from a separate load process; `load` overrides the run's settings. */
  measure(route: BenchRoute, warmupSeconds: number, load?: LoadSettings): Promise<LoadResult>;
  /** The process id of an HTTP server under test (its memory is sampled). */
  readonly pid?: number;
  /** Whether the process under test lives across measurements (so later ones need less warm-up). */
  readonly staysWarm: boolean;
  /** The base URL of an HTTP target. */
  readonly base?: string;
  /** Facts measured at start, printed with the results (e.g. Redis commands per request). */
  readonly notes?: readonly string[];
  stop(): Promise<void>;
}

/**
 * A Protogate configuration to benchmark. Later benchmarks (auth on/off, rate-limit stores) add
 * entries here: `config` is merged over the base gateway.yaml, `args` are appended to `serve`.
 */
export interface ProtogateVariant {
  readonly name: string;
  readonly description: string;
  readonly config?: Readonly<Record<string, unknown>>;
  readonly args?: readonly string[];
  /** Per-upstream keys (as in gateway.yaml `upstreams.<service>`); the upstreams then go in the config file, not in `--upstream` flags. */
  readonly upstream?: Readonly<Record<string, unknown>>;
  /** Runs on every CPU instead of the server CPU alone (the workers variants: they use the machine's cores). */
  readonly allCpus?: boolean;
  /** Prepares what the variant needs (key files in `dir`, a Redis); returns more config, request headers and hooks. */
  readonly prepare?: (dir: string, context: BenchContext) => Promise<PreparedVariant>;
}

/** What a variant's `prepare` adds to the base configuration. */
export interface PreparedVariant {
  readonly config: Record<string, unknown>;
  readonly headers: Record<string, string>;
  /** A response header every successful answer must carry (proof that the feature is on). */
  readonly expectHeader?: string;
  /** Facts measured once the server is up (e.g. Redis commands per request), for the report. */
  readonly describe?: (base: string, headers: Record<string, string>) => Promise<string[]>;
  /** Stops what `prepare` started. */
  readonly cleanup?: () => Promise<void>;
}

/**
 * Per-request logging is off in every variant, as in the hand-written proxy (the access log's
 * default, failures only, writes nothing for the bench's successes); variants turn auth on.
 * The admin listener (and with it the metrics) is off too: the protogate-metrics variant measures it.
 */
export const BASE_GATEWAY_CONFIG = { logging: { level: "warn" }, auth: { mode: "off" }, admin: { enabled: false } };
/**
 * The access-log variant: a line for every request, written to /dev/null (the gateway pays for
 * building, serialising and the write system call; no disk is filled by a long run).
 */
export const ACCESS_LOG_ALL = { accessLog: { mode: "all", destination: "/dev/null" } };
/**
 * The resilience variant's upstream options (beside its one address): every per-call feature of a
 * balanced upstream on, none of them ever firing on the bench's healthy backend (their cost when
 * all is well: the call goes through the balanced upstream instead of straight to the connection).
 */
export const RESILIENCE_UPSTREAM = { retries: {}, outlierDetection: {}, circuitBreaker: {}, maxConcurrentCalls: 100_000 };

export const PROTOGATE_VARIANTS: readonly ProtogateVariant[] = [
  { name: "protogate", description: "Protogate serve, auth off (upstream transport: wire, the default)" },
  { name: "protogate-http2", description: "Protogate serve, auth off, upstream transport http2 (Protogate's gRPC over node:http2)", upstream: { transport: "http2" } },
  { name: "protogate-grpcjs", description: "Protogate serve, auth off, upstream transport grpc-js", upstream: { transport: "grpc-js" } },
  { name: "protogate-metrics", description: "Protogate serve, auth off, admin listener on a free port with Prometheus metrics", config: { admin: { enabled: true, port: 0 } } },
  { name: "protogate-jwt", description: "Protogate serve, auth on, a valid RS256 bearer token on every request (hot token)", prepare: prepareRs256Auth },
  {
    name: "protogate-token-header",
    description: "Protogate serve, auth off, an ignored request header as long as protogate-jwt's Authorization (carrying a token without checking it: the control of protogate-jwt)",
    prepare: prepareTokenSizedHeader,
  },
  ...RATE_LIMIT_VARIANTS,
  { name: "protogate-accesslog", description: "Protogate serve, auth off, access log on for every request (mode all) to /dev/null", config: ACCESS_LOG_ALL },
  {
    name: "protogate-resilience",
    description: "Protogate serve, auth off, the upstream balanced with retries, outlier detection, circuit breaker and maxConcurrentCalls on (one address)",
    upstream: RESILIENCE_UPSTREAM,
  },
  ...TRACING_VARIANTS,
  // Issue 14: --workers 2 against --workers 1, both free to use every CPU (the load generator too).
  { name: "protogate-workers-1", description: "Protogate serve --workers 1, auth off, on every CPU (the baseline of protogate-workers-2)", args: ["--workers", "1"], allCpus: true },
  { name: "protogate-workers-2", description: "Protogate serve --workers 2 (node:cluster), auth off, on every CPU", args: ["--workers", "2"], allCpus: true },
];

/** An RS256 issuer from a key file, and a token it accepts, for the auth-on variant. */
export async function prepareRs256Auth(dir: string): Promise<PreparedVariant> {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const keyFile = join(dir, "bench-key.jwk.json");
  writeFileSync(keyFile, JSON.stringify({ ...(await exportJWK(publicKey)), kid: "bench", alg: "RS256" }));
  const token = await new SignJWT({ scope: "users:write" })
    .setProtectedHeader({ alg: "RS256", kid: "bench" })
    .setIssuer("bench-issuer")
    .setAudience("bench-api")
    .setSubject("bench-user")
    .setIssuedAt()
    .setExpirationTime("2h")
    .sign(privateKey);
  const config = { auth: { mode: "on", jwt: { issuers: [{ issuer: "bench-issuer", audiences: ["bench-api"], algorithms: ["RS256"], keyFile }] } } };
  return { config, headers: { authorization: `Bearer ${token}` } };
}

/**
 * The control of the auth-on variant: the same request bytes (a header as long as its
 * `Authorization`, under a name the gateway neither reads nor forwards), auth off. What
 * protogate-jwt costs beyond it is checking the token; what this costs beyond the plain gateway
 * is reading a bigger request.
 */
export async function prepareTokenSizedHeader(dir: string): Promise<PreparedVariant> {
  const auth = await prepareRs256Auth(dir);
  const length = auth.headers.authorization?.length ?? 0;
  return { config: {}, headers: { "x-bench-padding": "p".repeat(length) } };
}

const START_TIMEOUT_MS = 30_000;
const GENERATED_DIR = fileURLToPath(new URL("../generated", import.meta.url));

/** Every target, Protogate variants first, then the baselines. */
export function allTargets(): BenchTarget[] {
  return [...PROTOGATE_VARIANTS.map(protogateTarget), handwrittenProxyTarget(), directTarget(), floorTarget()];
}

export function protogateTarget(variant: ProtogateVariant): BenchTarget {
  return {
    name: variant.name,
    family: "protogate",
    description: variant.description,
    async start(context) {
      const dir = mkdtempSync(join(tmpdir(), "protogate-bench-"));
      const configFile = join(dir, "gateway.yaml");
      let prepared: PreparedVariant = { config: {}, headers: {} };
      try {
        if (variant.prepare) prepared = await variant.prepare(dir, context);
      } catch (error) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
      const cleanup = async () => {
        await prepared.cleanup?.();
        rmSync(dir, { recursive: true, force: true });
      };
      const upstreamOptions = variant.upstream;
      const configUpstreams = upstreamOptions && { upstreams: Object.fromEntries(context.services.map((service) => [service, { address: context.backendAddress, ...upstreamOptions }])) };
      writeFileSync(configFile, stringify({ ...BASE_GATEWAY_CONFIG, ...variant.config, ...prepared.config, ...configUpstreams }));
      const upstreams = upstreamOptions ? [] : context.services.flatMap((service) => ["--upstream", `${service}=${context.backendAddress}`]);
      const args = [...SERVING_NODE_FLAGS, context.protogateEntry, "serve", "--config", configFile, "--generated", GENERATED_DIR, ...upstreams, "--host", "127.0.0.1", "--port", "0", ...(variant.args ?? [])];
      const child = spawnNode(variant.name, args, variant.allCpus ? undefined : context.serverAffinity);
      try {
        const [, base] = await child.waitFor(/protogate listening on (http:\/\/\S+)/, START_TIMEOUT_MS);
        const notes = prepared.describe ? await prepared.describe(base, prepared.headers) : [];
        return httpTarget(variant.name, child, base, context, { cleanup, headers: prepared.headers, expectHeader: prepared.expectHeader, notes });
      } catch (error) {
        await child.stop();
        await cleanup();
        throw error;
      }
    },
  };
}

function handwrittenProxyTarget(): BenchTarget {
  return {
    name: "proxy",
    family: "proxy",
    description: "hand-written Fastify + @grpc/proto-loader proxy (bench/handwritten-proxy.ts)",
    async start(context) {
      const child = spawnTs("proxy", "bench/handwritten-proxy.ts", ["--upstream", context.backendAddress, "--port", "0"], context.serverAffinity);
      try {
        const [, base] = await child.waitFor(/handwritten proxy listening on (http:\/\/\S+)/, START_TIMEOUT_MS);
        return httpTarget("proxy", child, base, context);
      } catch (error) {
        await child.stop();
        throw error;
      }
    },
  };
}

/**
 * The floor: a bare Fastify server (bench/floor-server.ts) on the server CPU, replaying the exact
 * bytes and headers a plain Protogate sends for each route. They are captured at start from a
 * Protogate started for that alone (so `--only floor` works), then that Protogate is stopped.
 */
function floorTarget(): BenchTarget {
  return {
    name: "floor",
    family: "floor",
    description: "bare Fastify server replaying Protogate's response bytes, no upstream call (bench/floor-server.ts)",
    async start(context) {
      const captured = await captureProtogateResponses(context);
      const dir = mkdtempSync(join(tmpdir(), "protogate-floor-"));
      const responsesFile = join(dir, "responses.json");
      writeFileSync(responsesFile, JSON.stringify(captured));
      const cleanup = async () => rmSync(dir, { recursive: true, force: true });
      const child = spawnTs("floor", "bench/floor-server.ts", ["--responses", responsesFile, "--port", "0"], context.serverAffinity);
      try {
        const [, base] = await child.waitFor(/floor listening on (http:\/\/\S+)/, START_TIMEOUT_MS);
        const http = httpTarget("floor", child, base, context, { cleanup });
        return {
          ...http,
          async check(route) {
            await http.check(route);
            // The floor is only a floor if it writes what Protogate writes.
            const response = await fetch(base + route.http.path, { method: route.http.method, headers: route.http.headers, body: route.http.body });
            const answer = await captureResponse(response);
            const expected = captured[route.id];
            if (answer.bodyBase64 !== expected.bodyBase64 || JSON.stringify(answer.headers) !== JSON.stringify(expected.headers)) {
              throw new Error(`floor answered ${route.label} with other bytes or headers than Protogate: ${JSON.stringify(answer.headers)} vs ${JSON.stringify(expected.headers)}`);
            }
          },
        };
      } catch (error) {
        await child.stop();
        await cleanup();
        throw error;
      }
    },
  };
}

/** Starts a plain Protogate against the bench backend, records its answer to every bench route, and stops it. */
async function captureProtogateResponses(context: BenchContext): Promise<CapturedResponses> {
  const protogate = await protogateTarget(PROTOGATE_VARIANTS[0]).start(context);
  try {
    if (protogate.base === undefined) throw new Error("the Protogate target has no base URL");
    const captured: Record<string, Awaited<ReturnType<typeof captureResponse>>> = {};
    for (const route of BENCH_ROUTES) {
      await protogate.check(route);
      const response = await fetch(`${protogate.base}${route.http.path}`, { method: route.http.method, headers: route.http.headers, body: route.http.body });
      captured[route.id] = await captureResponse(response);
    }
    return captured;
  } finally {
    await protogate.stop();
  }
}

export function directTarget(): BenchTarget {
  return {
    name: "direct",
    family: "direct",
    description: "grpc-js client calls straight to the backend (no HTTP)",
    async start(context) {
      return {
        // direct-load.ts checks the first response itself before loading.
        check: async () => undefined,
        // The client process is the one under test, so it gets the server's CPUs; it is new each time.
        measure: (route, warmupSeconds, load = context.settings) =>
          runLoadProcess(`direct ${route.id}`, "bench/direct-load.ts", ["--upstream", context.backendAddress, "--route", route.id], load, warmupSeconds, context.serverAffinity),
        staysWarm: false,
        stop: async () => undefined,
      };
    },
  };
}

interface HttpTargetExtras {
  readonly cleanup?: () => Promise<void>;
  readonly headers?: Record<string, string>;
  readonly expectHeader?: string;
  readonly notes?: readonly string[];
}

function httpTarget(name: string, server: ChildHandle, base: string, context: BenchContext, extras: HttpTargetExtras = {}): RunningTarget {
  const { cleanup, headers = {}, expectHeader, notes = [] } = extras;
  const headerArgs = Object.entries(headers).flatMap(([key, value]) => ["--header", `${key}:${value}`]);
  return {
    async check(route) {
      const response = await fetch(base + route.http.path, { method: route.http.method, headers: { ...route.http.headers, ...headers }, body: route.http.body });
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (response.status !== 200 || !route.checkJson(json)) {
        throw new Error(`${name} answered ${route.label} with ${response.status}: ${text.slice(0, 300)}`);
      }
      if (expectHeader !== undefined && !response.headers.has(expectHeader)) throw new Error(`${name} answered ${route.label} without a ${expectHeader} header`);
    },
    notes,
    base,
    pid: server.child.pid,
    measure: (route, warmupSeconds, load = context.settings) =>
      runLoadProcess(`${name} ${route.id}`, "bench/http-load.ts", ["--url", base, "--route", route.id, "--server-pid", String(server.child.pid), ...headerArgs], load, warmupSeconds, context.loadAffinity),
    staysWarm: true,
    async stop() {
      await server.stop();
      await cleanup?.();
    },
  };
}

export async function runLoadProcess(name: string, file: string, args: string[], settings: LoadSettings, warmupSeconds: number, affinity: CpuAffinity | undefined): Promise<LoadResult> {
  const settingsArgs = ["--connections", String(settings.connections), "--warmup", String(warmupSeconds), "--duration", String(settings.durationSeconds), "--rate", String(settings.ratePerSecond)];
  const load = spawnTs(name, file, [...args, ...settingsArgs], affinity);
  const limitMs = (warmupSeconds + settings.durationSeconds) * 1000 + 60_000;
  const timer = setTimeout(() => void load.stop(), limitMs);
  const code = await load.exited;
  clearTimeout(timer);
  const line = load.stdout().split("\n").find((candidate) => candidate.startsWith(RESULT_PREFIX));
  if (code !== 0 || !line) throw new Error(`load process "${name}" failed (exit ${code}):\n${tail(load.stderr() || load.stdout())}`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as LoadResult;
}
