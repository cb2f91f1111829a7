import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { isGrpcStatusError } from "../../src/errors/to-gateway-error.js";
import { addMetadataHeaders, metadataFromHeaders } from "../../src/upstream/grpc-wire-metadata.js";
import { ReceivedMetadata, UpstreamStatusError, decodeGrpcMessage, formatGrpcTimeout, parseGrpcStatus } from "../../src/upstream/grpc-wire-status.js";
import { parseGrpcTimeout } from "../../src/upstream/deadline.js";

describe("decodeGrpcMessage", () => {
  it("percent-decodes UTF-8 and keeps malformed escapes", () => {
    expect(decodeGrpcMessage("plain text")).toBe("plain text");
    expect(decodeGrpcMessage("caf%C3%A9 %E2%9C%93 50%25")).toBe("café ✓ 50%");
    expect(decodeGrpcMessage("100% sure %4")).toBe("100% sure %4");
    expect(decodeGrpcMessage("%zz%")).toBe("%zz%");
  });

  it("inverts the spec's encoding (printable ASCII except % kept, everything else %XX of the UTF-8 bytes)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        let encoded = "";
        for (const byte of Buffer.from(text, "utf8")) {
          encoded += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
        }
        expect(decodeGrpcMessage(encoded)).toBe(text);
      }),
    );
  });
});

describe("formatGrpcTimeout", () => {
  it("rounds up to whole milliseconds and stays within 8 digits", () => {
    expect(formatGrpcTimeout(0.2)).toBe("1m");
    expect(formatGrpcTimeout(1500)).toBe("1500m");
    expect(formatGrpcTimeout(99_999_999)).toBe("99999999m");
    expect(formatGrpcTimeout(100_000_000)).toBe("100000S");
  });

  it("never gives the upstream less time than asked, and parses back with the gateway's own parser", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 1e12, noNaN: true }), (ms) => {
        expect(parseGrpcTimeout(formatGrpcTimeout(ms))).toBeGreaterThanOrEqual(ms);
      }),
    );
  });
});

describe("parseGrpcStatus", () => {
  it("reads decimal codes; anything else is UNKNOWN", () => {
    expect(parseGrpcStatus("0")).toBe(GrpcCode.OK);
    expect(parseGrpcStatus("14")).toBe(GrpcCode.UNAVAILABLE);
    expect(parseGrpcStatus("x")).toBe(GrpcCode.UNKNOWN);
    expect(parseGrpcStatus("")).toBe(GrpcCode.UNKNOWN);
  });
});

describe("metadata on the wire", () => {
  it("adds repeated keys as repeated fields and -bin values as unpadded base64, never replacing the transport's headers", () => {
    const headers: Record<string, string | string[]> = { te: "trailers", "content-type": "application/grpc" };
    addMetadataHeaders(headers, [["a", "1"], ["a", "2"], ["a", "3"], ["k-bin", Buffer.from([0xff])], ["te", "gzip"], ["content-type", "text/plain"]]);
    expect(headers).toEqual({ te: "trailers", "content-type": "application/grpc", a: ["1", "2", "3"], "k-bin": "/w" });
  });

  it("reads received headers: pseudo-headers, invalid keys and non-ASCII values dropped, joined -bin values split", () => {
    const entries = metadataFromHeaders(
      { ":status": "200", "x-a": "1, 2", "x-b-bin": "AAE=, AgM", "Bad Key": "v", "x-latin": "caf\u00e9", "grpc-status": "0", "grpc-message": "m" },
      true,
    );
    expect(entries).toEqual([["x-a", "1, 2"], ["x-b-bin", Buffer.from([0, 1])], ["x-b-bin", Buffer.from([2, 3])]]);
    expect(metadataFromHeaders({ "grpc-status": "0" }, false)).toEqual([["grpc-status", "0"]]);
  });
});

describe("UpstreamStatusError", () => {
  it("has the shape toGatewayError and the handler read (code, details, metadata.get/getMap/toJSON)", () => {
    const error = new UpstreamStatusError(GrpcCode.NOT_FOUND, "gone", new ReceivedMetadata([["a", "1"], ["a", "2"], ["__proto__", "x"], ["b-bin", Buffer.from([1])]]));
    expect(isGrpcStatusError(error)).toBe(true);
    expect(error.message).toBe("5 NOT_FOUND: gone");
    expect(error.metadata.get("a")).toEqual(["1", "2"]);
    expect(Object.entries(error.metadata.getMap())).toEqual([["a", "1"], ["__proto__", "x"], ["b-bin", Buffer.from([1])]]);
    expect(error.metadata.toJSON()).toMatchObject({ a: ["1", "2"] });
  });
});
