import type { IncomingHttpHeaders } from "node:http";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { createMetadataMapper, DEFAULT_FORWARD_HEADERS } from "../../src/upstream/metadata.js";
import { fuzzRuns } from "../support/fuzz.js";

const client = { ip: "203.0.113.9", host: "api.example.com", protocol: "https" };
const forwarded: Array<[string, string]> = [
  ["x-forwarded-for", "203.0.113.9"],
  ["x-forwarded-host", "api.example.com"],
  ["x-forwarded-proto", "https"],
];

describe("createMetadataMapper().toGrpc", () => {
  const mapper = createMetadataMapper();

  it("forwards the default allowlist and adds x-forwarded-* (x-request-id is the recorder's to send, checked)", () => {
    const headers: IncomingHttpHeaders = {
      authorization: "Bearer t",
      "x-request-id": "r1",
      traceparent: "00-abc-def-01",
      tracestate: "k=v",
      "accept-language": "de",
      "user-agent": "curl/8",
      cookie: "session=secret",
      accept: "application/json",
      "content-type": "application/json",
      "content-length": "2",
    };
    expect(mapper.toGrpc(headers, client)).toEqual([
      ["authorization", "Bearer t"],
      ["traceparent", "00-abc-def-01"],
      ["tracestate", "k=v"],
      ["accept-language", "de"],
      ...forwarded,
      ["x-forwarded-user-agent", "curl/8"],
    ]);
  });

  it("skips the headers a later step drops anyway (droppedHeaders: the edge auth's credential headers)", () => {
    const skipping = createMetadataMapper({ droppedHeaders: new Set(["authorization"]) });
    const headers: IncomingHttpHeaders = { authorization: "Bearer t", "accept-language": "de" };
    expect(skipping.toGrpc(headers, client)).toEqual([["accept-language", "de"], ...forwarded]);
  });

  it("never forwards the client's x-request-id itself, even when listed or prefixed (the gateway sends its checked one)", () => {
    const listing = createMetadataMapper({ forwardHeaders: ["x-request-id"] });
    expect(listing.toGrpc({ "x-request-id": "r1", "grpc-metadata-x-request-id": "r2" }, client)).toEqual(forwarded);
  });

  it("maps Grpc-Metadata-<key> to <key>, decoding -bin values (padded or not, comma-separated)", () => {
    const headers: IncomingHttpHeaders = { "grpc-metadata-tenant": "acme", "grpc-metadata-trace-bin": "AQI=, AwQ", "grpc-metadata-authorization": "Basic x" };
    expect(mapper.toGrpc(headers, client)).toEqual([
      ["tenant", "acme"],
      ["trace-bin", Buffer.from([1, 2])],
      ["trace-bin", Buffer.from([3, 4])],
      ["authorization", "Basic x"],
      ...forwarded,
    ]);
  });

  it("never forwards hop-by-hop headers or headers named in Connection", () => {
    const headers: IncomingHttpHeaders = {
      connection: "keep-alive, X-Request-Id, grpc-metadata-hop",
      "keep-alive": "timeout=5",
      "x-request-id": "r1",
      "grpc-metadata-hop": "1",
      "grpc-metadata-kept": "2",
      te: "trailers",
      upgrade: "h2c",
      host: "api.example.com",
      "transfer-encoding": "chunked",
      "proxy-authorization": "Basic x",
    };
    expect(mapper.toGrpc(headers, client)).toEqual([["kept", "2"], ...forwarded]);
  });

  it("regression: the client's own X-Forwarded-For chain is never forwarded (untrusted peer: the backend gets the peer only)", () => {
    const pairs = mapper.toGrpc({ "x-forwarded-for": "198.51.100.1, 10.0.0.1", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" }, { ...client, protocol: "http" });
    expect(pairs).toEqual([
      ["x-forwarded-for", "203.0.113.9"],
      ["x-forwarded-host", "api.example.com"],
      ["x-forwarded-proto", "http"],
    ]);
  });

  it("under trustProxy: the chain the gateway vouches for, farthest first, ending with the peer", () => {
    // forwardedFor is proxy-addr's order: peer first, up to and including the first untrusted hop.
    const trusted = { ...client, ip: "198.51.100.1", forwardedFor: ["10.0.0.2", "10.0.0.1", "198.51.100.1"] };
    const pairs = mapper.toGrpc({ "x-forwarded-for": "6.6.6.6, 198.51.100.1, 10.0.0.1" }, trusted);
    expect(pairs).toContainEqual(["x-forwarded-for", "198.51.100.1, 10.0.0.1, 10.0.0.2"]);
    expect(mapper.toGrpc({}, { ...client, forwardedFor: ["10.0.0.2", "bad\u0000", ""] }).find(([key]) => key === "x-forwarded-for")).toEqual(["x-forwarded-for", "10.0.0.2"]);
  });

  it("x-forwarded-for is exactly the vouched-for chain, whatever the client sent (property)", () => {
    const address = fc.oneof(fc.ipV4(), fc.ipV6());
    const clientChain = fc.array(fc.oneof(address, fc.string({ maxLength: 12 })), { maxLength: 5 }).map((list) => list.join(", "));
    fc.assert(
      fc.property(fc.array(address, { minLength: 1, maxLength: 5 }), fc.option(clientChain, { nil: undefined }), (chain, sent) => {
        const headers: IncomingHttpHeaders = sent === undefined ? {} : { "x-forwarded-for": sent };
        const pairs = mapper.toGrpc(headers, { ...client, ip: chain[chain.length - 1], forwardedFor: chain });
        expect(pairs.filter(([key]) => key === "x-forwarded-for")).toEqual([["x-forwarded-for", [...chain].reverse().join(", ")]]);
      }),
      fuzzRuns(300),
    );
  });

  it("drops allow-listed values gRPC cannot carry", () => {
    const pairs = mapper.toGrpc({ "accept-language": "d\u00e9", authorization: "a\tb" }, client);
    expect(pairs).toEqual(forwarded);
  });

  it.each([
    ["grpc-metadata-grpc-timeout", "1S"],
    ["grpc-metadata-grpc-status", "0"],
    ["grpc-metadata-", "x"],
    ["grpc-metadata-content-type", "text/plain"],
    ["grpc-metadata-te", "trailers"],
    ["grpc-metadata-connection", "close"],
    ["grpc-metadata-host", "evil"],
    ["grpc-metadata-user-agent", "x"],
    ["grpc-metadata-x-forwarded-for", "1.2.3.4"],
    ["grpc-metadata-proxy-authorization", "x"],
    ["grpc-metadata-a!b", "x"],
    ["grpc-metadata-key-bin", "not base64!"],
    ["grpc-metadata-key-bin", "A"],
    ["grpc-metadata-key-bin", "AB="],
    ["grpc-metadata-key", "caf\u00e9"],
  ])("rejects %s: %j with 400 PG_ERR_BAD_METADATA naming the header", (name, value) => {
    let caught: unknown;
    try {
      mapper.toGrpc({ [name]: value }, client);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect((caught as GatewayError).reason).toBe("PG_ERR_BAD_METADATA");
    expect((caught as GatewayError).message).toContain(name);
    expect((caught as GatewayError).message).not.toContain(value.length > 3 ? value : "\u0000");
  });

  it("honours a custom allowlist (user-agent only when listed)", () => {
    const custom = createMetadataMapper({ forwardHeaders: ["X-Tenant", "x-sig-bin"] });
    const pairs = custom.toGrpc({ "x-tenant": "t1", authorization: "Bearer t", "user-agent": "curl", "x-sig-bin": "AQ==" }, { ip: "", host: "", protocol: "http" });
    expect(pairs).toEqual([["x-tenant", "t1"], ["x-sig-bin", Buffer.from([1])], ["x-forwarded-proto", "http"]]);
  });

  it.each(["connection", "host", "te", "grpc-timeout", "content-type", "x-forwarded-for", "proxy-authorization", "grpc-metadata-x", "bad header"])(
    "refuses to be configured to forward %s",
    (header) => {
      expect(() => createMetadataMapper({ forwardHeaders: [header] })).toThrow(header);
    },
  );

  it("documents its default allowlist", () => {
    expect(DEFAULT_FORWARD_HEADERS).toContain("authorization");
    expect(DEFAULT_FORWARD_HEADERS).not.toContain("cookie");
  });
});

describe("createMetadataMapper().toHttp", () => {
  const mapper = createMetadataMapper();

  it("maps header and trailer metadata to Grpc-Metadata-* response headers", () => {
    const headers: Array<[string, string | Buffer]> = [
      ["content-type", "application/grpc"],
      ["date", "Sat, 28 Nov 2026 02:12:02 GMT"],
      ["x-served-by", "node-1"],
      ["x-tag", "a"],
      ["grpc-accept-encoding", "gzip"],
    ];
    const trailers: Array<[string, string | Buffer]> = [
      ["grpc-status", "0"],
      ["grpc-message", ""],
      ["grpc-status-details-bin", Buffer.from([1])],
      ["x-tag", "b"],
      ["x-sig-bin", Buffer.from([0xfb, 0xff])],
    ];
    expect(mapper.toHttp(headers, trailers)).toEqual({
      "Grpc-Metadata-x-served-by": "node-1",
      "Grpc-Metadata-x-tag": "a, b",
      "Grpc-Metadata-x-sig-bin": "+/8=",
    });
  });

  it("skips keys and values that are not valid in HTTP", () => {
    expect(mapper.toHttp([["Bad Key", "x"], ["x-nl", "a\r\nb"], ["connection", "close"], [":status", "200"]], [])).toEqual({});
  });
});
