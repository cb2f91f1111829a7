import type { JsonValue } from "@bufbuild/protobuf";

/**
 * The TypeScript API of aggregates written in code (`aggregates: [{name, path, module}]` in
 * gateway.yaml), for logic the `calls:` config cannot express. A module default-exports
 * `defineAggregate(async (ctx) => ({...}))`; `ctx.call` makes one RPC as the client would (the
 * method's auth rule, rate limits and deadline, the caller's identity metadata), typed by the
 * method reference: the ts-proto grpc-js service definitions in generated/ (`--ts-proto`), e.g.
 * `UserServiceService.getUser`, whose request and response types `ctx.call` infers.
 *
 * This file has no runtime dependency on the gateway: a module may import it from
 * `protogate/runtime` while the gateway runs from another copy (the default export is recognised
 * by its shape, not by identity).
 */

/** A unary method as ts-proto's grpc-js service definitions describe it (`UserServiceService.getUser`). */
export interface UnaryMethod<Req, Res> {
  /** `/pkg.Service/Method`. */
  readonly path: string;
  readonly requestStream: false;
  readonly responseStream: false;
  requestSerialize(value: Req): Uint8Array;
  requestDeserialize(value: Uint8Array): Req;
  responseSerialize(value: Res): Uint8Array;
  responseDeserialize(value: Uint8Array): Res;
}

/** Options of one call; without `onError` a failure fails the whole request with the call's status. */
export interface CallOptions {
  /** The call's own deadline (ms), never past what is left of the aggregate's; default: the method's. */
  readonly deadlineMs?: number;
  readonly onError?: "fail";
}
/** `partial`: a failure resolves `undefined`, and the call's google.rpc.Status goes under `errors[key]` of the answer. */
export interface PartialCallOptions {
  readonly deadlineMs?: number;
  readonly onError: "partial";
  readonly key: string;
}
/** `default`: a failure resolves this value instead (fields left out take their defaults). */
export interface DefaultCallOptions<Res> {
  readonly deadlineMs?: number;
  readonly onError: { readonly default: Partial<Res> };
}

/** What an aggregate's code sees of its request, and how it calls methods. */
export interface AggregateContext {
  /** The path's variables (`{userId}` -> `path.userId`). */
  readonly path: Readonly<Record<string, string>>;
  /** The query string. */
  readonly query: URLSearchParams;
  /** The caller's verified claims (`sub`: the subject, also of an API key); empty for an anonymous caller. */
  readonly claims: Readonly<Record<string, unknown>>;
  /**
   * Calls `method` with `request` (fields left out take their defaults) on the client's behalf.
   * Rejects with the call's error under `fail` (the default); the request is then answered with
   * that status unless the code catches it.
   */
  call<Req, Res>(method: UnaryMethod<Req, Res>, request: Partial<Req>, options?: CallOptions): Promise<Res>;
  call<Req, Res>(method: UnaryMethod<Req, Res>, request: Partial<Req>, options: PartialCallOptions): Promise<Res | undefined>;
  call<Req, Res>(method: UnaryMethod<Req, Res>, request: Partial<Req>, options: DefaultCallOptions<Res>): Promise<Res>;
  /** A response of `method` in proto3 JSON, exactly as a REST route writes it (enum names, int64 as strings, Timestamps as RFC 3339). */
  json<Req, Res>(method: UnaryMethod<Req, Res>, response: Res): JsonValue;
}

/** The answer: a JSON object (written with JSON.stringify; use `ctx.json` for messages). `errors` is the gateway's. */
export type AggregateAnswer = Readonly<Record<string, unknown>>;

export type AggregateHandler = (ctx: AggregateContext) => Promise<AggregateAnswer>;

/** What a module's default export is. */
export interface TypedAggregate {
  readonly kind: "protogate.aggregate";
  readonly version: 1;
  readonly handler: AggregateHandler;
}

export function defineAggregate(handler: AggregateHandler): TypedAggregate {
  return { kind: "protogate.aggregate", version: 1, handler };
}

/** Whether a module's default export is a `defineAggregate(...)` (recognised by shape). */
export function isTypedAggregate(value: unknown): value is TypedAggregate {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<Record<keyof TypedAggregate, unknown>>;
  return candidate.kind === "protogate.aggregate" && candidate.version === 1 && typeof candidate.handler === "function";
}
