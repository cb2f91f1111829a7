import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProtogate, waitForListening, type ProtogateProcess } from "./support/processes.js";

const exec = promisify(execFile);

/** `npm start` runs `protogate demo`; its printed curl lines must work exactly as printed. */
describe("protogate demo", () => {
  let demo: ProtogateProcess;
  let curlLines: string[];

  beforeAll(async () => {
    demo = runProtogate(["demo", "--port", "0"]);
    await waitForListening(demo);
    const deadline = Date.now() + 5_000;
    while (!demo.stdout().includes("Ctrl-C") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    curlLines = demo
      .stdout()
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.startsWith("curl "));
  }, 30_000);
  afterAll(async () => {
    demo?.child.kill("SIGTERM");
    if (demo) expect(await demo.exited).toBe(0);
  });

  it("prints several curl lines", () => {
    expect(curlLines.length).toBeGreaterThanOrEqual(5);
  });

  it("every printed curl line works as printed (the last shows a 404 error body)", async () => {
    for (const [index, line] of curlLines.entries()) {
      const { stdout } = await exec("bash", ["-c", `${line} -w '\\n%{http_code}'`]);
      const code = Number(stdout.trim().split("\n").at(-1));
      const isLast = index === curlLines.length - 1;
      expect(code, `${line}\n${stdout}`).toBe(isLast ? 404 : 200);
      if (isLast) expect(stdout).toContain('"code":5');
    }
  });
});
