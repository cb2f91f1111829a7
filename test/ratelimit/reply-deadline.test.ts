import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { awaitReply, REAL_TIMERS, ReplyTimeoutError } from "../../src/ratelimit/reply-deadline.js";
import { blockEventLoop, manualTimers } from "./redis/fixtures.js";

/** A promise with its settle functions, standing for a command's reply. */
function pendingReply<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Settles as `promise` does, as a value to compare. */
const outcome = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    (value) => `value:${String(value)}`,
    (error: unknown) => (error instanceof ReplyTimeoutError ? `timeout:${error.message}` : `error:${String(error)}`),
  );

/** One event-loop turn, past the next I/O poll phase. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("awaitReply", () => {
  it("settles with a reply that arrives before the deadline and disarms its timer", async () => {
    const timers = manualTimers();
    const reply = pendingReply<string>();
    const result = outcome(awaitReply(reply.promise, { ms: 50, timers }));
    expect(timers.pending).toBe(1);
    reply.resolve("OK");
    expect(await result).toBe("value:OK");
    expect(timers.pending).toBe(0);
  });

  it("passes an error reply through as it is (it is Redis's answer, not a timeout)", async () => {
    const timers = manualTimers();
    const reply = pendingReply<string>();
    const result = outcome(awaitReply(reply.promise, { ms: 50, timers }));
    reply.reject(new Error("NOSCRIPT No matching script"));
    expect(await result).toBe("error:Error: NOSCRIPT No matching script");
    expect(timers.pending).toBe(0);
  });

  it("times out when no reply has arrived once the deadline expired and the loop has looked for I/O", async () => {
    const timers = manualTimers();
    let late = 0;
    const reply = pendingReply<string>();
    const result = outcome(awaitReply(reply.promise, { ms: 50, timers, onLateReply: () => late++ }));
    timers.expireAll();
    expect(await result).toBe("timeout:timed out: no reply within 50 ms");
    // The reply that comes after all is reported as a sign of life, once; it changes nothing else.
    reply.resolve("OK");
    await nextTurn();
    expect(late).toBe(1);
  });

  it("a late failure of a call given up already is swallowed (no unhandled rejection, no late-reply signal)", async () => {
    const timers = manualTimers();
    let late = 0;
    const reply = pendingReply<string>();
    const result = outcome(awaitReply(reply.promise, { ms: 50, timers, onLateReply: () => late++ }));
    timers.expireAll();
    expect(await result).toMatch(/^timeout:/);
    reply.reject(new Error("Connection is closed."));
    await nextTurn();
    expect(late).toBe(0);
  });

  it("a reply that settles after the timer fired but before the verdict (same loop turn) wins", async () => {
    const timers = manualTimers();
    const reply = pendingReply<string>();
    const result = outcome(awaitReply(reply.promise, { ms: 50, timers }));
    timers.expireAll();
    reply.resolve("just in time");
    expect(await result).toBe("value:just in time");
  });

  describe("with real timers and a real socket", () => {
    let server: Server | undefined;
    let client: Socket | undefined;
    afterEach(async () => {
      client?.destroy();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    });

    it("regression: a reply waiting in the socket while the event loop was blocked past the deadline is taken, not timed out", async () => {
      // An echo server that, right after echoing, keeps the loop busy for 5 deadlines, as a
      // burst of new connections does: the echo sits in the client's socket when the deadline
      // timer fires, and the client reads it only in the poll phase after the timers.
      server = createServer((socket) =>
        socket.on("data", (chunk) => {
          socket.write(chunk);
          blockEventLoop(100);
        }),
      );
      await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("no port");
      const socket = createConnection({ host: "127.0.0.1", port: address.port });
      client = socket;
      await new Promise((resolve) => socket.once("connect", resolve));

      const reply = new Promise<string>((resolve) => socket.once("data", (chunk) => resolve(chunk.toString())));
      socket.write("ping");
      expect(await outcome(awaitReply(reply, { ms: 20, timers: REAL_TIMERS }))).toBe("value:ping");
    });
  });
});
