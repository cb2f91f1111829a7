import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemoBackends, type DemoBackends } from "../../src/demo/index.js";
import { runProtogate, waitForListening, type ProtogateProcess } from "./support/processes.js";

// The real gateway (`protogate serve`, its own process) with every demo upstream on the `wire`
// transport (Protogate's own HTTP/2 client), in front of the demo's gRPC backends.

describe("protogate serve with transport: wire against the demo backends", () => {
  let backends: DemoBackends;
  let gateway: ProtogateProcess;
  let base: string;

  beforeAll(async () => {
    backends = await startDemoBackends({ host: "127.0.0.1", port: 0 });
    const dir = mkdtempSync(join(tmpdir(), "pg-wire-"));
    const upstreams = backends.services.map((service) => `  ${service}:\n    address: "${backends.address}"\n    transport: wire\n`).join("");
    writeFileSync(join(dir, "gateway.yaml"), `upstreams:\n${upstreams}`);
    gateway = runProtogate(["serve", "--config", join(dir, "gateway.yaml"), "--generated", "generated", "--port", "0", "--admin-port", "0", "--auth", "off"]);
    base = await waitForListening(gateway);
  }, 30_000);
  afterAll(async () => {
    gateway?.child.kill("SIGTERM");
    if (gateway) await gateway.exited;
    await backends?.close();
  });

  it("a unary GET", async () => {
    const response = await fetch(`${base}/v1/users/u-1`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ userId: "u-1" });
  });

  it("a POST with a JSON body, and a 404 from the upstream's status", async () => {
    const created = await fetch(`${base}/v1/users`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ displayName: "Ada", email: "ada@example.com" }) });
    expect(created.status).toBe(201);
    const user = (await created.json()) as { userId: string; displayName: string };
    expect(user.displayName).toBe("Ada");
    expect((await fetch(`${base}/v1/users/${user.userId}`)).status).toBe(200);
    expect((await fetch(`${base}/v1/users/nobody`)).status).toBe(404);
  });

  it("a client stream, then a server stream replaying it as NDJSON", async () => {
    const batch = await fetch(`${base}/v1/rooms/wire/messages:batch`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: '{"author":"ada","text":"hello"}\n{"author":"grace","text":"hi Ada"}\n',
    });
    expect(batch.status).toBe(200);
    expect(await batch.json()).toMatchObject({ count: 2 });
    const subscription = await fetch(`${base}/v1/rooms/wire/messages:subscribe?replay=2&limit=2`);
    expect(subscription.status).toBe(200);
    expect(subscription.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = (await subscription.text()).trim().split("\n").map((line) => JSON.parse(line) as { result: { text: string } });
    expect(lines.map((line) => line.result.text)).toEqual(["hello", "hi Ada"]);
  });
});
