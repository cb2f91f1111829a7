import { createServer, type AddressInfo } from "node:net";
import { Metadata, status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { createGrpcUpstream } from "../../src/upstream/grpc-upstream.js";
import { createHttp2Upstream } from "../../src/upstream/http2-upstream.js";
import { createWireUpstream } from "../../src/upstream/wire-upstream.js";
import type { UnaryCall, Upstream } from "../../src/upstream/upstream.js";
import { startUserBackend } from "../e2e/support/gateway-harness.js";
import { rejection } from "./support/upstream-results.js";

/**
 * What each transport tells the balanced upstream about a failed call: whether the upstream
 * provably did not process it (a transparent retry may send any call elsewhere) and whether its
 * response had begun (an idempotent call is retried only before).
 */
const TRANSPORTS: ReadonlyArray<[string, (address: string) => Upstream]> = [
  ["wire", (address) => createWireUpstream({ address })],
  ["http2", (address) => createHttp2Upstream({ address })],
  ["grpc-js", (address) => createGrpcUpstream({ address })],
];

function getUser(): UnaryCall {
  return { rpcPath: "/demo.v1.UserService/GetUser", request: new Uint8Array(), metadata: [], deadline: Date.now() + 5_000 };
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe.each(TRANSPORTS)("the %s transport says what reached the upstream", (_name, create) => {
  it("a refused connection: unprocessed, no response", async () => {
    const upstream = create(`127.0.0.1:${await closedPort()}`);
    cleanups.push(() => upstream.close());
    for (let i = 0; i < 2; i++) {
      const error = await rejection(upstream.call(getUser()));
      expect([error.origin, error.code, error.unprocessed, error.responseStarted]).toEqual(["connection", GrpcCode.UNAVAILABLE, true, false]);
    }
  });

  it("an UNAVAILABLE status alone (trailers-only): processed, no response begun", async () => {
    const backend = await startUserBackend({ getUser: (_call, callback) => callback({ code: status.UNAVAILABLE, details: "draining" }) });
    const upstream = create(backend.address);
    cleanups.push(() => upstream.close(), () => backend.close());
    const error = await rejection(upstream.call(getUser()));
    expect([error.origin, error.code, error.unprocessed, error.responseStarted]).toEqual(["upstream", GrpcCode.UNAVAILABLE, false, false]);
  });

  it("UNAVAILABLE after the response headers: the response had begun", async () => {
    const backend = await startUserBackend({
      getUser: (call, callback) => {
        call.sendMetadata(new Metadata());
        setImmediate(() => callback({ code: status.UNAVAILABLE, details: "gave up" }));
      },
    });
    const upstream = create(backend.address);
    cleanups.push(() => upstream.close(), () => backend.close());
    const error = await rejection(upstream.call(getUser()));
    expect([error.code, error.unprocessed, error.responseStarted]).toEqual([GrpcCode.UNAVAILABLE, false, true]);
  });

  it("a connection lost with the call in flight: it may have run, so not unprocessed", async () => {
    let arrived: () => void = () => undefined;
    const received = new Promise<void>((resolve) => (arrived = resolve));
    const backend = await startUserBackend({ getUser: () => arrived() });
    const upstream = create(backend.address);
    cleanups.push(() => upstream.close());
    const pending = rejection(upstream.call(getUser()));
    await received;
    backend.forceClose();
    const error = await pending;
    // grpc-js reads the server's RST_STREAM CANCEL of a forced shutdown as a protocol failure; either way it may have run.
    expect(error.unprocessed).toBe(false);
    expect(error.responseStarted).toBe(false);
  });
});
