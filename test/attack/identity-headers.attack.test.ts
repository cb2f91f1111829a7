import type { Metadata } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { DEFAULT_IDENTITY_KEYS } from "../../src/auth/identity.js";
import { signToken } from "../auth/jwt/jwt-test-kit.js";
import { referenceCanonicalKey } from "../auth/support/identity-key-reference.js";
import { liveClaims } from "../e2e/support/attack-tokens.js";
import { send, startTestGateway, startUserBackend } from "../e2e/support/gateway-harness.js";
import { sendRaw, type RawHeader } from "../e2e/support/raw-http.js";
import { AUDIENCE, edgeProbe, expectStatus, FORWARD_HEADERS, GOOD_KEY, HANDLERS, jwtIdentity, NO_IDENTITY, RSA_ISSUER, startSecuredGateway, type SecuredGateway } from "../e2e/support/security-fixture.js";

/*
 * The standing attack suite, identity headers: a client trying to pass its own x-user-id (or any
 * other identity or credential key) to the backend, in every spelling a backend stack might read
 * as the real one, as a plain header the operator forwards and as Grpc-Metadata-*; and the
 * X-Forwarded-* headers a client may forge. The backend must see the gateway's identity only.
 */

/** Keys the gateway owns: its identity metadata and the credential headers. */
const PROTECTED = [...DEFAULT_IDENTITY_KEYS, "authorization", "x-api-key"];

/** Ways to write a key that backends may fold back into it (each applied to every protected key). */
const SPELLINGS: ReadonlyArray<readonly [string, (key: string) => string]> = [
  ["upper case", (key) => key.toUpperCase()],
  ["mixed case", (key) => key.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())],
  ["underscores", (key) => key.replace(/-/g, "_")],
  ["one underscore", (key) => key.replace(/-(?=[^-]*$)/, "_")],
  ["dots", (key) => key.replace(/-/g, ".")],
  ["a trailing dot", (key) => `${key}.`],
  ["two trailing dots", (key) => `${key}..`],
  ["a leading dot", (key) => `.${key}`],
  ["a trailing dash", (key) => `${key}-`],
  ["doubled dashes", (key) => key.replace(/-/g, "--")],
  ["a -bin suffix", (key) => `${key}-bin`],
  ["a -BIN suffix", (key) => `${key}-BIN`],
  ["a _bin suffix", (key) => `${key}_bin`],
  ["-bin twice", (key) => `${key}-bin-bin`],
  ["underscores and -bin", (key) => `${key.replace(/-/g, "_")}-bin`],
  ["a trailing dot after -bin", (key) => `${key}-bin.`],
];

/** The metadata value a spelling's header carries (binary keys need base64). */
const valueFor = (spelled: string): string => (/bin\.*$/i.test(spelled) ? Buffer.from("admin").toString("base64") : "admin");

/** Every metadata key the backend saw whose folded form is a protected key, with its values. */
function protectedKeysSeen(metadata: Metadata | undefined): Record<string, unknown[]> {
  const seen: Record<string, unknown[]> = {};
  for (const [key, value] of Object.entries(metadata?.getMap() ?? {})) {
    if (PROTECTED.includes(referenceCanonicalKey(key))) seen[key] = metadata?.get(key) ?? [value];
  }
  return seen;
}

describe("identity header spoofing (through the gateway)", () => {
  let secured: SecuredGateway | undefined;
  let backend: SecuredGateway["backend"];
  let gateway: RunningGateway;
  let token: string;
  const probe = edgeProbe(
    () => gateway,
    () => backend,
  );

  /** Every plain spelling the operator could have put in forwardHeaders (the worst case). */
  const plainSpellings = [...new Set(PROTECTED.flatMap((key) => SPELLINGS.map(([, spell]) => spell(key).toLowerCase())))].filter((name) => !PROTECTED.includes(name));

  beforeAll(async () => {
    secured = await startSecuredGateway({ extra: { metadata: { forwardHeaders: [...FORWARD_HEADERS, ...plainSpellings] } } });
    ({ backend, gateway } = secured);
    token = await signToken({ privateKey: secured.rsa.privateKey, alg: "RS256", kid: "k1" }, liveClaims(RSA_ISSUER, AUDIENCE, { sub: "dave", scope: "users:read" }));
  });
  afterAll(() => secured?.close());

  const cases = PROTECTED.flatMap((key) => SPELLINGS.map(([how, spell]) => ({ key, how, spelled: spell(key) })));

  /** Searches with a valid token plus the spoofed headers; returns what the backend saw. */
  async function searchWith(headers: RawHeader[]) {
    const { response, call } = await probe.observed(() =>
      sendRaw(gateway.url, "POST", "/v1/users:search", [["authorization", `Bearer ${token}`], ["content-type", "application/json"], ...headers], JSON.stringify({ query: "d" })),
    );
    expect(response.status, response.text).toBe(200);
    expect(call?.method).toBe("searchUsers");
    return call?.metadata;
  }

  it.each(cases)("regression: Grpc-Metadata-$spelled ($key with $how) never reaches the backend", async ({ spelled }) => {
    const metadata = await searchWith([[`Grpc-Metadata-${spelled}`, valueFor(spelled)]]);
    expect(protectedKeysSeen(metadata)).toEqual({ "x-user-id": ["dave"], "x-auth-issuer": [RSA_ISSUER], "x-auth-scopes": ["users:read"] });
    await probe.stillServes();
  });

  it.each(cases.filter(({ spelled }) => !PROTECTED.includes(spelled.toLowerCase())))("regression: a forwarded plain header $spelled ($key with $how) never reaches the backend", async ({ spelled }) => {
    const metadata = await searchWith([[spelled, valueFor(spelled)]]);
    expect(protectedKeysSeen(metadata)).toEqual({ "x-user-id": ["dave"], "x-auth-issuer": [RSA_ISSUER], "x-auth-scopes": ["users:read"] });
    await probe.stillServes();
  });

  it("every spelling at once, on a public route without credentials: the backend sees no identity at all", async () => {
    const headers: RawHeader[] = cases.flatMap(({ spelled }) => [[`Grpc-Metadata-${spelled}`, valueFor(spelled)] as const]);
    const { response, call } = await probe.observed(() => sendRaw(gateway.url, "GET", "/v1/users/u-5", headers));
    expect(response.status, response.text).toBe(200);
    expect(protectedKeysSeen(call?.metadata)).toEqual({});
    await probe.stillServes();
  });

  it("an API key caller: the consumer, tier and scopes are the gateway's, whatever was spoofed", async () => {
    const identity = await probe.accepted(
      () => sendRaw(gateway.url, "DELETE", "/v1/users/u-6", [["x-api-key", GOOD_KEY], ["x-consumer-id", "spoofed"], ["Grpc-Metadata-X_Auth_Tier", "platinum"], ["x-auth-scopes.", "admin"]]),
      "deleteUser",
    );
    expect(identity).toEqual({ ...NO_IDENTITY, "x-user-id": ["partner-a"], "x-consumer-id": ["partner-a"], "x-auth-scopes": ["users:write"], "x-auth-tier": ["gold"] });
  });

  it("the exact names, plain and as metadata, with a valid token: the backend sees the token's sub only", async () => {
    const identity = await probe.accepted(
      () =>
        sendRaw(
          gateway.url,
          "POST",
          "/v1/users:search",
          [
            ["authorization", `Bearer ${token}`],
            ["content-type", "application/json"],
            ["x-user-id", "admin"],
            ["grpc-metadata-x-user-id", "root"],
            ["x-consumer-id", "partner-a"],
            ["grpc-metadata-x-auth-scopes", "users:write admin"],
            ["x-auth-issuer", "https://evil.test"],
          ],
          JSON.stringify({ query: "d" }),
        ),
      "searchUsers",
    );
    expect(identity).toEqual(jwtIdentity("dave", "users:read"));
  });

  it.each([
    ["grpc-metadata-grpc-metadata-x-user-id", 'header grpc-metadata-grpc-metadata-x-user-id: metadata key "grpc-metadata-x-user-id" is reserved or invalid'],
    ["grpc-metadata-x-forwarded-for", 'header grpc-metadata-x-forwarded-for: metadata key "x-forwarded-for" is reserved or invalid'],
  ])("%s is a 400 (a reserved metadata key), and the backend is not called", async (name, message) => {
    const { response, call } = await probe.observed(() => sendRaw(gateway.url, "GET", "/v1/users/u-5", [[name, "x"]]));
    expectStatus(response, { status: 400, code: 3, message, reason: "PG_ERR_BAD_METADATA" });
    expect(call).toBeUndefined();
    await probe.stillServes();
  });
});

describe("X-Forwarded-* spoofing (through the gateway)", () => {
  let backend: Awaited<ReturnType<typeof startUserBackend>>;
  const gateways: RunningGateway[] = [];

  beforeAll(async () => {
    backend = await startUserBackend(HANDLERS);
  });
  afterAll(async () => {
    for (const gateway of gateways) await gateway.close();
    await backend?.close();
  });

  async function forwardedSeen(trustProxy: unknown, headers: RawHeader[]): Promise<Record<string, unknown[]>> {
    const gateway = await startTestGateway({ "demo.v1.UserService": backend.address }, trustProxy === undefined ? {} : { server: { trustProxy } });
    gateways.push(gateway);
    const before = backend.calls.length;
    const response = await sendRaw(gateway.url, "GET", "/v1/users/u-1", headers);
    expect(response.status, response.text).toBe(200);
    expect(backend.calls.length).toBe(before + 1);
    const metadata = backend.calls.at(-1)?.metadata;
    const host = new URL(gateway.url).host;
    // The gateway still serves, and its own requests carry the real peer.
    expect((await send(gateway.url, "GET", "/v1/users/u-2")).status).toBe(200);
    const seen = Object.fromEntries(["x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"].map((key) => [key, metadata?.get(key) ?? []]));
    return JSON.parse(JSON.stringify(seen).replaceAll(host, "<gateway host>")) as Record<string, unknown[]>;
  }

  const forged: RawHeader[] = [
    ["x-forwarded-for", "6.6.6.6, 198.51.100.1"],
    ["x-forwarded-host", "a.example, evil.example"],
    ["x-forwarded-proto", "https"],
  ];

  it.each<[string, unknown, Record<string, unknown[]>]>([
    ["no trustProxy: the peer only, the real Host and scheme", undefined, { "x-forwarded-for": ["127.0.0.1"], "x-forwarded-host": ["<gateway host>"], "x-forwarded-proto": ["http"] }],
    ["an untrusted peer (trustProxy 10.0.0.0/8): the same", ["10.0.0.0/8"], { "x-forwarded-for": ["127.0.0.1"], "x-forwarded-host": ["<gateway host>"], "x-forwarded-proto": ["http"] }],
    [
      "a trusted peer (loopback): its report up to the first untrusted hop, and its X-Forwarded-Host/Proto",
      ["loopback"],
      { "x-forwarded-for": ["198.51.100.1, 127.0.0.1"], "x-forwarded-host": ["evil.example"], "x-forwarded-proto": ["https"] },
    ],
    [
      "two trusted hops (loopback and 198.51.100.0/24): the chain up to and including the first untrusted one",
      ["loopback", "198.51.100.0/24"],
      { "x-forwarded-for": ["6.6.6.6, 198.51.100.1, 127.0.0.1"], "x-forwarded-host": ["evil.example"], "x-forwarded-proto": ["https"] },
    ],
    ["a hop count of 1: the peer and the one address it reported", 1, { "x-forwarded-for": ["198.51.100.1, 127.0.0.1"], "x-forwarded-host": ["evil.example"], "x-forwarded-proto": ["https"] }],
  ])("regression: the client's X-Forwarded-* are replaced by what the gateway knows: %s", async (_name, trustProxy, expected) => {
    expect(await forwardedSeen(trustProxy, forged)).toEqual(expected);
  });
});
