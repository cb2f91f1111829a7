import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Endpoint } from "../../../src/upstream/resilience/endpoint.js";
import { decodeHealthCheckStatus, encodeHealthCheckRequest, HEALTH_CHECK_PATH, HealthChecker } from "../../../src/upstream/resilience/health-check.js";
import type { HealthCheckOptions } from "../../../src/upstream/resilience/resilience-options.js";
import type { UnaryCall, UnaryResult, Upstream } from "../../../src/upstream/upstream.js";
import { createFakeClock } from "../../support/fake-clock.js";
import { fuzzRuns } from "../../support/fuzz.js";
import { FAILURES, settle } from "./fake-upstreams.js";

const OPTIONS: HealthCheckOptions = { service: "demo.v1.UserService", intervalMs: 10_000, timeoutMs: 1_000, unhealthyThreshold: 2, healthyThreshold: 2 };

function statusReply(status: number): UnaryResult {
  return { response: new BinaryWriter().tag(1, WireType.Varint).int32(status).finish(), headers: [], trailers: [] };
}

/** An address answering health checks with `answer` ("serving", "not_serving", "error", "hang", "garbage"). */
function checkedEndpoint(address: string) {
  const state = { answer: "serving", calls: [] as UnaryCall[] };
  const upstream = {
    call(call: UnaryCall): Promise<UnaryResult> {
      state.calls.push(call);
      switch (state.answer) {
        case "serving":
          return Promise.resolve(statusReply(1));
        case "not_serving":
          return Promise.resolve(statusReply(2));
        case "garbage":
          return Promise.resolve({ response: new Uint8Array([0x0a, 0xff]), headers: [], trailers: [] });
        case "hang":
          return new Promise(() => undefined);
        default:
          return Promise.reject(FAILURES.refused());
      }
    },
  } as unknown as Upstream;
  return { endpoint: new Endpoint(address, upstream), state };
}

function setup(count: number) {
  const clock = createFakeClock();
  const endpoints = Array.from({ length: count }, (_, i) => checkedEndpoint(`10.0.0.${i + 1}:50051`));
  const changes: string[] = [];
  const checker = new HealthChecker(OPTIONS, () => endpoints.map((e) => e.endpoint), clock, (endpoint) => changes.push(`${endpoint.address} ${endpoint.healthy ? "healthy" : "unhealthy"}`));
  /** Runs the round due after `ms` and lets its checks settle. */
  const round = async (ms = OPTIONS.intervalMs) => {
    clock.advance(ms);
    await settle();
  };
  return { clock, endpoints, checker, changes, round };
}

describe("HealthChecker", () => {
  it("asks grpc.health.v1.Health/Check with the configured service, first right at start, then every interval", async () => {
    const { endpoints, checker, round } = setup(2);
    checker.start();
    await round(0);
    expect(endpoints.map((e) => e.state.calls.length)).toEqual([1, 1]);
    const call = endpoints[0].state.calls[0];
    expect(call.rpcPath).toBe(HEALTH_CHECK_PATH);
    expect(Buffer.from(call.request)).toEqual(Buffer.from(encodeHealthCheckRequest("demo.v1.UserService")));
    await round(9_999);
    expect(endpoints[0].state.calls).toHaveLength(1);
    await round(1);
    expect(endpoints[0].state.calls).toHaveLength(2);
    checker.stop();
    await round();
    expect(endpoints[0].state.calls).toHaveLength(2);
  });

  it.each(["not_serving", "error", "hang", "garbage"])("an address answering %s twice in a row goes out of rotation; SERVING twice brings it back", async (answer) => {
    const { endpoints, checker, changes, round } = setup(2);
    endpoints[0].state.answer = answer;
    checker.start();
    await round(0);
    if (answer === "hang") await round(OPTIONS.timeoutMs);
    expect(endpoints[0].endpoint.available).toBe(true);
    await round(answer === "hang" ? OPTIONS.intervalMs - OPTIONS.timeoutMs : OPTIONS.intervalMs);
    if (answer === "hang") await round(OPTIONS.timeoutMs);
    expect(endpoints[0].endpoint.available).toBe(false);
    expect(endpoints[0].endpoint.health()).toBe("unhealthy");
    expect(endpoints[1].endpoint.available).toBe(true);
    endpoints[0].state.answer = "serving";
    await round(answer === "hang" ? OPTIONS.intervalMs - OPTIONS.timeoutMs : OPTIONS.intervalMs);
    expect(endpoints[0].endpoint.available).toBe(false);
    await round();
    expect(endpoints[0].endpoint.available).toBe(true);
    expect(changes).toEqual(["10.0.0.1:50051 unhealthy", "10.0.0.1:50051 healthy"]);
    checker.stop();
  });

  it("decodes HealthCheckResponse and skips unknown fields", () => {
    const withUnknown = new BinaryWriter().tag(7, WireType.LengthDelimited).string("x").tag(1, WireType.Varint).int32(1).finish();
    expect(decodeHealthCheckStatus(withUnknown)).toBe(1);
    expect(decodeHealthCheckStatus(new Uint8Array())).toBe(0);
    expect(encodeHealthCheckRequest("")).toEqual(new Uint8Array());
  });

  it("property: any bytes decode to a status or throw, never hang", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          expect(typeof decodeHealthCheckStatus(bytes)).toBe("number");
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
        }
      }),
      fuzzRuns(500),
    );
  });
});
