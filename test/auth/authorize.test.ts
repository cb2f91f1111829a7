import { describe, expect, it } from "vitest";
import { createAuthorizer, type AuthRuleOverride, type EffectiveRule, type ProtoAuthRule } from "../../src/auth/authorize.js";
import type { Caller } from "../../src/auth/caller.js";
import { GatewayError } from "../../src/errors/gateway-error.js";

const overrides: AuthRuleOverride[] = [
  { selector: "*", scopes: ["base"] },
  { selector: "demo.v1.OrderService.*", scopes: ["orders:read"] },
  { selector: "demo.v1.OrderService.CreateOrder", scopes: ["orders:write", "orders:read", "orders:write"] },
  { selector: "demo.v1.UserService.GetUser", public: true },
  { selector: "demo.v1.UserService.Forward", forwardAuthorization: true },
  { selector: "demo.v1.PublicService.Secured", scopes: ["x"] },
];
const proto = (rule: Partial<NonNullable<ProtoAuthRule>>): ProtoAuthRule => ({ public: false, scopes: [], forwardAuthorization: false, ...rule });

describe("effectiveRule", () => {
  const authorizer = createAuthorizer(overrides);

  it.each<[string, string, string, ProtoAuthRule, Omit<EffectiveRule, "origin">, string]>([
    ["method selector beats service and *", "demo.v1.OrderService", "CreateOrder", null, { public: false, scopes: ["orders:read", "orders:write"], forwardAuthorization: false }, "config demo.v1.OrderService.CreateOrder"],
    ["service selector beats *", "demo.v1.OrderService", "ListOrders", null, { public: false, scopes: ["orders:read"], forwardAuthorization: false }, "config demo.v1.OrderService.*"],
    ["* applies last", "demo.v1.PaymentService", "Pay", null, { public: false, scopes: ["base"], forwardAuthorization: false }, "config *"],
    ["override public over a scoped proto rule", "demo.v1.UserService", "GetUser", proto({ scopes: ["users:read"] }), { public: true, scopes: [], forwardAuthorization: false }, "config demo.v1.UserService.GetUser over proto"],
    ["override keeps proto fields it does not set", "demo.v1.UserService", "Forward", proto({ scopes: ["users:read"] }), { public: false, scopes: ["users:read"], forwardAuthorization: true }, "config demo.v1.UserService.Forward over proto"],
    ["override scopes make a proto-public method non-public", "demo.v1.PublicService", "Secured", proto({ public: true }), { public: false, scopes: ["x"], forwardAuthorization: false }, "config demo.v1.PublicService.Secured over proto"],
    ["only the most specific override applies (no stacking with *)", "demo.v1.UserService", "Forward", null, { public: false, scopes: [], forwardAuthorization: true }, "config demo.v1.UserService.Forward"],
    ["a service selector does not match a different service with that prefix", "demo.v1.OrderServiceV2", "X", null, { public: false, scopes: ["base"], forwardAuthorization: false }, "config *"],
  ])("%s", (_name, service, method, protoRule, expected, origin) => {
    expect(authorizer.effectiveRule(service, method, protoRule)).toEqual({ ...expected, origin });
  });

  it.each<[string, ProtoAuthRule, Omit<EffectiveRule, "origin">, string]>([
    ["deny by default: no proto rule, no override", null, { public: false, scopes: [], forwardAuthorization: false }, "default"],
    ["proto rule public", proto({ public: true }), { public: true, scopes: [], forwardAuthorization: false }, "proto"],
    ["proto rule public drops its scopes", proto({ public: true, scopes: ["x"] }), { public: true, scopes: [], forwardAuthorization: false }, "proto"],
    ["proto rule scopes, sorted and deduplicated", proto({ scopes: ["b", "a", "b"] }), { public: false, scopes: ["a", "b"], forwardAuthorization: false }, "proto"],
    ["proto forwardAuthorization", proto({ forwardAuthorization: true }), { public: false, scopes: [], forwardAuthorization: true }, "proto"],
  ])("without overrides: %s", (_name, protoRule, expected, origin) => {
    expect(createAuthorizer([]).effectiveRule("demo.v1.S", "M", protoRule)).toEqual({ ...expected, origin });
  });

  it("rejects a duplicate selector", () => {
    expect(() => createAuthorizer([{ selector: "*", public: true }, { selector: "*", scopes: [] }])).toThrow('auth.rules: selector "*" appears twice');
  });
});

describe("authorize", () => {
  const authorizer = createAuthorizer([]);
  const rule = (scopes: string[], isPublic = false): EffectiveRule => ({ public: isPublic, scopes, forwardAuthorization: false, origin: "test" });
  const caller = (scopes: string[]): Caller => ({ kind: "jwt", subject: "u", scopes: new Set(scopes), claims: {} });
  const outcome = (r: EffectiveRule, c: Caller | undefined) => {
    try {
      authorizer.authorize(r, c);
      return "allowed";
    } catch (error) {
      const e = error as GatewayError;
      return `${e.code} ${e.reason} ${e.message} | ${e.headers["www-authenticate"]}`;
    }
  };

  it.each<[string, EffectiveRule, Caller | undefined, string]>([
    ["public, no caller", rule([], true), undefined, "allowed"],
    ["public, any caller", rule([], true), caller([]), "allowed"],
    ["non-public, no caller", rule([]), undefined, '16 PG_ERR_UNAUTHENTICATED authentication required | Bearer realm="protogate"'],
    ["non-public, caller without scopes needed", rule([]), caller([]), "allowed"],
    ["all scopes held", rule(["a", "b"]), caller(["b", "a", "c"]), "allowed"],
    [
      "one scope missing",
      rule(["orders:read", "orders:write"]),
      caller(["orders:read"]),
      '7 PG_ERR_PERMISSION_DENIED missing scope orders:write | Bearer realm="protogate", error="insufficient_scope", error_description="missing scope orders:write", scope="orders:read orders:write"',
    ],
    [
      "all scopes missing",
      rule(["a", "b"]),
      caller([]),
      '7 PG_ERR_PERMISSION_DENIED missing scopes a b | Bearer realm="protogate", error="insufficient_scope", error_description="missing scopes a b", scope="a b"',
    ],
    ["scope match is exact", rule(["orders:write"]), caller(["orders:writ", "ORDERS:WRITE"]), expect.stringContaining("missing scope orders:write") as unknown as string],
  ])("%s", (_name, r, c, expected) => {
    expect(outcome(r, c)).toEqual(expected);
  });
});
