import { Readable } from "node:stream";
import type { IncomingHttpHeaders } from "node:http";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { readBody, type BodyLimits, type BodySource } from "../../src/http/body-reader.js";
import { createFakeClock } from "../support/fake-clock.js";

const limits: BodyLimits = { maxBytes: 1000, timeoutMs: 60_000, idleTimeoutMs: 15_000, minBytesPerSecond: 100, minRateGraceMs: 5_000 };

/** A request stream the test feeds by hand (events emitted directly, so they arrive synchronously). */
class FakeBody extends Readable implements BodySource {
  paused = false;
  constructor(readonly headers: IncomingHttpHeaders = {}) {
    super({ read: () => undefined });
  }
  send(text: string): void {
    this.emit("data", Buffer.from(text));
  }
  end(): void {
    this.emit("end");
    this.emit("close");
  }
  override pause(): this {
    this.paused = true;
    return this;
  }
}

/** An HTTP/1.x request whose whole body Node's parser has already buffered (`complete`), as for a small body sent with the headers. */
class ReceivedBody extends Readable implements BodySource {
  readonly complete = true;
  constructor(
    chunks: readonly string[],
    readonly httpVersionMajor = 1,
    readonly headers: IncomingHttpHeaders = {},
  ) {
    super({ read: () => undefined });
    for (const chunk of chunks) this.push(Buffer.from(chunk));
    this.push(null);
  }
}

/** A fake clock that also counts the timers set on it. */
function countingClock(): ReturnType<typeof createFakeClock> & { set: number } {
  const clock = createFakeClock();
  const setTimeout = clock.setTimeout.bind(clock);
  const counted = Object.assign(clock, {
    set: 0,
    setTimeout: (callback: () => void, ms: number) => {
      counted.set++;
      return setTimeout(callback, ms);
    },
  });
  return counted;
}

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

describe("readBody", () => {
  it("returns the whole body and leaves no timer behind", async () => {
    const clock = createFakeClock();
    const source = new FakeBody();
    const body = readBody(source, limits, clock);
    source.send("hello ");
    source.send("world");
    source.end();
    expect((await body).toString()).toBe("hello world");
    expect(clock.pending()).toBe(0);
    expect(source.listenerCount("data")).toBe(0);
  });

  it("takes a body that arrived whole from the stream's buffer at once, without a listener or a timer", async () => {
    const clock = countingClock();
    const source = new ReceivedBody(["hello ", "world"]);
    expect((await readBody(source, limits, clock)).toString()).toBe("hello world");
    expect(clock.set).toBe(0);
    expect(source.listenerCount("data")).toBe(0);
    expect(source.readableLength).toBe(0);
  });

  it("refuses a chunked body that arrived whole but is over the limit, and stops reading", async () => {
    const source = new ReceivedBody(["x".repeat(600), "x".repeat(401)], 1, { "transfer-encoding": "chunked" });
    expect(await rejection(readBody(source, limits, createFakeClock()))).toMatchObject({ httpStatus: 413, reason: "PG_ERR_BODY_TOO_LARGE" });
    expect(source.isPaused()).toBe(true);
  });

  it("gives an empty body for a request that declared one and sent nothing", async () => {
    expect((await readBody(new ReceivedBody([]), limits, createFakeClock())).length).toBe(0);
  });

  it("does not trust HTTP/2's `complete` (it means closed, not received): such a body is read from its events", async () => {
    const clock = countingClock();
    const body = readBody(new ReceivedBody(["hello"], 2), limits, clock);
    expect(clock.set).toBe(1);
    expect((await body).toString()).toBe("hello");
    expect(clock.pending()).toBe(0);
  });

  it("refuses a declared Content-Length over the limit before reading anything", async () => {
    const source = new FakeBody({ "content-length": "1001" });
    const error = await rejection(readBody(source, limits, createFakeClock()));
    expect(error).toMatchObject({ httpStatus: 413, reason: "PG_ERR_BODY_TOO_LARGE" });
    expect(source.listenerCount("data")).toBe(0);
  });

  it("refuses a body that grows past the limit without a Content-Length, and stops reading", async () => {
    const source = new FakeBody({ "transfer-encoding": "chunked" });
    const body = readBody(source, limits, createFakeClock());
    source.send("x".repeat(600));
    source.send("x".repeat(401));
    expect(await rejection(body)).toMatchObject({ httpStatus: 413, message: "request body is larger than the limit of 1000 bytes" });
    expect(source.paused).toBe(true);
  });

  it("accepts a body of exactly the limit", async () => {
    const source = new FakeBody();
    const body = readBody(source, limits, createFakeClock());
    source.send("x".repeat(1000));
    source.end();
    expect((await body).length).toBe(1000);
  });

  it("regression: a client trickling one byte every few seconds is cut off at the minimum rate, not kept forever", async () => {
    const clock = createFakeClock();
    const source = new FakeBody({ "transfer-encoding": "chunked" });
    const body = readBody(source, limits, clock);
    let settled = false;
    void body.catch(() => (settled = true));
    source.send("x");
    clock.advance(4_000);
    await Promise.resolve();
    expect(settled).toBe(false); // still inside the grace period
    source.send("x");
    clock.advance(1_000);
    expect(await rejection(body)).toMatchObject({ httpStatus: 408, reason: "PG_ERR_REQUEST_TIMEOUT", message: "the request body arrives slower than 100 bytes per second" });
  });

  it("fails a body that stops arriving for the idle timeout", async () => {
    const clock = createFakeClock();
    const source = new FakeBody();
    const body = readBody(source, { ...limits, minBytesPerSecond: 0 }, clock);
    source.send("x".repeat(500));
    clock.advance(14_999);
    source.send("y");
    clock.advance(14_999);
    source.send("z");
    clock.advance(15_000);
    expect(await rejection(body)).toMatchObject({ httpStatus: 408, message: "no request body data arrived for 15000 ms" });
  });

  it("fails a body that keeps arriving fast enough but not within the total timeout", async () => {
    const clock = createFakeClock();
    const source = new FakeBody();
    const body = readBody(source, { ...limits, maxBytes: 1e9, timeoutMs: 10_000 }, clock);
    for (let step = 0; step < 9; step++) {
      source.send("x".repeat(1000));
      clock.advance(1_000);
    }
    source.send("x".repeat(1000));
    clock.advance(1_000);
    expect(await rejection(body)).toMatchObject({ httpStatus: 408, message: "the request body did not arrive within 10000 ms" });
  });

  it("a client that goes away mid-body is a cancellation, not a timeout", async () => {
    const clock = createFakeClock();
    const source = new FakeBody();
    const body = readBody(source, limits, clock);
    source.send("partial");
    source.emit("aborted");
    expect(await rejection(body)).toMatchObject({ reason: "PG_ERR_CANCELLED" });
    expect(clock.pending()).toBe(0);
  });

  it("a close before the end also counts as the client going away", async () => {
    const source = new FakeBody();
    const body = readBody(source, limits, createFakeClock());
    source.emit("close");
    expect(await rejection(body)).toMatchObject({ reason: "PG_ERR_CANCELLED" });
  });
});
