// The rate-limit variants of `npm run bench`: the GET and POST routes with one limit per caller,
// in the memory store and in a Redis started for the run, next to plain `protogate` (no limit).
// The limit is far above what the machine can serve, so every request is checked and admitted.
import { createConnection } from "node:net";
import { redisCommand, redisAvailability, startRedisServer } from "../test/support/redis-process.js";
import { BENCH_ROUTES } from "./routes.js";
import type { BenchContext, PreparedVariant, ProtogateVariant } from "./targets.js";

/** One limit on every route, keyed by caller (the client IP with auth off): a single hot bucket. */
const BENCH_LIMIT = { name: "bench", key: "caller", requests: 1_000_000_000, periodSeconds: 1 };
/** The gateway.yaml keys of the memory-store variant. */
export const MEMORY_LIMIT_CONFIG = { rateLimits: { store: "memory", limits: [BENCH_LIMIT] } };
/** The gateway.yaml keys of the Redis-store variant, with Redis at `address`. */
export const redisLimitConfig = (address: string) => ({ rateLimits: { store: "redis", redis: { nodes: [address] }, limits: [BENCH_LIMIT] } });
/** The response header that shows a limit was checked. */
export const LIMIT_HEADER = "x-ratelimit-limit";
/** Requests sent once at start to count the Redis commands per request exactly. */
const COUNTED_REQUESTS = 2_000;
const COUNTING_CONCURRENCY = 16;

export const RATE_LIMIT_VARIANTS: readonly ProtogateVariant[] = [
  {
    name: "protogate-limit-memory",
    description: "Protogate serve, auth off, one per-caller limit in the memory store (never reached)",
    prepare: async () => ({ config: MEMORY_LIMIT_CONFIG, headers: {}, expectHeader: LIMIT_HEADER }),
  },
  {
    name: "protogate-limit-redis",
    description: "Protogate serve, auth off, one per-caller limit in a Redis started for the run (never reached)",
    prepare: prepareRedisLimit,
  },
];

async function prepareRedisLimit(_dir: string, context: BenchContext): Promise<PreparedVariant> {
  const availability = redisAvailability();
  if (!availability.available) throw new Error(`the Redis variant needs redis-server: ${availability.reason}`);
  // Redis shares the backend's and the load generators' CPUs, not the gateway's.
  const affinity = context.loadAffinity;
  const redis = await startRedisServer(affinity ? { commandPrefix: [affinity.tasksetPath, "-c", affinity.cpus] } : {});
  return {
    config: redisLimitConfig(redis.address),
    headers: {},
    expectHeader: LIMIT_HEADER,
    describe: async (base, headers) => [await countRedisCommandsPerRequest(redis.port, base, headers)],
    cleanup: () => redis.stop(),
  };
}

/**
 * Sends COUNTED_REQUESTS GETs while Redis's MONITOR stream is open and counts the commands that
 * clients sent (MONITOR tags commands run inside a script `[db lua]`; those are not round trips,
 * while INFO's counters include them).
 */
async function countRedisCommandsPerRequest(port: number, base: string, headers: Record<string, string>): Promise<string> {
  const route = BENCH_ROUTES[0];
  const monitor = await monitorClientCommands(port);
  let next = 0;
  const failures: string[] = [];
  const worker = async () => {
    while (next < COUNTED_REQUESTS) {
      next++;
      const response = await fetch(base + route.http.path, { method: route.http.method, headers: { ...route.http.headers, ...headers } });
      await response.arrayBuffer();
      if (response.status !== 200) failures.push(String(response.status));
    }
  };
  // The MONITOR connection is closed whether or not sending failed.
  const counts = await Promise.all(Array.from({ length: COUNTING_CONCURRENCY }, worker)).then(
    () => monitor.stop(),
    async (error: unknown) => {
      await monitor.stop();
      throw error;
    },
  );
  if (failures.length > 0) throw new Error(`counting Redis commands: ${failures.length} of ${COUNTED_REQUESTS} requests failed (${failures.slice(0, 5).join(", ")})`);
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
  const breakdown = [...counts].map(([command, count]) => `${command} ${count}`).join(", ") || "none";
  return `protogate-limit-redis: ${(total / COUNTED_REQUESTS).toFixed(3)} Redis round trips per request (${total} client commands over ${COUNTED_REQUESTS} GETs: ${breakdown})`;
}

interface CommandMonitor {
  /** Closes the MONITOR connection (once a marker ECHO sent now shows in it, so every earlier command is in) and returns the counts. */
  stop(): Promise<Map<string, number>>;
}

/** Opens a MONITOR connection and counts client commands (not script-internal ones) by name. */
function monitorClientCommands(port: number): Promise<CommandMonitor> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const counts = new Map<string, number>();
    let pending = "";
    let started = false;
    let onPong: (() => void) | undefined;
    socket.on("error", reject);
    socket.on("connect", () => socket.write("MONITOR\r\n"));
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      pending += chunk;
      let end: number;
      while ((end = pending.indexOf("\r\n")) >= 0) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 2);
        if (!started && line === "+OK") {
          started = true;
          resolve({
            stop: async () => {
              // An ECHO from a second connection shows in the stream after every command before it.
              const marker = `pg-bench-${process.pid}-${Date.now()}`;
              const seen = new Promise<void>((done) => (onPong = done));
              await redisCommand(port, ["ECHO", marker]);
              await seen;
              socket.destroy();
              return counts;
            },
          });
          continue;
        }
        const match = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"(.*)$/.exec(line);
        if (!match || match[1] === "lua") continue;
        const command = match[2].toLowerCase();
        if (command === "echo" && match[3].includes("pg-bench-")) {
          onPong?.();
          continue;
        }
        counts.set(command, (counts.get(command) ?? 0) + 1);
      }
    });
  });
}
