import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { FrameOutbox } from "../../src/upstream/frame-outbox.js";

/** A socket that records what is done to it. */
function recordingSocket() {
  const calls: Array<[string, Buffer?]> = [];
  const socket = {
    write: (bytes: Buffer) => void calls.push(["write", bytes]),
    cork: () => void calls.push(["cork"]),
    uncork: () => void calls.push(["uncork"]),
    end: (bytes?: Buffer) => void calls.push(["end", bytes]),
  };
  return { socket: socket as unknown as Socket, calls };
}

/** One event-loop turn: the outbox flushes on setImmediate. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("FrameOutbox", () => {
  it("writes the frames queued in one turn with one write, after the turn", async () => {
    const { socket, calls } = recordingSocket();
    const outbox = new FrameOutbox(socket);
    outbox.queue(Buffer.from("ab"));
    outbox.queue(Buffer.from("cd"));
    expect(calls).toEqual([]);
    await nextTurn();
    expect(calls).toEqual([["write", Buffer.from("abcd")]]);
    outbox.queue(Buffer.from("e"));
    await nextTurn();
    expect(calls.map(([what, bytes]) => [what, bytes?.toString()])).toEqual([
      ["write", "abcd"],
      ["write", "e"],
    ]);
  });

  it("writes a lone frame as it is, without a copy", async () => {
    const { socket, calls } = recordingSocket();
    const frame = Buffer.from("frame");
    new FrameOutbox(socket).queue(frame);
    await nextTurn();
    expect(calls[0][1]).toBe(frame);
  });

  it("writes more than 64 KiB piece by piece under one cork instead of copying it", async () => {
    const { socket, calls } = recordingSocket();
    const outbox = new FrameOutbox(socket);
    const pieces = [Buffer.alloc(40 * 1024, 1), Buffer.alloc(40 * 1024, 2)];
    for (const piece of pieces) outbox.queue(piece);
    await nextTurn();
    expect(calls.map(([what]) => what)).toEqual(["cork", "write", "write", "uncork"]);
    expect(calls[1][1]).toBe(pieces[0]);
    expect(calls[2][1]).toBe(pieces[1]);
  });

  it("ends with what is queued and the last frame in one piece, and drops what comes after", async () => {
    const { socket, calls } = recordingSocket();
    const outbox = new FrameOutbox(socket);
    outbox.queue(Buffer.from("data"));
    outbox.end(Buffer.from("goaway"));
    outbox.queue(Buffer.from("late"));
    await nextTurn();
    expect(calls).toEqual([["end", Buffer.from("datagoaway")]]);
  });

  it("writes nothing once discarded (the socket is gone)", async () => {
    const { socket, calls } = recordingSocket();
    const outbox = new FrameOutbox(socket);
    outbox.queue(Buffer.from("data"));
    outbox.discard();
    outbox.queue(Buffer.from("more"));
    outbox.end();
    await nextTurn();
    expect(calls).toEqual([]);
  });
});
