import type { FileRegistry } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import type { CodegenBinding } from "../../../codegen/model.js";
import { buildOpenApiDocument, renderOpenApi, type JsonSchema, type OpenApiDocument, type OpenApiOperation } from "../../../codegen/openapi/index.js";
import { lintOpenApi31 } from "./openapi-lint.js";
import { binding, buildTestRegistry, demoBindings, lit, star, tpl, variable, deep } from "./support.js";

const INFO = { title: "streaming", version: "1" };
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

let registry: FileRegistry;
let doc: OpenApiDocument;

/** Streaming bindings over the edge fixture: raw HttpBody chunks, a client stream without a body rule, a response_body stream. */
function edgeStreams(): CodegenBinding[] {
  return [
    binding(registry, { rpc: "edge.v1.EdgeService.Download", httpMethod: "GET", pattern: "/v1/blobs/{name=**}", template: tpl([lit("v1"), lit("blobs"), deep], [variable("name", 2, 3)]) }),
    binding(registry, { rpc: "edge.v1.EdgeService.Tally", httpMethod: "POST", pattern: "/v1/tally", template: tpl([lit("v1"), lit("tally")]) }),
    binding(registry, {
      rpc: "edge.v1.EdgeService.Watch",
      httpMethod: "GET",
      pattern: "/v1/watch/{name}",
      template: tpl([lit("v1"), lit("watch"), star], [variable("name", 2, 3)]),
      responseBody: ["f_string"],
    }),
  ];
}

beforeAll(() => {
  registry = buildTestRegistry();
  doc = buildOpenApiDocument([...demoBindings(registry), ...edgeStreams()], INFO);
});

function op(path: string, method: "get" | "post"): OpenApiOperation {
  const operation = doc.paths[path]?.[method];
  if (!operation) throw new Error(`no ${method} ${path}`);
  return operation;
}

const subscribe = () => op("/v1/rooms/{room}/messages:subscribe", "get");
const postMessages = () => op("/v1/rooms/{room}/messages:batch", "post");
const chat = () => op("/v1/rooms/{room}:chat", "post");

describe("OpenAPI for streaming methods", () => {
  it("stays valid OpenAPI 3.1 as far as the structural lint can tell", () => {
    expect(lintOpenApi31(doc)).toEqual([]);
    expect(lintOpenApi31(JSON.parse(renderOpenApi(doc)))).toEqual([]);
  });

  it("names each streaming operation's kind in x-protogate-streaming, and no unary one's", () => {
    expect([subscribe(), postMessages(), chat()].map((operation) => operation["x-protogate-streaming"])).toEqual(["server", "client", "bidi"]);
    expect(op("/v1/users/{user_id}", "get")["x-protogate-streaming"]).toBeUndefined();
    expect(op("/v1/users/{user_id}", "get").description).toBeUndefined();
  });

  it("documents a server stream's 200 as NDJSON lines of result or error, and as Server-Sent Events", () => {
    const ok = subscribe().responses["200"];
    expect(Object.keys(ok.content ?? {})).toEqual(["application/x-ndjson", "text/event-stream"]);
    const line = ok.content?.["application/x-ndjson"].schema;
    expect(line).toMatchObject({
      type: "object",
      properties: { result: ref("demo.v1.ChatMessage"), error: ref("google.rpc.Status") },
      oneOf: [{ required: ["result"] }, { required: ["error"] }],
      additionalProperties: false,
    });
    expect(line?.description).toContain("each line is one such object");
    const events = ok.content?.["text/event-stream"].schema;
    expect(events?.type).toBe("string");
    expect(events?.description).toMatch(/`data: <message JSON>` per message.*`event: error` with `data: <google\.rpc\.Status JSON>`/);
    expect(ok.description).toMatch(/^A stream of demo\.v1\.ChatMessage messages: .*Accept: text\/event-stream/);
    expect(ok.description).toContain("A failure before the first message is an ordinary error response");
    expect(subscribe().responses.default.content?.["application/json"].schema).toEqual(ref("google.rpc.Status"));
  });

  it("documents a client stream's body as NDJSON besides JSON, each value one message per the body rule, and its one reply as JSON", () => {
    const body = postMessages().requestBody;
    expect(Object.keys(body?.content ?? {}).sort()).toEqual(["application/json", "application/x-ndjson"]);
    const schema = body?.content["application/x-ndjson"].schema;
    expect(body?.content["application/json"].schema).toEqual(schema);
    expect(Object.keys(schema?.properties ?? {})).toEqual(["author", "text"]);
    expect(body?.description).toMatch(/^A stream of request messages, one JSON value each: the demo\.v1\.PostMessageRequest message without the fields the path sets \(room\); in application\/x-ndjson one per line/);
    expect(postMessages().responses["200"].content).toEqual({ "application/json": { schema: ref("demo.v1.PostMessagesResponse") } });
  });

  it("documents a bidi stream both ways", () => {
    expect(Object.keys(chat().requestBody?.content ?? {}).sort()).toEqual(["application/json", "application/x-ndjson"]);
    expect(Object.keys(chat().responses["200"].content ?? {})).toEqual(["application/x-ndjson", "text/event-stream"]);
  });

  it.each([
    ["server", subscribe, /^Server streaming: /],
    ["client", postMessages, /^Client streaming: /],
    ["bidi", chat, /^Bidirectional streaming: /],
  ] as const)("ends a %s operation's description with the WebSocket form: frames, half-close, close codes", (_kind, operation, note) => {
    const description = operation().description ?? "";
    expect(description).toMatch(note);
    expect(description).toContain("a GET with `Upgrade: websocket` on this path");
    expect(description).toContain("Each text frame is one JSON request message, and each response message comes as one text frame");
    expect(description).toContain("an empty text frame half-closes");
    expect(description).toMatch(/close code 1000 on OK, or 4000 \+ the gRPC code \(4005 for NOT_FOUND/);
  });

  it("keeps the comment's description before the streaming note", () => {
    const download = op("/v1/blobs/{name}", "get");
    expect(download.summary).toBe("Streams a blob in chunks.");
    expect(download.description).toMatch(/^The comment's description comes before the streaming note\.\n\nServer streaming: /);
  });

  it("documents a raw HttpBody stream as raw bytes that are cut off on failure", () => {
    const ok = op("/v1/blobs/{name}", "get").responses["200"];
    expect(Object.keys(ok.content ?? {})).toEqual(["*/*"]);
    expect(ok.description).toMatch(/raw bytes one after the other, under the first message's content_type.*cut off/);
  });

  it("streams a response_body field's value as the result", () => {
    const line = op("/v1/watch/{name}", "get").responses["200"].content?.["application/x-ndjson"].schema;
    expect(line?.properties?.result).toEqual({ type: "string" });
    expect(op("/v1/watch/{name}", "get").responses["200"].description).toMatch(/^A stream of the `f_string` field of each edge\.v1\.Everything message/);
  });

  it("takes a client stream's messages whole under a rule without body (query parameters still set fields)", () => {
    const tally = op("/v1/tally", "post");
    expect(tally.requestBody?.content["application/x-ndjson"].schema).toEqual(ref("edge.v1.PurgeRequest"));
    expect(tally.requestBody?.description).toContain("one JSON value each: the edge.v1.PurgeRequest message;");
    expect((tally.parameters ?? []).map((parameter) => parameter.name)).toEqual(["name", "force"]);
  });
});
