import { Metadata } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { classifyGrpcJsStatus, type GrpcJsCallFacts } from "../../src/upstream/grpc-js-status.js";

// The grpc-js boundary's reading of statuses, case by case. The real replies behind them run
// against grpc-js itself in protocol-violations.test.ts and the attack suite; these pin the
// rules, including statuses that are hard to provoke on purpose (write errors, socket errors).

const facts = (overrides: Partial<GrpcJsCallFacts> = {}): GrpcJsCallFacts => ({ gotHeaders: false, deadlineReached: false, maxReceiveMessageBytes: 1024, ...overrides });
/** The metadata of a trailers-only response: it carries the content-type. */
const trailersOnly = () => {
  const metadata = new Metadata();
  metadata.set("content-type", "application/grpc");
  return metadata;
};
const status = (code: unknown, details: unknown, metadata = new Metadata()) => ({ code, details, metadata });

describe("classifyGrpcJsStatus", () => {
  it.each([
    ["No connection established. Last error: connect ECONNREFUSED 10.0.0.7:50051", facts()],
    ["Connection dropped", facts({ gotHeaders: true })],
    ["Stream refused by server", facts()],
    ["read ECONNRESET", facts({ gotHeaders: true })],
    ["Write error: write EPIPE", facts({ gotHeaders: true })],
    ["Channel closed before call started", facts()],
  ])("reads grpc-js's own UNAVAILABLE %j as a connection failure", (details, seen) => {
    expect(classifyGrpcJsStatus(status(GrpcCode.UNAVAILABLE, details), seen).origin).toBe("connection");
  });

  it.each([
    ["after the response headers", status(GrpcCode.UNAVAILABLE, "draining"), facts({ gotHeaders: true })],
    ["trailers-only", status(GrpcCode.UNAVAILABLE, "draining", trailersOnly()), facts()],
    ["as an intermediary's HTTP 503", status(GrpcCode.UNAVAILABLE, "Received HTTP status code 503"), facts()],
  ])("reads an UNAVAILABLE %s as the upstream's", (_name, given, seen) => {
    expect(classifyGrpcJsStatus(given, seen).origin).toBe("upstream");
  });

  it("reads a status that came trailers-only as the upstream's, even in grpc-js's own words", () => {
    for (const [code, details] of [
      [GrpcCode.CANCELLED, "Call cancelled"],
      [GrpcCode.INTERNAL, "Received RST_STREAM with code 2 (Internal server error)"],
      [GrpcCode.RESOURCE_EXHAUSTED, "Received message larger than max (5000 vs 1024)"],
    ] as const) {
      expect(classifyGrpcJsStatus(status(code, details, trailersOnly()), facts()).origin).toBe("upstream");
    }
  });

  it.each([
    [GrpcCode.INTERNAL, "Received RST_STREAM with code 1", "the upstream reset the stream (RST_STREAM PROTOCOL_ERROR)"],
    [GrpcCode.INTERNAL, "Received RST_STREAM with code 2 (Internal server error)", "the upstream reset the stream (RST_STREAM INTERNAL_ERROR)"],
    [GrpcCode.INTERNAL, "Received RST_STREAM with code 0 (Call ended without gRPC status)", "the upstream ended the call without a grpc-status"],
    [GrpcCode.CANCELLED, "Call cancelled", "the upstream reset the stream (RST_STREAM CANCEL)"],
    [GrpcCode.RESOURCE_EXHAUSTED, "Bandwidth exhausted or memory limit exceeded", "the upstream reset the stream (RST_STREAM ENHANCE_YOUR_CALM)"],
    [GrpcCode.PERMISSION_DENIED, "Protocol not secure enough", "the upstream reset the stream (RST_STREAM INADEQUATE_SECURITY)"],
    [GrpcCode.UNKNOWN, "Received HTTP status code 200", "the upstream ended the call without a grpc-status"],
    [GrpcCode.INTERNAL, "Failed to decompress gzip-encoded message", "the upstream sent a compressed message that does not decompress"],
    [GrpcCode.OK, "", "the upstream sent no response message for a unary call"],
    [undefined, undefined, "the upstream sent a compressed message without an encoding the gateway accepts"],
    [Number.NaN, "", "the upstream sent a malformed grpc-status"],
  ])("reads grpc-js's status %s %j as a protocol violation", (code, details, message) => {
    expect(classifyGrpcJsStatus(status(code, details), facts({ gotHeaders: true }))).toMatchObject({ origin: "protocol", message });
  });

  it("reads a failure of the gateway's own HTTP/2 stack under a reset as a connection failure", () => {
    const given = status(GrpcCode.INTERNAL, "Received RST_STREAM with code 2 triggered by internal client error: Session closed with error code 2");
    expect(classifyGrpcJsStatus(given, facts({ gotHeaders: true })).origin).toBe("connection");
  });

  it("reads grpc-js's refusal of a reply over the gateway's limit as a limit failure, with the size", () => {
    expect(classifyGrpcJsStatus(status(GrpcCode.RESOURCE_EXHAUSTED, "Received message larger than max (5000 vs 1024)"), facts({ gotHeaders: true }))).toEqual({
      origin: "limit",
      code: GrpcCode.RESOURCE_EXHAUSTED,
      message: "Received message larger than max (5000 vs 1024)",
      limit: { direction: "response", bytes: 5000, maxBytes: 1024 },
    });
    expect(classifyGrpcJsStatus(status(GrpcCode.RESOURCE_EXHAUSTED, "Received message that decompresses to a size larger than 1024"), facts({ gotHeaders: true })).limit).toEqual({ direction: "response", bytes: undefined, maxBytes: 1024 });
  });

  it.each([
    ["before any response headers (an upstream refusing a large request)", facts({ gotHeaders: false })],
    ["against another limit than the gateway's", facts({ gotHeaders: true, maxReceiveMessageBytes: 4096 })],
  ])("keeps a RESOURCE_EXHAUSTED in grpc-js's words %s as the upstream's", (_name, seen) => {
    expect(classifyGrpcJsStatus(status(GrpcCode.RESOURCE_EXHAUSTED, "Received message larger than max (5000 vs 1024)"), seen).origin).toBe("upstream");
  });

  it("separates the gateway's deadline from an upstream's earlier DEADLINE_EXCEEDED", () => {
    expect(classifyGrpcJsStatus(status(GrpcCode.DEADLINE_EXCEEDED, "Deadline exceeded"), facts({ deadlineReached: true })).origin).toBe("deadline");
    expect(classifyGrpcJsStatus(status(GrpcCode.DEADLINE_EXCEEDED, "db timeout", trailersOnly()), facts()).origin).toBe("upstream");
  });

  it("passes any other status through as the upstream's, codes outside google.rpc.Code as UNKNOWN", () => {
    expect(classifyGrpcJsStatus(status(GrpcCode.NOT_FOUND, "no user"), facts({ gotHeaders: true }))).toEqual({ origin: "upstream", code: GrpcCode.NOT_FOUND, message: "no user" });
    expect(classifyGrpcJsStatus(status(17, "odd", trailersOnly()), facts()).code).toBe(GrpcCode.UNKNOWN);
  });
});
