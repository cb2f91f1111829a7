/*
 * Micro-benchmark of the pipeline's admit step (route, authenticate, authorise, limit) with a hot
 * RS256 token: the per-request cost authentication adds once the verified-token cache holds the
 * token. Run before and after a change to the auth hot path and compare the medians:
 *
 *   node bin/run-ts.js bench/auth-admit.ts [--rounds 9] [--iterations 200000]
 *
 * Each variant is measured in interleaved rounds (so drift in machine load hits them alike); the
 * figure is the median ns per admit over the rounds, with the min-max spread.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createEdgeAuth } from "../src/auth/edge-auth.js";
import { configFromObject } from "../src/config/load-config.js";
import { createGatewayPipeline, type GatewayPipeline, type RequestHead } from "../src/gateway/handler.js";
import { loadGenerated } from "../src/load-generated.js";
import { createMemoryStore } from "../src/ratelimit/memory-store.js";
import { createRateLimiter } from "../src/ratelimit/rate-limiter.js";
import { createCodecRegistry } from "../src/transcode/json/codec-registry.js";
import { createUpstreamPool } from "../src/upstream/upstream-pool.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "9" }, iterations: { type: "string", default: "200000" } } });
const ROUNDS = Number(values.rounds);
const ITERATIONS = Number(values.iterations);
const GENERATED_DIR = fileURLToPath(new URL("../generated", import.meta.url));

interface Variant {
  readonly name: string;
  readonly pipeline: GatewayPipeline;
  readonly head: RequestHead;
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
    const folder = await loadGenerated(GENERATED_DIR);
    const codecs = createCodecRegistry(folder.descriptorSet, { ignoreUnknownFields: false });
    const upstreams = createUpstreamPool({});

    const build = async (name: string, auth: Record<string, unknown>): Promise<Variant | undefined> => {
      let config;
      try {
        config = configFromObject({ auth, upstreams: {}, logging: { level: "silent" } });
      } catch (error) {
        console.log(`${name}: not available in this version (${error instanceof Error ? error.message.slice(0, 80) : String(error)})`);
        return undefined;
      }
      const edge = await createEdgeAuth(config.auth);
      const rateLimiter = createRateLimiter(config.rateLimits, { store: createMemoryStore({ maxKeys: 1000 }) });
      const pipeline = createGatewayPipeline({ config, bindings: folder.bindings, codecs, upstreams, auth: edge, rateLimiter, log: { error: () => undefined } });
      const rawHeaders = ["host", "127.0.0.1", "authorization", `Bearer ${token}`, "accept", "application/json"];
      const head: RequestHead = {
        method: "DELETE",
        url: "/v1/users/u-1",
        headers: { host: "127.0.0.1", authorization: `Bearer ${token}`, accept: "application/json" },
        rawHeaders,
        client: { ip: "127.0.0.1", host: "127.0.0.1", protocol: "http" },
      };
      const first = await pipeline.admit(head);
      if (!("route" in first)) throw new Error(`${name}: admit failed: ${first.status} ${String(first.body)}`);
      return { name, pipeline, head };
    };

    const variants = (
      await Promise.all([
        build("auth on, hot RS256 token", { mode: "on", jwt }),
        build("auth on, hot RS256 token, failedAttempts limit on", { mode: "on", jwt, failedAttempts: { requests: 10, periodSeconds: 60 } }),
        build("auth off", { mode: "off" }),
      ])
    ).filter((variant): variant is Variant => variant !== undefined);

    const samples = new Map<string, number[]>(variants.map((variant) => [variant.name, []]));
    for (let round = 0; round <= ROUNDS; round++) {
      for (const variant of variants) {
        const started = process.hrtime.bigint();
        for (let i = 0; i < ITERATIONS; i++) await variant.pipeline.admit(variant.head);
        const ns = Number(process.hrtime.bigint() - started) / ITERATIONS;
        // Round 0 warms up V8 and is not counted.
        if (round > 0) samples.get(variant.name)?.push(ns);
      }
    }
    console.log(`admit, ${ITERATIONS} calls per round, ${ROUNDS} rounds (node ${process.version})`);
    for (const [name, list] of samples) {
      const sorted = [...list].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)];
      console.log(`${name.padEnd(52)} median ${median.toFixed(0)} ns/admit (${sorted[0].toFixed(0)}-${sorted[sorted.length - 1].toFixed(0)})`);
    }
    upstreams.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
