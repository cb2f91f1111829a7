import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { addMetadataHeaders, metadataFromHeaders } from "../../src/upstream/grpc-wire-metadata.js";
import { decodeGrpcMessage, encodeGrpcMessage, formatGrpcTimeout, isGrpcContentType, parseGrpcStatus, rstCodeName } from "../../src/upstream/grpc-wire-status.js";
import { parseGrpcTimeout } from "../../src/upstream/deadline.js";
import { knownGrpcCode } from "../../src/upstream/upstream-error.js";
import { fuzzRuns } from "../support/fuzz.js";

describe("decodeGrpcMessage", () => {
  it("percent-decodes UTF-8 and keeps malformed escapes", () => {
    expect(decodeGrpcMessage("plain text")).toBe("plain text");
    expect(decodeGrpcMessage("caf%C3%A9 %E2%9C%93 50%25")).toBe("café ✓ 50%");
    expect(decodeGrpcMessage("100% sure %4")).toBe("100% sure %4");
    expect(decodeGrpcMessage("%zz%")).toBe("%zz%");
  });

  it("inverts encodeGrpcMessage, whose output is printable ASCII only", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        const encoded = encodeGrpcMessage(text);
        expect(encoded).toMatch(/^[\x20-\x7e]*$/);
        expect(decodeGrpcMessage(encoded)).toBe(text);
      }),
      fuzzRuns(300),
    );
  });
});

describe("encodeGrpcMessage", () => {
  it.each([
    ["plain text", "plain text"],
    ["café ✓ 50%", "caf%C3%A9 %E2%9C%93 50%25"],
    ["line\nbreak", "line%0Abreak"],
    ["", ""],
  ])("encodes %j as %j (printable ASCII but %% kept, the rest %%XX of its UTF-8 bytes)", (message, wire) => {
    expect(encodeGrpcMessage(message)).toBe(wire);
  });

  it("never throws on any upstream text, and leaves text without % as it is", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (raw) => {
        const decoded = decodeGrpcMessage(raw);
        if (!raw.includes("%")) expect(decoded).toBe(raw);
      }),
      fuzzRuns(500),
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
      fuzzRuns(300),
    );
  });
});

describe("parseGrpcStatus", () => {
  it("reads decimal codes; anything else is malformed (undefined)", () => {
    expect(parseGrpcStatus("0")).toBe(GrpcCode.OK);
    expect(parseGrpcStatus("14")).toBe(GrpcCode.UNAVAILABLE);
    expect(parseGrpcStatus("17")).toBe(17);
    for (const malformed of ["x", "", " 5", "5 ", "-1", "+5", "0x5", "1e1", "5.0", "１"]) expect(parseGrpcStatus(malformed)).toBeUndefined();
  });

  it("agrees with a reference model on any string: a decimal integer, or malformed", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.nat({ max: 1e9 }).map(String), fc.constantFrom("0", "16", "017", "999999999", "1000000000")), (value) => {
        const parsed = parseGrpcStatus(value);
        if (/^[0-9]{1,9}$/.test(value)) expect(parsed).toBe(Number.parseInt(value, 10));
        else expect(parsed).toBeUndefined();
      }),
      fuzzRuns(500),
    );
  });

  it("turns codes outside google.rpc.Code into UNKNOWN, as gRPC clients do", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.double()), (code) => {
        const known = knownGrpcCode(code);
        expect(known).toBe(Number.isInteger(code) && code >= 0 && code <= 16 ? code : GrpcCode.UNKNOWN);
      }),
      fuzzRuns(300),
    );
  });
});

describe("isGrpcContentType", () => {
  it.each([
    ["application/grpc", true],
    ["application/grpc+proto", true],
    ["application/grpc;charset=utf-8", true],
    ["APPLICATION/GRPC+json", true],
    ["application/grpcx", false],
    ["application/grpc-web", false],
    ["application/json", false],
    ["", false],
    [undefined, false],
  ])("%j is gRPC: %s", (value, expected) => {
    expect(isGrpcContentType(value)).toBe(expected);
  });
});

describe("rstCodeName", () => {
  it("names the HTTP/2 error codes and numbers unknown ones", () => {
    expect(rstCodeName(0)).toBe("NO_ERROR");
    expect(rstCodeName(8)).toBe("CANCEL");
    expect(rstCodeName(13)).toBe("HTTP_1_1_REQUIRED");
    expect(rstCodeName(99)).toBe("code 99");
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

  it("regression: metadata keys named like Object.prototype's properties (constructor, __proto__) are sent as themselves", () => {
    const headers: Record<string, string | string[]> = { te: "trailers" };
    addMetadataHeaders(headers, [["constructor", "a"], ["__proto__", "b"], ["__proto__", "c"]]);
    expect(Object.entries(headers)).toEqual([["te", "trailers"], ["constructor", "a"], ["__proto__", ["b", "c"]]]);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
  });

  const key = fc.oneof(fc.constantFrom("constructor", "__proto__", "tostring"), fc.stringMatching(/^[0-9a-z_.-]{1,12}$/)).filter((k) => !["content-type", "te", "user-agent", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding"].includes(k));
  const textKey = key.filter((k) => !k.endsWith("-bin"));
  const binKey = key.map((k) => `${k}-bin`);
  const entry = fc.oneof(
    fc.tuple(textKey, fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,20}[\x21-\x7e])?$/)),
    fc.tuple(binKey, fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes))),
  );

  it("round-trips metadata through the headers it is sent as, and back as HTTP/2 joins repeated fields", () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 12 }), (entries) => {
        const headers: Record<string, string | string[]> = {};
        addMetadataHeaders(headers, entries);
        // What a peer's HTTP/2 stack hands over: repeated fields joined with ", " (Node joins all but set-cookie).
        // (A null-prototype object, as Node hands headers over.)
        const received: Record<string, string> = Object.create(null);
        for (const [name, value] of Object.entries(headers)) received[name] = Array.isArray(value) ? value.join(", ") : value;
        const back = metadataFromHeaders(received, false);
        const byKey = (list: ReadonlyArray<readonly [string, string | Buffer]>) => {
          const map = new Map<string, Array<string>>();
          for (const [k, v] of list) map.set(k, [...(map.get(k) ?? []), typeof v === "string" ? v : v.toString("hex")]);
          return map;
        };
        const expected = byKey(entries);
        // Text values of a repeated key come back joined, as HTTP/2 delivers them; -bin values one by one.
        for (const [k, values] of expected) if (!k.endsWith("-bin")) expected.set(k, [values.join(", ")]);
        expect(byKey(back)).toEqual(expected);
      }),
      fuzzRuns(300),
    );
  });

  it("never throws on arbitrary received headers, and keeps only valid keys, printable text and -bin Buffers", () => {
    const anyValue = fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), fc.array(fc.string({ unit: "binary", maxLength: 20 }), { maxLength: 4 }));
    fc.assert(
      fc.property(fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), key, binKey, fc.constantFrom(":status", "grpc-status", "grpc-message", "__proto__")), anyValue), fc.boolean(), (headers, withoutStatus) => {
        for (const [k, v] of metadataFromHeaders(headers, withoutStatus)) {
          expect(k).toMatch(/^[0-9a-z_.-]+$/);
          if (withoutStatus) expect(["grpc-status", "grpc-message"]).not.toContain(k);
          if (k.endsWith("-bin")) expect(Buffer.isBuffer(v)).toBe(true);
          else expect(v).toMatch(/^[\x20-\x7e]*$/);
        }
      }),
      fuzzRuns(500),
    );
  });
});
