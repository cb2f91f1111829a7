import { GatewayError, badRequest } from "../../errors/gateway-error.js";
import { GrpcCode } from "../../errors/grpc-code.js";
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
    readonly problem: "value" | "unknown" | "depth",
    readonly detail: string,
  ) {
    super(detail);
    this.name = "JsonFieldError";
  }

  /** The path as shown to clients: `user.tags[2]`, `labels["k"].name`. */
  path(prefix: readonly string[] = []): string {
    const segments = [...prefix.map(fieldSegment), ...[...this.reversedPath].reverse()];
    const shown =
      segments.length > MAX_SHOWN_SEGMENTS ? [...segments.slice(0, 4), ".(...)", ...segments.slice(-4)] : segments;
    return shown.join("").replace(/^\./, "");
  }
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
    case "depth":
      return badRequest("PG_ERR_BAD_FIELD", `${path === "" ? what : `field "${path}"`} is nested more than ${error.detail} levels deep`, error);
    default:
      return badRequest("PG_ERR_BAD_FIELD", `invalid value for ${path === "" ? what : `field "${path}"`}: ${error.detail}`, error);
  }
}

/**
 * Turns a writer failure (a message from upstream that has no proto3 JSON form, e.g. a Timestamp
 * out of range) into a 500: the client did nothing wrong.
 */
export function toWriteError(error: unknown, what: string): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof JsonFieldError) {
    const path = error.path();
    return new GatewayError(
      GrpcCode.INTERNAL,
      "PG_ERR_INTERNAL",
      `the upstream response cannot be rendered as JSON: ${path === "" ? what : `field "${path}"`}: ${error.detail}`,
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
