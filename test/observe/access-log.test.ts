import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Caller } from "../../src/auth/caller.js";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import type { RequestHead } from "../../src/gateway/request.js";
import { Exchange } from "../../src/observe/exchange.js";
import { accessLine, formatAccessLine, isFailure, MAX_PATH_LENGTH, type AccessLine } from "../../src/observe/access-log/access-line.js";
import { createIsoClock } from "../../src/observe/access-log/iso-time.js";
import { createAccessLog } from "../../src/observe/access-log/access-log.js";
import { accessLogConfigSchema, type AccessLogConfig } from "../../src/observe/access-log/access-log-config.js";
import { makeBinding } from "../transcode/binding-fixture.js";

const binding = makeBinding({ requestType: "test.v1.GetThing", pattern: "/v1/things/{thing_id}", variables: ["thing_id"], httpMethod: "GET" });
const streamBinding = { ...makeBinding({ requestType: "test.v1.Watch", pattern: "/v1/things:watch", httpMethod: "GET" }), kind: "server" as const };

/** An exchange as the pipeline leaves it at `ended`; headers as [name, value] pairs (raw and parsed alike). */
function exchange(
  options: {
    method?: string;
    url?: string;
    headers?: ReadonlyArray<readonly [string, string]>;
    matched?: boolean;
    stream?: boolean;
    status?: number;
    grpcCode?: number;
    error?: GatewayError;
    upstreamMs?: number;
    caller?: Caller;
    traceId?: string;
  } = {},
): Exchange {
  const pairs = options.headers ?? [];
  const headers: Record<string, string> = {};
  for (const [name, value] of pairs) headers[name.toLowerCase()] = value;
  const head: RequestHead = { method: options.method ?? "GET", url: options.url ?? "/v1/things/t-1", headers, rawHeaders: pairs.flat(), client: { ip: "203.0.113.9", host: "gw.example", protocol: "http" } };
  const made = new Exchange("req-1", head, 1000);
  if (options.matched ?? true) made.binding = options.stream ? streamBinding : binding;
  made.caller = options.caller;
  if (options.grpcCode !== undefined) made.settle(options.grpcCode, options.error);
  made.status = options.status ?? 200;
  made.bytesOut = 42;
  if (options.upstreamMs !== undefined) {
    made.upstreamStartedAt = 1001;
    made.upstreamMs = options.upstreamMs;
    made.upstreamCode = options.grpcCode;
  }
  made.durationMs = 12.3456789;
  if (options.traceId) made.trace = { traceId: options.traceId, spanId: "00f067aa0ba902b7", parentSpanId: undefined, traceState: undefined, sampled: true, remoteParent: false, clientSpanId: undefined, clientStartedAt: 0 };
  return made;
}

const apiKeyCaller: Caller = { kind: "api-key", subject: "acme", consumer: "acme", keyId: "abcd", scopes: new Set(), claims: {} };
const jwtCaller: Caller = { kind: "jwt", subject: "user-7", issuer: "https://login.example", scopes: new Set(), claims: {} };
const base = { requestId: "req-1", traceId: null, method: "GET", clientIp: "203.0.113.9", userAgent: null, bytesOut: 42, bytesIn: null, durationMs: 12.346 };

describe("accessLine", () => {
  it.each<[string, Exchange, Partial<AccessLine>]>([
    [
      "a matched unary success, authenticated by API key",
      exchange({ grpcCode: 0, upstreamMs: 3.14159, caller: apiKeyCaller, headers: [["user-agent", "curl/8"]] }),
      { route: "/v1/things/{thing_id}", rpc: "/test.v1.TestService/Test", path: "/v1/things/t-1", status: 200, grpcCode: 0, upstreamMs: 3.142, consumer: "acme", userAgent: "curl/8", error: null },
    ],
    [
      "an unmatched request (404): route and rpc null",
      exchange({ matched: false, url: "/nowhere?x=1", status: 404, grpcCode: GrpcCode.NOT_FOUND, error: new GatewayError(GrpcCode.NOT_FOUND, "PG_ERR_ROUTE_NOT_FOUND", "no route") }),
      { route: null, rpc: null, path: "/nowhere", status: 404, grpcCode: 5, upstreamMs: null, consumer: null, error: "PG_ERR_ROUTE_NOT_FOUND" },
    ],
    [
      "a refusal before routing (no gRPC outcome known, no upstream)",
      exchange({ matched: false, method: "PROPFIND", url: "/", status: 501, grpcCode: GrpcCode.UNIMPLEMENTED, error: new GatewayError(GrpcCode.UNIMPLEMENTED, "PG_ERR_METHOD_NOT_IMPLEMENTED", "no") }),
      { method: "PROPFIND", route: null, rpc: null, path: "/", status: 501, grpcCode: 12, error: "PG_ERR_METHOD_NOT_IMPLEMENTED" },
    ],
    [
      "a JWT caller refused by a limit (429): the consumer is the token's subject",
      exchange({ status: 429, grpcCode: GrpcCode.RESOURCE_EXHAUSTED, caller: jwtCaller, error: new GatewayError(GrpcCode.RESOURCE_EXHAUSTED, "PG_ERR_RATE_LIMITED", "slow down") }),
      { route: "/v1/things/{thing_id}", status: 429, grpcCode: 8, consumer: "user-7", upstreamMs: null, error: "PG_ERR_RATE_LIMITED" },
    ],
    [
      "a server stream that broke after its 200",
      exchange({ stream: true, url: "/v1/things:watch", grpcCode: GrpcCode.UNAVAILABLE, upstreamMs: 50, error: new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_UNAVAILABLE", "gone") }),
      { route: "/v1/things:watch", path: "/v1/things:watch", status: 200, grpcCode: 14, upstreamMs: 50, error: "PG_ERR_UPSTREAM_UNAVAILABLE" },
    ],
    [
      "a WebSocket call (101) with a trace",
      exchange({ stream: true, url: "/v1/things:watch", status: 101, grpcCode: 0, upstreamMs: 900, traceId: "4bf92f3577b34da6a3ce929d0e0e4736" }),
      { status: 101, grpcCode: 0, traceId: "4bf92f3577b34da6a3ce929d0e0e4736", route: "/v1/things:watch", path: "/v1/things:watch", upstreamMs: 900, error: null },
    ],
    [
      "a client that went away (499) before any outcome",
      exchange({ status: 499, headers: [["content-length", "17"]] }),
      { status: 499, grpcCode: null, bytesIn: 17, error: null },
    ],
  ])("%s", (_name, ended, expected) => {
    expect(accessLine(ended)).toEqual({ ...base, route: "/v1/things/{thing_id}", rpc: "/test.v1.TestService/Test", path: "/v1/things/t-1", status: 200, grpcCode: null, upstreamMs: null, consumer: null, userAgent: null, error: null, ...expected });
  });

  it("cuts a very long path and user agent", () => {
    const line = accessLine(exchange({ url: `/${"a".repeat(10_000)}`, headers: [["user-agent", "u".repeat(1000)]] }));
    expect(line.path).toHaveLength(MAX_PATH_LENGTH + 3);
    expect(line.userAgent?.length).toBeLessThan(300);
  });

  it.each([
    ["a non-numeric Content-Length", "12abc", null],
    ["a huge one", "9".repeat(30), null],
    ["zero", "0", 0],
  ])("bytesIn of %s", (_name, header, expected) => {
    expect(accessLine(exchange({ headers: [["content-length", header]] })).bytesIn).toBe(expected);
  });
});

describe("formatAccessLine", () => {
  it.each([
    ["quotes, backslashes and a newline", 'a "quoted" \\ agent\nwith a second line'],
    ["control characters", "\u0000\u001b[31mred"],
    ["non-ASCII and a lone surrogate", "caf\u00e9 \ud83d\ude00 \ud800"],
  ])("is one valid JSON line whatever the strings hold: %s", (_name, agent) => {
    const line = accessLine(exchange({ grpcCode: 0, headers: [["user-agent", agent]], traceId: "t-1", caller: apiKeyCaller }));
    const formatted = formatAccessLine(line, "2026-12-05T03:50:00.000Z");
    expect(formatted.endsWith("\n")).toBe(true);
    expect(formatted.slice(0, -1)).not.toContain("\n");
    expect(JSON.parse(formatted)).toEqual({ log: "access", time: "2026-12-05T03:50:00.000Z", ...line });
  });

  it("writes null fields as null and numbers as numbers", () => {
    const line = accessLine(exchange({ matched: false, status: 499 }));
    expect(JSON.parse(formatAccessLine(line, "t"))).toEqual({ log: "access", time: "t", ...line });
  });
});

describe("createIsoClock", () => {
  it.each([0, 7, 42, 999, 1000, 59_999, 86_400_123])("matches Date#toISOString at +%s ms", (offset) => {
    const base = Date.UTC(2026, 11, 5, 3, 59, 0, 0);
    let now = base;
    const clock = createIsoClock(() => now);
    clock(); // fills the cache with the base second
    now = base + offset;
    expect(clock()).toBe(new Date(now).toISOString());
  });
});

describe("isFailure", () => {
  it.each([
    [200, 0, false],
    [101, 0, false],
    [200, undefined, false],
    [304, undefined, false],
    [404, 5, true],
    [499, undefined, true],
    [200, 14, true],
    [101, 1, true],
  ])("status %s, grpc code %s: %s", (status, grpcCode, failed) => {
    expect(isFailure(exchange({ status, grpcCode }))).toBe(failed);
  });
});

/** The access log writing into memory; `lines()` parses what it wrote. */
function memoryLog(config: Partial<AccessLogConfig>, random?: () => number) {
  const written: string[] = [];
  const log = createAccessLog(accessLogConfigSchema.parse(config), { warn: () => undefined }, { random, now: () => Date.UTC(2026, 11, 5, 3, 50, 0, 7), stream: { write: (line: string) => void written.push(line) } });
  return { log, written, lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const SECRET_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTcifQ.c2VjcmV0LXNpZ25hdHVyZQ";
const SECRET_KEY = "pk_live_5up3rS3cr3tK3y";
const SECRET_COOKIE = "sess-0f9a8b7c6d5e4f3a";
const SECRET_PROTOCOL_TOKEN = Buffer.from("ws-token-abc123").toString("base64url");
const SECRET_QUERY = "qs-token-zyx987";

describe("redaction: secrets never reach a line", () => {
  it.each<[string, Exchange, string]>([
    ["a JWT in Authorization", exchange({ grpcCode: 0, headers: [["authorization", `Bearer ${SECRET_JWT}`]], caller: jwtCaller }), SECRET_JWT],
    ["a JWT in Authorization of a refused request", exchange({ status: 401, grpcCode: 16, headers: [["Authorization", `Bearer ${SECRET_JWT}`]], error: new GatewayError(16, "PG_ERR_UNAUTHENTICATED", `bad token ${SECRET_JWT}`) }), SECRET_JWT],
    ["an API key header (default name)", exchange({ grpcCode: 0, headers: [["x-api-key", SECRET_KEY]], caller: apiKeyCaller }), SECRET_KEY],
    ["an API key header (configured name)", exchange({ grpcCode: 0, headers: [["x-gateway-key", SECRET_KEY]] }), SECRET_KEY],
    ["a cookie", exchange({ grpcCode: 0, headers: [["cookie", `session=${SECRET_COOKIE}; theme=dark`]] }), SECRET_COOKIE],
    [
      "a WebSocket token subprotocol",
      exchange({ stream: true, status: 101, grpcCode: 0, headers: [["sec-websocket-protocol", `json, base64url.bearer.protogate.${SECRET_PROTOCOL_TOKEN}`]] }),
      SECRET_PROTOCOL_TOKEN,
    ],
    ["a token in the query string", exchange({ url: `/v1/things/t-1?access_token=${SECRET_QUERY}&view=full`, grpcCode: 0 }), SECRET_QUERY],
    ["a token in the query string of an unmatched request", exchange({ matched: false, url: `/nowhere?api_key=${SECRET_QUERY}`, status: 404, grpcCode: 5 }), SECRET_QUERY],
  ])("%s", (_name, ended, secret) => {
    const { log, written } = memoryLog({ mode: "all" });
    log.observers[0].ended(ended);
    expect(written).toHaveLength(1);
    // The line is complete (it has the request's fields), and the secret is nowhere in it.
    expect(written[0]).toContain('"requestId":"req-1"');
    expect(written[0]).not.toContain(secret);
  });
});

describe("createAccessLog", () => {
  const success = () => exchange({ grpcCode: 0 });
  const failure = () => exchange({ status: 503, grpcCode: 14 });
  const brokenStream = () => exchange({ stream: true, status: 200, grpcCode: 14 });
  const gone = () => exchange({ status: 499 });

  it("writes one JSON line per request: the log's name, the time, then the fields", () => {
    const { log, written, lines } = memoryLog({ mode: "all" });
    log.observers[0].ended(success());
    expect(written[0].endsWith("\n")).toBe(true);
    expect(written[0].split("\n")).toHaveLength(2);
    const [line] = lines();
    expect(Object.keys(line)).toEqual(["log", "time", ...Object.keys(accessLine(success()))]);
    expect(line).toEqual({ log: "access", time: "2026-12-05T03:50:00.007Z", ...accessLine(success()) });
  });

  it("off: no observer at all (the hot path pays nothing)", () => {
    expect(memoryLog({ mode: "off" }).log.observers).toEqual([]);
  });

  it("errors (the default): failures only, 499s and broken streams included", () => {
    const { log, lines } = memoryLog({});
    for (const ended of [success(), failure(), brokenStream(), gone(), success()]) log.observers[0].ended(ended);
    expect(lines().map((line) => [line.status, line.grpcCode])).toEqual([
      [503, 14],
      [200, 14],
      [499, null],
    ]);
  });

  it("sampling: a success is logged when the random draw is below the rate; failures always", () => {
    const draws = [0.05, 0.5, 0.09, 0.99, 0.1];
    let calls = 0;
    const { log, lines } = memoryLog({ mode: "all", successSampleRate: 0.1 }, () => {
      calls++;
      return draws.shift() ?? 1;
    });
    const sequence = [success(), success(), failure(), success(), success(), success()];
    sequence.forEach((ended, i) => {
      ended.bytesOut = i;
      log.observers[0].ended(ended);
    });
    // Draws: 0.05 (kept), 0.5 (dropped), failure (no draw), 0.09 (kept), 0.99 (dropped), 0.1 (dropped: not below).
    expect(lines().map((line) => line.bytesOut)).toEqual([0, 2, 3]);
    expect(calls).toBe(5);
  });

  it.each([
    [1, 3],
    [0, 0],
  ])("a rate of %s logs %s of 3 successes and never draws", (rate, count) => {
    let calls = 0;
    const { log, lines } = memoryLog({ mode: "all", successSampleRate: rate }, () => {
      calls++;
      return 0;
    });
    for (let i = 0; i < 3; i++) log.observers[0].ended(success());
    expect(lines()).toHaveLength(count);
    expect(calls).toBe(0);
  });
});

describe("the file destination", () => {
  it("a process that exits without close() still writes its pending lines", () => {
    const file = join(mkdtempSync(join(tmpdir(), "pg-access-exit-")), "access.log");
    const runTs = fileURLToPath(new URL("../../bin/run-ts.js", import.meta.url));
    const fixture = fileURLToPath(new URL("./fixtures/exit-without-close.ts", import.meta.url));
    const child = spawnSync(process.execPath, [runTs, fixture, file], { encoding: "utf8" });
    expect(child.status, child.stderr).toBe(0);
    expect(readFileSync(file, "utf8")).toMatch(/^\{"log":"access",.*"requestId":"exit-without-close".*\}\n$/);
  });
});

describe("accessLog config", () => {
  it("defaults: failures only, to stderr, every success when on", () => {
    expect(accessLogConfigSchema.parse({})).toEqual({ mode: "errors", successSampleRate: 1, destination: "stderr" });
  });

  it.each(["stdout", "-", "/dev/stdout", "/proc/self/fd/1"])("refuses %s as the destination (stdout is the ready line's)", (destination) => {
    expect(accessLogConfigSchema.safeParse({ destination }).success).toBe(false);
  });

  it.each([-0.1, 1.5])("refuses a sample rate of %s", (successSampleRate) => {
    expect(accessLogConfigSchema.safeParse({ successSampleRate }).success).toBe(false);
  });

  it("refuses an unknown mode", () => {
    expect(accessLogConfigSchema.safeParse({ mode: "some" }).success).toBe(false);
  });
});
