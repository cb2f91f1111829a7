import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GrpcMessageDecoder, frameMessage, type FrameProblem } from "../../src/upstream/grpc-frames.js";
import { fuzzRuns } from "../support/fuzz.js";

const runs = fuzzRuns(300);

/**
 * The reference model: the gRPC framing read from the whole byte string at once, the obvious
 * way. The decoder, fed the same bytes in any chunks, must agree with it.
 */
function referenceDecode(bytes: Buffer, limit: number): { messages: Buffer[]; problem: FrameProblem | undefined; partial: boolean } {
  const messages: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 5) return { messages, problem: undefined, partial: true };
    const flag = bytes[offset];
    const length = bytes.readUInt32BE(offset + 1);
    if (flag === 1) return { messages, problem: { kind: "compressed" }, partial: false };
    if (flag !== 0) return { messages, problem: { kind: "badFlag", flag }, partial: false };
    if (length > limit) return { messages, problem: { kind: "tooLarge", length, limit }, partial: false };
    if (bytes.length - offset - 5 < length) return { messages, problem: undefined, partial: true };
    messages.push(Buffer.from(bytes.subarray(offset + 5, offset + 5 + length)));
    offset += 5 + length;
  }
  return { messages, problem: undefined, partial: false };
}

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

  it("agrees with the whole-buffer reference model on any bytes in any chunks (valid frames mixed with garbage)", () => {
    const frames = fc.array(messageBytes.map(frameMessage), { maxLength: 4 });
    const garbage = fc.uint8Array({ maxLength: 48 }).map((bytes) => Buffer.from(bytes));
    const prefixWithFlag = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffffffff })).map(([flag, length]) => {
      const prefix = Buffer.alloc(5);
      prefix[0] = flag;
      prefix.writeUInt32BE(length, 1);
      return prefix;
    });
    fc.assert(
      fc.property(fc.array(fc.oneof(frames.map((list) => Buffer.concat(list)), garbage, prefixWithFlag), { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 30 }), fc.integer({ min: 0, max: 400 }), (parts, cuts, limit) => {
        const bytes = Buffer.concat(parts);
        expect(decode(split(bytes, cuts), limit)).toEqual(referenceDecode(bytes, limit));
      }),
      fuzzRuns(500),
    );
  });

  it("never throws on garbage, reports only the three problems, and stops for good at its first problem", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }), fc.integer({ min: 0, max: 128 }), (chunks, limit) => {
        const decoder = new GrpcMessageDecoder(limit, { onMessage: () => undefined });
        let first: FrameProblem | undefined;
        for (const chunk of chunks) {
          const problem = decoder.push(Buffer.from(chunk));
          if (problem !== undefined) expect(["compressed", "badFlag", "tooLarge"]).toContain(problem.kind);
          if (first !== undefined) expect(problem).toBe(first);
          first ??= problem;
        }
      }),
      runs,
    );
  });

  it("fails a declared length over the limit at the push that completes its prefix, before any of its body arrives", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1 << 20 }),
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.array(messageBytes, { maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (limit, excess, before, cuts) => {
          const length = Math.min(0xffffffff, limit + excess);
          const smallBefore = before.filter((message) => message.length <= limit);
          const prefix = Buffer.alloc(5);
          prefix.writeUInt32BE(length, 1);
          const head = Buffer.concat([...smallBefore.map(frameMessage), prefix]);
          const chunks = split(head, cuts).filter((chunk) => chunk.length > 0);
          const delivered: Buffer[] = [];
          const decoder = new GrpcMessageDecoder(limit, { onMessage: (message) => delivered.push(Buffer.from(message)) });
          // Every chunk but the last (which ends with the prefix's last byte) passes; the last fails.
          chunks.forEach((chunk, i) => {
            const problem = decoder.push(chunk);
            if (i < chunks.length - 1) expect(problem).toBeUndefined();
            else expect(problem).toEqual({ kind: "tooLarge", length, limit });
          });
          expect(delivered).toEqual(smallBefore);
          // The body is never read: more bytes change nothing, and nothing is held.
          expect(decoder.push(Buffer.alloc(64))).toEqual({ kind: "tooLarge", length, limit });
          expect(decoder.partial).toBe(false);
        },
      ),
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
