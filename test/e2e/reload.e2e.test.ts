import { status, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { startGateway, type RunningGateway } from "../../src/app.js";
import { loadConfigFile, type ConfigSource } from "../../src/config/load-config.js";
import { Changes } from "../support/until.js";
import { startUserBackend } from "./support/gateway-harness.js";
import { responseJson } from "./support/request-info.js";

// Hot reload in one process (RunningGateway.reload, POST /reload and GET /config on the admin
// port): a temporary gateway.yaml and a copy of the demo's generated folder that the tests edit.

const GENERATED_DIR = new URL("../../generated", import.meta.url).pathname;

/** A UserService backend answering GetUser and ListUsers with its name; GetUser "slow" waits for the test. */
async function namedBackend(name: string) {
  const slow: Array<() => void> = [];
  let slowArrived: () => void = () => undefined;
  const user = (userId: string) => ({ userId, displayName: name, email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0" });
  const backend = await startUserBackend({
    getUser: (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const { userId } = call.request as { userId: string };
      if (userId !== "slow") return callback(null, user(userId));
      slow.push(() => callback(null, user(userId)));
      slowArrived();
    },
    listUsers: (_call, callback) => callback(null, { users: [], nextPageToken: "" }),
  });
  return {
    ...backend,
    /** Resolves with the release of the next slow call once the backend has received it. */
    nextSlowCall: () => new Promise<() => void>((resolve) => (slowArrived = () => resolve(slow.shift()!))),
  };
}

/** An extra route in a generated folder: GetUser also at /v1/people/{user_id} (a route-table change). */
function addPeopleRoute(generated: string): void {
  writeFileSync(
    join(generated, "extra.routes.js"),
    `import { UserService_GetUser } from "./demo/v1/user.routes.js";
export const bindings = [{ ...UserService_GetUser, pattern: "/v1/people/{user_id}", source: "extra:1",
  template: { segments: [{ kind: "literal", value: "v1" }, { kind: "literal", value: "people" }, { kind: "wildcard" }], variables: [{ fieldPath: ["user_id"], start: 2, end: 3 }], verb: null } }];
`,
  );
  const index = join(generated, "index.js");
  const text = readFileSync(index, "utf8");
  writeFileSync(index, `import { bindings as extra } from "./extra.routes.js";\n${text.replace("export const bindings = [", "export const bindings = [...extra, ")}`);
}

describe("hot reload (one process)", () => {
  let a: Awaited<ReturnType<typeof namedBackend>>;
  let b: Awaited<ReturnType<typeof namedBackend>>;
  let gateway: RunningGateway | undefined;

  beforeAll(async () => {
    a = await namedBackend("A");
    b = await namedBackend("B");
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  /** A folder with gateway.yaml (from `settings`) and a copy of the generated folder; `write` rewrites the file. */
  function workspace() {
    const dir = mkdtempSync(join(tmpdir(), "pg-reload-"));
    const generated = join(dir, "generated");
    cpSync(GENERATED_DIR, generated, { recursive: true });
    const file = join(dir, "gateway.yaml");
    return { dir, generated, file, write: (settings: Record<string, unknown>) => writeFileSync(file, stringify(settings)) };
  }

  const base = (upstream: string, listUsersPerHour: number) => ({
    logging: { level: "silent" },
    auth: { mode: "off" },
    accessLog: { mode: "off" },
    admin: { port: 0 },
    generated: "generated",
    upstreams: { "demo.v1.UserService": upstream },
    rateLimits: {
      limits: [
        { name: "get-user", key: "global", methods: ["demo.v1.UserService.GetUser"], requests: 100_000, periodSeconds: 60 },
        { name: "list-users", key: "global", methods: ["demo.v1.UserService.ListUsers"], requests: listUsersPerHour, periodSeconds: 3_600 },
      ],
    },
  });

  async function start(file: string): Promise<RunningGateway> {
    const source: ConfigSource = { file, overrides: { host: "127.0.0.1", port: 0 } };
    const loaded = loadConfigFile(source.file, source.overrides);
    gateway = await startGateway(loaded.config, undefined, {}, { configSource: source, configSha256: loaded.sha256 });
    return gateway;
  }

  const activeConfig = async (g: RunningGateway) => (await (await fetch(`${g.adminUrl}/config`)).json()) as { hash: string; configSha256: string; routeTableSha256: string; loadedAt: string };

  it("under steady load: a new upstream address, a new limit and a new route take effect with no failed request; a request in flight finishes on the old configuration", async () => {
    const ws = workspace();
    ws.write(base(a.address, 1));
    const g = await start(ws.file);
    const before = await activeConfig(g);
    expect(before.hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await fetch(`${g.url}/v1/users`)).status).toBe(200);
    expect((await fetch(`${g.url}/v1/users`)).status).toBe(429);
    expect((await fetch(`${g.url}/v1/people/u-1`)).status).toBe(404);

    // Steady load over kept-alive connections (fetch's pool): every answer is recorded, and the
    // test waits for the answers it needs as they are recorded.
    const answers: Array<{ status: number; name: string; limit: string | null }> = [];
    const answered = new Changes();
    let loading = true;
    const client = async () => {
      while (loading) {
        const response = await fetch(`${g.url}/v1/users/u-1`);
        const body = (await response.json()) as { displayName?: string };
        answers.push({ status: response.status, name: body.displayName ?? "", limit: response.headers.get("x-ratelimit-limit") });
        answered.changed();
      }
    };
    const clients = [client(), client(), client(), client()];
    await answered.until(() => answers.length > 50);
    const slowRelease = a.nextSlowCall();
    const inFlight = fetch(`${g.url}/v1/users/slow`);
    const releaseSlow = await slowRelease;

    ws.write({ ...base(b.address, 1_000), rateLimits: { limits: [{ ...base(b.address, 1_000).rateLimits.limits[0], requests: 200_000 }, base(b.address, 1_000).rateLimits.limits[1]] } });
    addPeopleRoute(ws.generated);
    const reloaded = await fetch(`${g.adminUrl}/reload`, { method: "POST" });
    expect(reloaded.status).toBe(200);
    const after = (await reloaded.json()) as { hash: string; routeTableSha256: string; configSha256: string };
    expect(after.hash).not.toBe(before.hash);
    expect(after.routeTableSha256).not.toBe(before.routeTableSha256);
    expect(after.configSha256).not.toBe(before.configSha256);
    expect(await activeConfig(g)).toMatchObject(after);

    const countAtReload = answers.length;
    await answered.until(() => answers.length > countAtReload + 50);
    loading = false;
    await Promise.all(clients);
    // Not one failed request; the old upstream and limit before, the new ones after.
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(answers.at(-1)).toEqual({ status: 200, name: "B", limit: "200000" });
    expect(answers[0]).toEqual({ status: 200, name: "A", limit: "100000" });
    const switched = answers.findIndex((answer) => answer.name === "B");
    expect(answers.slice(switched).every((answer) => answer.name === "B" && answer.limit === "200000")).toBe(true);

    // The request that began before the reload is answered by the old generation's upstream.
    releaseSlow();
    const slow = await inFlight;
    expect(slow.status).toBe(200);
    expect(await slow.json()).toMatchObject({ userId: "slow", displayName: "A" });
    // The new route, the new limit.
    expect(await (await fetch(`${g.url}/v1/people/u-7`)).json()).toMatchObject({ userId: "u-7", displayName: "B" });
    expect((await fetch(`${g.url}/v1/users`)).status).toBe(200);
    expect((await fetch(`${g.url}/v1/users`)).status).toBe(200);
  });

  it.each([
    ["a schema error", (ws: ReturnType<typeof workspace>) => ws.write({ ...base(b.address, 1), deadlines: { defaultMs: -5 } }), 400, "PG_ERR_CONFIG_INVALID", "deadlines.defaultMs"],
    ["invalid YAML", (ws: ReturnType<typeof workspace>) => writeFileSync(ws.file, "upstreams: [unclosed\n"), 400, "PG_ERR_CONFIG_INVALID", "invalid YAML"],
    [
      "an unreadable key file",
      (ws: ReturnType<typeof workspace>) => ws.write({ ...base(b.address, 1), upstreams: { "demo.v1.UserService": { address: b.address, tls: { certFile: ws.file, keyFile: "missing-key.pem" } } } }),
      400,
      "PG_ERR_CONFIG_INVALID",
      "upstreams.demo.v1.UserService.tls.keyFile: cannot read",
    ],
    [
      "a route table that fails to load",
      (ws: ReturnType<typeof workspace>) => {
        ws.write(base(b.address, 1));
        writeFileSync(join(ws.generated, "index.js"), "export const bindings = [;\n");
      },
      400,
      "PG_ERR_CONFIG_INVALID",
      "index.js",
    ],
    ["a route table of another format", (ws: ReturnType<typeof workspace>) => writeFileSync(join(ws.generated, "index.js"), 'export const bindings = []; export const descriptorSetBase64 = ""; export const routeTableFormat = 2;\n'), 400, "PG_ERR_CONFIG_INVALID", "regenerate it"],
    ["a changed listener setting", (ws: ReturnType<typeof workspace>) => ws.write({ ...base(b.address, 1), server: { bodyLimitBytes: 1_000 }, cors: { origins: "*" } }), 400, "PG_ERR_RESTART_REQUIRED", "server.bodyLimitBytes, cors changed"],
  ])("%s: refused with the reason, and the old configuration stays in force (and is what /config reports)", async (_name, breakIt, httpStatus, reason, says) => {
    const ws = workspace();
    ws.write(base(a.address, 1));
    const g = await start(ws.file);
    const before = await activeConfig(g);
    breakIt(ws);
    const refused = await fetch(`${g.adminUrl}/reload`, { method: "POST" });
    expect(refused.status).toBe(httpStatus);
    const body = (await responseJson(refused)) as { code: number; message: string; details: Array<{ reason?: string }> };
    expect(body.code).toBe(reason === "PG_ERR_RESTART_REQUIRED" || reason === "PG_ERR_CONFIG_INVALID" ? status.FAILED_PRECONDITION : status.UNAVAILABLE);
    expect(body.message).toMatch(/^reload refused, the configuration in force is unchanged: /);
    expect(body.message).toContain(says);
    expect(body.details[0]?.reason).toBe(reason);
    expect(await activeConfig(g)).toEqual(before);
    expect(await (await fetch(`${g.url}/v1/users/u-1`)).json()).toMatchObject({ displayName: "A" });
    await expect(g.reload()).rejects.toThrow(says);
  });

  it("the admin endpoints: GET /config and POST /reload only (405 naming the method allowed)", async () => {
    const ws = workspace();
    ws.write(base(a.address, 1));
    const g = await start(ws.file);
    const config = await activeConfig(g);
    expect(config).toMatchObject({ file: ws.file, generated: ws.generated });
    expect(Date.parse(config.loadedAt)).not.toBeNaN();
    const wrong = await fetch(`${g.adminUrl}/reload`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect((await fetch(`${g.adminUrl}/config`, { method: "POST" })).status).toBe(405);
    // Reloading the same files changes nothing but the load time.
    const again = (await (await fetch(`${g.adminUrl}/reload`, { method: "POST" })).json()) as typeof config;
    expect({ ...again, loadedAt: undefined }).toEqual({ ...config, loadedAt: undefined });
  });

  it("reloads run one at a time, and a reload while the gateway shuts down is refused", async () => {
    const ws = workspace();
    ws.write(base(a.address, 1));
    const g = await start(ws.file);
    const results = await Promise.all([g.reload(), g.reload(), g.reload()]);
    expect(new Set(results.map((result) => result.hash)).size).toBe(1);
    const closing = g.close();
    await expect(g.reload()).rejects.toThrow("the gateway is shutting down");
    await closing;
    gateway = undefined;
  });
});
