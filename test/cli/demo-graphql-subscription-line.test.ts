import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoGraphqlSubscriptionLine, demoStreamLines, startDemo, type RunningDemo } from "../../src/cli/demo.js";

const exec = promisify(execFile);

/** The demo's printed GraphQL subscription line, run as printed (after the batch line that fills the room) against `protogate demo`'s set-up. */
describe("the demo's GraphQL subscription line (SSE)", () => {
  let demo: RunningDemo;
  beforeAll(async () => {
    demo = await startDemo({ host: "127.0.0.1", port: 0, logLevel: "silent" });
  }, 30_000);
  afterAll(async () => {
    await demo?.close();
  });

  it("replays the room's two messages as `event: next`, then `event: complete`, and ends by itself with 200", { timeout: 30_000 }, async () => {
    const base = demo.gateway.url;
    const [batch] = demoStreamLines(base);
    await exec("bash", ["-c", batch], { timeout: 10_000 });
    const line = demoGraphqlSubscriptionLine(base, demo.devAuth.token);
    expect(line).toMatch(/ {2}# -> 200 \(/);
    const { stdout } = await exec("bash", ["-c", `${line.replace(/\s+#.*$/, "")} -w '\\n%{http_code}'`], { timeout: 10_000 });
    const lines = stdout.split("\n");
    expect(lines.pop()).toBe("200");
    const events = lines.filter((l) => l.startsWith("event: "));
    const data = lines.filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6)) as { data: { subscribe: { author: string; text: string } } });
    expect(events).toEqual(["event: next", "event: next", "event: complete"]);
    expect(data.map((d) => d.data.subscribe)).toEqual([
      { author: "ada", text: "hello" },
      { author: "grace", text: "hi Ada" },
    ]);
  });
});
