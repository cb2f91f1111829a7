import { METHOD_KINDS } from "../../../codegen/bindings.js";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createFileRegistry, fromBinary, type DescMethod, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { CodegenBinding } from "../../../codegen/model.js";
import type { AuthRuleData, BodySelector, SuccessData } from "../../../src/binding.js";
import type { PathTemplate, TemplateSegment, TemplateVariable } from "../../../src/routing/template.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");

/**
 * Builds the demo protos plus the edge-case fixture (and protogate's own auth.proto, which the
 * demo imports) into a descriptor set (with source info) with `buf`, in a temporary directory,
 * and loads it as a registry.
 */
export function buildTestRegistry(): FileRegistry {
  const dir = mkdtempSync(join(tmpdir(), "protogate-openapi-"));
  try {
    cpSync(join(root, "proto/demo"), join(dir, "demo"), { recursive: true });
    cpSync(join(here, "fixtures/edge"), join(dir, "edge"), { recursive: true });
    cpSync(join(root, "proto/protogate"), join(dir, "protogate"), { recursive: true });
    mkdirSync(join(dir, "google/api"), { recursive: true });
    for (const name of ["annotations", "http", "httpbody", "field_behavior"]) {
      cpSync(join(root, `node_modules/google-proto-files/google/api/${name}.proto`), join(dir, `google/api/${name}.proto`));
    }
    writeFileSync(join(dir, "buf.yaml"), "version: v2\n");
    const out = join(dir, "set.binpb");
    execFileSync(join(root, "node_modules/.bin/buf"), ["build", "--as-file-descriptor-set", "-o", out], { cwd: dir, stdio: "pipe" });
    return createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(out)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `rpc` named `Service.Method` (full service name). */
export function method(registry: FileRegistry, name: string): DescMethod {
  const dot = name.lastIndexOf(".");
  const service = registry.getService(name.slice(0, dot));
  const rpc = service?.methods.find((m) => m.name === name.slice(dot + 1));
  if (!rpc) throw new Error(`no method ${name}`);
  return rpc;
}

export const lit = (value: string): TemplateSegment => ({ kind: "literal", value });
export const star: TemplateSegment = { kind: "wildcard" };
export const deep: TemplateSegment = { kind: "deepWildcard" };
export const variable = (fieldPath: string, start: number, end: number): TemplateVariable => ({ fieldPath: fieldPath.split("."), start, end });
export const tpl = (segments: TemplateSegment[], variables: TemplateVariable[] = [], verb: string | null = null): PathTemplate => ({ segments, variables, verb });

export interface BindingSpec {
  rpc: string;
  httpMethod: string;
  pattern: string;
  template: PathTemplate;
  body?: BodySelector;
  responseBody?: string[];
  bindingIndex?: number;
  auth?: AuthRuleData | null;
  success?: SuccessData;
}

/** A hand-made binding, as codegen's validator would produce it. */
export function binding(registry: FileRegistry, spec: BindingSpec): CodegenBinding {
  const rpc = method(registry, spec.rpc);
  return {
    rpc,
    kind: METHOD_KINDS[rpc.methodKind],
    httpMethod: spec.httpMethod,
    pattern: spec.pattern,
    template: spec.template,
    body: spec.body ?? { kind: "none" },
    responseBody: spec.responseBody ?? [],
    source: `test:${spec.rpc}`,
    bindingIndex: spec.bindingIndex ?? 0,
    auth: spec.auth ?? null,
    ...(spec.success === undefined ? {} : { success: spec.success }),
  };
}

const field = (name: string): BodySelector => ({ kind: "field", fieldPath: [name] });
/** `option (protogate.v1.rule) = {public: true}`. */
export const PUBLIC: AuthRuleData = { public: true, scopes: [], forwardAuthorization: false };
/** `option (protogate.v1.rule) = {scopes: [...]}`. */
export const scoped = (...scopes: string[]): AuthRuleData => ({ public: false, scopes, forwardAuthorization: false });
const all: BodySelector = { kind: "all" };

/** Every rule of the demo protos, written out by hand (templates included). */
export function demoBindings(registry: FileRegistry): CodegenBinding[] {
  const specs: BindingSpec[] = [
    // user.proto
    { rpc: "demo.v1.UserService.GetUser", httpMethod: "GET", pattern: "/v1/users/{user_id}", template: tpl([lit("v1"), lit("users"), star], [variable("user_id", 2, 3)]), auth: PUBLIC },
    { rpc: "demo.v1.UserService.BatchGetUsers", httpMethod: "GET", pattern: "/v1/users:batchGet", template: tpl([lit("v1"), lit("users")], [], "batchGet"), auth: PUBLIC },
    { rpc: "demo.v1.UserService.ListUsers", httpMethod: "GET", pattern: "/v1/users", template: tpl([lit("v1"), lit("users")]), auth: PUBLIC },
    { rpc: "demo.v1.UserService.CreateUser", httpMethod: "POST", pattern: "/v1/users", template: tpl([lit("v1"), lit("users")]), body: field("user"), auth: scoped("users:write"), success: { status: 201, location: [{ text: "/v1/users/" }, { field: ["user_id"] }] } },
    {
      rpc: "demo.v1.UserService.UpdateUser",
      httpMethod: "PATCH",
      pattern: "/v1/users/{user.user_id}",
      template: tpl([lit("v1"), lit("users"), star], [variable("user.user_id", 2, 3)]),
      body: field("user"),
      auth: scoped("users:write"),
    },
    { rpc: "demo.v1.UserService.DeleteUser", httpMethod: "DELETE", pattern: "/v1/users/{user_id}", template: tpl([lit("v1"), lit("users"), star], [variable("user_id", 2, 3)]), auth: scoped("users:write"), success: { status: 204 } },
    { rpc: "demo.v1.UserService.SearchUsers", httpMethod: "POST", pattern: "/v1/users:search", template: tpl([lit("v1"), lit("users")], [], "search"), body: all },
    // order.proto
    {
      rpc: "demo.v1.OrderService.GetOrder",
      httpMethod: "GET",
      pattern: "/v1/{name=users/*/orders/*}",
      template: tpl([lit("v1"), lit("users"), star, lit("orders"), star], [variable("name", 1, 5)]),
    },
    {
      rpc: "demo.v1.OrderService.GetOrder",
      httpMethod: "GET",
      pattern: "/v1/orders/{name}",
      template: tpl([lit("v1"), lit("orders"), star], [variable("name", 2, 3)]),
      bindingIndex: 1,
    },
    {
      rpc: "demo.v1.OrderService.ListOrders",
      httpMethod: "GET",
      pattern: "/v1/{parent=users/*}/orders",
      template: tpl([lit("v1"), lit("users"), star, lit("orders")], [variable("parent", 1, 3)]),
    },
    {
      rpc: "demo.v1.OrderService.CreateOrder",
      httpMethod: "POST",
      pattern: "/v1/{parent=users/*}/orders",
      template: tpl([lit("v1"), lit("users"), star, lit("orders")], [variable("parent", 1, 3)]),
      body: field("order"),
      auth: scoped("orders:write"),
      success: { status: 201, location: [{ text: "/v1/" }, { field: ["name"] }] },
    },
    {
      rpc: "demo.v1.OrderService.CancelOrder",
      httpMethod: "POST",
      pattern: "/v1/{name=users/*/orders/*}:cancel",
      template: tpl([lit("v1"), lit("users"), star, lit("orders"), star], [variable("name", 1, 5)], "cancel"),
      body: all,
      auth: scoped("orders:write"),
    },
    {
      rpc: "demo.v1.OrderService.GetOrderItems",
      httpMethod: "GET",
      pattern: "/v1/{name=users/*/orders/*}/items",
      template: tpl([lit("v1"), lit("users"), star, lit("orders"), star, lit("items")], [variable("name", 1, 5)]),
      responseBody: ["items"],
    },
    // payment.proto
    { rpc: "demo.v1.PaymentService.CreatePayment", httpMethod: "POST", pattern: "/v1/payments", template: tpl([lit("v1"), lit("payments")]), body: all, auth: scoped("payments:write") },
    {
      rpc: "demo.v1.PaymentService.GetPayment",
      httpMethod: "GET",
      pattern: "/v1/payments/{payment_id}",
      template: tpl([lit("v1"), lit("payments"), star], [variable("payment_id", 2, 3)]),
    },
    {
      rpc: "demo.v1.PaymentService.GetReceipt",
      httpMethod: "GET",
      pattern: "/v1/payments/{payment_id}/receipt",
      template: tpl([lit("v1"), lit("payments"), star, lit("receipt")], [variable("payment_id", 2, 3)]),
      auth: PUBLIC,
    },
    {
      rpc: "demo.v1.PaymentService.UploadAttachment",
      httpMethod: "PUT",
      pattern: "/v1/payments/{payment_id}/attachment",
      template: tpl([lit("v1"), lit("payments"), star, lit("attachment")], [variable("payment_id", 2, 3)]),
      body: field("file"),
      auth: scoped("payments:write"),
    },
    {
      rpc: "demo.v1.PaymentService.GetArchiveFile",
      httpMethod: "GET",
      pattern: "/v1/archive/{path=**}",
      template: tpl([lit("v1"), lit("archive"), deep], [variable("path", 2, 3)]),
    },
    // chat.proto (streaming; the service's default rule is public)
    {
      rpc: "demo.v1.ChatService.Subscribe",
      httpMethod: "GET",
      pattern: "/v1/rooms/{room}/messages:subscribe",
      template: tpl([lit("v1"), lit("rooms"), star, lit("messages")], [variable("room", 2, 3)], "subscribe"),
      auth: PUBLIC,
    },
    {
      rpc: "demo.v1.ChatService.PostMessages",
      httpMethod: "POST",
      pattern: "/v1/rooms/{room}/messages:batch",
      template: tpl([lit("v1"), lit("rooms"), star, lit("messages")], [variable("room", 2, 3)], "batch"),
      body: all,
      auth: PUBLIC,
    },
    {
      rpc: "demo.v1.ChatService.Chat",
      httpMethod: "POST",
      pattern: "/v1/rooms/{room}:chat",
      template: tpl([lit("v1"), lit("rooms"), star], [variable("room", 2, 3)], "chat"),
      body: all,
      auth: PUBLIC,
    },
    // recommendation.proto (an explicit rule: any authenticated caller)
    {
      rpc: "demo.v1.RecommendationService.ListRecommendations",
      httpMethod: "GET",
      pattern: "/v1/users/{user_id}/recommendations",
      template: tpl([lit("v1"), lit("users"), star, lit("recommendations")], [variable("user_id", 2, 3)]),
      auth: scoped(),
    },
  ];
  return specs.map((spec) => binding(registry, spec));
}

/** Bindings over the edge-case fixture. */
export function edgeBindings(registry: FileRegistry): CodegenBinding[] {
  const specs: BindingSpec[] = [
    {
      rpc: "edge.v1.EdgeService.Search",
      httpMethod: "GET",
      pattern: "/v1/{parent=projects/*}/things:search",
      template: tpl([lit("v1"), lit("projects"), star, lit("things")], [variable("parent", 1, 3)], "search"),
    },
    {
      rpc: "edge.v1.EdgeService.Purge",
      httpMethod: "PURGE",
      pattern: "/v1/things/{name=**}",
      template: tpl([lit("v1"), lit("things"), deep], [variable("name", 2, 3)]),
    },
    { rpc: "edge.v1.EdgeService.Upload", httpMethod: "POST", pattern: "/v1/uploads", template: tpl([lit("v1"), lit("uploads")]), body: all },
    {
      rpc: "edge.v1.EdgeService.Retired",
      httpMethod: "GET",
      pattern: "/v1/*/retired/{name=shelves/*}",
      template: tpl([lit("v1"), star, lit("retired"), lit("shelves"), star], [variable("name", 3, 5)]),
    },
    {
      rpc: "edge.v1.EdgeService.Retired",
      httpMethod: "GET",
      pattern: "/v1/*/retired/{name=books/*}",
      template: tpl([lit("v1"), star, lit("retired"), lit("books"), star], [variable("name", 3, 5)]),
      bindingIndex: 1,
    },
    {
      rpc: "edge.v1.UserService.GetUser",
      httpMethod: "GET",
      pattern: "/v1/edge/users/{name}",
      template: tpl([lit("v1"), lit("edge"), lit("users"), star], [variable("name", 3, 4)]),
    },
  ];
  return specs.map((spec) => binding(registry, spec));
}
