import { afterAll, beforeAll } from "vitest";
import { withoutRequestInfo } from "./request-info.js";
import { startDemoBackends, type DemoBackends } from "../../../src/demo/index.js";
import { Server, ServerCredentials, status, type Metadata, type ServerUnaryCall, type ServiceDefinition, type sendUnaryData, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { startGateway, type GatewaySeams, type RunningGateway } from "../../../src/app.js";
import { loadConfig } from "../../../src/config/load-config.js";
import { loadGenerated, type GeneratedFolder } from "../../../src/load-generated.js";
import { UserServiceService } from "../../../generated/demo/v1/user.js";

const GENERATED_DIR = new URL("../../../generated", import.meta.url).pathname;
let generatedCache: Promise<GeneratedFolder> | undefined;

/** The demo's generated folder, loaded once per test file. */
export function demoGenerated(): Promise<GeneratedFolder> {
  return (generatedCache ??= loadGenerated(GENERATED_DIR));
}

/**
 * Starts the gateway in-process on an ephemeral loopback port; `extra` is merged into the config.
 * Authentication and the access log are off unless `extra` says otherwise (the security suite tests auth).
 * `seams` injects clocks and the JWKS fetch.
 */
export async function startTestGateway(upstreams: Record<string, string>, extra: Record<string, unknown> = {}, seams: GatewaySeams = {}): Promise<RunningGateway> {
  const { writeFileSync, mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { stringify } = await import("yaml");
  const file = join(mkdtempSync(join(tmpdir(), "pg-config-")), "gateway.yaml");
  // The access log is off (it would write to the test run's stderr; its own suite turns it on), and
  // the admin listener takes a free port (test files run gateways side by side).
  writeFileSync(file, stringify({ logging: { level: "silent" }, auth: { mode: "off" }, accessLog: { mode: "off" }, admin: { port: 0 }, ...extra }));
  const config = loadConfig(file, { host: "127.0.0.1", port: 0, generated: GENERATED_DIR, upstreams });
  return startGateway(config, await demoGenerated(), seams);
}

/** What a test backend saw of one call. */
/**
 * The demo backends and a test gateway in front of them (with `extra` config) for the enclosing
 * `describe` block: started before its tests, closed after them. Read `url` inside the tests.
 */
export function demoGatewayForSuite(extra: Record<string, unknown> = {}): { readonly url: string } {
  let backends: DemoBackends | undefined;
  let gateway: RunningGateway | undefined;
  beforeAll(async () => {
    const started = await startDemoBackends({ host: "127.0.0.1", port: 0 });
    backends = started;
    gateway = await startTestGateway(Object.fromEntries(started.services.map((service) => [service, started.address])), extra);
  });
  afterAll(async () => {
    await gateway?.close();
    await backends?.close();
  });
  return {
    get url() {
      if (gateway === undefined) throw new Error("demoGatewayForSuite: read url inside a test (the gateway starts in beforeAll)");
      return gateway.url;
    },
  };
}

export interface SeenCall {
  readonly method: string;
  readonly request: unknown;
  readonly metadata: Metadata;
}

/** More of a test backend: where it listens, other services it serves. */
export interface BackendOptions {
  /** The loopback address to bind (default: a free port on 127.0.0.1), e.g. to start a killed backend again at its address. */
  readonly bindAddress?: string;
  /** Services served beside demo.v1.UserService (a grpc.health.v1.Health, say). */
  readonly services?: ReadonlyArray<readonly [ServiceDefinition, UntypedServiceImplementation]>;
}

/**
 * A demo.v1.UserService backend whose handlers a test supplies; every call is recorded. Methods a
 * test does not supply answer UNIMPLEMENTED.
 */
type RpcName = keyof typeof UserServiceService;

export async function startUserBackend(
  handlers: Partial<Record<RpcName, (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void>>,
  credentials: ServerCredentials = ServerCredentials.createInsecure(),
  more: BackendOptions = {},
): Promise<{ address: string; calls: SeenCall[]; close(): Promise<void>; forceClose(): void }> {
  const calls: SeenCall[] = [];
  const server = new Server();
  const implementation: UntypedServiceImplementation = {};
  for (const name of Object.keys(UserServiceService) as RpcName[]) {
    implementation[name] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      calls.push({ method: name, request: call.request, metadata: call.metadata });
      const handler = handlers[name];
      if (handler) handler(call, callback);
      else callback({ code: status.UNIMPLEMENTED, details: `${name} is not implemented by this test backend` });
    };
  }
  server.addService(UserServiceService, implementation);
  for (const [definition, serviceImplementation] of more.services ?? []) server.addService(definition, serviceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(more.bindAddress ?? "127.0.0.1:0", credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `${(more.bindAddress ?? "127.0.0.1:0").replace(/:\d+$/, "")}:${port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    /** Kills the backend: every connection is reset, calls in flight included. */
    forceClose: () => server.forceShutdown(),
  };
}

/** A GetUser handler answering user "Ada" for any ID, and NOT_FOUND ("no such user") for "missing". */
export function getUserOrNotFound(call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void {
  const { userId } = call.request as { userId: string };
  if (userId === "missing") return callback({ code: status.NOT_FOUND, details: "no such user" });
  callback(null, { userId, displayName: "Ada", email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0" });
}

/** A parsed HTTP response. */
export interface TestResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /**
   * The body parsed as JSON (undefined when it is not JSON); an error body's RequestInfo detail,
   * checked against the x-request-id header, is taken out (request-info.ts).
   */
  readonly json: unknown;
}

/** Sends a request with fetch and reads the whole response. */
export async function send(base: string, method: string, path: string, init: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<TestResponse> {
  const response = await fetch(`${base}${path}`, { method, headers: init.headers, body: init.body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json: withoutRequestInfo(json, response.status, response.headers.get("x-request-id")) };
}

/** A JSON request. */
export function sendJson(base: string, method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<TestResponse> {
  return send(base, method, path, { headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
}
