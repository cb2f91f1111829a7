import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GrpcMessageDecoder, frameMessage, type FrameProblem } from "../../src/upstream/grpc-frames.js";

const runs = { numRuns: 300 };

/** Decodes `chunks` with a fresh decoder: the messages, the problem (if any) and whether it ended mid-message. */
function decode(chunks: readonly Buffer[], limit = 1 << 20): { messages: Buffer[]; problem: FrameProblem | undefined; partial: boolean } {
  const messages: Buffer[] = [];
  const decoder = new GrpcMessageDecoder(limit, { onMessage: (message) => messages.push(Buffer.from(message)) });
  let problem: FrameProblem | undefined;
  for (const chunk of chunks) problem = decoder.push(chunk) ?? problem;
  return { messages, problem, partial: decoder.partial };
}

/** `bytes` cut at the given positions (sorted, deduplicated, within bounds). */
function split(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

const messageBytes = fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes));

describe("frameMessage", () => {
  it("prefixes a flag byte 0 and the big-endian length, respecting a view's offset", () => {
    const backing = Uint8Array.from([9, 1, 2, 3, 9]);
    expect([...frameMessage(backing.subarray(1, 4))]).toEqual([0, 0, 0, 0, 3, 1, 2, 3]);
    expect([...frameMessage(new Uint8Array(0))]).toEqual([0, 0, 0, 0, 0]);
  });
});

describe("GrpcMessageDecoder", () => {
  it("decodes messages split at arbitrary chunk boundaries the same as whole", () => {
    fc.assert(
      fc.property(fc.array(messageBytes, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 40 }), (messages, cuts) => {
        const stream = Buffer.concat(messages.map(frameMessage));
        const whole = decode([stream]);
        const pieces = decode(split(stream, cuts));
        expect(whole.messages).toEqual(messages);
        expect(pieces.messages).toEqual(messages);
        expect(pieces.problem).toBeUndefined();
        expect(pieces.partial).toBe(false);
      }),
      runs,
    );
  });

  it("reports a stream cut inside a prefix or a message as partial, with the complete messages before it", () => {
    fc.assert(
      fc.property(fc.array(messageBytes, { minLength: 1, maxLength: 4 }), fc.nat(), (messages, cut) => {
        const stream = Buffer.concat(messages.map(frameMessage));
        const end = cut % stream.length; // strictly inside the stream
        const { messages: decoded, partial } = decode([stream.subarray(0, end)]);
        expect(partial).toBe(end > 0 && !isFrameBoundary(messages, end));
        expect(messages.slice(0, decoded.length)).toEqual(decoded);
      }),
      runs,
    );
  });

  it("never throws on garbage, and stops for good at its first problem", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }), fc.integer({ min: 0, max: 128 }), (chunks, limit) => {
        const decoder = new GrpcMessageDecoder(limit, { onMessage: () => undefined });
        let first: FrameProblem | undefined;
        for (const chunk of chunks) {
          const problem = decoder.push(Buffer.from(chunk));
          if (first !== undefined) expect(problem).toBe(first);
          first ??= problem;
        }
      }),
      runs,
    );
  });

  it("hands over no message larger than the limit, detecting it from the prefix", () => {
    fc.assert(
      fc.property(fc.array(messageBytes, { maxLength: 5 }), fc.integer({ min: 0, max: 300 }), fc.array(fc.nat(), { maxLength: 20 }), (messages, limit, cuts) => {
        const { messages: decoded, problem } = decode(split(Buffer.concat(messages.map(frameMessage)), cuts), limit);
        const firstTooLarge = messages.findIndex((message) => message.length > limit);
        if (firstTooLarge < 0) {
          expect(decoded).toEqual(messages);
        } else {
          expect(decoded).toEqual(messages.slice(0, firstTooLarge));
          expect(problem).toEqual({ kind: "tooLarge", length: messages[firstTooLarge].length, limit });
        }
      }),
      runs,
    );
  });

  it("rejects a compressed flag and unknown flags from the prefix alone", () => {
    expect(decode([Buffer.from([1, 0, 0, 0, 9])]).problem).toEqual({ kind: "compressed" });
    expect(decode([Buffer.from([2, 0, 0]), Buffer.from([0, 0])]).problem).toEqual({ kind: "badFlag", flag: 2 });
  });

  it("detects an oversized length without waiting for the body (4 GiB announced)", () => {
    expect(decode([Buffer.from([0, 0xff, 0xff, 0xff, 0xff, 1, 2])], 4 * 1024 * 1024).problem).toEqual({
      kind: "tooLarge",
      length: 0xffffffff,
      limit: 4 * 1024 * 1024,
    });
  });
});

function isFrameBoundary(messages: readonly Buffer[], offset: number): boolean {
  let position = 0;
  for (const message of messages) {
    if (position === offset) return true;
    position += 5 + message.length;
  }
  return position === offset;
}
