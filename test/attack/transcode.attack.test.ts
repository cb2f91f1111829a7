import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { send, sendJson, startTestGateway, startUserBackend, type TestResponse } from "../e2e/support/gateway-harness.js";

/*
 * Hostile JSON against the real gateway (in front of a grpc-js backend using the generated
 * ts-proto code): nesting at and beyond what protobuf decoders accept, duplicate keys, and
 * "__proto__" as data. Each case checks the exact status, the google.rpc.Status body with its
 * ErrorInfo reason, what reached the backend, and that the gateway still serves afterwards.
 */

interface StatusBody {
  code: number;
  message: string;
  details: Array<{ "@type": string; reason?: string; domain?: string }>;
}

function expectStatus(response: TestResponse, httpStatus: number, grpcCode: number, reason: string, messagePart: string | RegExp): StatusBody {
  expect(response.status, response.text).toBe(httpStatus);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = response.json as StatusBody;
  expect(body.code).toBe(grpcCode);
  if (typeof messagePart === "string") expect(body.message).toContain(messagePart);
  else expect(body.message).toMatch(messagePart);
  expect(body.details[0]).toEqual({ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "protogate" });
  return body;
}

/** `times` JSON objects `{"a": ...}` around `leaf`. */
function nestObjects(times: number, leaf: unknown): unknown {
  let json = leaf;
  for (let i = 0; i < times; i++) json = { a: json };
  return json;
}

type Obj = Record<string, unknown>;

describe("transcoding attacks on the real gateway", () => {
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  let gateway: RunningGateway;
  let base: string;
  const user = (extra: Obj = {}): Obj => ({ userId: "u-1", displayName: "Ada", email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0", createTime: undefined, profile: undefined, nickname: undefined, ...extra });

  beforeAll(async () => {
    backend = await startUserBackend({
      getUser: (call, callback) => {
        const { userId } = call.request as { userId: string };
        // A reply nested beyond what any decoder accepts (ts-proto's encoder has no limit).
        if (userId === "deep") return callback(null, user({ userId, profile: nestObjects(40, 1) }));
        if (userId === "proto") return callback(null, user({ userId, profile: JSON.parse('{"__proto__": {"isAdmin": true}, "n": 1}') as Obj, labels: new Map([["__proto__", "v"]]) }));
        callback(null, user({ userId }));
      },
      createUser: (call, callback) => callback(null, (call.request as { user: unknown }).user ?? {}),
      searchUsers: (_call, callback) => callback(null, { users: [], nextPageToken: "" }),
    });
    gateway = await startTestGateway({ "demo.v1.UserService": backend.address });
    base = gateway.url;
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
  });

  const created = () => backend.calls.filter((c) => c.method === "createUser").length;

  describe("regression: deep Struct nesting answered 500", () => {
    // POST /v1/users has body "user": CreateUserRequest 1 > User 2 > Struct profile 3 > entry 4 >
    // Value 5 > Struct 6 ...: the n-th object of the profile is at level 3n, its values at 3n+2.
    it("a profile nested 35 levels -> 400 PG_ERR_TOO_DEEP, and nothing reaches the backend", async () => {
      const before = created();
      const response = await sendJson(base, "POST", "/v1/users", { displayName: "x", profile: nestObjects(35, 1) });
      expectStatus(response, 400, status.INVALID_ARGUMENT, "PG_ERR_TOO_DEEP", /field "user\.profile\.a\..*" is nested too deeply: more than 100 protobuf message levels/);
      expect(created()).toBe(before);
    });

    it("exactly at the limit (100 message levels) -> the backend decodes it and the echo comes back unchanged", async () => {
      const profile = nestObjects(32, [1]); // deepest Value at level 100
      const response = await sendJson(base, "POST", "/v1/users", { displayName: "x", email: "x@example.com", profile });
      expect(response.status, response.text).toBe(201);
      expect((response.json as Obj).profile).toEqual(profile);
    });

    it("one level beyond the limit -> 400", async () => {
      const response = await sendJson(base, "POST", "/v1/users", { displayName: "x", profile: nestObjects(32, [[]]) });
      expectStatus(response, 400, status.INVALID_ARGUMENT, "PG_ERR_TOO_DEEP", "nested too deeply");
    });

    it("JSON arrays 100,000 deep -> 400, never a stack overflow", async () => {
      const response = await sendJson(base, "POST", "/v1/users", `{"profile": {"a": ${"[".repeat(100_000)}${"]".repeat(100_000)}}}`);
      expectStatus(response, 400, status.INVALID_ARGUMENT, "PG_ERR_TOO_DEEP", "nested too deeply");
    });

    it("a reply nested beyond what the gateway can decode -> 502 PG_ERR_UPSTREAM_BAD_RESPONSE (the upstream's fault), not a 500", async () => {
      const response = await send(base, "GET", "/v1/users/deep");
      expectStatus(response, 502, status.INTERNAL, "PG_ERR_UPSTREAM_BAD_RESPONSE", "nested more than 100 message levels");
    });
  });

  describe("regression: duplicate JSON keys accepted, last wins", () => {
    it('{"role":"ROLE_MEMBER","role":"ROLE_ADMIN"} -> 400 naming the key and its path; the backend never sees it', async () => {
      const before = created();
      const response = await sendJson(base, "POST", "/v1/users", '{"displayName":"Eve","role":"ROLE_MEMBER","role":"ROLE_ADMIN"}');
      expectStatus(response, 400, status.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", 'duplicate key "role" (at "user.role")');
      expect(created()).toBe(before);
    });

    it.each([
      ["escaped to look different", '{"role":"ROLE_MEMBER","\\u0072ole":"ROLE_ADMIN"}', 'duplicate key "role"'],
      ["nested in a Struct", '{"profile":{"tier":"free","tier":"gold"}}', 'duplicate key "tier" (at "user.profile.tier")'],
      ["in a map", '{"labels":{"team":"a","team":"b"}}', 'duplicate key "team" (at "user.labels.team")'],
      ["next to a 64-bit integer (the careful parser)", '{"balanceCents":12345678901234567890,"role":1,"role":2}', 'duplicate key "role"'],
    ])("%s -> 400 PG_ERR_BAD_JSON", async (_name, body, message) => {
      const response = await sendJson(base, "POST", "/v1/users", body);
      expectStatus(response, 400, status.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", message);
    });

    it("a field under its JSON name and its proto name (displayName and display_name) -> 400 PG_ERR_BAD_FIELD", async () => {
      const response = await sendJson(base, "POST", "/v1/users", '{"displayName":"Ada","display_name":"Eve"}');
      expectStatus(response, 400, status.INVALID_ARGUMENT, "PG_ERR_BAD_FIELD", 'duplicate field "user.display_name": also given as "displayName"');
    });

    it("a body: \"*\" route too", async () => {
      const response = await sendJson(base, "POST", "/v1/users:search", '{"query":"a","pageSize":1,"query":"b"}');
      expectStatus(response, 400, status.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", 'duplicate key "query"');
    });
  });

  describe('regression: a Struct key "__proto__" is dropped from responses (requests keep it)', () => {
    it("reaches the backend as an own property and comes back in the echo", async () => {
      const body = '{"displayName":"x","email":"x@example.com","profile":{"__proto__":{"isAdmin":true},"n":1},"labels":{"__proto__":"v"}}';
      const response = await sendJson(base, "POST", "/v1/users", body);
      expect(response.status, response.text).toBe(201);
      expect(response.text).toContain('"profile":{"__proto__":{"isAdmin":true},"n":1}');
      expect(response.text).toContain('"labels":{"__proto__":"v"}');
      const seen = backend.calls.filter((c) => c.method === "createUser").at(-1)!.request as { user: { profile: Obj; labels: Map<string, string> } };
      expect(Object.keys(seen.user.profile)).toEqual(["__proto__", "n"]);
      expect(Object.getPrototypeOf(seen.user.profile)).toBe(Object.prototype);
      expect((seen.user.profile as { isAdmin?: unknown }).isAdmin).toBeUndefined();
      expect(seen.user.labels.get("__proto__")).toBe("v");
    });

    it("comes back when the upstream sends it", async () => {
      const response = await send(base, "GET", "/v1/users/proto");
      expect(response.status, response.text).toBe(200);
      expect(response.text).toContain('"labels":{"__proto__":"v"}');
      expect(response.text).toContain('"profile":{"__proto__":{"isAdmin":true},"n":1}');
    });
  });

  it("still serves after all of the above", async () => {
    const response = await send(base, "GET", "/v1/users/u-1");
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ userId: "u-1", displayName: "Ada" });
    expect(({} as { isAdmin?: unknown }).isAdmin).toBeUndefined();
  });
});
