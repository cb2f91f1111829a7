import type { FileRegistry } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import { findAuthExtensions, readAuthRule } from "../../../codegen/auth-rule/read-auth-rule.js";
import { buildTestRegistry, method } from "../openapi/support.js";

let registry: FileRegistry;
beforeAll(() => {
  registry = buildTestRegistry();
});

describe("readAuthRule on the demo protos", () => {
  it("finds the method and service options once auth.proto is in the registry", () => {
    const { method: methodExtension, service } = findAuthExtensions(registry);
    expect(methodExtension?.number).toBe(50420);
    expect(service?.number).toBe(50421);
  });

  it.each([
    ["demo.v1.UserService.GetUser", { rule: { public: true, scopes: [], forwardAuthorization: false } }],
    ["demo.v1.UserService.CreateUser", { rule: { public: false, scopes: ["users:write"], forwardAuthorization: false } }],
    ["demo.v1.OrderService.CancelOrder", { rule: { public: false, scopes: ["orders:write"], forwardAuthorization: false } }],
    ["demo.v1.PaymentService.GetReceipt", { rule: { public: true, scopes: [], forwardAuthorization: false } }],
    ["demo.v1.UserService.SearchUsers", undefined],
    ["demo.v1.PaymentService.GetArchiveFile", undefined],
  ])("%s -> %j", (name, expected) => {
    expect(readAuthRule(method(registry, name), findAuthExtensions(registry).method)).toEqual(expected);
  });

  it("reads nothing when no file imports auth.proto, or from the wrong kind of element", () => {
    const getUser = method(registry, "demo.v1.UserService.GetUser");
    expect(readAuthRule(getUser, undefined)).toBeUndefined();
    // The service option does not apply to methods, nor the method option to services.
    expect(readAuthRule(getUser, findAuthExtensions(registry).service)).toBeUndefined();
    expect(readAuthRule(getUser.parent, findAuthExtensions(registry).method)).toBeUndefined();
    expect(readAuthRule(getUser.parent, findAuthExtensions(registry).service)).toBeUndefined();
  });
});
