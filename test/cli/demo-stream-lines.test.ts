import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEdgeAuth, type EdgeAuth } from "../../src/auth/edge-auth.js";
import { demoCurlLines, demoStreamLines } from "../../src/cli/demo.js";
import { configFromObject } from "../../src/config/load-config.js";
import { createDevAuth } from "../../src/demo/dev-auth.js";
import { startDemoBackends, type DemoBackends } from "../../src/demo/index.js";
import { createGatewayPipeline } from "../../src/gateway/pipeline.js";
import { createServer, type GatewayServer } from "../../src/http/adapter.js";
import { createLogger } from "../../src/logger.js";
import { rateLimiterFromConfig } from "../../src/ratelimit/create-rate-limiter.js";
import type { RateLimiter } from "../../src/ratelimit/rate-limiter.js";
import { createCodecRegistry } from "../../src/transcode/json/codec-registry.js";
import { createUpstreamPool } from "../../src/upstream/upstream-pool.js";
import type { UpstreamPool } from "../../src/upstream/upstream.js";
import { demoGenerated } from "../e2e/support/gateway-harness.js";

const exec = promisify(execFile);

/**
 * The demo's printed streaming lines, run exactly as printed (comment and all) under POSIX sh
 * (dash here) and bash, against the real HTTP server and pipeline in front of the real demo
 * ChatService, through the default upstream transport; the demo e2e suite runs the same lines
 * through `protogate demo` (bash only).
 */
describe("the demo's streaming curl lines", () => {
  let backends: DemoBackends;
  let upstreams: UpstreamPool;
  let server: GatewayServer;
  let auth: EdgeAuth;
  let rateLimiter: RateLimiter;
  let base: string;

  beforeAll(async () => {
    backends = await startDemoBackends();
    upstreams = createUpstreamPool({ "demo.v1.ChatService": backends.address });
    const generated = await demoGenerated();
    // The demo's own auth set-up: the ChatService is public under it.
    const devAuth = await createDevAuth();
    const config = configFromObject({ auth: devAuth.authConfig, logging: { level: "silent" } }, { host: "127.0.0.1", port: 0, upstreams: { "demo.v1.ChatService": backends.address } });
    const log = createLogger("silent");
    auth = await createEdgeAuth(config.auth);
    rateLimiter = await rateLimiterFromConfig(config.rateLimits, log);
    const codecs = createCodecRegistry(generated.descriptorSet, { ignoreUnknownFields: false });
    const pipeline = createGatewayPipeline({ config, bindings: generated.bindings, codecs, upstreams, auth, rateLimiter, log });
    server = createServer({ config, bindings: generated.bindings, serving: { current: { pipeline, staticResponders: new Map() } }, log });
    await server.app.listen({ host: "127.0.0.1", port: 0 });
    const address = server.app.server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  }, 30_000);
  afterAll(async () => {
    await server?.app.close();
    upstreams?.close();
    auth?.close();
    await rateLimiter?.close();
    await backends?.close();
  });

  it("are printed in the form the e2e suite runs: a status comment on each, no line already run among the unary ones", () => {
    const lines = demoStreamLines("http://127.0.0.1:8080");
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/ {2}# -> 200 \(/);
    expect(lines.filter((line) => line.startsWith("curl -s -N "))).toHaveLength(2);
    expect(demoCurlLines("http://127.0.0.1:8080", "t").some((line) => line.includes("/v1/rooms/"))).toBe(false);
  });

  for (const shell of ["sh", "bash"]) {
    it(`work as printed under ${shell}, in order, each with the status it announces`, { timeout: 30_000 }, async () => {
      const [batch, ndjson, sse, chat] = demoStreamLines(base);
      // The e2e suite appends the status this way to every printed line.
      const run = async (line: string) => {
        const { stdout } = await exec(shell, ["-c", `${line.replace(/\s+#.*$/, "")} -w '\\n%{http_code}'`], { timeout: 10_000 });
        const lines = stdout.split("\n");
        return { status: Number(lines.pop()), body: lines.join("\n") };
      };
      // As printed, with its comment: the comment is a shell comment.
      expect((await exec(shell, ["-c", batch])).stdout).toMatch(/^\{"count":2,"lastSequence":"\d+"\}$/m);

      const posted = await run(batch);
      expect(posted.status).toBe(200);
      const { count, lastSequence } = JSON.parse(posted.body) as { count: number; lastSequence: string };
      expect(count).toBe(2);
      const last = Number(lastSequence);

      const streamed = await run(ndjson);
      expect(streamed.status).toBe(200);
      const results = streamed.body.trim().split("\n").map((line) => JSON.parse(line) as { result: Record<string, unknown> });
      expect(results.map((line) => line.result)).toMatchObject([
        { room: "lobby", sequence: String(last - 1), author: "ada", text: "hello" },
        { room: "lobby", sequence: String(last), author: "grace", text: "hi Ada" },
      ]);
      expect(results[0].result.postTime).toMatch(/^\d{4}-\d\d-\d\dT/);

      const events = await run(sse);
      expect(events.status).toBe(200);
      const data = events.body.split("\n").filter((line) => line.startsWith("data: ")).map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
      expect(data.map((message) => message.text)).toEqual(["hello", "hi Ada"]);
      expect(events.body).not.toContain("event: error");

      const chatted = await run(chat);
      expect(chatted.status).toBe(200);
      const echoes = chatted.body.trim().split("\n").map((line) => JSON.parse(line) as { result: Record<string, unknown> });
      expect(echoes.map((line) => line.result)).toMatchObject([{ room: "lobby", sequence: String(last + 1), author: "ada", text: "anyone here?" }]);
    });
  }
});
