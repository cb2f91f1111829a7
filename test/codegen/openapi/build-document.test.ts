import { create, createFileRegistry, fromBinary, toBinary, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { CodegenBinding } from "../../../codegen/model.js";
import { buildOpenApiDocument, renderOpenApi, type JsonSchema, type OpenApiDocument, type OpenApiOperation, type OpenApiParameter } from "../../../codegen/openapi/index.js";
import { GatewayError } from "../../../src/errors/gateway-error.js";
import { lintOpenApi31 } from "./openapi-lint.js";
import { binding, buildTestRegistry, deep as deepSegment, demoBindings, edgeBindings, lit, star, tpl, variable } from "./support.js";

const INFO = { title: "Protogate demo", version: "1.0.0" };
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const NON_FINITE: JsonSchema = { type: "string", enum: ["NaN", "Infinity", "-Infinity"] };

let registry: FileRegistry;
let demo: CodegenBinding[];
let edge: CodegenBinding[];
let demoDoc: OpenApiDocument;
let fullDoc: OpenApiDocument;

beforeAll(() => {
  registry = buildTestRegistry();
  demo = demoBindings(registry);
  edge = edgeBindings(registry);
  demoDoc = buildOpenApiDocument(demo, INFO);
  fullDoc = buildOpenApiDocument([...demo, ...edge], INFO);
});

function op(doc: OpenApiDocument, path: string, method: "get" | "post" | "put" | "patch" | "delete"): OpenApiOperation {
  const operation = doc.paths[path]?.[method];
  if (!operation) throw new Error(`no ${method} ${path} in ${Object.keys(doc.paths).join(", ")}`);
  return operation;
}

function param(operation: OpenApiOperation, name: string, location: "path" | "query" = "query"): OpenApiParameter {
  const found = operation.parameters?.find((p) => p.name === name && p.in === location);
  if (!found) throw new Error(`no ${location} parameter ${name} in ${operation.operationId}`);
  return found;
}

const queryNames = (operation: OpenApiOperation) => (operation.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
const jsonSchemaOf = (content: { [type: string]: { schema: JsonSchema } } | undefined) => content?.["application/json"]?.schema;

describe("buildOpenApiDocument on the demo API", () => {
  it("is valid OpenAPI 3.1 as far as the structural lint can tell", () => {
    expect(lintOpenApi31(demoDoc)).toEqual([]);
    expect(lintOpenApi31(JSON.parse(renderOpenApi(fullDoc)))).toEqual([]);
    expect(demoDoc.openapi).toBe("3.1.0");
    expect(demoDoc.info).toEqual(INFO);
  });

  it("has one path per distinct OpenAPI path, sorted, in OpenAPI template form", () => {
    expect(Object.keys(demoDoc.paths)).toEqual([
      "/v1/archive/{path}",
      "/v1/orders/{name}",
      "/v1/payments",
      "/v1/payments/{payment_id}",
      "/v1/payments/{payment_id}/attachment",
      "/v1/payments/{payment_id}/receipt",
      "/v1/rooms/{room}/messages:batch",
      "/v1/rooms/{room}/messages:subscribe",
      "/v1/rooms/{room}:chat",
      "/v1/users",
      "/v1/users/{user_id}",
      "/v1/users/{user_id}/recommendations",
      "/v1/users/{user}/orders",
      "/v1/users/{user}/orders/{order}",
      "/v1/users/{user}/orders/{order}/items",
      "/v1/users/{user}/orders/{order}:cancel",
      "/v1/users:batchGet",
      "/v1/users:search",
    ]);
    expect(Object.keys(demoDoc.paths["/v1/users/{user_id}"]).sort()).toEqual(["delete", "get", "patch"]);
    expect(Object.keys(demoDoc.paths["/v1/users/{user}/orders"]).sort()).toEqual(["get", "post"]);
  });

  it.each([
    ["/v1/users/{user_id}", "get", "UserService_GetUser", "Returns one user by id."],
    ["/v1/users:search", "post", "UserService_SearchUsers", "Searches users by free text (a custom method)."],
    ["/v1/users/{user}/orders/{order}", "get", "OrderService_GetOrder", "Returns one order by resource name, or by user and order id."],
    ["/v1/orders/{name}", "get", "OrderService_GetOrder_1", "Returns one order by resource name, or by user and order id."],
    ["/v1/payments/{payment_id}/receipt", "get", "PaymentService_GetReceipt", "Returns a payment's receipt as a plain-text document (google.api.HttpBody)."],
  ] as const)("%s %s is %s, tagged with its service and summarised by its comment", (path, method, operationId, summary) => {
    const operation = op(demoDoc, path, method);
    expect(operation.operationId).toBe(operationId);
    expect(operation.tags).toEqual([operationId.split("_")[0]]);
    expect(operation.summary).toBe(summary);
  });

  it("declares each service as a tag described by its comment", () => {
    expect(demoDoc.tags).toEqual([
      { name: "ChatService", description: "Chat rooms: the demo's streaming methods, one of each kind." },
      { name: "OrderService", description: "Manages orders, which belong to users." },
      { name: "PaymentService", description: "Takes payments for orders." },
      { name: "RecommendationService", description: "Recommends products to users (the third call of the demo's mobile dashboard aggregate)." },
      { name: "UserService", description: "Manages the demo's users." },
    ]);
  });

  it("documents a single-segment path variable with the field's type", () => {
    const parameter = param(op(demoDoc, "/v1/users/{user_id}", "get"), "user_id", "path");
    expect(parameter).toMatchObject({ in: "path", required: true, schema: { type: "string" }, "x-protogate-field": "user_id" });
    expect(parameter["x-protogate-pattern"]).toBeUndefined();
  });

  it("merges paths that differ only in variable names, recording the field each sets", () => {
    // `/v1/users/{user.user_id}` is the same OpenAPI path as `/v1/users/{user_id}`.
    const parameter = param(op(demoDoc, "/v1/users/{user_id}", "patch"), "user_id", "path");
    expect(parameter["x-protogate-field"]).toBe("user.user_id");
    expect(parameter.description).toContain("`user.user_id`");
    expect(demoDoc.paths["/v1/users/{user.user_id}"]).toBeUndefined();
  });

  it.each([
    ["/v1/users/{user}/orders/{order}", "get", "name", "users/{user}/orders/{order}"],
    ["/v1/users/{user}/orders/{order}:cancel", "post", "name", "users/{user}/orders/{order}"],
    ["/v1/users/{user}/orders/{order}/items", "get", "name", "users/{user}/orders/{order}"],
    ["/v1/users/{user}/orders", "get", "parent", "users/{user}"],
  ] as const)("expands the multi-segment variable of %s %s into one-segment parameters that say how they make the field", (path, method, field, template) => {
    const parameters = op(demoDoc, path, method).parameters?.filter((p) => p.in === "path") ?? [];
    expect(parameters.map((p) => p.name)).toEqual([...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]));
    for (const parameter of parameters) {
      expect(parameter).toMatchObject({ required: true, schema: { type: "string" }, "x-protogate-field": field, "x-protogate-field-template": template });
      expect(parameter["x-protogate-pattern"]).toBeUndefined();
      expect(parameter.description).toContain(`the gateway sets \`${field}\` to \`${template}\``);
    }
  });

  it("documents a ** variable as one parameter allowing slashes", () => {
    const parameter = param(op(demoDoc, "/v1/archive/{path}", "get"), "path", "path");
    expect(parameter).toMatchObject({ "x-protogate-pattern": "**", "x-protogate-field": "path", schema: { type: "string", pattern: "^(?:[^/]+(?:/[^/]+)*)?$" } });
    expect(parameter.description).toContain('"/" separators are sent as they are');
  });

  it("lists every field not bound by the path or body as a query parameter, by JSON name", () => {
    const list = op(demoDoc, "/v1/users", "get");
    expect(queryNames(list)).toEqual(["pageSize", "pageToken", "role", "tags", "createdAfter"]);
    expect(param(list, "pageSize")).toMatchObject({ schema: { type: "integer", format: "int32" }, "x-protogate-field": "page_size" });
    expect(param(list, "role").schema).toEqual(ref("demo.v1.Role"));
    expect(param(list, "tags")).toMatchObject({ style: "form", explode: true, schema: { type: "array", items: { type: "string" } } });
    expect(param(list, "createdAfter").schema).toEqual(ref("google.protobuf.Timestamp"));

    expect(queryNames(op(demoDoc, "/v1/users/{user_id}", "patch"))).toEqual(["updateMask"]);
    expect(queryNames(op(demoDoc, "/v1/users/{user}/orders", "get"))).toEqual(["pageSize", "states", "newestFirst"]);
    expect(queryNames(op(demoDoc, "/v1/users/{user}/orders", "post"))).toEqual(["requestId"]);
    expect(param(op(demoDoc, "/v1/users/{user}/orders", "post"), "requestId").description).toBe("A client-chosen id making the call idempotent.");
    expect(op(demoDoc, "/v1/users/{user_id}", "get").parameters?.map((p) => p.in)).toEqual(["path"]);
  });

  it("has no query parameters when the body is *", () => {
    expect(queryNames(op(demoDoc, "/v1/users:search", "post"))).toEqual([]);
    expect(queryNames(op(demoDoc, "/v1/users/{user}/orders/{order}:cancel", "post"))).toEqual([]);
  });

  it("describes request bodies: * minus path fields, a body field, or raw HttpBody bytes", () => {
    expect(op(demoDoc, "/v1/users", "get").requestBody).toBeUndefined();
    expect(jsonSchemaOf(op(demoDoc, "/v1/users:search", "post").requestBody?.content)).toEqual(ref("demo.v1.SearchUsersRequest"));
    expect(jsonSchemaOf(op(demoDoc, "/v1/users/{user}/orders/{order}:cancel", "post").requestBody?.content)).toEqual({ type: "object", properties: { reason: { type: "string" } } });
    expect(jsonSchemaOf(op(demoDoc, "/v1/users", "post").requestBody?.content)).toEqual(ref("demo.v1.User"));
    expect(jsonSchemaOf(op(demoDoc, "/v1/users/{user}/orders", "post").requestBody?.content)).toEqual(ref("demo.v1.Order"));
    const upload = op(demoDoc, "/v1/payments/{payment_id}/attachment", "put").requestBody;
    expect(Object.keys(upload?.content ?? {})).toEqual(["*/*"]);
    expect(upload?.content["*/*"].schema).toMatchObject({ type: "string", contentMediaType: "application/octet-stream" });
  });

  it("describes responses: the message, the response_body field, or raw HttpBody bytes", () => {
    expect(jsonSchemaOf(op(demoDoc, "/v1/users/{user_id}", "get").responses["200"].content)).toEqual(ref("demo.v1.User"));
    // DeleteUser answers 204 ((protogate.v1.success)): no content at all.
    expect(op(demoDoc, "/v1/users/{user_id}", "delete").responses["204"]).toEqual({ description: "No content: the google.protobuf.Empty response is not sent." });
    expect(op(demoDoc, "/v1/users/{user}/orders", "post").responses["201"].headers?.Location.schema).toEqual({ type: "string" });
    expect(jsonSchemaOf(op(demoDoc, "/v1/users/{user}/orders/{order}/items", "get").responses["200"].content)).toEqual({ type: "array", items: ref("demo.v1.LineItem") });
    for (const path of ["/v1/payments/{payment_id}/receipt", "/v1/archive/{path}"]) {
      const content = op(demoDoc, path, "get").responses["200"].content ?? {};
      expect(Object.keys(content)).toEqual(["*/*"]);
      expect(content["*/*"].schema.type).toBe("string");
    }
  });

  it("gives every operation the google.rpc.Status error as its default response", () => {
    const operations = Object.values(fullDoc.paths).flatMap((item) => [
      ...Object.values(item).filter((v): v is OpenApiOperation => typeof v === "object" && v !== null && "operationId" in v),
      ...Object.values(item["x-protogate-custom-methods"] ?? {}),
    ]);
    expect(operations).toHaveLength(demo.length + edge.length);
    for (const operation of operations) expect(jsonSchemaOf(operation.responses.default.content)).toEqual(ref("google.rpc.Status"));
    expect(demoDoc.components.schemas["google.rpc.Status"]).toMatchObject({
      type: "object",
      properties: { code: { type: "integer", format: "int32" }, message: { type: "string" }, details: { type: "array", items: ref("google.protobuf.Any") } },
    });
  });

  it("includes exactly the schemas the operations reach", () => {
    const names = Object.keys(demoDoc.components.schemas);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(["demo.v1.User", "demo.v1.Role", "demo.v1.Order", "demo.v1.OrderState", "demo.v1.Money", "demo.v1.LineItem", "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.Any"]));
    // Only ever bound to the path or query, never a body or response.
    expect(names).not.toContain("demo.v1.GetUserRequest");
    expect(names).not.toContain("demo.v1.ListUsersRequest");
  });

  it("maps the demo User per the proto3 JSON mapping", () => {
    const user = demoDoc.components.schemas["demo.v1.User"];
    expect(user.description).toBe("A user of the demo shop.");
    expect(user.properties).toEqual({
      userId: { type: "string" },
      displayName: { type: "string" },
      email: { type: "string" },
      role: ref("demo.v1.Role"),
      createTime: { ...ref("google.protobuf.Timestamp"), readOnly: true },
      labels: { type: "object", additionalProperties: { type: "string" } },
      tags: { type: "array", items: { type: "string" } },
      balanceCents: { type: "string", format: "int64", description: "Account balance in cents; 64-bit, so it is a string in JSON." },
      profile: ref("google.protobuf.Struct"),
      nickname: ref("google.protobuf.StringValue"),
      region: { type: "string", description: 'Where the user shops (e.g. "eu-west"); recommendations are per region.' },
    });
    // (google.api.field_behavior) = REQUIRED.
    expect(user.required).toEqual(["displayName", "email"]);
    expect(demoDoc.components.schemas["demo.v1.Role"]).toEqual({ type: "string", enum: ["ROLE_UNSPECIFIED", "ROLE_MEMBER", "ROLE_ADMIN"], description: "A user's role." });
  });
});

describe("buildOpenApiDocument on the edge cases", () => {
  it.each<[string, JsonSchema]>([
    ["fDouble", { oneOf: [{ type: "number", format: "double" }, NON_FINITE] }],
    ["fFloat", { oneOf: [{ type: "number", format: "float" }, NON_FINITE] }],
    ["fInt32", { type: "integer", format: "int32" }],
    ["fSint32", { type: "integer", format: "int32" }],
    ["fSfixed32", { type: "integer", format: "int32" }],
    ["fUint32", { type: "integer", format: "uint32", minimum: 0, maximum: 4294967295 }],
    ["fFixed32", { type: "integer", format: "uint32", minimum: 0, maximum: 4294967295 }],
    ["fInt64", { type: "string", format: "int64" }],
    ["fSint64", { type: "string", format: "int64" }],
    ["fSfixed64", { type: "string", format: "int64" }],
    ["fUint64", { type: "string", format: "uint64" }],
    ["fFixed64", { type: "string", format: "uint64" }],
    ["fBool", { type: "boolean" }],
    ["fString", { type: "string" }],
    ["fBytes", { type: "string", contentEncoding: "base64" }],
    ["kind", ref("edge.v1.Kind")],
    ["timestamp", ref("google.protobuf.Timestamp")],
    ["nullValue", ref("google.protobuf.NullValue")],
    ["wInt64", ref("google.protobuf.Int64Value")],
    ["byId", { type: "object", additionalProperties: ref("edge.v1.Everything"), propertyNames: { pattern: "^-?[0-9]+$" } }],
    ["byNumber", { type: "object", additionalProperties: { type: "string" }, propertyNames: { pattern: "^[0-9]+$" } }],
    ["byFlag", { type: "object", additionalProperties: { type: "string" }, propertyNames: { enum: ["true", "false"] } }],
    ["kindsByName", { type: "object", additionalProperties: ref("edge.v1.Kind") }],
    ["children", { type: "array", items: ref("edge.v1.Everything") }],
    ["numbers", { type: "array", items: { type: "string", format: "int64" } }],
    ["maybe", { type: "string", description: "Maybe set." }],
    ["oldField", { type: "string", deprecated: true }],
    ["renamed", { type: "string" }],
  ])("maps the field %s", (name, expected) => {
    expect(fullDoc.components.schemas["edge.v1.Everything"].properties?.[name]).toEqual(expected);
  });

  it("documents oneof members, and not proto3 optional fields (synthetic oneofs)", () => {
    const properties = fullDoc.components.schemas["edge.v1.Everything"].properties ?? {};
    for (const name of ["choiceText", "choiceNumber"]) {
      expect(properties[name]["x-protogate-oneof"]).toBe("choice");
      expect(properties[name].description).toContain("at most one of `choiceText`, `choiceNumber`");
    }
    expect(properties.maybe["x-protogate-oneof"]).toBeUndefined();
    expect(Object.keys(properties)).not.toContain("f_int64");
  });

  it.each<[string, JsonSchema]>([
    ["google.protobuf.Timestamp", { type: "string", format: "date-time" }],
    ["google.protobuf.Duration", { type: "string", pattern: "^-?\\d+(\\.\\d{1,9})?s$" }],
    ["google.protobuf.FieldMask", { type: "string" }],
    ["google.protobuf.Struct", { type: "object", additionalProperties: ref("google.protobuf.Value") }],
    ["google.protobuf.Value", {}],
    ["google.protobuf.ListValue", { type: "array", items: ref("google.protobuf.Value") }],
    ["google.protobuf.NullValue", { type: "null" }],
    ["google.protobuf.Empty", { type: "object", additionalProperties: false }],
    ["google.protobuf.Any", { type: "object", required: ["@type"], properties: { "@type": { type: "string" } } }],
    ["google.protobuf.DoubleValue", { oneOf: [{ type: "number", format: "double" }, NON_FINITE, { type: "null" }] }],
    ["google.protobuf.FloatValue", { oneOf: [{ type: "number", format: "float" }, NON_FINITE, { type: "null" }] }],
    ["google.protobuf.Int64Value", { type: ["string", "null"], format: "int64" }],
    ["google.protobuf.UInt64Value", { type: ["string", "null"], format: "uint64" }],
    ["google.protobuf.Int32Value", { type: ["integer", "null"], format: "int32" }],
    ["google.protobuf.UInt32Value", { type: ["integer", "null"], format: "uint32" }],
    ["google.protobuf.BoolValue", { type: ["boolean", "null"] }],
    ["google.protobuf.StringValue", { type: ["string", "null"] }],
    ["google.protobuf.BytesValue", { type: ["string", "null"], contentEncoding: "base64" }],
  ])("gives the well-known type %s its JSON form", (name, expected) => {
    const schema = fullDoc.components.schemas[name];
    expect(schema).toMatchObject(expected);
    expect(schema.properties === undefined || name === "google.protobuf.Any").toBe(true);
    if (name === "google.protobuf.Value") expect(Object.keys(schema)).toEqual(["description"]);
  });

  it("documents enums as their names, with value comments", () => {
    const kind = fullDoc.components.schemas["edge.v1.Kind"];
    expect(kind.enum).toEqual(["KIND_UNSPECIFIED", "KIND_SMALL", "KIND_LARGE"]);
    expect(kind.description).toBe("Kinds of things.\n\n- `KIND_SMALL`: A small thing.");
  });

  it("expands nested message fields into dotted query parameters, skipping what the query cannot carry", () => {
    const search = fullDoc.paths["/v1/projects/{project}/things:search"]?.get;
    if (!search) throw new Error("no search operation");
    expect(queryNames(search)).toEqual([
      "filter.name",
      "filter.kind",
      "filter.labels",
      "filter.ids",
      "filter.after",
      "filter.minCount",
      "filter.inner.score",
      "pageSize",
      "kinds",
      "labels",
      "pageToken",
      "timeout",
      "readMask",
      "since",
    ]);
    expect(param(search, "filter.name")).toMatchObject({ description: "Matches the name.", "x-protogate-field": "filter.name" });
    expect(param(search, "filter.labels")).toMatchObject({ style: "deepObject", explode: true, schema: { type: "object", additionalProperties: { type: "string" } } });
    expect(param(search, "filter.ids")).toMatchObject({ style: "form", explode: true, schema: { type: "array", items: { type: "string", format: "int64" } } });
    expect(param(search, "filter.minCount")).toMatchObject({ schema: { type: "integer", format: "int32" }, "x-protogate-field": "filter.min_count" });
    expect(param(search, "kinds").schema).toEqual({ type: "array", items: ref("edge.v1.Kind") });
    expect(param(search, "pageToken").schema).toEqual({ type: "string", contentEncoding: "base64" });
    expect(param(search, "timeout").schema).toEqual(ref("google.protobuf.Duration"));
    expect(param(search, "readMask").schema).toEqual(ref("google.protobuf.FieldMask"));
    expect(param(search, "project", "path")).toMatchObject({ "x-protogate-field": "parent", "x-protogate-field-template": "projects/{project}" });
    expect(search.description).toBe("Everything after the first paragraph is the description.");
    expect(search.summary).toBe("Searches things.");
  });

  it("puts methods OpenAPI has no field for under x-protogate-custom-methods", () => {
    const item = fullDoc.paths["/v1/things/{name}"];
    expect(Object.keys(item)).toEqual(["x-protogate-custom-methods"]);
    const purge = item["x-protogate-custom-methods"]?.PURGE;
    expect(purge?.operationId).toBe("EdgeService_Purge");
    expect(purge?.parameters?.map((p) => p.name)).toEqual(["name", "force"]);
  });

  it("documents an HttpBody request and response as raw bytes of any media type", () => {
    const upload = op(fullDoc, "/v1/uploads", "post");
    expect(Object.keys(upload.requestBody?.content ?? {})).toEqual(["*/*"]);
    expect(Object.keys(upload.responses["200"].content ?? {})).toEqual(["*/*"]);
    expect(upload.parameters).toBeUndefined();
  });

  it("gives bindings that used to share a path (`{name=shelves/*}`, `{name=books/*}`) paths of their own, with unbound wildcards as parameters", () => {
    const shelves = op(fullDoc, "/v1/{_segment1}/retired/shelves/{shelf}", "get");
    const books = op(fullDoc, "/v1/{_segment1}/retired/books/{book}", "get");
    expect([shelves.operationId, books.operationId]).toEqual(["EdgeService_Retired", "EdgeService_Retired_1"]);
    expect(shelves.deprecated).toBe(true);
    expect(param(shelves, "_segment1", "path")).toMatchObject({ required: true, schema: { type: "string" } });
    expect(param(shelves, "shelf", "path")).toMatchObject({ "x-protogate-field": "name", "x-protogate-field-template": "shelves/{shelf}" });
    expect(param(books, "book", "path")).toMatchObject({ "x-protogate-field": "name", "x-protogate-field-template": "books/{book}" });
    expect(JSON.stringify(fullDoc)).not.toContain("x-protogate-alternate-operations");
  });

  it("leaves out, with a warning naming both rules, a binding OpenAPI cannot tell from another ('*' against '**')", () => {
    const one = binding(registry, { rpc: "demo.v1.UserService.GetUser", httpMethod: "GET", pattern: "/v1/x/{user_id}", template: tpl([lit("v1"), lit("x"), star], [variable("user_id", 2, 3)]) });
    const deepOne = binding(registry, { rpc: "demo.v1.PaymentService.GetArchiveFile", httpMethod: "GET", pattern: "/v1/x/{path=**}", template: tpl([lit("v1"), lit("x"), deepSegment], [variable("path", 2, 3)]) });
    const warnings: string[] = [];
    const doc = buildOpenApiDocument([deepOne, one], INFO, { warn: (source, message) => warnings.push(`${source}: ${message}`) });
    // Declaration order: demo/v1/payment.proto comes before demo/v1/user.proto.
    expect(Object.keys(doc.paths)).toEqual(["/v1/x/{path}"]);
    expect(doc.paths["/v1/x/{path}"].get?.operationId).toBe("PaymentService_GetArchiveFile");
    expect(warnings).toEqual([
      "test:demo.v1.UserService.GetUser: GET /v1/x/{user_id} is left out of openapi.json: OpenAPI cannot tell it from GET /v1/x/{path=**} (test:demo.v1.PaymentService.GetArchiveFile), which differs only in a '*' against a '**'",
    ]);
    expect(lintOpenApi31(doc)).toEqual([]);
  });

  it("tags and names operations by full service name when two services share a simple name", () => {
    expect(fullDoc.tags.map((t) => t.name)).toEqual(["ChatService", "EdgeService", "OrderService", "PaymentService", "RecommendationService", "demo.v1.UserService", "edge.v1.UserService"]);
    expect(op(fullDoc, "/v1/users/{user_id}", "get")).toMatchObject({ operationId: "demo_v1_UserService_GetUser", tags: ["demo.v1.UserService"] });
    expect(op(fullDoc, "/v1/edge/users/{name}", "get")).toMatchObject({ operationId: "edge_v1_UserService_GetUser", tags: ["edge.v1.UserService"] });
  });

  it("subtracts nested path-bound fields from a * body", () => {
    const update = binding(registry, {
      rpc: "demo.v1.UserService.UpdateUser",
      httpMethod: "PUT",
      pattern: "/v1/users/{user.user_id}",
      template: tpl([lit("v1"), lit("users"), star], [variable("user.user_id", 2, 3)]),
      body: { kind: "all" },
    });
    const doc = buildOpenApiDocument([update], INFO);
    const schema = jsonSchemaOf(doc.paths["/v1/users/{user.user_id}"].put?.requestBody?.content);
    expect(Object.keys(schema?.properties ?? {})).toEqual(["user", "updateMask"]);
    const user = schema?.properties?.user;
    expect(user?.type).toBe("object");
    expect(Object.keys(user?.properties ?? {})).not.toContain("userId");
    expect(user?.properties?.displayName).toEqual({ type: "string" });
    expect(lintOpenApi31(doc)).toEqual([]);
  });

  it("works without source info: no comments, same structure", () => {
    const stripped = withoutSourceInfo(registry);
    const doc = buildOpenApiDocument(demoBindings(stripped), INFO);
    expect(op(doc, "/v1/users/{user_id}", "get").summary).toBe("GetUser");
    expect(doc.tags).toEqual([{ name: "ChatService" }, { name: "OrderService" }, { name: "PaymentService" }, { name: "RecommendationService" }, { name: "UserService" }]);
    expect(doc.components.schemas["demo.v1.User"].properties?.balanceCents).toEqual({ type: "string", format: "int64" });
    expect(Object.keys(doc.paths)).toEqual(Object.keys(demoDoc.paths));
    expect(lintOpenApi31(doc)).toEqual([]);
  });

  it.each([
    ["a path variable", { template: tpl([lit("v1"), star], [variable("nope", 1, 2)]) }, 'field path "nope" of demo.v1.GetUserRequest'],
    ["a body field", { template: tpl([lit("v1")]), httpMethod: "POST", body: { kind: "field", fieldPath: ["missing"] } as const }, 'field path "missing"'],
    ["a response_body", { template: tpl([lit("v1")]), responseBody: ["absent"] }, 'field path "absent" of demo.v1.User'],
    ["variable bounds", { template: tpl([lit("v1")], [variable("user_id", 1, 3)]) }, "do not fit the 1 segments"],
  ])("throws an internal GatewayError naming the problem for a bad %s", (_what, spec, message) => {
    const bad = binding(registry, { rpc: "demo.v1.UserService.GetUser", httpMethod: "GET", pattern: "/bad", ...spec });
    let caught: unknown;
    try {
      buildOpenApiDocument([bad], INFO);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect((caught as GatewayError).reason).toBe("PG_ERR_INTERNAL");
    expect((caught as GatewayError).message).toContain("test:demo.v1.UserService.GetUser");
    expect((caught as GatewayError).message).toContain(message);
  });
});

describe("security from the access rules", () => {
  const bearer = (...scopes: string[]) => [{ bearerAuth: scopes }, { apiKeyAuth: [] }];

  it("declares the bearer (JWT) and API-key schemes", () => {
    expect(demoDoc.components.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: "http", scheme: "bearer", bearerFormat: "JWT" }),
      apiKeyAuth: expect.objectContaining({ type: "apiKey", in: "header", name: "x-api-key" }),
    });
  });

  it.each([
    // public: true
    ["/v1/users/{user_id}", "get", []],
    ["/v1/users", "get", []],
    ["/v1/payments/{payment_id}/receipt", "get", []],
    // scopes
    ["/v1/users", "post", bearer("users:write")],
    ["/v1/users/{user_id}", "patch", bearer("users:write")],
    ["/v1/users/{user_id}", "delete", bearer("users:write")],
    ["/v1/users/{user}/orders", "post", bearer("orders:write")],
    ["/v1/users/{user}/orders/{order}:cancel", "post", bearer("orders:write")],
    ["/v1/payments", "post", bearer("payments:write")],
    ["/v1/payments/{payment_id}/attachment", "put", bearer("payments:write")],
    // no rule: any authenticated caller
    ["/v1/users:search", "post", bearer()],
    ["/v1/users/{user}/orders/{order}", "get", bearer()],
    ["/v1/orders/{name}", "get", bearer()],
    ["/v1/payments/{payment_id}", "get", bearer()],
    ["/v1/archive/{path}", "get", bearer()],
  ] as const)("%s %s has security %j", (path, method, security) => {
    const operation = op(demoDoc, path, method);
    expect(operation.security).toEqual(security);
    const statuses = Object.keys(operation.responses).sort();
    // CreateUser and CreateOrder answer 201, DeleteUser 204 ((protogate.v1.success)).
    const success = method === "post" && (path === "/v1/users" || path === "/v1/users/{user}/orders") ? "201" : method === "delete" ? "204" : "200";
    if (security.length === 0) expect(statuses).toEqual([success, "default"]);
    else expect(statuses).toEqual([success, "401", "403", "default"]);
  });

  it("documents 401 (with the Bearer challenge) and 403 as google.rpc.Status, naming the scopes", () => {
    const create = op(demoDoc, "/v1/users", "post");
    for (const status of ["401", "403"]) expect(jsonSchemaOf(create.responses[status].content)).toEqual(ref("google.rpc.Status"));
    expect(create.responses["401"].description).toContain("UNAUTHENTICATED");
    expect(create.responses["401"].headers?.["WWW-Authenticate"]?.schema).toEqual({ type: "string" });
    expect(create.responses["403"].description).toContain("users:write");
    expect(op(demoDoc, "/v1/users:search", "post").responses["403"].description).toContain("PERMISSION_DENIED");
  });

  it("ignores forward_authorization and takes scopes in declaration order", () => {
    const rule = { public: false, scopes: ["b:write", "a:read"], forwardAuthorization: true };
    const custom = binding(registry, {
      rpc: "demo.v1.UserService.SearchUsers",
      httpMethod: "POST",
      pattern: "/v1/users:search",
      template: tpl([lit("v1"), lit("users")], [], "search"),
      body: { kind: "all" },
      auth: rule,
    });
    const doc = buildOpenApiDocument([custom], INFO);
    expect(op(doc, "/v1/users:search", "post").security).toEqual(bearer("b:write", "a:read"));
    expect(lintOpenApi31(doc)).toEqual([]);
  });
});

describe("determinism", () => {
  it("renders byte-identically on re-runs, as 2-space JSON with a trailing newline", () => {
    const first = renderOpenApi(buildOpenApiDocument([...demo, ...edge], INFO));
    const second = renderOpenApi(buildOpenApiDocument([...demo, ...edge], INFO));
    expect(second).toBe(first);
    expect(first.endsWith("}\n")).toBe(true);
    expect(first.startsWith('{\n  "openapi": "3.1.0",\n  "info": {')).toBe(true);
    expect(JSON.parse(first)).toEqual(JSON.parse(JSON.stringify(fullDoc)));
  });

  it("does not depend on the order of the bindings", () => {
    const all = [...demo, ...edge];
    const expected = renderOpenApi(fullDoc);
    fc.assert(
      fc.property(fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), (shuffled) => {
        expect(renderOpenApi(buildOpenApiDocument(shuffled, INFO))).toBe(expected);
      }),
      { numRuns: 25 },
    );
  });
});

function withoutSourceInfo(source: FileRegistry): FileRegistry {
  const files = [];
  for (const desc of source.files) {
    const copy = fromBinary(FileDescriptorProtoSchema, toBinary(FileDescriptorProtoSchema, desc.proto));
    copy.sourceCodeInfo = undefined;
    files.push(copy);
  }
  return createFileRegistry(create(FileDescriptorSetSchema, { file: files }));
}
