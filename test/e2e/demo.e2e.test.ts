import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProtogate, waitForListening, waitForOutput, type ProtogateProcess } from "./support/processes.js";

const exec = promisify(execFile);

/** `npm start` runs `protogate demo`; its printed curl lines must work exactly as printed. */
describe("protogate demo", () => {
  let demo: ProtogateProcess;
  let curlLines: string[];

  beforeAll(async () => {
    demo = runProtogate(["demo", "--port", "0"]);
    await waitForListening(demo);
    await waitForOutput(demo, /Ctrl-C/);
    // Every printed command that calls curl and announces its status: plain curl lines and the
    // streaming ones that pipe a body into curl (`printf ... | curl ...`).
    curlLines = demo
      .stdout()
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => /(^|\| )curl /.test(line) && /# -> \d{3}/.test(line));
  }, 30_000);
  afterAll(async () => {
    demo?.child.kill("SIGTERM");
    if (demo) expect(await demo.exited).toBe(0);
  });

  it("prints several curl lines", () => {
    expect(curlLines.length).toBeGreaterThanOrEqual(5);
  });

  it("prints streaming lines: a client-streaming batch, a subscription as NDJSON and as SSE (curl -N), a chat", () => {
    const streaming = curlLines.filter((line) => line.includes("/v1/rooms/"));
    expect(streaming).toHaveLength(4);
    expect(streaming[0]).toMatch(/^printf .* \| curl .*messages:batch .*--data-binary @-/);
    expect(streaming.filter((line) => line.startsWith("curl -s -N ") && line.includes("messages:subscribe?replay=2&limit=2"))).toHaveLength(2);
  });

  it("streams what the batch line posted back as NDJSON lines and as SSE events", async () => {
    const [batch, ndjson, sse] = curlLines.filter((line) => line.includes("/v1/rooms/"));
    const run = async (line: string) => (await exec("bash", ["-c", line.replace(/\s+#.*$/, "")])).stdout;
    expect(JSON.parse(await run(batch))).toMatchObject({ count: 2 });
    const results = (await run(ndjson)).trim().split("\n").map((line) => JSON.parse(line) as { result: { text: string } });
    expect(results.map((line) => line.result.text)).toEqual(["hello", "hi Ada"]);
    const events = (await run(sse)).split("\n").filter((line) => line.startsWith("data: "));
    expect(events.map((line) => (JSON.parse(line.slice(6)) as { text: string }).text)).toEqual(["hello", "hi Ada"]);
  });

  it("prints a WebSocket one-liner for the chat that works as printed: the echo, then close 1000", async () => {
    const line = demo
      .stdout()
      .split("\n")
      .map((text) => text.trim())
      .find((text) => text.startsWith("node -e "));
    expect(line).toMatch(/# -> closed 1000/);
    const { stdout } = await exec("bash", ["-c", (line ?? "").replace(/\s+#.*$/, "")], { timeout: 10_000 });
    const lines = stdout.trim().split("\n");
    expect(JSON.parse(lines[0])).toMatchObject({ room: "lobby", author: "ada", text: "hi over WebSocket" });
    expect(lines.at(-1)).toBe("closed 1000");
  });

  it("prints the docs URL, which serves the page, and the OpenAPI document's URL, which serves generated/openapi.json with the dashboard aggregate merged in", async () => {
    const docs = /API docs: (http:\/\/\S+)/.exec(demo.stdout())?.[1];
    const openApi = /OpenAPI document: (http:\/\/\S+)/.exec(demo.stdout())?.[1];
    expect(docs).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/docs$/);
    const page = await fetch(docs ?? "");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="swagger-ui"');
    const served = (await (await fetch(openApi ?? "")).json()) as { paths: Record<string, unknown> };
    const generated = JSON.parse(readFileSync(new URL("../../generated/openapi.json", import.meta.url), "utf8")) as { paths: Record<string, unknown> };
    // Every generated path as generated, plus the demo's aggregate route (see aggregate-openapi.e2e.test.ts).
    expect(Object.keys(served.paths).sort()).toEqual([...Object.keys(generated.paths), "/api/mobile/dashboard/{userId}"].sort());
    for (const [path, item] of Object.entries(generated.paths)) expect(served.paths[path]).toEqual(item);
  });

  it("prints a GraphQL line that answers every user's orders with each order's user joined", async () => {
    expect(demo.stdout()).toMatch(/GraphQL endpoint: http:\/\/127\.0\.0\.1:\d+\/graphql/);
    const line = curlLines.find((text) => text.includes("/graphql"));
    expect(line).toMatch(/# -> 200/);
    const { stdout } = await exec("bash", ["-c", (line ?? "").replace(/\s+#.*$/, "")]);
    const answer = JSON.parse(stdout) as { data: Record<string, { orders: Array<{ name: string; user: { displayName: string } }> }>; errors?: unknown };
    expect(answer.errors).toBeUndefined();
    expect(answer.data.listOrders.orders.map((order) => order.user.displayName)).toEqual(["Ada Lovelace", "Ada Lovelace", "Grace Hopper"]);
    expect(answer.data.listOrders.orders[2]).toEqual({ name: "users/u-2/orders/o-3", state: "ORDER_STATE_CANCELLED", user: { displayName: "Grace Hopper" } });
  });

  it("prints the GraphiQL page's URL, and the page is served with its assets from the gateway itself", async () => {
    const url = /GraphiQL: (http:\/\/127\.0\.0\.1:\d+\/graphiql)\b/.exec(demo.stdout())?.[1];
    expect(url).toBeDefined();
    const page = await fetch(url ?? "");
    expect(page.status).toBe(200);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((match) => match[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      expect(script.startsWith("/graphiql/assets/")).toBe(true);
      expect((await fetch(new URL(script, url))).status).toBe(200);
    }
  });

  it("prints a dev token", () => {
    expect(demo.stdout()).toMatch(/Dev token[^\n]*\n\s+eyJ[\w-]+\.[\w-]+\.[\w-]+\n/);
  });

  it("every printed curl line works as printed and gets the status its comment announces", async () => {
    for (const line of curlLines) {
      const expected = Number(/# -> (\d{3})/.exec(line)?.[1]);
      expect(expected, `no expected status in: ${line}`).toBeGreaterThan(0);
      const command = line.replace(/\s+#.*$/, "");
      const { stdout } = await exec("bash", ["-c", `${command} -w '\\n%{http_code}'`]);
      const code = Number(stdout.trim().split("\n").at(-1));
      expect(code, `${line}\n${stdout}`).toBe(expected);
      if (expected >= 400) expect(stdout).toMatch(/"code":\d+/);
    }
  });

  it("shows the rate-limit headers, and the printed loop meets a 429", { timeout: 60_000 }, async () => {
    const { stdout: first } = await exec("bash", ["-c", curlLines[0].replace(/\s+#.*$/, "")]);
    expect(first).toMatch(/^x-ratelimit-limit: 300\r?$/im);
    expect(first).toMatch(/^ratelimit-policy: "per-caller";q=300;w=60\r?$/im);
    const loop = demo
      .stdout()
      .split("\n")
      .map((line) => line.trim())
      .find((line) => line.startsWith("for i in"));
    expect(loop).toBeDefined();
    const started = Date.now();
    const { stdout } = await exec("bash", ["-c", loop ?? ""]);
    const elapsedSeconds = (Date.now() - started) / 1000;
    const counts = Object.fromEntries(stdout.trim().split("\n").map((row) => row.trim().split(/\s+/).reverse()));
    expect(Number(counts["429"])).toBeGreaterThan(0);
    // The burst of 300, plus the refill of 5 per second while the loop ran.
    expect(Number(counts["200"])).toBeLessThanOrEqual(300 + Math.ceil(elapsedSeconds * 5));
  });
});
