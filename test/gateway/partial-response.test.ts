import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createEdgeAuth } from "../../src/auth/edge-auth.js";
import { configFromObject } from "../../src/config/load-config.js";
import { createPartialResponse } from "../../src/gateway/partial-response.js";
import { createGatewayPipeline } from "../../src/gateway/pipeline.js";
import { rateLimiterFromConfig } from "../../src/ratelimit/create-rate-limiter.js";
import { createBinaryCodecs } from "../../src/transcode/binary-codecs.js";
import { createCodecRegistry } from "../../src/transcode/json/codec-registry.js";
import { makeBinding } from "../transcode/binding-fixture.js";
import { bodyText, gatewayRequest, ScriptedUpstream } from "./support/pipeline-harness.js";

const files = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(join(import.meta.dirname, "..", "fixtures", "partial", "partial.binpb"))));
const codecs = createCodecRegistry(files, { ignoreUnknownFields: false });
const binaryCodec = createBinaryCodecs(files);
const listThings = {
  ...makeBinding({ requestType: "partial.v1.ListThingsRequest", responseType: "partial.v1.ListThingsResponse", httpMethod: "GET", pattern: "/v1" }),
  requestCodec: binaryCodec("partial.v1.ListThingsRequest"),
  responseCodec: binaryCodec("partial.v1.ListThingsResponse"),
};

describe("a request message with its own field called fields", () => {
  it("has no partial responses: the parameter is the message's", () => {
    expect(createPartialResponse(codecs, listThings)).toBeUndefined();
  });

  it("binds ?fields= to the request field and answers the whole response (regression: the name is reserved only where the message leaves it free)", async () => {
    const config = configFromObject({ auth: { mode: "off" }, logging: { level: "silent" } }, {});
    const auth = await createEdgeAuth(config.auth);
    const rateLimiter = await rateLimiterFromConfig(config.rateLimits, { error: () => undefined, warn: () => undefined, info: () => undefined });
    const upstream = new ScriptedUpstream();
    const sent: unknown[] = [];
    const reply = { things: [{ name: "a", color: "red" }, { name: "b", color: "blue" }] };
    upstream.unary = async (call) => {
      sent.push(codecs.plan("partial.v1.ListThingsRequest").writeJson(codecs.plan("partial.v1.ListThingsRequest").decode(call.request), 1));
      return { response: codecs.plan("partial.v1.ListThingsResponse").encode(codecs.codec("partial.v1.ListThingsResponse").fromJson(reply)), headers: [], trailers: [] };
    };
    const pipeline = createGatewayPipeline({ config, bindings: [listThings], codecs, upstreams: { get: () => upstream, close: () => undefined }, auth, rateLimiter, log: { error: () => undefined, warn: () => undefined } });
    const response = await pipeline.handle(gatewayRequest("GET", "/v1?fields=name&fields=color&pageSize=2"));
    expect(response.status).toBe(200);
    expect(JSON.parse(await bodyText(response))).toEqual(reply);
    expect(sent).toEqual([{ fields: ["name", "color"], pageSize: 2 }]);
    auth.close();
    await rateLimiter.close();
  });
});
