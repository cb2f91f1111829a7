import { describe, expect, it } from "vitest";
import { HeadersPromise, ResponseQueue, STREAM_READ_BUFFER, WriteWait } from "../../src/upstream/stream-flow.js";

/** A queue whose pause/resume calls are recorded. */
function queue() {
  const switches: string[] = [];
  const responses = new ResponseQueue({ pause: () => switches.push("pause"), resume: () => switches.push("resume") });
  return { responses, switches };
}

const message = (byte: number, size = 1) => Buffer.alloc(size, byte);

describe("ResponseQueue", () => {
  it(`pauses the transport at ${STREAM_READ_BUFFER.messages} unread messages and resumes once reads take it to half`, async () => {
    const { responses, switches } = queue();
    for (let i = 0; i < STREAM_READ_BUFFER.messages - 1; i++) responses.push(message(i));
    expect(switches).toEqual([]);
    responses.push(message(9));
    expect(switches).toEqual(["pause"]);
    // Messages of the chunk being decoded still queue (no second pause).
    responses.push(message(10));
    expect(switches).toEqual(["pause"]);
    const read: number[] = [];
    while (switches.length === 1) read.push(((await responses.read()) as Buffer)[0]);
    expect(switches).toEqual(["pause", "resume"]);
    expect(read).toEqual([0, 1, 2]);
    expect(((await responses.read()) as Buffer)[0]).toBe(9);
  });

  it(`pauses at ${STREAM_READ_BUFFER.bytes} unread bytes, whatever the message count`, async () => {
    const { responses, switches } = queue();
    responses.push(message(1, STREAM_READ_BUFFER.bytes - 1));
    expect(switches).toEqual([]);
    responses.push(message(2, 1));
    expect(switches).toEqual(["pause"]);
    await responses.read();
    expect(switches).toEqual(["pause", "resume"]);
  });

  it("hands a message straight to a waiting read, without queueing it", async () => {
    const { responses, switches } = queue();
    const pending = responses.read();
    responses.push(message(7));
    expect(((await pending) as Buffer)[0]).toBe(7);
    for (let i = 0; i < 10; i++) {
      const next = responses.read();
      responses.push(message(i));
      await next;
    }
    expect(switches).toEqual([]);
  });

  it("returns the messages queued before an OK end, then undefined (also to a waiting read)", async () => {
    const { responses } = queue();
    responses.push(message(1));
    responses.end();
    expect(((await responses.read()) as Buffer)[0]).toBe(1);
    expect(await responses.read()).toBeUndefined();
    expect(await responses.read()).toBeUndefined();
    const waiting = queue().responses;
    const pending = waiting.read();
    waiting.end();
    expect(await pending).toBeUndefined();
  });

  it("returns the messages queued before a failure, then rejects with it, and drops later messages", async () => {
    const { responses } = queue();
    const failure = new Error("aborted");
    responses.push(message(1));
    responses.push(message(2));
    responses.fail(failure);
    responses.push(message(3));
    responses.end();
    expect(((await responses.read()) as Buffer)[0]).toBe(1);
    expect(((await responses.read()) as Buffer)[0]).toBe(2);
    await expect(responses.read()).rejects.toBe(failure);
    await expect(responses.read()).rejects.toBe(failure);
  });

  it("discard drops unread messages: reads reject with the cancellation, unless the call had failed already", async () => {
    const cancelled = new Error("cancelled");
    const { responses } = queue();
    responses.push(message(1));
    const ended = queue().responses;
    ended.push(message(1));
    ended.end();
    const failed = queue().responses;
    const failure = new Error("aborted");
    failed.push(message(1));
    failed.fail(failure);
    for (const q of [responses, ended]) {
      q.discard(cancelled);
      await expect(q.read()).rejects.toBe(cancelled);
    }
    failed.discard(cancelled);
    await expect(failed.read()).rejects.toBe(failure);
    // A waiting read is rejected too.
    const waiting = queue().responses;
    const pending = waiting.read();
    waiting.discard(cancelled);
    await expect(pending).rejects.toBe(cancelled);
  });

  it("allows one read at a time", async () => {
    const { responses } = queue();
    const first = responses.read();
    await expect(responses.read()).rejects.toThrow("one read at a time");
    responses.push(message(1));
    expect(await first).toBeDefined();
  });

  it("does not resume a transport once the call has ended", async () => {
    const { responses, switches } = queue();
    for (let i = 0; i < STREAM_READ_BUFFER.messages; i++) responses.push(message(i));
    responses.end();
    while ((await responses.read()) !== undefined);
    expect(switches).toEqual(["pause"]);
  });
});

describe("WriteWait", () => {
  it("releases every waiting write on drain, and rejects them on failure", async () => {
    const wait = new WriteWait();
    expect(wait.pending).toBe(false);
    const first = wait.wait();
    const second = wait.wait();
    expect(wait.pending).toBe(true);
    wait.release();
    await Promise.all([first, second]);
    expect(wait.pending).toBe(false);
    const failing = wait.wait();
    const failure = new Error("gone");
    wait.fail(failure);
    await expect(failing).rejects.toBe(failure);
  });
});

describe("HeadersPromise", () => {
  it("settles once, and a rejection nobody awaits is not an unhandled rejection", async () => {
    const ignored = new HeadersPromise<number>();
    ignored.reject(new Error("nobody looks"));
    const headers = new HeadersPromise<number>();
    headers.resolve(1);
    headers.reject(new Error("late"));
    headers.resolve(2);
    expect(await headers.promise).toBe(1);
    // Vitest fails the run on an unhandled rejection: give it a turn to surface.
    await new Promise((resolve) => setImmediate(resolve));
  });
});
