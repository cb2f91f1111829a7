/*
 * Micro-benchmark of the edge checks' admit step (`EdgeAuth.admit`: authenticate, authorise,
 * the failed-attempt limit) with a hot RS256 token: the per-request cost authentication adds
 * once the verified-token cache holds the token.
 *
 *   node bin/run-ts.js bench/auth-admit.ts [--rounds 15] [--iterations 50000] [--compare DIR]
 *
 * `--compare DIR` also loads the same modules from another checkout (e.g. an export of `main`)
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
import type { EffectiveRule } from "../src/auth/authorize.js";
import type { EdgeAuth } from "../src/auth/edge-auth.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "15" }, iterations: { type: "string", default: "50000" }, compare: { type: "string" } } });
const ROUNDS = Number(values.rounds);
const ITERATIONS = Number(values.iterations);
const HERE = fileURLToPath(new URL("..", import.meta.url));

interface Variant {
  readonly tree: string;
  readonly name: string;
  readonly auth: EdgeAuth;
  readonly rule: EffectiveRule;
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
    generated: (await load("src/load-generated.ts")) as typeof import("../src/load-generated.js"),
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
    const rawHeaders = ["host", "127.0.0.1", "authorization", `Bearer ${token}`, "accept", "application/json"];
    for (const [tree, root] of trees) {
      const m = await modulesOf(root);
      const folder = await m.generated.loadGenerated(join(root, "generated"));
      // DELETE /v1/users/{id}: needs users:write, which the token holds.
      const binding = folder.bindings.find((b) => b.service === "demo.v1.UserService" && b.method === "DeleteUser");
      if (binding === undefined) throw new Error("no DeleteUser binding");
      const build = async (name: string, auth: Record<string, unknown>): Promise<void> => {
        let config;
        try {
          config = m.config.configFromObject({ auth, upstreams: {}, logging: { level: "silent" } });
        } catch (error) {
          console.log(`${tree}: ${name}: not available (${error instanceof Error ? error.message.slice(0, 80) : String(error)})`);
          return;
        }
        const edge = await m.edge.createEdgeAuth(config.auth);
        const rule = edge.ruleFor(binding);
        const caller = await edge.admit(rule, rawHeaders, "127.0.0.1");
        if (config.auth.mode === "on" && caller?.subject !== "bench-user") throw new Error(`${tree}: ${name}: not admitted`);
        variants.push({ tree, name, auth: edge, rule, samples: [] });
      };
      await build("auth on, hot RS256 token", { mode: "on", jwt });
      await build("auth on, hot RS256 token, failedAttempts on", { mode: "on", jwt, failedAttempts: { requests: 10, periodSeconds: 60 } });
      await build("auth off", { mode: "off" });
    }

    for (let round = 0; round <= ROUNDS; round++) {
      // Every other round runs the variants in reverse order, so neither tree always goes first.
      for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
        const started = process.hrtime.bigint();
        for (let i = 0; i < ITERATIONS; i++) await variant.auth.admit(variant.rule, rawHeaders, "127.0.0.1");
        const ns = Number(process.hrtime.bigint() - started) / ITERATIONS;
        // Round 0 warms up V8 and is not counted.
        if (round > 0) variant.samples.push(ns);
      }
    }

    const median = (list: readonly number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
    console.log(`EdgeAuth.admit, ${ITERATIONS} calls per round, ${ROUNDS} rounds (node ${process.version})`);
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
    for (const variant of variants) variant.auth.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
