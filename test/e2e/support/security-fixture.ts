import type { Metadata, ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import { expect } from "vitest";
import type { GatewaySeams, RunningGateway } from "../../../src/app.js";
import { hashApiKey } from "../../../src/auth/api-keys.js";
import { DEFAULT_FORWARD_HEADERS } from "../../../src/upstream/metadata.js";
import { createTestKey, startJwksServer, type JwksServer, type TestKey } from "../../auth/jwt/jwt-test-kit.js";
import { expectRejection, type RejectionExpectation } from "./auth-expectations.js";
import { send, startTestGateway, startUserBackend, type SeenCall, type TestResponse } from "./gateway-harness.js";

/*
 * What the security end-to-end tests (test/e2e/security.e2e.test.ts) and the standing attack
 * suite (test/attack/) share: one gateway configuration with an RS256 issuer behind a real JWKS
 * server, an HS256 issuer and API keys, a recording backend, and the checks every case makes.
 */

export const RSA_ISSUER = "https://idp.test";
export const HMAC_ISSUER = "https://hmac.test";
export const AUDIENCE = "protogate";
export const HMAC_SECRET = "e2e-hmac-secret-0123456789abcdef0123456789";
export const LEEWAY_SECONDS = 30;

export const GOOD_KEY = "pgk_live_partner_a_3f9c1e7d2b";
export const READER_KEY = "pgk_live_reader_b_8a1d4c6e0f";
export const REVOKED_KEY = "pgk_live_revoked_c_55e2a9b7c1";
export const WRONG_KEY = "pgk_live_nobody_d_000000000";

export const API_KEYS = [
  { sha256: hashApiKey(GOOD_KEY), consumer: "partner-a", tier: "gold", scopes: ["users:write"] },
  { sha256: hashApiKey(READER_KEY), consumer: "reader-b", tier: "free", scopes: [] },
  { sha256: hashApiKey(REVOKED_KEY), consumer: "partner-old", tier: "gold", scopes: ["users:write"] },
];

/**
 * The operator forwards the identity headers too: only the gateway's identity layer stands
 * between a client's forged x-user-id and the backend.
 */
export const FORWARD_HEADERS = [...DEFAULT_FORWARD_HEADERS, "x-user-id", "x-consumer-id", "x-auth-scopes", "x-auth-issuer", "x-api-key"];

const user = (userId: string) => ({ userId, displayName: "Sec", email: "", role: 0, labels: new Map(), tags: [], balanceCents: "0" });
type Handler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;

/** A UserService backend that answers every method the suites call. */
export const HANDLERS: Record<string, Handler> = {
  getUser: (call, callback) => callback(null, user((call.request as { userId: string }).userId)),
  listUsers: (_call, callback) => callback(null, { users: [], nextPageToken: "" }),
  createUser: (_call, callback) => callback(null, user("new")),
  updateUser: (call, callback) => callback(null, user((call.request as { user?: { userId: string } }).user?.userId ?? "")),
  deleteUser: (_call, callback) => callback(null, {}),
  searchUsers: (_call, callback) => callback(null, { users: [], nextPageToken: "" }),
};

export interface AuthSetup {
  readonly jwksUrl: string;
  readonly cooldownMs: number;
  readonly apiKeys?: ReadonlyArray<(typeof API_KEYS)[number]>;
  /** More `jwt.jwks` settings (timeoutMs, retryMs, maxAgeMs, maxStaleMs). */
  readonly jwks?: Readonly<Record<string, number>>;
  /** More `auth:` keys (failedAttempts, ...). */
  readonly auth?: Readonly<Record<string, unknown>>;
  /** More top-level config (server.trustProxy, metadata, ...). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** A security gateway and what stands around it; `close` stops all of it. */
export interface SecuredGateway {
  readonly gateway: RunningGateway;
  /** The recording UserService backend (HANDLERS). */
  readonly backend: Awaited<ReturnType<typeof startUserBackend>>;
  /** The RSA issuer's JWKS server, publishing `rsa`. */
  readonly jwks: JwksServer;
  /** The RSA issuer's RS256 key, kid "k1". */
  readonly rsa: TestKey;
  close(): Promise<void>;
}

/**
 * Starts the usual security setup: an RS256 key ("k1") on a JWKS server, a recording backend,
 * and a gateway configured by `securityConfig` (JWKS cool-down 0 unless `setup` says otherwise).
 */
export async function startSecuredGateway(setup: Omit<AuthSetup, "jwksUrl" | "cooldownMs"> & { readonly cooldownMs?: number } = {}, seams: GatewaySeams = {}): Promise<SecuredGateway> {
  const rsa = await createTestKey("RS256", "k1");
  const jwks = await startJwksServer([rsa.jwk]);
  const backend = await startUserBackend(HANDLERS);
  const stopAround = async () => {
    await backend.close();
    await jwks.close();
  };
  let gateway: RunningGateway;
  try {
    gateway = await startTestGateway({ "demo.v1.UserService": backend.address }, securityConfig({ cooldownMs: 0, ...setup, jwksUrl: jwks.url }), seams);
  } catch (error) {
    await stopAround();
    throw error;
  }
  return {
    gateway,
    backend,
    jwks,
    rsa,
    async close() {
      await gateway.close();
      await stopAround();
    },
  };
}

/** The `auth:` (and metadata) config of the security gateways: RS256 via JWKS, HS256, API keys. */
export function securityConfig(setup: AuthSetup): Record<string, unknown> {
  return {
    metadata: { forwardHeaders: FORWARD_HEADERS },
    ...setup.extra,
    auth: {
      mode: "on",
      jwt: {
        issuers: [
          { issuer: RSA_ISSUER, audiences: [AUDIENCE], algorithms: ["RS256"], jwksUrl: setup.jwksUrl },
          { issuer: HMAC_ISSUER, audiences: [AUDIENCE], algorithms: ["HS256"], hmacSecret: HMAC_SECRET },
        ],
        clockToleranceSeconds: LEEWAY_SECONDS,
        jwks: { cooldownMs: setup.cooldownMs, timeoutMs: 2000, maxAgeMs: 600_000, ...setup.jwks },
      },
      apiKeys: { header: "x-api-key", keys: setup.apiKeys ?? API_KEYS },
      // UpdateUser keeps its proto scopes and additionally receives the caller's Authorization.
      rules: [{ selector: "demo.v1.UserService.UpdateUser", forwardAuthorization: true }],
      ...setup.auth,
    },
  };
}

export const IDENTITY_KEYS = ["x-user-id", "x-consumer-id", "x-auth-scopes", "x-auth-issuer", "x-auth-tier", "authorization", "x-api-key"];

/** The identity-related metadata a backend call carried. */
export function identityOf(metadata: Metadata | undefined): Record<string, unknown[]> {
  return Object.fromEntries(IDENTITY_KEYS.map((key) => [key, metadata?.get(key) ?? ["<no call>"]]));
}

/** The identity metadata a JWT caller must arrive with (and nothing else identity-like). */
export function jwtIdentity(sub: string, scopes: string, issuer = RSA_ISSUER, authorization: string[] = []): Record<string, unknown[]> {
  return {
    "x-user-id": [sub],
    "x-consumer-id": [],
    "x-auth-scopes": scopes === "" ? [] : [scopes],
    "x-auth-issuer": [issuer],
    "x-auth-tier": [],
    authorization,
    "x-api-key": [],
  };
}

/** What a backend sees of a caller without identity (a public route, no credentials). */
export const NO_IDENTITY: Record<string, unknown[]> = Object.fromEntries(IDENTITY_KEYS.map((key) => [key, []]));

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** A `google.rpc.Status` answer the gateway raised itself, exactly. */
export interface StatusExpectation {
  readonly status: number;
  readonly code: number;
  readonly message: string;
  readonly reason: string;
  /** Details after the ErrorInfo, exactly; default none. */
  readonly moreDetails?: readonly unknown[];
}

/** Asserts status and the whole `google.rpc.Status` body (code, message, ErrorInfo reason, other details). */
export function expectStatus(response: TestResponse, expected: StatusExpectation): void {
  expect({ status: response.status, body: response.json }).toEqual({
    status: expected.status,
    body: {
      code: expected.code,
      message: expected.message,
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: expected.reason, domain: "protogate" }, ...(expected.moreDetails ?? [])],
    },
  });
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
}

/** The demo methods that do not answer 200 on success ((protogate.v1.success) in proto/demo). */
export const SUCCESS_STATUS: Readonly<Record<string, number>> = { createUser: 201, deleteUser: 204 };

/** The checks of one gateway with its recording backend. */
export interface EdgeProbe {
  /** Sends a request, asserts the 401/403 (status, Status body, challenge, no echo) and that the backend was not called; then that the gateway still serves. */
  rejected(request: () => Promise<TestResponse>, expected: RejectionExpectation, secrets: readonly string[]): Promise<TestResponse>;
  /** Sends a request, asserts its success status (200, or SUCCESS_STATUS) and exactly one backend call of `method`, and returns that call's identity metadata. */
  accepted(request: () => Promise<TestResponse>, method: string): Promise<Record<string, unknown[]>>;
  /** Sends a request and returns it with the backend call it made (undefined: none). */
  observed(request: () => Promise<TestResponse>): Promise<{ response: TestResponse; call: SeenCall | undefined }>;
  /** Asserts the gateway still answers a plain public request and reaches the backend. */
  stillServes(): Promise<void>;
}

export function edgeProbe(gateway: () => RunningGateway, backend: () => { calls: SeenCall[] }): EdgeProbe {
  const stillServes = async (): Promise<void> => {
    const before = backend().calls.length;
    const response = await send(gateway().url, "GET", "/v1/users/still-serving");
    expect({ status: response.status, body: response.json }, "the gateway stopped serving").toEqual({ status: 200, body: expect.objectContaining({ userId: "still-serving" }) });
    expect(backend().calls.length).toBe(before + 1);
  };
  return {
    async rejected(request, expected, secrets) {
      const before = backend().calls.length;
      const response = await request();
      expectRejection(response, expected, secrets);
      expect(backend().calls.length, "a rejected request reached the backend").toBe(before);
      await stillServes();
      return response;
    },
    async accepted(request, method) {
      const before = backend().calls.length;
      const response = await request();
      expect(response.status, response.text).toBe(SUCCESS_STATUS[method] ?? 200);
      expect(backend().calls.length).toBe(before + 1);
      const call = backend().calls.at(-1);
      expect(call?.method).toBe(method);
      return identityOf(call?.metadata);
    },
    async observed(request) {
      const before = backend().calls.length;
      const response = await request();
      const calls = backend().calls.slice(before);
      expect(calls.length).toBeLessThanOrEqual(1);
      return { response, call: calls[0] };
    },
    stillServes,
  };
}
