import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FRAME_HEADER_BYTES, Flag, FrameReader, FrameType, frame, goawayFrame, headerFrames, pingFrame, rstStreamFrame, settingsFrame, windowUpdateFrame } from "../../src/upstream/h2-frames.js";
import { fuzzRuns } from "../support/fuzz.js";

type Frame = [type: number, flags: number, streamId: number, payload: string];

/** Every frame the reader gives for `chunks` (payloads copied: they may view a chunk), and whether it kept reading. */
function readFrames(chunks: readonly Buffer[], maxFrameSize = 16_384): { frames: Frame[]; ok: boolean } {
  const frames: Frame[] = [];
  const reader = new FrameReader(maxFrameSize, { onFrame: (type, flags, streamId, payload) => void frames.push([type, flags, streamId, payload.toString("hex")]) });
  let ok = true;
  for (const chunk of chunks) ok = reader.push(chunk) && ok;
  return { frames, ok };
}

/** `bytes` cut at the given (sorted, deduplicated) offsets. */
function cut(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const points = [...new Set(offsets.map((offset) => offset % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

const arbitraryFrame = fc.record({
  type: fc.integer({ min: 0, max: 255 }),
  flags: fc.integer({ min: 0, max: 255 }),
  streamId: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  payload: fc.uint8Array({ maxLength: 600 }),
});

describe("FrameReader", () => {
  it("gives the same frames whatever the chunk boundaries", () => {
    fc.assert(
      fc.property(fc.array(arbitraryFrame, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 40 }), (frames, offsets) => {
        const bytes = Buffer.concat(frames.map((f) => frame(f.type, f.flags, f.streamId, f.payload)));
        const expected: Frame[] = frames.map((f) => [f.type, f.flags, f.streamId, Buffer.from(f.payload).toString("hex")]);
        expect(readFrames([bytes]).frames).toEqual(expected);
        expect(readFrames(cut(bytes, offsets)).frames).toEqual(expected);
        // One byte at a time, the worst case.
        expect(readFrames([...bytes].map((byte) => Buffer.from([byte]))).frames).toEqual(expected);
      }),
      fuzzRuns(200),
    );
  });

  it("ignores the reserved bit of the stream id", () => {
    const bytes = frame(FrameType.DATA, 0, 3, Buffer.from("a"));
    bytes[5] |= 0x80;
    expect(readFrames([bytes]).frames).toEqual([[0, 0, 3, "61"]]);
  });

  it("stops at a frame larger than the advertised maximum (FRAME_SIZE_ERROR), without buffering it", () => {
    const big = frame(FrameType.DATA, 0, 1, Buffer.alloc(101));
    const { frames, ok } = readFrames([frame(FrameType.PING, 0, 0, Buffer.alloc(8)), big.subarray(0, 12)], 100);
    expect(ok).toBe(false);
    expect(frames).toHaveLength(1);
  });

  it.each([
    ["SETTINGS", settingsFrame([[3, 100], [4, 65_535]]), [FrameType.SETTINGS, 0, 0, "000300000064000400" + "00ffff"]],
    ["WINDOW_UPDATE", windowUpdateFrame(5, 1000), [FrameType.WINDOW_UPDATE, 0, 5, "000003e8"]],
    ["RST_STREAM", rstStreamFrame(7, 8), [FrameType.RST_STREAM, 0, 7, "00000008"]],
    ["PING ACK", pingFrame(true, Buffer.from("12345678")), [FrameType.PING, Flag.ACK, 0, Buffer.from("12345678").toString("hex")]],
    ["GOAWAY", goawayFrame(9, 1), [FrameType.GOAWAY, 0, 0, "0000000900000001"]],
  ] as const)("writes %s frames the reader reads back", (_name, bytes, expected) => {
    expect(readFrames([bytes]).frames).toEqual([expected]);
  });
});

describe("headerFrames", () => {
  const collect = (frames: Buffer[]) => {
    const seen: { type: number; flags: number; streamId: number; payload: Buffer }[] = [];
    const reader = new FrameReader(1 << 20, { onFrame: (type, flags, streamId, payload) => seen.push({ type, flags, streamId, payload: Buffer.from(payload) }) });
    for (const bytes of frames) reader.push(bytes);
    return seen;
  };

  it("writes a block that fits as one HEADERS frame into its headroom", () => {
    const framed = Buffer.concat([Buffer.alloc(FRAME_HEADER_BYTES), Buffer.from("abc")]);
    const frames = headerFrames(5, framed, true, 16_384);
    expect(frames).toEqual([framed]);
    expect(collect(frames)).toEqual([{ type: FrameType.HEADERS, flags: Flag.END_STREAM | Flag.END_HEADERS, streamId: 5, payload: Buffer.from("abc") }]);
  });

  it("splits a larger block into HEADERS and CONTINUATIONs, END_STREAM on the first and END_HEADERS on the last", () => {
    const block = Buffer.from("x".repeat(25));
    const seen = collect(headerFrames(3, Buffer.concat([Buffer.alloc(FRAME_HEADER_BYTES), block]), true, 10));
    expect(seen.map(({ type, flags, payload }) => [type, flags, payload.length])).toEqual([
      [FrameType.HEADERS, Flag.END_STREAM, 10],
      [FrameType.CONTINUATION, 0, 10],
      [FrameType.CONTINUATION, Flag.END_HEADERS, 5],
    ]);
    expect(Buffer.concat(seen.map(({ payload }) => payload))).toEqual(block);
  });
});

