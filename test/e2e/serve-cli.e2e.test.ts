import { status, type ServerWritableStream } from "@grpc/grpc-js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTE_TABLE_FORMAT } from "../../src/binding.js";
import { roundTripsUntil } from "../support/at-rest.js";
import { startUserBackend } from "./support/gateway-harness.js";
import { message, startChatBackend, whenCancelled } from "./support/chat-backend.js";
import { openStream } from "./support/open-stream.js";
import { runProtogate, waitForListening, waitForOutput } from "./support/processes.js";

/**
 * Round trips to /readyz (bounded) until it answers `status`. On SIGTERM the process turns to
 * draining on its own and logs nothing until it exits, so the only event a test can see is an
 * answer of /readyz: each request, answered, is one step of this wait (no time is waited for).
 */
async function readyzUntil(admin: string, status: number): Promise<void> {
  let seen: number | undefined;
  await roundTripsUntil(
    () => seen === status,
    async () => {
      const response = await fetch(`${admin}/readyz`);
      await response.arrayBuffer();
      seen = response.status;
    },
  );
}

describe("protogate serve (the real process)", () => {
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  /** Resolves with the slow call's reply function once the backend has received it. */
  let slowCallArrived: (reply: () => void) => void = () => undefined;

  beforeAll(async () => {
    backend = await startUserBackend({
      getUser: (call, callback) => {
        const { userId } = call.request as { userId: string };
        const reply = () => callback(null, { userId, displayName: "Slow", email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0" });
        if (userId === "slow") slowCallArrived(reply);
        else reply();
      },
    });
  });
  afterAll(() => backend?.close());

  it("prints the ready line, serves, and on SIGTERM drains the in-flight request and exits 0", async () => {
    const proc = runProtogate(["serve", "--generated", "generated", "--upstream", `demo.v1.UserService=${backend.address}`, "--port", "0", "--admin-port", "0", "--auth", "off"]);
    try {
      const base = await waitForListening(proc);
      expect(proc.stdout()).toMatch(/^protogate listening on http:\/\/127\.0\.0\.1:\d+\n/);
      const ok = await fetch(`${base}/v1/users/u-7`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ userId: "u-7" });

      const [, admin] = await waitForOutput(proc, /protogate admin on (http:\/\/\S+)/);
      const arrived = new Promise<() => void>((resolve) => (slowCallArrived = resolve));
      const inFlight = fetch(`${base}/v1/users/slow`);
      const releaseSlowCall = await arrived;
      proc.child.kill("SIGTERM");
      // Draining (readiness 503) has begun; the process must wait for the in-flight call rather than drop it.
      await readyzUntil(admin, 503);
      expect(proc.child.exitCode).toBeNull();
      releaseSlowCall();
      const drained = await inFlight;
      expect(drained.status).toBe(200);
      expect(await drained.json()).toMatchObject({ userId: "slow", displayName: "Slow" });
      expect(await proc.exited).toBe(0);
    } finally {
      proc.child.kill("SIGKILL");
    }
  });

  it("on SIGTERM a slow request completes, an open stream ends with a last error line at the drain deadline, and the process exits 0", async () => {
    const subscribed: Array<ServerWritableStream<unknown, unknown>> = [];
    const chat = await startChatBackend({
      subscribe: (call) => {
        subscribed.push(call);
        call.write(message(1));
      },
    });
    const dir = mkdtempSync(join(tmpdir(), "pg-drain-"));
    writeFileSync(join(dir, "gateway.yaml"), "server:\n  drainTimeoutMs: 2500\n");
    const upstreams = ["--upstream", `demo.v1.UserService=${backend.address}`, "--upstream", `demo.v1.ChatService=${chat.address}`];
    const proc = runProtogate(["serve", "--config", join(dir, "gateway.yaml"), "--generated", "generated", "--port", "0", "--admin-port", "0", "--auth", "off", ...upstreams]);
    try {
      const base = await waitForListening(proc);
      const [, admin] = await waitForOutput(proc, /protogate admin on (http:\/\/\S+)/);
      const stream = await openStream(base, "/v1/rooms/lobby/messages:subscribe");
      await stream.firstData;
      const arrived = new Promise<() => void>((resolve) => (slowCallArrived = resolve));
      const inFlight = fetch(`${base}/v1/users/slow`);
      const releaseSlowCall = await arrived;

      proc.child.kill("SIGTERM");
      await readyzUntil(admin, 503);
      releaseSlowCall();
      const drained = await inFlight;
      expect(drained.status).toBe(200);
      expect(await drained.json()).toMatchObject({ userId: "slow" });
      // The subscription never ends on its own: the deadline ends it with a last line, not a cut.
      await stream.done;
      expect(stream.response.complete).toBe(true);
      const lines = stream.text().trimEnd().split("\n").map((line) => JSON.parse(line) as { result?: unknown; error?: { code: number; message: string } });
      expect(lines).toHaveLength(2);
      expect(lines[1].error).toMatchObject({ code: status.UNAVAILABLE, message: "the gateway is shutting down; retry on another instance" });
      expect(await proc.exited).toBe(0);
      await whenCancelled(subscribed[0]);
      expect(subscribed[0].cancelled).toBe(true);
    } finally {
      proc.child.kill("SIGKILL");
      await chat.close();
    }
  });

  it("with docs.enabled, prints the docs URL, which serves the page", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pg-docs-config-"));
    writeFileSync(join(dir, "gateway.yaml"), "docs:\n  enabled: true\n");
    const proc = runProtogate(["serve", "--config", join(dir, "gateway.yaml"), "--generated", "generated", "--port", "0", "--admin-port", "0", "--auth", "off"]);
    try {
      const base = await waitForListening(proc);
      await waitForOutput(proc, /API docs/);
      expect(proc.stdout()).toContain(`API docs on ${base}/docs (OpenAPI document: ${base}/openapi.json)`);
      expect((await fetch(`${base}/docs`)).status).toBe(200);
    } finally {
      proc.child.kill("SIGKILL");
    }
  });

  it("with docs.enabled and a generated folder without openapi.json, exits 1 with one line naming the file and the fix", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pg-docs-nodoc-"));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(join(dir, "index.js"), `export const bindings = []; export const descriptorSetBase64 = ""; export const routeTableFormat = ${ROUTE_TABLE_FORMAT};\n`);
    writeFileSync(join(dir, "gateway.yaml"), "docs:\n  enabled: true\n");
    const proc = runProtogate(["serve", "--config", join(dir, "gateway.yaml"), "--generated", dir, "--port", "0"]);
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toBe(`protogate: docs.enabled is true, but ${dir}/openapi.json does not exist: regenerate the folder with \`protogate generate --out ${dir}\` (it writes openapi.json), or turn the docs off\n`);
  });

  it("rejects an invalid config naming the bad key, and exits 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pg-bad-config-"));
    const file = join(dir, "gateway.yaml");
    writeFileSync(file, "server:\n  port: not-a-port\n  colour: blue\n");
    const proc = runProtogate(["serve", "--config", file, "--generated", "generated"]);
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain("server.port");
    expect(proc.stderr()).toContain('"colour"');
  });

  it.each([
    ["regression: a missing --generated folder ended in a stack trace", ["serve", "--generated", "/nonexistent/gen", "--port", "0", "--admin-port", "0", "--auth", "off"], "protogate: /nonexistent/gen has no index.js; run `protogate generate --out /nonexistent/gen` first"],
    ["regression: a listen address of another machine ended in a stack trace", ["serve", "--host", "10.9.9.9", "--port", "0", "--admin-port", "0", "--auth", "off"], "protogate: cannot listen on 10.9.9.9: 10.9.9.9 is not an address of this machine"],
  ])("%s: one line naming the cause and the fix, exit 1", async (_name, args, line) => {
    const proc = runProtogate(args);
    expect(await proc.exited).toBe(1);
    expect(proc.stderr().trim().split("\n").at(-1)).toContain(line);
    expect(proc.stderr()).not.toMatch(/^\s+at /m);
  });

  it("regression: auth on with nothing configured gave a 401 on every route without a hint; serve now warns what to do", async () => {
    const proc = runProtogate(["serve", "--generated", "generated", "--port", "0", "--admin-port", "0", "--upstream", `demo.v1.UserService=${backend.address}`]);
    try {
      await waitForListening(proc);
      expect(proc.stderr()).toContain("authentication is on but no JWT issuer and no API key is configured");
      expect(proc.stderr()).toContain("--auth off");
    } finally {
      proc.child.kill("SIGTERM");
      await proc.exited;
    }
  });

  it("prints its version", async () => {
    const proc = runProtogate(["--version"]);
    expect(await proc.exited).toBe(0);
    expect(proc.stdout().trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("rejects a malformed --upstream flag", async () => {
    const proc = runProtogate(["serve", "--upstream", "no-equals-sign"]);
    expect(await proc.exited).not.toBe(0);
    expect(proc.stderr()).toContain("SERVICE=HOST:PORT");
  });

  it("flags override the config file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pg-config-"));
    const file = join(dir, "gateway.yaml");
    writeFileSync(file, `server:\n  port: 1\nupstreams:\n  demo.v1.UserService: 127.0.0.1:1\nlogging:\n  level: silent\n`);
    const proc = runProtogate(["serve", "--config", file, "--generated", "generated", "--port", "0", "--admin-port", "0", "--upstream", `demo.v1.UserService=${backend.address}`, "--auth", "off"]);
    try {
      const base = await waitForListening(proc);
      const response = await fetch(`${base}/v1/users/u-9`);
      expect(response.status).toBe(200);
      // A service with no upstream answers 503, naming the service.
      const orphan = await fetch(`${base}/v1/payments/p-1`);
      expect(orphan.status).toBe(503);
      expect(((await orphan.json()) as { code: number; message: string }).code).toBe(status.UNAVAILABLE);
    } finally {
      proc.child.kill("SIGTERM");
      await proc.exited;
    }
  });
});
