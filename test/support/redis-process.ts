/**
 * Real `redis-server` processes for tests and the benchmark (no vitest here): each user starts its
 * own on a free loopback port (never the shared one on 6379), with no persistence and its own
 * working folder, and stops it when done. A watchdog shell per server SIGKILLs it if the starting
 * process dies without stopping it, so no redis-server outlives the run (a paused one ignores
 * every other signal).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const CLUSTER_TIMEOUT_MS = 30_000;

/** Whether this machine can run the Redis suites, and if not, why. */
export interface RedisAvailability {
  readonly available: boolean;
  readonly reason: string;
}

/** Redis 7 added `--cluster-port`, which lets a node's bus port be any free port. */
const CLUSTER_MIN_MAJOR = 7;

function probeBinary(binary: string, args: readonly string[]): string | undefined {
  const probe = spawnSync(binary, args, { encoding: "utf8", timeout: 5_000 });
  return probe.status === 0 ? probe.stdout : undefined;
}

/** Checks for `redis-server` (and for a cluster, `redis-cli` and Redis >= 7). */
export function redisAvailability(options: { cluster?: boolean } = {}): RedisAvailability {
  const version = probeBinary("redis-server", ["--version"]);
  if (version === undefined) return { available: false, reason: "redis-server is not on PATH (install it, e.g. `apt-get install redis-server`)" };
  if (!options.cluster) return { available: true, reason: version.trim() };
  const major = Number(/v=(\d+)\./.exec(version)?.[1] ?? 0);
  if (major < CLUSTER_MIN_MAJOR) return { available: false, reason: `the cluster helper needs redis-server >= ${CLUSTER_MIN_MAJOR}, found: ${version.trim()}` };
  if (probeBinary("redis-cli", ["--version"]) === undefined) return { available: false, reason: "redis-cli is not on PATH (it ships with redis-server)" };
  return { available: true, reason: version.trim() };
}

/** A free TCP port on the loopback interface right now (another process may still take it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, HOST, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/**
 * Sends one command over a fresh connection and resolves with its reply as text (simple strings,
 * integers and bulk strings; enough for PING and CLUSTER INFO). Rejects on an error reply.
 */
export function redisCommand(port: number, args: readonly string[], timeoutMs = 2_000): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = createConnection({ host: HOST, port });
    let received = "";
    const finish = (error: Error | undefined, reply?: string) => {
      socket.destroy();
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(reply ?? "");
    };
    const timer = setTimeout(() => finish(new Error(`redis on port ${port} did not answer ${args[0]} within ${timeoutMs} ms`)), timeoutMs);
    socket.on("error", (error) => finish(error));
    socket.on("connect", () => socket.write(`*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join("")}`));
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      received += chunk;
      const lineEnd = received.indexOf("\r\n");
      if (lineEnd < 0) return;
      const head = received.slice(1, lineEnd);
      if (received[0] === "-") return finish(new Error(head));
      if (received[0] !== "$") return finish(undefined, head);
      const length = Number(head);
      if (length < 0) return finish(undefined, "");
      if (Buffer.byteLength(received) - lineEnd - 2 >= length + 2) finish(undefined, received.slice(lineEnd + 2, lineEnd + 2 + length));
    });
  });
}

/** One redis-server process started by a test. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:PORT`, the form of `rateLimits.redis.nodes`. */
  readonly address: string;
  /** Whether the process is running (paused counts as running). */
  readonly running: boolean;
  /** Stops it cleanly (SIGTERM, SIGKILL after a few seconds); resumes it first when paused. */
  stop(): Promise<void>;
  /** SIGKILL: Redis dies at once, its clients see the connection drop. */
  kill(): Promise<void>;
  /** SIGSTOP: a hung Redis, connections stay open and nothing answers. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Starts it again on the same port with an empty dataset (stops it first when running). */
  restart(): Promise<void>;
  /** What the server printed (for failure messages). */
  output(): string;
  /** Resolves once what the server printed since its current run started matches `pattern` (as it prints; no polling). */
  printed(pattern: RegExp): Promise<void>;
}

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  readonly watchdog: ChildProcess;
}

/** The processes of this test process, for the last-chance cleanup on exit. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

/**
 * SIGKILLs `pid` once this test process is gone, in case it dies without its afterAll. It ends by
 * itself when the server exits first (its `kill -0` loop sees it), and stop() ends it anyway.
 */
function startWatchdog(pid: number): ChildProcess {
  const script = 'while kill -0 "$1" 2>/dev/null; do kill -0 "$2" 2>/dev/null || exit 0; sleep 1; done; kill -KILL "$2" 2>/dev/null';
  const watchdog = spawn("sh", ["-c", script, "redis-watchdog", String(process.pid), String(pid)], { stdio: "ignore", detached: true });
  watchdog.unref();
  return watchdog;
}

export interface RedisServerOptions {
  /** More command-line options (cluster mode, ...). */
  readonly extraArgs?: (port: number) => readonly string[];
  readonly port?: number;
  /** A command that execs redis-server, e.g. `["taskset", "-c", "1"]` to pin it to a CPU. */
  readonly commandPrefix?: readonly string[];
}

/** Starts a redis-server. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "pg-redis-"));
  let output = "";
  /** What the current run printed, and who waits for what in it. */
  let runOutput = "";
  const watchers = new Set<{ pattern: RegExp; resolve(): void }>();
  const printed = (chunk: string) => {
    output = (output + chunk).slice(-20_000);
    runOutput += chunk;
    for (const watcher of watchers) {
      if (!watcher.pattern.test(runOutput)) continue;
      watchers.delete(watcher);
      watcher.resolve();
    }
  };
  const untilPrinted = (pattern: RegExp) => (pattern.test(runOutput) ? Promise.resolve() : new Promise<void>((resolve) => void watchers.add({ pattern, resolve })));
  let port = options.port ?? (await freePort());
  let current: Running | undefined;
  let paused = false;

  const launch = async (): Promise<void> => {
    const args = ["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", ...(options.extraArgs?.(port) ?? [])];
    const [command, ...prefixArgs] = [...(options.commandPrefix ?? []), "redis-server"];
    const child = spawn(command, [...prefixArgs, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    track(child);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    runOutput = "";
    child.stdout?.setEncoding("utf8").on("data", printed);
    child.stderr?.setEncoding("utf8").on("data", printed);
    const watchdog = startWatchdog(child.pid ?? 0);
    current = { child, exited, watchdog };
    paused = false;
    // It says when it listens; a guard (not a wait) gives up on one that never does.
    let guard: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      untilPrinted(/Ready to accept connections/).then(() => "ready" as const),
      exited.then(() => "exited" as const),
      new Promise<"timeout">((resolve) => (guard = setTimeout(() => resolve("timeout"), START_TIMEOUT_MS))),
    ]);
    clearTimeout(guard);
    if (outcome === "exited") {
      current = undefined;
      throw new Error(`redis-server on port ${port} exited at start:\n${output.slice(-2_000)}`);
    }
    const pong = outcome === "ready" ? await redisCommand(port, ["PING"]).catch((error: Error) => error.message) : "no answer";
    if (pong === "PONG") return;
    await terminate("SIGKILL");
    throw new Error(`redis-server on port ${port} did not become ready within ${START_TIMEOUT_MS} ms (PING: ${pong}):\n${output.slice(-2_000)}`);
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const running = current;
    if (!running) return;
    current = undefined;
    if (running.child.exitCode === null && running.child.signalCode === null) {
      // A stopped process keeps every signal but SIGKILL pending until it continues.
      if (paused && signal !== "SIGKILL") running.child.kill("SIGCONT");
      running.child.kill(signal);
      // A guard, not a wait: SIGKILL if it has not exited by then.
      let guard: NodeJS.Timeout | undefined;
      const stopped = await Promise.race([running.exited.then(() => true), new Promise<false>((resolve) => (guard = setTimeout(() => resolve(false), STOP_TIMEOUT_MS)))]);
      clearTimeout(guard);
      if (!stopped) {
        running.child.kill("SIGKILL");
        await running.exited;
      }
    }
    paused = false;
    running.watchdog.kill("SIGKILL");
  };

  // Another test process may take the free port between the probe and the bind: try a few.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      if (options.port !== undefined || attempt >= 4 || !output.includes("Address already in use")) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
      port = await freePort();
    }
  }

  const signalRunning = (signal: NodeJS.Signals) => {
    if (!current) throw new Error(`redis-server on port ${port} is not running`);
    current.child.kill(signal);
  };

  return {
    host: HOST,
    port,
    address: `${HOST}:${port}`,
    get running() {
      return current !== undefined;
    },
    async stop() {
      await terminate("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
    kill: () => terminate("SIGKILL"),
    pause() {
      signalRunning("SIGSTOP");
      paused = true;
    },
    resume() {
      signalRunning("SIGCONT");
      paused = false;
    },
    async restart() {
      await terminate("SIGTERM");
      await launch();
    },
    output: () => output,
    printed: untilPrinted,
  };
}

/** A Redis Cluster of masters only (no replicas), every slot assigned. */
export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  /** `127.0.0.1:PORT` of every node (seed nodes for `rateLimits.redis.nodes`). */
  readonly addresses: readonly string[];
  stop(): Promise<void>;
}

/**
 * Starts `size` cluster-enabled nodes, joins them with `redis-cli --cluster create` (which spreads
 * the 16384 slots over them) and waits until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (let i = 0; i < size; i++) {
      const busPort = await freePort();
      nodes.push(
        await startRedisServer({
          extraArgs: () => ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000", "--cluster-port", String(busPort)],
        }),
      );
    }
    const addresses = nodes.map((node) => node.address);
    // Each node logs the change of its cluster state to ok (once every slot is covered and it has heard of the others).
    const stateOk = nodes.map((node) => node.printed(/Cluster state changed: ok/));
    await runRedisCli(["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"]);
    let guard: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => (guard = setTimeout(() => resolve("timeout"), CLUSTER_TIMEOUT_MS)));
    const outcome = await Promise.race([Promise.all(stateOk), timedOut]);
    clearTimeout(guard);
    for (const node of nodes) {
      const info = await redisCommand(node.port, ["CLUSTER", "INFO"]).catch(() => "");
      if (outcome === "timeout" || !info.includes("cluster_state:ok")) throw new Error(`cluster node ${node.address} did not reach cluster_state:ok:\n${info}`);
    }
    return { nodes, addresses, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs redis-cli to its end; rejects with its output when it fails or takes too long. */
function runRedisCli(args: readonly string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn("redis-cli", args, { stdio: ["ignore", "pipe", "pipe"] });
    track(child);
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), CLUSTER_TIMEOUT_MS);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`redis-cli ${args.slice(0, 2).join(" ")} failed (${code ?? signal}):\n${output}`));
    });
  });
}
