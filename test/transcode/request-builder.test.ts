import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { createCodecRegistry } from "../../src/transcode/json/codec-registry.js";
import { createRequestBuilder, type RequestInput } from "../../src/transcode/request-builder.js";
import * as orderGen from "../../generated/demo/v1/order.js";
import * as paymentGen from "../../generated/demo/v1/payment.js";
import * as userGen from "../../generated/demo/v1/user.js";
import * as kitchenGen from "../fixtures/kitchen/gen/kitchen/v1/kitchen.js";
import { bodyField, makeBinding, type BindingSpec } from "./binding-fixture.js";
import { gatewayErrorOf, kitchen } from "./json/kitchen-fixture.js";

type Obj = Record<string, unknown>;
const here = dirname(fileURLToPath(import.meta.url));
const demo = createCodecRegistry(readFileSync(join(here, "..", "fixtures", "kitchen", "demo.binpb")), { ignoreUnknownFields: false });

interface Call {
  readonly path?: Record<string, string>;
  readonly query?: string | ReadonlyArray<readonly [string, string]>;
  readonly body?: string | Buffer;
  readonly contentType?: string;
}

function input(call: Call): RequestInput {
  const query =
    typeof call.query === "string"
      ? call.query
          .split("&")
          .filter((p) => p !== "")
          .map((p): [string, string] => {
            const eq = p.indexOf("=");
            return eq < 0 ? [decodeURIComponent(p), ""] : [decodeURIComponent(p.slice(0, eq)), decodeURIComponent(p.slice(eq + 1))];
          })
      : (call.query ?? []);
  return {
    variables: Object.entries(call.path ?? {}).map(([k, value]) => ({ fieldPath: k.split("."), value })),
    query,
    body: call.body === undefined ? undefined : Buffer.isBuffer(call.body) ? call.body : Buffer.from(call.body),
    contentType: call.contentType ?? (call.body === undefined ? undefined : "application/json"),
  };
}

function build(spec: BindingSpec, call: Call, options = { ignoreUnknownQueryParameters: false }, registry = kitchen): Obj {
  return createRequestBuilder(registry, makeBinding(spec), options)(input(call)) as Obj;
}

function buildError(spec: BindingSpec, call: Call, options = { ignoreUnknownQueryParameters: false }) {
  return gatewayErrorOf(() => build(spec, call, options));
}

const getThing = (variables: string[] = []): BindingSpec => ({ requestType: "kitchen.v1.GetThingRequest", variables, httpMethod: "GET" });
const empty = (type: "GetThingRequest" | "UpdateThingRequest" | "UploadRequest" | "Inner" | "Tree"): Obj => kitchenGen[type].decode(new Uint8Array(0)) as unknown as Obj;

describe("path variables", () => {
  it.each([
    ["name", "things/1", { name: "things/1" }],
    ["id", "-123", { id: "-123" }],
    ["id", "9223372036854775807", { id: "9223372036854775807" }],
    ["color", "COLOR_RED", { color: 1 }],
    ["color", "2", { color: 2 }],
    ["flag", "true", { flag: true }],
    ["at", "2020-01-01T00:00:00.5+01:00", { at: { seconds: "1577833200", nanos: 500000000 } }],
    ["timeout", "1.5s", { timeout: { seconds: "1", nanos: 500000000 } }],
    ["read_mask", "a.bC,d", { readMask: ["a.b_c", "d"] }],
    ["limit", "5", { limit: 5 }],
    ["ratio", "NaN", { ratio: NaN }],
    ["token", "AQI", { token: Buffer.from([1, 2]) }],
    ["big", "18446744073709551615", { big: "18446744073709551615" }],
    ["filter", "", { filter: "" }],
    ["renamed_field", "r", { custom_json: "r" }],
  ])("{%s} = %j", (variable, value, expected) => {
    expect(build(getThing([variable]), { path: { [variable]: value } })).toStrictEqual({ ...empty("GetThingRequest"), ...expected });
  });

  it("creates complete intermediate messages for nested variables", () => {
    const message = build(getThing(["inner.name", "tree.left.node_name"]), { path: { "inner.name": "n", "tree.left.node_name": "deep" } });
    expect(message.inner).toStrictEqual({ ...empty("Inner"), name: "n" });
    expect((message.tree as Obj).left).toStrictEqual({ ...empty("Tree"), nodeName: "deep" });
    expect(() => kitchenGen.GetThingRequest.encode(message as never).finish()).not.toThrow();
  });

  it.each([
    ["id", "12x", 'invalid value for path parameter "id": "12x" is not a 64-bit integer'],
    ["color", "PURPLE", 'path parameter "color"'],
    ["flag", "yes", 'path parameter "flag"'],
    ["at", "2021-02-30T00:00:00Z", 'path parameter "at"'],
    ["limit", "2147483648", "out of range"],
  ])("rejects {%s} = %j", (variable, value, detail) => {
    const error = buildError(getThing([variable]), { path: { [variable]: value } });
    expect(error.code).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(error.reason).toBe("PG_ERR_BAD_PATH");
    expect(error.message).toContain(detail);
  });

  it.each([["tags"], ["labels"], ["inner"], ["attrs"], ["nope"], ["inner.nope"], ["tags.x"], ["readMask"]])("refuses a binding with {%s} at start-up", (variable) => {
    expect(() => createRequestBuilder(kitchen, makeBinding(getThing([variable])), { ignoreUnknownQueryParameters: false })).toThrow(/path variable/);
  });
});

describe("body", () => {
  const all: BindingSpec = { requestType: "kitchen.v1.GetThingRequest", variables: ["name"], body: { kind: "all" } };
  const thing: BindingSpec = { requestType: "kitchen.v1.UpdateThingRequest", variables: ["thing.name"], body: bodyField("thing") };

  it('"*": the whole message from the body, path variables on top', () => {
    const message = build(all, { path: { name: "from-path" }, body: '{"name": "from-body", "id": "7", "inner": {"count": 3}}' });
    expect(message).toMatchObject({ name: "from-path", id: "7", inner: { ...empty("Inner"), count: "3" } });
  });
  it('"field": the body is that field; the path wins over the body for the same field', () => {
    const message = build(thing, { path: { "thing.name": "from-path" }, body: '{"name": "from-body", "count": "5", "labels": ["a"]}', query: "update_mask=count,labels" });
    expect(message).toStrictEqual({ ...empty("UpdateThingRequest"), thing: { ...empty("Inner"), name: "from-path", count: "5", labels: ["a"] }, updateMask: ["count", "labels"] });
  });
  it("an empty body is an empty message", () => {
    expect(build(all, { body: "" })).toStrictEqual(empty("GetThingRequest"));
    expect(build(all, {})).toStrictEqual(empty("GetThingRequest"));
    expect(build(thing, { path: { "thing.name": "n" } })).toStrictEqual({ ...empty("UpdateThingRequest"), thing: { ...empty("Inner"), name: "n" } });
    expect(build({ requestType: "kitchen.v1.UpdateThingRequest", body: bodyField("thing") }, {}).thing).toStrictEqual(empty("Inner"));
  });
  it("a JSON null body field leaves the field unset", () => {
    expect(build({ requestType: "kitchen.v1.UpdateThingRequest", body: bodyField("thing") }, { body: "null" }).thing).toBeUndefined();
  });
  it.each([
    ["name", '"just a string"', { name: "just a string" }],
    ["tags", '["a", "b"]', { tags: ["a", "b"] }],
    ["labels", '{"k": "v"}', { labels: new Map([["k", "v"]]) }],
    ["id", "9223372036854775807", { id: "9223372036854775807" }],
    ["at", '"1970-01-01T00:00:01Z"', { at: { seconds: "1", nanos: 0 } }],
    ["tree.left", '{"nodeName": "x"}', { tree: { ...empty("Tree"), left: { ...empty("Tree"), nodeName: "x" } } }],
  ])("body field %s of any type: %s", (field, body, expected) => {
    expect(build({ requestType: "kitchen.v1.GetThingRequest", body: bodyField(field) }, { body })).toStrictEqual({ ...empty("GetThingRequest"), ...expected });
  });
  it("keeps 64-bit integers exact when sent as JSON numbers", () => {
    expect(build(all, { body: '{"id": 9223372036854775807, "big": 18446744073709551615}' })).toMatchObject({ id: "9223372036854775807", big: "18446744073709551615" });
  });
  it("names the field path of a bad value, starting at the body field", () => {
    const error = buildError(thing, { body: '{"count": "12x"}' });
    expect(error.reason).toBe("PG_ERR_BAD_FIELD");
    expect(error.message).toBe('invalid value for field "thing.count": "12x" is not a 64-bit integer');
    expect(buildError(thing, { body: "[]" }).message).toContain('invalid value for field "thing"');
    expect(buildError(all, { body: '{"nope": 1}' }).message).toBe('unknown field "nope"');
    expect(buildError(all, { body: "[]" }).message).toContain("the request body");
  });
  it.each([
    ["application/json", true],
    ["application/json; charset=utf-8", true],
    ["Application/JSON;charset=UTF-8", true],
    ["application/merge-patch+json", true],
    ["text/plain", false],
    ["application/json; charset=iso-8859-1", false],
    ["application/x-www-form-urlencoded", false],
    [undefined, false],
  ])("Content-Type %s accepted: %s", (contentType, accepted) => {
    const run = () => createRequestBuilder(kitchen, makeBinding(all), { ignoreUnknownQueryParameters: false })({ variables: [], query: [], body: Buffer.from("{}"), contentType });
    if (accepted) {
      expect(run()).toStrictEqual(empty("GetThingRequest"));
    } else {
      const error = gatewayErrorOf(run);
      expect(error.code).toBe(GrpcCode.INVALID_ARGUMENT);
      expect(error.httpStatus).toBe(415);
      expect(error.reason).toBe("PG_ERR_UNSUPPORTED_MEDIA_TYPE");
    }
  });
  it("rejects malformed JSON and invalid UTF-8 with PG_ERR_BAD_JSON", () => {
    const malformed = buildError(all, { body: '{"name": }' });
    expect(malformed.reason).toBe("PG_ERR_BAD_JSON");
    expect(malformed.message).toContain("line 1, column 10");
    expect(buildError(all, { body: Buffer.from([0x7b, 0xff, 0x7d]) }).reason).toBe("PG_ERR_BAD_JSON");
  });
  it("refuses a body field that does not exist at start-up", () => {
    expect(() => createRequestBuilder(kitchen, makeBinding({ requestType: "kitchen.v1.GetThingRequest", body: bodyField("nope") }), { ignoreUnknownQueryParameters: false })).toThrow(/body "nope"/);
    expect(() => createRequestBuilder(kitchen, makeBinding({ requestType: "kitchen.v1.GetThingRequest", body: bodyField("tags.x") }), { ignoreUnknownQueryParameters: false })).toThrow(/body/);
  });
});

describe("google.api.HttpBody", () => {
  it("takes the raw bytes and content type into the body field, any content type", () => {
    const message = build({ requestType: "kitchen.v1.UploadRequest", variables: ["name"], body: bodyField("file") }, { path: { name: "n" }, body: Buffer.from([0, 1, 2]), contentType: "image/png", query: "comment=hi" });
    expect(message).toStrictEqual({ name: "n", comment: "hi", file: { contentType: "image/png", data: Buffer.from([0, 1, 2]), extensions: [] } });
    expect(() => kitchenGen.UploadRequest.encode(message as never).finish()).not.toThrow();
  });
  it('takes them into the whole request when the request is an HttpBody with body "*"', () => {
    expect(build({ requestType: "google.api.HttpBody", body: { kind: "all" } }, { body: "not json at all", contentType: "text/csv" })).toStrictEqual({
      contentType: "text/csv",
      data: Buffer.from("not json at all"),
      extensions: [],
    });
    expect(build({ requestType: "google.api.HttpBody", body: { kind: "all" } }, {})).toStrictEqual({ contentType: "", data: Buffer.alloc(0), extensions: [] });
  });
});

describe("query parameters", () => {
  it.each([
    ["name=a%20b", { name: "a b" }],
    ["id=-5", { id: "-5" }],
    ["color=COLOR_BLUE", { color: 3 }],
    ["color=1", { color: 1 }],
    ["flag=false", { flag: false }],
    ["ratio=-1.5e3", { ratio: -1500 }],
    ["ratio32=0.1", { ratio32: Math.fround(0.1) }],
    ["token=-_8", { token: Buffer.from([0xfb, 0xff]) }],
    ["big=18446744073709551615", { big: "18446744073709551615" }],
    ["filter=", { filter: "" }],
    ["at=1970-01-01T00:00:00Z", { at: { seconds: "0", nanos: 0 } }],
    ["timeout=-0.5s", { timeout: { seconds: "0", nanos: -500000000 } }],
    ["read_mask=a,bC", { readMask: ["a", "b_c"] }],
    ["readMask=a", { readMask: ["a"] }],
    ["limit=0", { limit: 0 }],
    ["custom_json=x", { custom_json: "x" }],
    ["renamed_field=x", { custom_json: "x" }],
    ["pick_a=x", { pickA: "x" }],
    ["tags=a&tags=b&tags=", { tags: ["a", "b", ""] }],
    ["colors=COLOR_RED&colors=2", { colors: [1, 2] }],
    ["ids=1&ids=-2", { ids: ["1", "-2"] }],
    ["labels[k]=v&labels[a.b]=c&labels[]=e", { labels: new Map([["k", "v"], ["a.b", "c"], ["", "e"]]) }],
    ["by_number[3]=COLOR_RED&byNumber[-1]=2", { byNumber: new Map([[3, 1], [-1, 2]]) }],
  ])("%s", (query, expected) => {
    expect(build(getThing(), { query })).toStrictEqual({ ...empty("GetThingRequest"), ...expected });
  });

  it("sets nested fields, creating complete messages", () => {
    const message = build(getThing(), { query: "inner.name=n&inner.count=2&tree.left.nodeName=x&inner.labels=a&inner.labels=b" });
    expect(message.inner).toStrictEqual({ ...empty("Inner"), name: "n", count: "2", labels: ["a", "b"] });
    expect(message.tree).toStrictEqual({ ...empty("Tree"), left: { ...empty("Tree"), nodeName: "x" } });
  });

  it.each([
    ["nope=1", 'unknown query parameter "nope"'],
    ["inner.nope=1", 'unknown query parameter "inner.nope"'],
    ["=1", 'unknown query parameter ""'],
    ["tags.x=1", 'unknown query parameter "tags.x"'],
    ["name=a&name=b", 'query parameter "name" is given more than once'],
    ["name=a&name=a", "more than once"],
    ["labels[k]=a&labels[k]=b", "more than once"],
    ["inner=x", 'query parameter "inner" names a kitchen.v1.Inner field'],
    ["attrs=x", "google.protobuf.Struct"],
    ["dyn=1", "google.protobuf.Value"],
    ["labels=x", "names a map field"],
    ["name[k]=x", "is not a map field"],
    ["id=abc", 'invalid value for query parameter "id"'],
    ["flag=1", 'invalid value for query parameter "flag"'],
    ["by_number[x]=1", 'invalid value for query parameter "by_number[x]"'],
    ["colors=PURPLE", "is not a value of enum"],
    ["pick_a=x&pickB=1", 'sets oneof "pick"'],
  ])("rejects %s", (query, detail) => {
    const error = buildError(getThing(), { query });
    expect(error.code).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(error.reason).toBe("PG_ERR_BAD_QUERY");
    expect(error.message).toContain(detail);
  });

  it("ignores parameters naming no field with ignoreUnknownQueryParameters, but not bad values", () => {
    const options = { ignoreUnknownQueryParameters: true };
    expect(build(getThing(), { query: "nope=1&name=x&inner.nope=2" }, options)).toStrictEqual({ ...empty("GetThingRequest"), name: "x" });
    expect(buildError(getThing(), { query: "id=x" }, options).reason).toBe("PG_ERR_BAD_QUERY");
  });

  it("never overwrites a path-bound field", () => {
    const spec = getThing(["name", "inner.name"]);
    expect(buildError(spec, { path: { name: "p", "inner.name": "q" }, query: "name=x" }).message).toContain('bound by the URL path ("name")');
    expect(buildError(spec, { path: { name: "p", "inner.name": "q" }, query: "inner.name=x" }).message).toContain("bound by the URL path");
    expect(build(spec, { path: { name: "p", "inner.name": "q" }, query: "inner.count=3" }).inner).toStrictEqual({ ...empty("Inner"), name: "q", count: "3" });
  });

  it("never sets a field the body carries", () => {
    const spec: BindingSpec = { requestType: "kitchen.v1.UpdateThingRequest", body: bodyField("thing") };
    expect(buildError(spec, { body: "{}", query: "thing.name=x" }).message).toContain("the request body carries");
    expect(build(spec, { body: "{}", query: "parent=p&version=2" })).toMatchObject({ parent: "p", version: "2" });
  });

  it('accepts no query parameters with body "*" (unless ignored)', () => {
    const spec: BindingSpec = { requestType: "kitchen.v1.GetThingRequest", body: { kind: "all" } };
    expect(buildError(spec, { body: "{}", query: "name=x" }).reason).toBe("PG_ERR_BAD_QUERY");
    expect(build(spec, { body: '{"name": "b"}', query: "name=x" }, { ignoreUnknownQueryParameters: true }).name).toBe("b");
  });
});

describe("demo API shapes", () => {
  const demoBuild = (spec: BindingSpec, call: Call) => build(spec, call, { ignoreUnknownQueryParameters: false }, demo);

  it("UpdateUser: PATCH /v1/users/{user.user_id} body user", () => {
    const message = demoBuild(
      { requestType: "demo.v1.UpdateUserRequest", variables: ["user.user_id"], body: bodyField("user") },
      { path: { "user.user_id": "u1" }, body: '{"displayName": "Ada", "balanceCents": 12, "labels": {"tier": "gold"}, "profile": {"a": [1]}, "nickname": null}', query: "update_mask=displayName,labels" },
    );
    expect(message).toMatchObject({ user: { userId: "u1", displayName: "Ada", balanceCents: "12", labels: new Map([["tier", "gold"]]), profile: { a: [1] }, nickname: undefined }, updateMask: ["display_name", "labels"] });
    const bytes = userGen.UpdateUserRequest.encode(message as never).finish();
    expect(userGen.UpdateUserRequest.decode(bytes)).toStrictEqual(message);
  });

  it("ListUsers: GET /v1/users with query parameters", () => {
    const message = demoBuild({ requestType: "demo.v1.ListUsersRequest", httpMethod: "GET" }, { query: "page_size=10&role=ROLE_ADMIN&tags=a&tags=b&createdAfter=2024-01-01T00:00:00Z" });
    expect(message).toStrictEqual({ pageSize: 10, pageToken: "", role: 2, tags: ["a", "b"], createdAfter: { seconds: "1704067200", nanos: 0 } });
    expect(userGen.ListUsersRequest.decode(userGen.ListUsersRequest.encode(message as never).finish())).toStrictEqual(message);
  });

  it("CreateOrder: POST /v1/{parent=users/*}/orders body order", () => {
    const message = demoBuild(
      { requestType: "demo.v1.CreateOrderRequest", variables: ["parent"], body: bodyField("order") },
      { path: { parent: "users/1" }, body: '{"items": [{"sku": "s", "quantity": 2, "unitPrice": {"currencyCode": "EUR", "units": "3"}}], "shippingAddress": "x", "note": "AQ==", "deliveryWindow": "3600s"}', query: "request_id=r" },
    );
    expect(message).toMatchObject({ parent: "users/1", requestId: "r", order: { shippingAddress: "x", note: Buffer.from([1]), deliveryWindow: { seconds: "3600", nanos: 0 } } });
    expect(orderGen.CreateOrderRequest.decode(orderGen.CreateOrderRequest.encode(message as never).finish())).toStrictEqual(message);
  });

  it("CancelOrder: POST /v1/{name=users/*/orders/*}:cancel body *", () => {
    expect(demoBuild({ requestType: "demo.v1.CancelOrderRequest", variables: ["name"], body: { kind: "all" } }, { path: { name: "users/1/orders/2" }, body: '{"reason": "late"}' })).toStrictEqual({
      name: "users/1/orders/2",
      reason: "late",
    });
  });

  it("UploadAttachment: PUT /v1/payments/{payment_id}/attachment body file (HttpBody)", () => {
    const message = demoBuild({ requestType: "demo.v1.UploadAttachmentRequest", variables: ["payment_id"], body: bodyField("file") }, { path: { payment_id: "p" }, body: "%PDF", contentType: "application/pdf" });
    expect(paymentGen.UploadAttachmentRequest.decode(paymentGen.UploadAttachmentRequest.encode(message as never).finish())).toStrictEqual({
      paymentId: "p",
      file: { contentType: "application/pdf", data: Buffer.from("%PDF"), extensions: [] },
    });
  });

  it("CreatePayment: POST /v1/payments body * keeps uint64 exact", () => {
    expect(demoBuild({ requestType: "demo.v1.CreatePaymentRequest", body: { kind: "all" } }, { body: '{"amountMinor": 18446744073709551615, "method": "PAYMENT_METHOD_CARD"}' })).toMatchObject({
      amountMinor: "18446744073709551615",
      method: 1,
    });
  });
});
