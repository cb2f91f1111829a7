import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CompactSign, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";
import { expect } from "vitest";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import { GrpcCode } from "../../../src/errors/grpc-code.js";

/** The fixed start of the injected clock (ms). */
export const START_MS = 1_700_000_000_000;
export const START_S = START_MS / 1000;

/** A clock tests move by hand. */
export interface TestClock {
  now: () => number;
  advanceSeconds(seconds: number): void;
}

export function createTestClock(startMs = START_MS): TestClock {
  let current = startMs;
  return {
    now: () => current,
    advanceSeconds(seconds) {
      current += seconds * 1000;
    },
  };
}

/** A key pair with its public JWK (kid and alg set) as a JWKS server would publish it. */
export interface TestKey {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

export async function createTestKey(alg: "RS256" | "ES256" | "PS256" | "EdDSA", kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { alg, kid, privateKey, publicKey, jwk };
}

/** Claims of a token valid at START for issuer/audience of the test config. */
export function validClaims(overrides: JWTPayload = {}): JWTPayload {
  return { iss: "https://idp.test", aud: "protogate", sub: "user-42", iat: START_S, exp: START_S + 3600, ...overrides };
}

/** Signs `claims` as a compact JWS; `kid` null leaves it out, claims set to undefined are dropped. */
export async function signToken(key: { privateKey: CryptoKey | Uint8Array; alg: string; kid?: string | null }, claims: JWTPayload): Promise<string> {
  const header: { alg: string; kid?: string } = { alg: key.alg };
  if (key.kid !== undefined && key.kid !== null) header.kid = key.kid;
  const payload = Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined));
  return new SignJWT(payload).setProtectedHeader(header).sign(key.privateKey);
}

/**
 * Signs a payload given as JSON text, byte for byte: for claims `JSON.stringify` cannot write
 * (`1e400`, which `JSON.parse` reads back as Infinity; duplicate keys).
 */
export async function signRawPayload(key: { privateKey: CryptoKey | Uint8Array; alg: string; kid?: string | null }, json: string): Promise<string> {
  const header: { alg: string; kid?: string } = { alg: key.alg };
  if (key.kid !== undefined && key.kid !== null) header.kid = key.kid;
  return new CompactSign(new TextEncoder().encode(json)).setProtectedHeader(header).sign(key.privateKey);
}

/** A compact token with a garbage signature, for tests that never reach signature checking. */
export function unsignedToken(header: Record<string, unknown>, claims: JWTPayload): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part(header)}.${part(claims)}.${Buffer.from("not-a-signature").toString("base64url")}`;
}

/** What the JWKS test server does with a request. */
export type JwksMode = "serve" | "hang" | "error";

/** A real JWKS HTTP server on 127.0.0.1 that counts its requests. */
export interface JwksServer {
  readonly url: string;
  requests(): number;
  setKeys(keys: readonly JWK[]): void;
  setMode(mode: JwksMode): void;
  /** Answers (in `serve` and `error` mode) only after this many ms: a slow key server. */
  setDelayMs(ms: number): void;
  /** Requests received but not answered yet (hanging, or delayed). */
  open(): number;
  /** Resolves once `total` requests in all have been received. */
  requested(total: number): Promise<void>;
  /** Resolves once exactly `count` requests are open (checked as requests come and end). */
  openAt(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startJwksServer(keys: readonly JWK[]): Promise<JwksServer> {
  let current: readonly JWK[] = keys;
  let mode: JwksMode = "serve";
  let delayMs = 0;
  let count = 0;
  let unanswered = 0;
  const waiters = new Set<{ reached: () => boolean; resolve(): void }>();
  const until = (reached: () => boolean) => (reached() ? Promise.resolve() : new Promise<void>((resolve) => void waiters.add({ reached, resolve })));
  const changed = () => {
    for (const waiter of waiters) {
      if (!waiter.reached()) continue;
      waiters.delete(waiter);
      waiter.resolve();
    }
  };
  const server: Server = createServer((request, response) => {
    count += 1;
    unanswered += 1;
    response.on("close", () => {
      unanswered -= 1;
      changed();
    });
    changed();
    if (mode === "hang") return; // never answers; the client's timeout must end the wait
    const answer = mode === "error" ? () => response.writeHead(503).end("down") : () => response.writeHead(200, { "content-type": "application/jwk-set+json" }).end(JSON.stringify({ keys: current }));
    // The client may have given up meanwhile (its timeout): then there is nobody to answer.
    if (delayMs > 0) setTimeout(() => response.destroyed || answer(), delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: () => count,
    setKeys(next) {
      current = next;
    },
    setMode(next) {
      mode = next;
    },
    setDelayMs(ms) {
      delayMs = ms;
    },
    open: () => unanswered,
    requested: (total) => until(() => count >= total),
    openAt: (open) => until(() => unanswered === open),
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An injected `fetch` for JWKS downloads whose answers a test controls, without any network. */
export interface FakeJwksFetch {
  readonly fetch: typeof fetch;
  /** Requests made so far. */
  calls(): number;
  /** Requests not answered yet (hanging). */
  pending(): number;
  /** What later requests get: the keys, an HTTP 503, or no answer until released (or aborted). */
  setMode(mode: JwksMode): void;
  setKeys(keys: readonly JWK[]): void;
  /** Answers every hanging request with the current keys. */
  releaseAll(): void;
  /** Fails every hanging request as a connection reset would. */
  failAll(): void;
}

export function createFakeJwksFetch(keys: readonly JWK[]): FakeJwksFetch {
  let current = keys;
  let mode: JwksMode = "serve";
  let count = 0;
  const hanging = new Set<{ resolve: (response: Response) => void; reject: (error: Error) => void }>();
  const answer = (): Response => new Response(JSON.stringify({ keys: current }), { headers: { "content-type": "application/jwk-set+json" } });
  const fake = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    count += 1;
    if (mode === "error") return new Response("down", { status: 503 });
    if (mode === "serve") return answer();
    return new Promise<Response>((resolve, reject) => {
      const entry = { resolve, reject };
      hanging.add(entry);
      init?.signal?.addEventListener("abort", () => {
        hanging.delete(entry);
        reject(new Error("aborted"));
      });
    });
  };
  const settle = (how: (entry: { resolve: (response: Response) => void; reject: (error: Error) => void }) => void): void => {
    const entries = [...hanging];
    hanging.clear();
    for (const entry of entries) how(entry);
  };
  return {
    fetch: fake as typeof fetch,
    calls: () => count,
    pending: () => hanging.size,
    setMode(next) {
      mode = next;
    },
    setKeys(next) {
      current = next;
    },
    releaseAll: () => settle((entry) => entry.resolve(answer())),
    failAll: () => settle((entry) => entry.reject(new Error("connection reset"))),
  };
}

/** Lets pending promise callbacks (and their follow-ups) run, without any real time passing. */
export async function settled(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Asserts `verified` (verify's answer: a value or a promise) is a rejection with UNAUTHENTICATED PG_ERR_UNAUTHENTICATED and exactly `message`. */
export async function expectRejected(verified: unknown, message: string, token?: string): Promise<GatewayError> {
  const error = await Promise.resolve(verified).then(
    () => expect.fail(`expected rejection "${message}"`),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(GatewayError);
  const gatewayError = error as GatewayError;
  expect({ code: gatewayError.code, reason: gatewayError.reason, message: gatewayError.message }).toEqual({
    code: GrpcCode.UNAUTHENTICATED,
    reason: "PG_ERR_UNAUTHENTICATED",
    message,
  });
  if (token !== undefined) {
    for (const segment of token.split(".").filter((part) => part.length >= 4)) expect(gatewayError.message).not.toContain(segment);
  }
  return gatewayError;
}
