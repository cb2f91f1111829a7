import fc from "fast-check";
import { createServer as createHttp2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_PREFACE, Flag, FrameReader, FrameType, SETTINGS_ACK, frame, settingsFrame } from "../../src/upstream/h2-frames.js";
import { decodeHuffman, encodeHuffman } from "../../src/upstream/hpack-huffman.js";
import { encodeHeaderBlock, HpackDecoder, RequestHeaderEncoder, writeInteger } from "../../src/upstream/hpack.js";
import { fuzzRuns } from "../support/fuzz.js";

const hex = (text: string) => Buffer.from(text.replace(/\s/g, ""), "hex");
const plain = (headers: IncomingHttpHeaders | undefined) => ({ ...headers });

describe("HPACK decoding of the RFC 7541 examples", () => {
  it("C.3 and C.4: three requests on one connection, without and with Huffman coding, sharing the dynamic table", () => {
    for (const huffman of [false, true]) {
      const decoder = new HpackDecoder(4096, 64 * 1024);
      const blocks = huffman
        ? ["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", "8286 84be 5886 a8eb 1064 9cbf", "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"]
        : ["8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", "8286 84be 5808 6e6f 2d63 6163 6865", "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"];
      const [first, second, third] = blocks.map((block) => plain(decoder.decode(hex(block))?.headers));
      expect(first).toEqual({ ":method": "GET", ":scheme": "http", ":path": "/", ":authority": "www.example.com" });
      expect(second).toEqual({ ":method": "GET", ":scheme": "http", ":path": "/", ":authority": "www.example.com", "cache-control": "no-cache" });
      expect(third).toEqual({ ":method": "GET", ":scheme": "https", ":path": "/index.html", ":authority": "www.example.com", "custom-key": "custom-value" });
    }
  });

  it("evicts the oldest entries when the table is full, and follows a size update", () => {
    const decoder = new HpackDecoder(100, 64 * 1024);
    // Two literals with incremental indexing of 32 + 3 + 30 bytes each: the second evicts the first.
    const literal = (name: string, value: string) => Buffer.concat([Buffer.from([0x40, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
    expect(plain(decoder.decode(literal("aaa", "x".repeat(30)))?.headers)).toEqual({ aaa: "x".repeat(30) });
    expect(plain(decoder.decode(literal("bbb", "y".repeat(30)))?.headers)).toEqual({ bbb: "y".repeat(30) });
    expect(plain(decoder.decode(Buffer.from([0x80 | 62]))?.headers)).toEqual({ bbb: "y".repeat(30) });
    expect(decoder.decode(Buffer.from([0x80 | 63]))).toBeUndefined();
    expect(decoder.failure).toMatch(/index 63 outside/);
    // A size update to 0 empties the table.
    expect(plain(decoder.decode(Buffer.from([0x20]))?.headers)).toEqual({});
    expect(decoder.decode(Buffer.from([0x80 | 62]))).toBeUndefined();
  });

  it.each([
    ["index 0", "80"],
    ["an index past both tables", "ff00"],
    ["an integer that never ends", "ff ff ff ff"],
    ["an integer past 2^31", "ff ff ff ff ff ff 0f"],
    ["a string longer than its block", "40 05 61"],
    ["a Huffman string ending in a non-EOS prefix", "40 81 00 00"],
    ["a Huffman string with 8 bits of padding", "40 82 ff ff 00"],
    ["a size update above the advertised table size (4097)", "3f e2 1f"],
    ["a size update after a field", "82 20"],
  ])("fails (COMPRESSION_ERROR) on %s, never throwing", (_name, block) => {
    const decoder = new HpackDecoder(4096, 64 * 1024);
    expect(decoder.decode(hex(block))).toBeUndefined();
    expect(decoder.failure).not.toBe("");
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (blocks) => {
        const decoder = new HpackDecoder(4096, 1024);
        for (const block of blocks) decoder.decode(Buffer.from(block));
      }),
      fuzzRuns(500),
    );
  });

  it("stops collecting a header list over its bound, but still decodes the block to keep the table in step", () => {
    const decoder = new HpackDecoder(4096, 100);
    const big = Buffer.concat([Buffer.from([0x40, 3]), Buffer.from("big"), Buffer.from([100]), Buffer.alloc(100, 0x61)]);
    const decoded = decoder.decode(big);
    expect(decoded?.tooLarge).toBe(true);
    expect(decoded?.headers.big).toBeUndefined();
    expect(decoder.decode(Buffer.from([0x80 | 62]))?.tooLarge).toBe(true);
  });
});

describe("HPACK Huffman code", () => {
  it("round-trips every byte value", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = Buffer.from(bytes).toString("latin1");
        const encoded = encodeHuffman(text);
        expect(decodeHuffman(encoded, 0, encoded.length, 1000)).toBe(text);
      }),
      fuzzRuns(300),
    );
  });

  it("refuses output beyond its bound", () => {
    const encoded = encodeHuffman("abcdef");
    expect(decodeHuffman(encoded, 0, encoded.length, 5)).toBeUndefined();
  });
});

describe("HPACK against nghttp2 (a node:http2 server)", () => {
  let server: ReturnType<typeof createHttp2Server>;
  let port = 0;
  /** What the server answers next, and what it saw of each request (header name/value pairs in wire order). */
  const answers: Array<Record<string, string>> = [];
  const seen: string[][] = [];
  beforeAll(async () => {
    server = createHttp2Server();
    server.on("stream", (stream: ServerHttp2Stream, _headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
      seen.push(rawHeaders);
      stream.respond({ ":status": 200, ...(answers.shift() ?? {}) }, { endStream: true });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** A raw HTTP/2 client on one connection: sends each request block, returns each response's decoded headers. */
  async function exchange(requests: ReadonlyArray<{ fields: string[]; answer: Record<string, string> }>): Promise<IncomingHttpHeaders[]> {
    const socket: Socket = connect(port, "127.0.0.1");
    const decoder = new HpackDecoder(4096, 1024 * 1024);
    const encoder = new RequestHeaderEncoder("http", `127.0.0.1:${port}`, "protogate");
    const responses: IncomingHttpHeaders[] = [];
    let block: Buffer[] = [];
    let waiting: (() => void) | undefined;
    const reader = new FrameReader(16_384, {
      onFrame(type, flags, _streamId, payload) {
        if (type === FrameType.SETTINGS && !(flags & Flag.ACK)) socket.write(SETTINGS_ACK);
        if (type !== FrameType.HEADERS && type !== FrameType.CONTINUATION) return;
        block.push(Buffer.from(payload));
        if (!(flags & Flag.END_HEADERS)) return;
        const decoded = decoder.decode(Buffer.concat(block));
        block = [];
        if (decoded === undefined) throw new Error(decoder.failure);
        responses.push(decoded.headers);
        waiting?.();
      },
    });
    socket.on("data", (chunk: Buffer) => reader.push(chunk));
    socket.write(Buffer.concat([CLIENT_PREFACE, settingsFrame([])]));
    try {
      for (const [i, request] of requests.entries()) {
        answers.push(request.answer);
        const framed = encoder.encode("/hpack", request.fields, 9);
        const arrived = new Promise<void>((resolve) => (waiting = resolve));
        socket.write(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 2 * i + 1, framed.subarray(9)));
        await arrived;
      }
    } finally {
      socket.destroy();
    }
    return responses;
  }

  const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).map((text) => `x-${text}`);
  /** Latin-1 values without control characters, not starting or ending with a space (so that nothing trims them). */
  const value = fc.array(fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f), { maxLength: 60 }).map((codes) => `v${String.fromCharCode(...codes)}v`);
  const headerSet = fc.uniqueArray(fc.tuple(name, value), { selector: ([key]) => key, maxLength: 12 });

  it("decodes what nghttp2 encodes (Huffman, dynamic table, eviction) as it was sent, and nghttp2 decodes what we encode", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(headerSet, headerSet), { minLength: 1, maxLength: 12 }), async (pairs) => {
        seen.length = 0;
        answers.length = 0;
        const requests = pairs.map(([request, response]) => ({ fields: request.flat(), answer: Object.fromEntries(response) }));
        const responses = await exchange(requests);
        expect(responses).toHaveLength(requests.length);
        responses.forEach((headers, i) => {
          const received = Object.fromEntries(Object.entries(headers).filter(([key]) => key.startsWith("x-")));
          expect(received).toEqual(requests[i].answer);
          expect(headers[":status"]).toBe("200");
        });
        seen.forEach((rawHeaders, i) => {
          const pairsSeen = rawHeaders.flatMap((item, j, all) => (j % 2 === 0 && item.startsWith("x-") ? [item, all[j + 1]] : []));
          expect(pairsSeen).toEqual(requests[i].fields);
          expect(rawHeaders.slice(0, 8)).toEqual([":method", "POST", ":scheme", "http", ":authority", `127.0.0.1:${port}`, ":path", "/hpack"]);
        });
      }),
      fuzzRuns(40),
    );
  });

  it("encodes integers across their prefix boundary as RFC 7541 C.1 does", () => {
    const target = Buffer.alloc(8);
    expect(target.subarray(0, writeInteger(target, 0, 10, 5, 0))).toEqual(hex("0a"));
    expect(target.subarray(0, writeInteger(target, 0, 1337, 5, 0))).toEqual(hex("1f9a0a"));
    expect(target.subarray(0, writeInteger(target, 0, 42, 8, 0))).toEqual(hex("2a"));
  });

  it("refuses to encode a header value HTTP/2 cannot carry (a gateway bug)", () => {
    const encoder = new RequestHeaderEncoder("http", "h:1", "protogate");
    expect(() => encoder.encode("/p", ["x-a", "line\r\nbreak"], 9)).toThrow(TypeError);
    expect(() => encoder.encode("/p", ["X-Upper", "v"], 9)).toThrow(TypeError);
  });
});

describe("encodeHeaderBlock (a server's response headers and trailers)", () => {
  it("indexes whole static fields, indexes static names and writes other names as literals", () => {
    const block = encodeHeaderBlock([":status", "200", "content-type", "application/grpc", "grpc-status", "0"], 0);
    // :status 200 is static 8; content-type's name is static 31 (a 4-bit prefix: 0x0f then 16).
    expect(block.subarray(0, 4)).toEqual(hex("88 0f10 10"));
    expect(plain(new HpackDecoder(4096, 64 * 1024).decode(block)?.headers)).toEqual({ ":status": "200", "content-type": "application/grpc", "grpc-status": "0" });
  });

  it("leaves the headroom it is asked for", () => {
    const block = encodeHeaderBlock([":status", "200"], 9);
    expect(block.length).toBe(10);
    expect(block[9]).toBe(0x88);
  });

  it("round-trips any valid field list through the decoder", () => {
    const name = fc.oneof(fc.constantFrom(":status", "content-type", "grpc-status", "grpc-message", "www-authenticate", "age"), fc.stringMatching(/^[a-z0-9-]{1,20}$/));
    const value = fc.oneof(fc.constantFrom("200", "404", "gzip, deflate", ""), fc.string({ maxLength: 300 }).filter((text) => !/[\0\r\n]|[^\0-\xff]/.test(text)));
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, value), { selector: ([key]) => key, maxLength: 12 }), (fields) => {
        const decoded = new HpackDecoder(4096, 1024 * 1024).decode(encodeHeaderBlock(fields.flat(), 0));
        expect(plain(decoded?.headers)).toEqual(Object.fromEntries(fields));
      }),
      fuzzRuns(200),
    );
  });

  it("refuses a field HTTP/2 cannot carry", () => {
    expect(() => encodeHeaderBlock(["X-Upper", "v"], 0)).toThrow(TypeError);
    expect(() => encodeHeaderBlock([":status", "2\r\n00"], 0)).toThrow(TypeError);
  });
});

