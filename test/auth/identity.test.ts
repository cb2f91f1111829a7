import type { IncomingHttpHeaders } from "node:http";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Caller } from "../../src/auth/caller.js";
import {
  applyTrustedIdentity,
  claimTargetProblem,
  createIdentityOptions,
  DEFAULT_IDENTITY_KEYS,
  identityMetadata,
  stripIdentityHeaders,
} from "../../src/auth/identity.js";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { createMetadataMapper } from "../../src/upstream/metadata.js";
import { fuzzRuns } from "../support/fuzz.js";
import { referenceCanonicalKey } from "./support/identity-key-reference.js";

const jwtCaller: Caller = {
  kind: "jwt",
  subject: "user-1",
  issuer: "https://issuer.example",
  scopes: new Set(["orders:write", "orders:read", "bad scope", 'q"uote']),
  claims: { sub: "user-1", tenant: "acme", level: 3, admin: false, email: "jürgen@example.com", nested: { a: 1 }, list: ["x"], big: Infinity, nul: null },
};
const keyCaller: Caller = { kind: "api-key", subject: "billing", consumer: "billing", tier: "gold", scopes: new Set(), claims: {} };

describe("createIdentityOptions", () => {
  it("strips the defaults, configured names and claim targets (lower-cased)", () => {
    const options = createIdentityOptions({ stripHeaders: ["X-Tenant-Id"], claims: { tenant: "x-tenant", email: "x-email" }, credentialHeaders: ["X-Api-Key"] });
    expect([...options.stripKeys].sort()).toEqual([...DEFAULT_IDENTITY_KEYS, "x-tenant-id", "x-tenant", "x-email"].sort());
    expect([...options.credentialKeys].sort()).toEqual(["authorization", "x-api-key"]);
  });

  it.each([
    [{ stripHeaders: ["bad header"] }, /stripHeaders: "bad header" is not a valid/],
    [{ claims: { tenant: "X-Tenant" } }, /claims\.tenant: metadata key "X-Tenant" must be a lower-case gRPC metadata key/],
    [{ claims: { tenant: "x-user-id" } }, /claims\.tenant: metadata key "x-user-id" is set by the gateway itself/],
    [{ claims: { tenant: "authorization" } }, /is reserved/],
    [{ claims: { tenant: "grpc-timeout" } }, /is reserved/],
    [{ claims: { tenant: "x-t-bin" } }, /must not be a binary/],
    [{ claims: { a: "x-t", b: "x-t" } }, /claims\.b: metadata key "x-t" is the target of two claims/],
  ])("rejects %j", (config, message) => {
    expect(() => createIdentityOptions(config)).toThrow(message);
  });

  it("claimTargetProblem accepts a plain key", () => {
    expect(claimTargetProblem("x-tenant")).toBeUndefined();
  });
});

describe("identityMetadata", () => {
  it.each<[string, Caller, Record<string, string>, Array<[string, string]>]>([
    [
      "a JWT caller with claims (only string/number/bool printable-ASCII claims)",
      jwtCaller,
      { tenant: "x-tenant", level: "x-level", admin: "x-admin", email: "x-email", nested: "x-nested", list: "x-list", big: "x-big", nul: "x-nul", missing: "x-missing", toString: "x-proto" },
      [
        ["x-user-id", "user-1"],
        ["x-auth-issuer", "https://issuer.example"],
        ["x-auth-scopes", "orders:read orders:write"],
        ["x-tenant", "acme"],
        ["x-level", "3"],
        ["x-admin", "false"],
      ],
    ],
    [
      "an API-key caller",
      keyCaller,
      { tenant: "x-tenant" },
      [
        ["x-user-id", "billing"],
        ["x-consumer-id", "billing"],
        ["x-auth-tier", "gold"],
      ],
    ],
  ])("%s", (_name, caller, claimMap, expected) => {
    expect(identityMetadata(caller, claimMap)).toEqual(expected);
  });
});

describe("applyTrustedIdentity", () => {
  const options = createIdentityOptions({ stripHeaders: ["x-roles"], claims: { tenant: "x-tenant" }, credentialHeaders: ["x-api-key"] });
  const mapper = createMetadataMapper({ forwardHeaders: ["authorization", "x-correlation-id", "x-user-id", "x-roles", "x-tenant", "x-api-key"] });
  const client = { ip: "127.0.0.1", host: "gw", protocol: "http" };
  const spoofed: IncomingHttpHeaders = {
    authorization: "Bearer abc.def.ghi",
    "x-correlation-id": "r1",
    "x-user-id": "admin",
    "grpc-metadata-x-user-id": "root",
    "grpc-metadata-X-Consumer-Id": "evil",
    "grpc-metadata-x-auth-scopes": "admin:all",
    "grpc-metadata-x-auth-tier": "platinum",
    "grpc-metadata-x-auth-issuer": "me",
    "grpc-metadata-authorization": "Bearer smuggled",
    "x-roles": "admin",
    "x-tenant": "other",
    "x-api-key": "secret",
    "grpc-metadata-keep": "yes",
  };
  // IncomingHttpHeaders keys are lower-case in Node.
  const headers = Object.fromEntries(Object.entries(spoofed).map(([k, v]) => [k.toLowerCase(), v]));
  const pairs = () => mapper.toGrpc(headers, client);
  const keysOf = (list: Array<[string, string | Buffer]>) => list.map(([key]) => key);

  it("the mapper alone would pass every spoofed identity on (the premise)", () => {
    expect(keysOf(pairs())).toEqual(expect.arrayContaining(["x-user-id", "x-consumer-id", "x-auth-scopes", "authorization", "x-roles", "x-tenant", "x-api-key"]));
  });

  it("replaces spoofed identity with the verified caller's and drops credentials", () => {
    const out = applyTrustedIdentity(pairs(), { ...jwtCaller, scopes: new Set(["orders:read"]) }, { forwardAuthorization: false }, options, "Bearer abc.def.ghi");
    expect(out).toEqual([
      ["x-correlation-id", "r1"],
      ["keep", "yes"],
      ["x-forwarded-for", "127.0.0.1"],
      ["x-forwarded-host", "gw"],
      ["x-forwarded-proto", "http"],
      ["x-user-id", "user-1"],
      ["x-auth-issuer", "https://issuer.example"],
      ["x-auth-scopes", "orders:read"],
      ["x-tenant", "acme"],
    ]);
  });

  it("without a caller (public route) leaves no identity at all", () => {
    const out = applyTrustedIdentity(pairs(), undefined, { forwardAuthorization: false }, options);
    expect(keysOf(out)).toEqual(["x-correlation-id", "keep", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"]);
  });

  it("without a rule (auth off) still strips identity and credentials", () => {
    const out = applyTrustedIdentity(pairs(), undefined, undefined, options, "Bearer abc.def.ghi");
    expect(keysOf(out)).not.toContain("authorization");
    expect(keysOf(out)).not.toContain("x-user-id");
  });

  it.each<[string, boolean, string | undefined, Array<[string, string]>]>([
    ["forwarded when the rule opts in: exactly the verified header, not the smuggled copy", true, "Bearer abc.def.ghi", [["authorization", "Bearer abc.def.ghi"]]],
    ["dropped when the rule does not opt in", false, "Bearer abc.def.ghi", []],
    ["nothing to forward when the request had none", true, undefined, []],
    ["a value metadata cannot carry is not forwarded", true, "Bearer \u00ff", []],
  ])("Authorization: %s", (_name, forwardAuthorization, authorization, expected) => {
    const out = applyTrustedIdentity(pairs(), undefined, { forwardAuthorization }, options, authorization);
    expect(out.filter(([key]) => key === "authorization")).toEqual(expected);
  });

  it("does not modify its input", () => {
    const input = pairs();
    const copy = input.map((pair) => [...pair]);
    applyTrustedIdentity(input, keyCaller, { forwardAuthorization: false }, options);
    expect(input).toEqual(copy);
  });

  it("matches keys case-insensitively", () => {
    const out = applyTrustedIdentity([["X-User-Id", "admin"], ["Authorization", "x"]], undefined, undefined, options);
    expect(out).toEqual([]);
  });

  it("regression: near-variants of identity headers never reach the backend (grpc-metadata-x-user-id-bin, x_user_id, x-user-id., x-auth_scopes)", () => {
    // As the attack run sent them, plus the same spellings as allow-listed plain headers.
    const nearMapper = createMetadataMapper({ forwardHeaders: ["x_user_id", "x-user-id.", "x-auth_scopes", "x-user-id-bin"] });
    const attack: IncomingHttpHeaders = {
      "grpc-metadata-x-user-id-bin": Buffer.from("admin").toString("base64"),
      "grpc-metadata-x_user_id": "admin",
      "grpc-metadata-x-user-id.": "admin",
      "grpc-metadata-x-auth_scopes": "admin:all",
      "grpc-metadata-x-consumer-id.bin": Buffer.from("evil").toString("base64"),
      "grpc-metadata-x_api_key": "stolen",
      "grpc-metadata-authorization-bin": Buffer.from("Bearer smuggled").toString("base64"),
      x_user_id: "admin",
      "x-user-id.": "admin",
      "x-auth_scopes": "admin:all",
      "x-user-id-bin": Buffer.from("admin").toString("base64"),
      "grpc-metadata-x-user-ids": "kept: a different key",
    };
    const mapped = nearMapper.toGrpc(attack, client);
    // The premise: each of them would reach the backend without the identity filter.
    expect(keysOf(mapped)).toEqual(expect.arrayContaining(["x-user-id-bin", "x_user_id", "x-user-id.", "x-auth_scopes", "x-consumer-id.bin", "x_api_key", "authorization-bin"]));
    const out = applyTrustedIdentity(mapped, keyCaller, { forwardAuthorization: false }, options);
    expect(out).toEqual([
      ["x-user-ids", "kept: a different key"],
      ["x-forwarded-for", "127.0.0.1"],
      ["x-forwarded-host", "gw"],
      ["x-forwarded-proto", "http"],
      ["x-user-id", "billing"],
      ["x-consumer-id", "billing"],
      ["x-auth-tier", "gold"],
    ]);
  });

  it("configured strip headers and claim targets are matched in every spelling too", () => {
    const out = applyTrustedIdentity([["X_Roles", "admin"], ["x-tenant.bin", Buffer.from("other")], ["x-roles-x", "kept"]], undefined, undefined, options);
    expect(out).toEqual([["x-roles-x", "kept"]]);
  });

  it("keeps exactly the pairs whose folded key is not protected, in order, then the gateway's identity (property)", () => {
    const protectedKeys = [...DEFAULT_IDENTITY_KEYS, "x-roles", "x-tenant", "authorization", "x-api-key"];
    const spellingOf = fc
      .tuple(fc.constantFrom(...protectedKeys), fc.constantFrom("-", "_", ".", "--"), fc.constantFrom("", ".", "-", "_"), fc.constantFrom("", "-bin", "_bin", ".bin"), fc.boolean())
      .map(([key, sep, trail, bin, upper]) => {
        const written = `${key.split("-").join(sep)}${bin}${trail}`;
        return upper ? written.toUpperCase() : written;
      });
    const key = fc.oneof(spellingOf, fc.stringMatching(/^[A-Za-z0-9_.-]{1,16}$/), fc.constantFrom("x-request-id", "x-user-ids", "x-userid", "tenant"));
    const value = fc.oneof(fc.stringMatching(/^[ -~]{0,12}$/), fc.uint8Array({ maxLength: 6 }).map((bytes) => Buffer.from(bytes)));
    const caller = fc.constantFrom<Caller | undefined>(undefined, keyCaller, jwtCaller);
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 12 }), caller, fc.boolean(), (pairs, who, forwardAuthorization) => {
        const input = pairs as Array<[string, string | Buffer]>;
        const out = applyTrustedIdentity(input, who, { forwardAuthorization }, options, "Bearer a.b.c");
        const dropped = new Set(protectedKeys);
        const kept = input.filter(([k]) => !dropped.has(referenceCanonicalKey(k)));
        const gatewayOwn = [...(forwardAuthorization ? [["authorization", "Bearer a.b.c"]] : []), ...(who === undefined ? [] : identityMetadata(who, options.claims))];
        expect(out).toEqual([...kept, ...gatewayOwn]);
      }),
      fuzzRuns(400),
    );
  });

  it("through the HTTP mapper: whatever headers a client sends, no protected key reaches the backend in any spelling (property)", () => {
    const allMapper = createMetadataMapper({ forwardHeaders: ["x-request-id", "x_user_id", "x-user-id.", "x-auth_scopes", "x-api-key", "x.roles"] });
    const protectedKeys = new Set([...DEFAULT_IDENTITY_KEYS, "x-roles", "x-tenant", "authorization", "x-api-key"]);
    const name = fc.oneof(
      fc.constantFrom("x-request-id", "x_user_id", "x-user-id.", "x-auth_scopes", "x-api-key", "x.roles", "authorization", "x-user-id", "cookie"),
      fc.stringMatching(/^[a-z0-9_.-]{1,20}$/).map((key) => `grpc-metadata-${key}`),
      fc.constantFrom("x-user-id-bin", "x_consumer_id.bin", "x-auth-tier.", "x--auth--issuer", "x_api_key", "authorization-bin", "x-tenant_").map((key) => `grpc-metadata-${key}`),
    );
    const value = fc.oneof(fc.constantFrom("admin", "AQID"), fc.stringMatching(/^[ -~]{0,8}$/));
    fc.assert(
      fc.property(fc.dictionary(name, value, { maxKeys: 10 }), fc.constantFrom<Caller | undefined>(undefined, keyCaller), (headers, who) => {
        let mapped: Array<[string, string | Buffer]>;
        try {
          mapped = allMapper.toGrpc(headers, client);
        } catch (error) {
          // An invalid Grpc-Metadata-* header is the client's 400: nothing goes upstream then.
          expect(error).toBeInstanceOf(GatewayError);
          expect((error as GatewayError).httpStatus ?? 400).toBe(400);
          return;
        }
        const out = applyTrustedIdentity(mapped, who, { forwardAuthorization: false }, options);
        const own = who === undefined ? [] : identityMetadata(who, options.claims);
        const clientPart = out.slice(0, out.length - own.length);
        expect(out.slice(out.length - own.length)).toEqual(own);
        for (const [key] of clientPart) expect(protectedKeys.has(referenceCanonicalKey(key)), `${key} reached the backend`).toBe(false);
      }),
      fuzzRuns(400),
    );
  });
});

describe("stripIdentityHeaders", () => {
  const options = createIdentityOptions({ stripHeaders: ["x-roles"] });

  it("removes plain and grpc-metadata- identity headers in every spelling, keeps the rest", () => {
    const headers: IncomingHttpHeaders = {
      "x-user-id": "a",
      "grpc-metadata-x-user-id": "b",
      "grpc-metadata-x-roles": "c",
      "x-auth-tier": "d",
      x_user_id: "e",
      "grpc-metadata-x-user-id-bin": "f",
      "x-auth_scopes": "g",
      "x-request-id": "r",
      "grpc-metadata-tenant": "t",
    };
    expect(stripIdentityHeaders(headers, options)).toEqual({ "x-request-id": "r", "grpc-metadata-tenant": "t" });
    expect(headers["x-user-id"]).toBe("a");
  });

  it("returns the same object when nothing is removed", () => {
    const headers: IncomingHttpHeaders = { accept: "*/*" };
    expect(stripIdentityHeaders(headers, options)).toBe(headers);
  });
});
