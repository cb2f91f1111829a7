import { expect } from "vitest";
import type { TestResponse } from "./gateway-harness.js";

/** A parsed `WWW-Authenticate` challenge: its scheme and its `name="value"` parameters. */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses one `Scheme a="x", b="y"` challenge (what the gateway sends); undefined when absent. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (header === null) return undefined;
  const space = header.indexOf(" ");
  const scheme = space < 0 ? header : header.slice(0, space);
  const params: Record<string, string> = {};
  for (const match of header.slice(scheme.length).matchAll(/([A-Za-z_]+)="([^"]*)"/g)) params[match[1]] = match[2];
  return { scheme, params };
}

/** What a rejection must look like. */
export interface RejectionExpectation {
  readonly status: 401 | 403;
  /** The body's `message`, exactly. */
  readonly message: string;
  /**
   * The RFC 6750 `error` attribute of the challenge, or `none` for a challenge without one (no
   * usable credentials: RFC 6750 §3.1 says it then carries no error code).
   */
  readonly error: "invalid_request" | "invalid_token" | "insufficient_scope" | "none";
  /** 403 only: the `scope` attribute. */
  readonly scope?: string;
}

const GRPC_CODE = { 401: 16, 403: 7 } as const;
const REASON = { 401: "PG_ERR_UNAUTHENTICATED", 403: "PG_ERR_PERMISSION_DENIED" } as const;

/**
 * Asserts a 401/403 from the edge: status, `google.rpc.Status` body (code, message, ErrorInfo
 * reason), the `WWW-Authenticate: Bearer` challenge, and that neither body nor headers contain
 * any of `secrets` (a token's segments, an API key).
 */
export function expectRejection(response: TestResponse, expected: RejectionExpectation, secrets: readonly string[] = []): void {
  expect({ status: response.status, body: response.json }).toEqual({
    status: expected.status,
    body: {
      code: GRPC_CODE[expected.status],
      message: expected.message,
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: REASON[expected.status], domain: "protogate" }],
    },
  });
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const challenge = parseChallenge(response.headers.get("www-authenticate"));
  const params: Record<string, string> = { realm: "protogate" };
  if (expected.error !== "none") {
    params.error = expected.error;
    params.error_description = expected.message;
  }
  if (expected.scope !== undefined) params.scope = expected.scope;
  expect(challenge).toEqual({ scheme: "Bearer", params });
  assertNoSecrets(response, secrets);
}

/** Asserts that no secret (nor any token segment of 8 characters or more) appears in the response. */
export function assertNoSecrets(response: TestResponse, secrets: readonly string[]): void {
  const headerText = [...response.headers].map(([name, value]) => `${name}: ${value}`).join("\n");
  for (const secret of secrets) {
    const pieces = secret.includes(".") ? secret.split(".").filter((part) => part.length >= 8) : [secret];
    for (const piece of pieces) {
      expect(response.text.includes(piece), "the body echoes a credential").toBe(false);
      expect(headerText.includes(piece), "a header echoes a credential").toBe(false);
    }
  }
}
