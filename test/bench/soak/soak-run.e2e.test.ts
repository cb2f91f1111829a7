import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { TRAFFIC_CLASSES } from "../../../bench/soak/traffic-classes.js";
import type { SoakSample } from "../../../bench/soak/soak-sample.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const RUN_TIMEOUT_MS = 120_000;

interface SoakReport {
  readonly classes: readonly { name: string; sent: number; expected: number; unexpected: number }[];
  readonly samples: readonly SoakSample[];
  readonly verdict: { pass: boolean; unexpectedErrors: number; memory: { judged: boolean }; failures: string[] };
}

function runSoak(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/run-ts.js", "bench/soak/soak.ts", ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

// The memory store: this short run checks the soak's machinery (processes, traffic, sampling,
// report, chart), and stays clear of Redis timeouts that a loaded CI machine can cause (the
// Redis path is what `npm run soak` runs by default).
describe("npm run soak (a few seconds, memory store)", () => {
  const out = mkdtempSync(join(tmpdir(), "protogate-soak-test-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it(
    "drives every traffic class against a real gateway, samples it, and writes a JSON report and a PNG chart with zero unexpected errors",
    async () => {
      const { code, output } = await runSoak(["--minutes", "0.1", "--rate", "40", "--sample-seconds", "1", "--no-redis", "--no-pin", "--out", out]);
      expect(code, output).toBe(0);

      const files = readdirSync(out);
      const json = files.find((file) => /^soak-.*\.json$/.test(file));
      const png = files.find((file) => /^soak-.*\.png$/.test(file));
      expect(json, files.join(", ")).toBeDefined();
      expect(png, files.join(", ")).toBeDefined();

      const report = JSON.parse(readFileSync(join(out, json as string), "utf8")) as SoakReport;
      // A sample at t = 0 and one per second of the 6-second run.
      expect(report.samples.length).toBeGreaterThanOrEqual(6);
      for (const sample of report.samples) {
        expect(sample.probeAnswered).toBe(true);
        expect(sample.rssMb).toBeGreaterThan(10);
        expect(sample.heapUsedMb).toBeGreaterThan(1);
        expect(sample.fds).toBeGreaterThan(3);
      }
      expect(report.samples.slice(1).every((s) => s.eventLoopDelayMs !== null && s.eventLoopDelayMs.p99 >= 0)).toBe(true);
      expect(report.classes.map((c) => c.name)).toEqual(TRAFFIC_CLASSES.map((c) => c.name));
      for (const c of report.classes) {
        expect(c.sent, c.name).toBeGreaterThan(0);
        expect(c.expected, c.name).toBe(c.sent);
        expect(c.unexpected, c.name).toBe(0);
      }
      expect(report.verdict).toMatchObject({ pass: true, unexpectedErrors: 0, memory: { judged: false }, failures: [] });

      const image = readFileSync(join(out, png as string));
      expect(image.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      // IHDR: width and height, big-endian, at bytes 16-23.
      expect(image.readUInt32BE(16)).toBe(1200);
      expect(image.readUInt32BE(20)).toBeGreaterThan(800);
      expect(image.length).toBeGreaterThan(10_000);
    },
    RUN_TIMEOUT_MS + 10_000,
  );
});
