/*
 * Micro-benchmark of the pipeline's admit step (route, authenticate, authorise, limit) with a hot
 * RS256 token: the per-request cost authentication adds once the verified-token cache holds the
 * token.
 *
 *   node bin/run-ts.js bench/auth-admit.ts [--rounds 15] [--iterations 50000] [--compare DIR]
 *
 * `--compare DIR` also loads the same pipeline from another checkout (e.g. an export of `main`)
 * into this process, and runs its variants interleaved with this tree's, round by round, so that
 * machine load hits both alike; the figure to read is then the median of the per-round ratios
 * (this tree / DIR), which is robust on a busy shared machine where absolute ns are not.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { GatewayPipeline, RequestHead } from "../src/gateway/handler.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "15" }, iterations: { type: "string", default: "50000" }, compare: { type: "string" } } });
const ROUNDS = Number(values.rounds);
const ITERATIONS = Number(values.iterations);
const HERE = fileURLToPath(new URL("..", import.meta.url));

interface Variant {
  readonly tree: string;
  readonly name: string;
  readonly pipeline: GatewayPipeline;
  readonly head: RequestHead;
  readonly samples: number[];
}

/** The modules a variant is assembled from, loaded from the checkout at `root`. */
async function modulesOf(root: string) {
  const load = (path: string) => import(pathToFileURL(join(root, path)).href);
  // Boundary: another checkout's modules have that checkout's types; the bench only uses the
  // parts whose shape both share, so they are typed as this tree's.
  return {
    edge: (await load("src/auth/edge-auth.ts")) as typeof import("../src/auth/edge-auth.js"),
    config: (await load("src/config/load-config.ts")) as typeof import("../src/config/load-config.js"),
    handler: (await load("src/gateway/handler.ts")) as typeof import("../src/gateway/handler.js"),
    generated: (await load("src/load-generated.ts")) as typeof import("../src/load-generated.js"),
    memory: (await load("src/ratelimit/memory-store.ts")) as typeof import("../src/ratelimit/memory-store.js"),
    limiter: (await load("src/ratelimit/rate-limiter.ts")) as typeof import("../src/ratelimit/rate-limiter.js"),
    codecs: (await load("src/transcode/json/codec-registry.ts")) as typeof import("../src/transcode/json/codec-registry.js"),
    pool: (await load("src/upstream/upstream-pool.ts")) as typeof import("../src/upstream/upstream-pool.js"),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "pg-admit-bench-"));
  try {
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
    const jwt = { issuers: [{ issuer: "bench-issuer", audiences: ["bench-api"], algorithms: ["RS256"], keyFile }] };
    const trees: Array<[string, string]> = [["this tree", HERE]];
    if (values.compare !== undefined) trees.unshift(["compared", resolve(values.compare)]);

    const variants: Variant[] = [];
    const closers: Array<() => void> = [];
    for (const [tree, root] of trees) {
      const m = await modulesOf(root);
      const folder = await m.generated.loadGenerated(join(root, "generated"));
      const codecs = m.codecs.createCodecRegistry(folder.descriptorSet, { ignoreUnknownFields: false });
      const upstreams = m.pool.createUpstreamPool({});
      closers.push(() => upstreams.close());
      const build = async (name: string, auth: Record<string, unknown>): Promise<void> => {
        let config;
        try {
          config = m.config.configFromObject({ auth, upstreams: {}, logging: { level: "silent" } });
        } catch (error) {
          console.log(`${tree}: ${name}: not available (${error instanceof Error ? error.message.slice(0, 80) : String(error)})`);
          return;
        }
        const edge = await m.edge.createEdgeAuth(config.auth);
        const rateLimiter = m.limiter.createRateLimiter(config.rateLimits, { store: m.memory.createMemoryStore({ maxKeys: 1000 }) });
        const pipeline = m.handler.createGatewayPipeline({ config, bindings: folder.bindings, codecs, upstreams, auth: edge, rateLimiter, log: { error: () => undefined } });
        const head: RequestHead = {
          method: "DELETE",
          url: "/v1/users/u-1",
          headers: { host: "127.0.0.1", authorization: `Bearer ${token}`, accept: "application/json" },
          rawHeaders: ["host", "127.0.0.1", "authorization", `Bearer ${token}`, "accept", "application/json"],
          client: { ip: "127.0.0.1", host: "127.0.0.1", protocol: "http" },
        };
        const first = await pipeline.admit(head);
        if (!("route" in first)) throw new Error(`${tree}: ${name}: admit failed: ${first.status} ${String(first.body)}`);
        variants.push({ tree, name, pipeline, head, samples: [] });
      };
      await build("auth on, hot RS256 token", { mode: "on", jwt });
      await build("auth on, hot RS256 token, failedAttempts on", { mode: "on", jwt, failedAttempts: { requests: 10, periodSeconds: 60 } });
      await build("auth off", { mode: "off" });
    }

    for (let round = 0; round <= ROUNDS; round++) {
      // Every other round runs the variants in reverse order, so neither tree always goes first.
      for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
        const started = process.hrtime.bigint();
        for (let i = 0; i < ITERATIONS; i++) await variant.pipeline.admit(variant.head);
        const ns = Number(process.hrtime.bigint() - started) / ITERATIONS;
        // Round 0 warms up V8 and is not counted.
        if (round > 0) variant.samples.push(ns);
      }
    }

    const median = (list: readonly number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
    console.log(`admit, ${ITERATIONS} calls per round, ${ROUNDS} rounds (node ${process.version})`);
    for (const variant of variants) {
      const sorted = [...variant.samples].sort((a, b) => a - b);
      let line = `${variant.tree.padEnd(10)} ${variant.name.padEnd(45)} median ${median(sorted).toFixed(0)} ns/admit (${sorted[0].toFixed(0)}-${sorted[sorted.length - 1].toFixed(0)})`;
      const baseline = variants.find((other) => other.tree === "compared" && other.name === variant.name);
      if (variant.tree === "this tree" && baseline !== undefined) {
        const ratios = variant.samples.map((ns, i) => ns / baseline.samples[i]);
        line += `; vs compared: median per-round ratio ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)})`;
      }
      console.log(line);
    }
    for (const close of closers) close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
