import { GatewayError, badRequest, badUpstreamResponse } from "../../errors/gateway-error.js";
import { GrpcCode } from "../../errors/grpc-code.js";
import { MAX_DEPTH } from "./json-policy.js";
import { LosslessInteger } from "./lossless-integer.js";

/** Path segments longer than this are elided in messages (a 100-deep path is not useful). */
const MAX_SHOWN_SEGMENTS = 12;

/**
 * What went wrong with one JSON value, before we know where it sits: readers deep in a message
 * throw it, and every enclosing message/list/map prepends its own segment while it propagates,
 * so the hot path never builds path strings.
 */
export class JsonFieldError extends Error {
  /** Path segments, innermost first (appended while unwinding, reversed when rendered). */
  readonly reversedPath: string[] = [];

  constructor(
    /**
     * `depth`: deeper than MAX_DEPTH (detail: the limit); `undecodable`: binary bytes (an Any's
     * payload from upstream) that do not decode; `unknown`: no such field; `duplicate`: a field
     * given under both its names; `value`: anything else.
     */
    readonly problem: "value" | "unknown" | "duplicate" | "depth" | "undecodable",
    readonly detail: string,
  ) {
    super(detail);
    this.name = "JsonFieldError";
  }

  /** The path as shown to clients: `user.tags[2]`, `labels["k"].name`. */
  path(prefix: readonly string[] = []): string {
    return formatPath([...prefix.map(fieldSegment), ...[...this.reversedPath].reverse()]);
  }
}

/** Joins path segments (`.name`, `[2]`, `[key]`) for a message, eliding the middle of long paths. */
export function formatPath(segments: readonly string[]): string {
  const shown = segments.length > MAX_SHOWN_SEGMENTS ? [...segments.slice(0, 4), ".(...)", ...segments.slice(-4)] : segments;
  return shown.join("").replace(/^\./, "");
}

/** A JSON key or proto field name as a path segment. */
export function fieldSegment(name: string): string {
  return `.${name}`;
}

/** Adds the segment of the enclosing field/element to an error passing through; rethrows others. */
export function withSegment(error: unknown, segment: string): unknown {
  if (error instanceof JsonFieldError) error.reversedPath.push(segment);
  return error;
}

/** The value lies deeper than MAX_DEPTH message levels. */
export function tooDeep(): JsonFieldError {
  return new JsonFieldError("depth", String(MAX_DEPTH));
}

export function valueError(detail: string): JsonFieldError {
  return new JsonFieldError("value", detail);
}

/** Throws the value error for a parser's error detail (a string or `{error}`). */
export function fail(result: { error: string } | string): never {
  throw valueError(typeof result === "string" ? result : result.error);
}

/**
 * Turns a reader failure into the client-facing 400. `prefix` names where the JSON sits in the
 * request message (e.g. the body field), `what` is used when the failing value is the root.
 */
export function toReadError(error: unknown, prefix: readonly string[], what: string): GatewayError {
  if (error instanceof GatewayError) return error;
  if (!(error instanceof JsonFieldError)) {
    // A bug or an unsupported schema (e.g. proto2 groups in an Any), not the client's fault.
    return new GatewayError(GrpcCode.INTERNAL, "PG_ERR_INTERNAL", `cannot read JSON for ${what}`, { cause: error });
  }
  const path = error.path(prefix);
  switch (error.problem) {
    case "unknown":
      return badRequest("PG_ERR_BAD_FIELD", `unknown field "${path}"${error.detail ? ` ${error.detail}` : ""}`, error);
    case "duplicate":
      return badRequest("PG_ERR_BAD_FIELD", `duplicate field "${path}": ${error.detail}`, error);
    case "depth":
      return badRequest("PG_ERR_TOO_DEEP", `${path === "" ? what : `field "${path}"`} is nested too deeply: ${depthRule(error.detail)}`, error);
    default:
      return badRequest("PG_ERR_BAD_FIELD", `invalid value for ${path === "" ? what : `field "${path}"`}: ${error.detail}`, error);
  }
}

/** The depth rule in words, for clients who hit it. */
function depthRule(limit: string): string {
  return `more than ${limit} protobuf message levels (each object in a google.protobuf.Struct takes 3, each array in a ListValue 2, each map entry 1)`;
}

/**
 * Turns a writer failure into an error response. Nesting too deep or an Any payload that does
 * not decode is a 502 (`badUpstreamResponse`): the upstream sent it. A value with no proto3 JSON
 * form (e.g. a Timestamp out of range) stays a 500.
 */
export function toWriteError(error: unknown, what: string): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof JsonFieldError) {
    const path = error.path();
    const where = path === "" ? what : `field "${path}"`;
    if (error.problem === "depth") return badUpstreamResponse(`the upstream response is nested too deeply at ${where}: ${depthRule(error.detail)}`, error);
    if (error.problem === "undecodable") return badUpstreamResponse(`the upstream response does not decode at ${where}: ${error.detail}`, error);
    return new GatewayError(
      GrpcCode.INTERNAL,
      "PG_ERR_INTERNAL",
      `the upstream response cannot be rendered as JSON: ${where}: ${error.detail}`,
      { cause: error },
    );
  }
  return new GatewayError(GrpcCode.INTERNAL, "PG_ERR_INTERNAL", `the upstream response cannot be rendered as JSON (${what})`, { cause: error });
}

/** A short, quoted rendering of a client value for an error message (bounded, never a whole object). */
export function describe(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    case "undefined":
      return "undefined";
    case "object":
      if (value === null) return "null";
      if (value instanceof LosslessInteger) return value.text.length > 40 ? `${value.text.slice(0, 40)}...` : value.text;
      if (Array.isArray(value)) return "an array";
      return "an object";
    default:
      return `a ${typeof value}`;
  }
}
