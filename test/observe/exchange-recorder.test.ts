import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import type { RequestHead } from "../../src/gateway/request.js";
import type { Exchange } from "../../src/observe/exchange.js";
import { ExchangeRecorder } from "../../src/observe/exchange-recorder.js";
import { combineObservers, type ExchangeObserver } from "../../src/observe/observer.js";

const head = (headers: Record<string, string> = {}): RequestHead => ({ method: "GET", url: "/v1/users/u-1", headers, rawHeaders: Object.entries(headers).flat(), client: { ip: "127.0.0.1", host: "localhost", protocol: "http" } });

/** An observer that writes down every hook with what the exchange held at that moment. */
function journal(name: string, events: string[]): ExchangeObserver {
  return {
    started: (e) => events.push(`${name} started ${e.requestId} at ${e.startedAt}`),
    upstreamStarted: (e, metadata) => {
      events.push(`${name} upstreamStarted at ${e.upstreamStartedAt} with ${JSON.stringify(metadata)}`);
      metadata.push([`${name}-context`, "1"]);
    },
    upstreamEnded: (e) => events.push(`${name} upstreamEnded code ${e.upstreamCode} after ${e.upstreamMs}`),
    streamMessage: (_e, direction) => events.push(`${name} ${direction}`),
    ended: (e) => events.push(`${name} ended ${e.status} code ${e.grpcCode} after ${e.durationMs}`),
  };
}

function recorder(events: string[], ids = ["id-1", "id-2"]) {
  let now = 100;
  const clock = { advance: (ms: number) => (now += ms) };
  const made = new ExchangeRecorder({ observer: combineObservers([journal("a", events), journal("b", events)]), now: () => now, newRequestId: () => ids.shift() ?? "none" });
  return { recorder: made, clock };
}

describe("ExchangeRecorder", () => {
  it("tells every observer each step in order, with the timings and outcome on the exchange", () => {
    const events: string[] = [];
    const { recorder: r, clock } = recorder(events);
    const exchange: Exchange = r.begin(head());
    clock.advance(2);
    const metadata = r.upstreamStarted(exchange, [["authorization", "x"]]);
    clock.advance(5);
    r.streamMessage(exchange, "received");
    r.upstreamEnded(exchange, GrpcCode.OK);
    exchange.settle(GrpcCode.OK);
    exchange.status = 200;
    clock.advance(1);
    r.end(exchange);
    expect(events).toEqual([
      "a started id-1 at 100",
      "b started id-1 at 100",
      'a upstreamStarted at 102 with [["authorization","x"],["x-request-id","id-1"]]',
      'b upstreamStarted at 102 with [["authorization","x"],["x-request-id","id-1"],["a-context","1"]]',
      "a received",
      "b received",
      "a upstreamEnded code 0 after 5",
      "b upstreamEnded code 0 after 5",
      "a ended 200 code 0 after 8",
      "b ended 200 code 0 after 8",
    ]);
    expect(metadata.map(([key]) => key)).toEqual(["authorization", "x-request-id", "a-context", "b-context"]);
  });

  it("takes the client's sane x-request-id, and generates one otherwise", () => {
    const { recorder: r } = recorder([]);
    expect(r.begin(head({ "x-request-id": "from-client" })).requestId).toBe("from-client");
    expect(r.begin(head({ "x-request-id": "bad id" })).requestId).toBe("id-1");
    expect(r.begin(head()).requestId).toBe("id-2");
  });

  it("records the first outcome and the first end only (a stream's late end does not overwrite a failure)", () => {
    const events: string[] = [];
    const { recorder: r, clock } = recorder(events);
    const exchange = r.begin(head());
    r.upstreamStarted(exchange, []);
    clock.advance(3);
    r.upstreamEnded(exchange, GrpcCode.UNAVAILABLE);
    clock.advance(3);
    r.upstreamEnded(exchange, GrpcCode.CANCELLED);
    const failure = new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_UNAVAILABLE", "down");
    r.failed(exchange, failure);
    exchange.settle(GrpcCode.OK);
    r.end(exchange);
    r.end(exchange);
    expect(exchange.grpcCode).toBe(GrpcCode.UNAVAILABLE);
    expect(exchange.error).toBe(failure);
    expect(exchange.upstreamCode).toBe(GrpcCode.UNAVAILABLE);
    expect(events.filter((event) => event.startsWith("a "))).toEqual([
      "a started id-1 at 100",
      'a upstreamStarted at 100 with [["x-request-id","id-1"]]',
      "a upstreamEnded code 14 after 3",
      "a ended 0 code 14 after 6",
    ]);
  });

  it("never calls upstreamEnded for an exchange whose upstream call never started", () => {
    const events: string[] = [];
    const { recorder: r } = recorder(events);
    const exchange = r.begin(head());
    r.upstreamEnded(exchange, GrpcCode.CANCELLED);
    expect(events.some((event) => event.includes("upstreamEnded"))).toBe(false);
    expect(exchange.upstreamMs).toBeUndefined();
  });

  it("settled: at once with nothing open; otherwise once every exchange begun has ended (each counted once), exchanges begun meanwhile included", async () => {
    const r = new ExchangeRecorder();
    let settled = 0;
    await r.settled().then(() => settled++);
    expect(settled).toBe(1);
    const first = r.begin(head());
    const waiting = r.settled().then(() => settled++);
    const second = r.begin(head());
    r.end(first);
    r.end(first);
    await Promise.resolve();
    expect(settled).toBe(1);
    r.end(second);
    await waiting;
    expect(settled).toBe(2);
    // A later round waits again.
    const third = r.begin(head());
    const again = r.settled().then(() => settled++);
    await Promise.resolve();
    expect(settled).toBe(2);
    r.end(third);
    await again;
    expect(settled).toBe(3);
  });
});
