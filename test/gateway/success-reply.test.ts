import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Order } from "../../generated/demo/v1/order.js";
import { encodePathValue } from "../../src/gateway/success-reply.js";
import { readStringField } from "../../src/transcode/wire-string.js";
import { createPipelineHarness, gatewayRequest, type PipelineHarness } from "./support/pipeline-harness.js";

const order = (name: string): Uint8Array => Order.encode({ ...Order.decode(new Uint8Array(0)), name }).finish();
const createOrder = (harness: PipelineHarness) =>
  harness.pipeline.handle(gatewayRequest("POST", "/v1/users/u-1/orders", { headers: { "content-type": "application/json" }, body: JSON.stringify({ items: [{ sku: "a", quantity: 1, unitPrice: { currencyCode: "EUR" } }] }) }));

describe("(protogate.v1.success) in the pipeline (scripted upstream)", () => {
  let reply: Uint8Array = new Uint8Array(0);
  let harness: PipelineHarness;

  beforeAll(async () => {
    harness = await createPipelineHarness();
    harness.upstream.unary = async () => ({ response: reply, headers: [], trailers: [] });
  });
  afterAll(() => harness?.close());

  it.each([
    ["a resource name: its slashes kept", "users/u-1/orders/o-7", "/v1/users/u-1/orders/o-7"],
    ["characters a path segment cannot hold: percent-encoded", "users/u 1/orders/ö?#", "/v1/users/u%201/orders/%C3%B6%3F%23"],
  ])("201 with the Location of the created resource: %s", async (_name, name, location) => {
    reply = order(name);
    const response = await createOrder(harness);
    expect(response.status).toBe(201);
    expect(response.headers.location).toBe(location);
    expect(response.headers["content-type"]).toBe("application/json");
  });

  it("201 without Location when the reply's field is empty", async () => {
    reply = order("");
    const response = await createOrder(harness);
    expect(response.status).toBe(201);
    expect(response.headers).not.toHaveProperty("location");
  });

  it("204 writes nothing, whatever the reply holds", async () => {
    reply = order("ignored");
    const response = await harness.pipeline.handle(gatewayRequest("DELETE", "/v1/users/u-1"));
    expect(response.status).toBe(204);
    expect(response.body).toBe("");
    expect(response.headers).not.toHaveProperty("content-type");
  });

  it("other methods still answer 200", async () => {
    reply = order("users/u-1/orders/o-1");
    expect((await harness.pipeline.handle(gatewayRequest("GET", "/v1/users/u-1/orders/o-1"))).status).toBe(200);
  });
});

describe("readStringField: a string field from message bytes, as a decoder sees it", () => {
  const bytes = (build: (w: BinaryWriter) => void): Uint8Array => {
    const writer = new BinaryWriter();
    build(writer);
    return writer.finish();
  };

  it("the last occurrence wins; occurrences of a message field merge", () => {
    expect(readStringField(bytes((w) => w.tag(1, WireType.LengthDelimited).string("a").tag(2, WireType.Varint).int32(7).tag(1, WireType.LengthDelimited).string("b")), [1])).toBe("b");
    const inner = (build: (w: BinaryWriter) => void) => bytes(build);
    const merged = bytes((w) =>
      w
        .tag(3, WireType.LengthDelimited)
        .bytes(inner((i) => i.tag(1, WireType.LengthDelimited).string("x")))
        .tag(3, WireType.LengthDelimited)
        .bytes(inner((i) => i.tag(2, WireType.LengthDelimited).string("other"))),
    );
    expect(readStringField(merged, [3, 1])).toBe("x");
  });

  it("absent or empty is undefined", () => {
    expect(readStringField(new Uint8Array(0), [1])).toBeUndefined();
    expect(readStringField(bytes((w) => w.tag(1, WireType.LengthDelimited).string("")), [1])).toBeUndefined();
  });

  it("encodePathValue keeps slashes and encodes each segment", () => {
    expect(encodePathValue("a b/c%d/")).toBe("a%20b/c%25d/");
  });
});
