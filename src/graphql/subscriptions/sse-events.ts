import { execute, subscribe, type ExecutionResult, type GraphQLError } from "graphql";
import { GatewayError } from "../../errors/gateway-error.js";
import { GrpcCode } from "../../errors/grpc-code.js";
import { settlesWithin, type Timers } from "../../timers.js";
import { isJsonObject } from "../../transcode/json/json-object.js";
import type { CancelSignal } from "../../upstream/upstream.js";
import type { ResolverContext } from "../executable-schema.js";
import { isRefusal, type CheckedOperation, type OperationParams } from "../graphql-http-handler.js";

/** The media type of GraphQL over Server-Sent Events. */
export const EVENT_STREAM = "text/event-stream";

/** Whether a request asks for GraphQL over SSE (its Accept names text/event-stream). */
export function wantsEventStream(accept: string | undefined): boolean {
  return accept !== undefined && accept.split(",").some((range) => range.split(";")[0].trim().toLowerCase() === EVENT_STREAM);
}

/** One operation over SSE: its checked form (or the errors refusing it), its resolver context, and the client's going away. */
export interface SseOperation {
  readonly checked: CheckedOperation | readonly GraphQLError[];
  readonly context: ResolverContext;
  /** Fires when the client goes away: a subscription's iterator is returned at once (cancelling its upstream stream). */
  readonly gone: CancelSignal;
  /** A subscription quiet this long gets a keep-alive comment (`streaming.sseKeepAliveMs`), so proxies keep the connection; 0: none. */
  readonly keepAliveMs: number;
  readonly timers: Timers;
}

const COMPLETE = "event: complete\ndata:\n\n";
const KEEP_ALIVE = ": keep-alive\n\n";

function next(result: ExecutionResult): string {
  return `event: next\ndata: ${JSON.stringify(result)}\n\n`;
}

/**
 * GraphQL over SSE in the "distinct connections mode" of the GraphQL-over-SSE protocol: the
 * operation's results as `event: next` (one for a query or mutation, one per event of a
 * subscription), then `event: complete`. An operation the checks refuse is one `next` with the
 * errors, then `complete`. A subscription quiet for `keepAliveMs` gets a `: keep-alive` comment
 * (as the REST routes' SSE streams do). Resolves to the body once a subscription has been set up.
 */
export async function* sseEvents(operation: SseOperation): AsyncGenerator<string> {
  const { checked } = operation;
  if (isRefusal(checked)) {
    yield next({ errors: checked });
    yield COMPLETE;
    return;
  }
  const { schema, document, variableValues, operationName, kind } = checked;
  const args = { schema, document, variableValues, operationName, contextValue: operation.context };
  const result = kind === "subscription" ? await subscribe(args) : await execute(args);
  if (!(Symbol.asyncIterator in result)) {
    yield next(result);
    yield COMPLETE;
    return;
  }
  // A comment line first: the response's head goes out now, not with the first event (which may be long in coming).
  yield ": subscribed\n\n";
  const results = result[Symbol.asyncIterator]();
  // A generator's return() waits for its pending next(): the client going away returns the results directly.
  operation.gone.addEventListener("abort", () => void results.return?.());
  try {
    for (;;) {
      const pending = results.next();
      while (operation.keepAliveMs > 0 && !(await settlesWithin(pending, operation.keepAliveMs, operation.timers)).done) yield KEEP_ALIVE;
      const item = await pending;
      if (item.done === true) break;
      yield next(item.value);
    }
    yield COMPLETE;
  } finally {
    await results.return?.();
  }
}

/**
 * The operation of a GraphQL-over-SSE request: a POST's JSON body `{query, variables,
 * operationName, extensions, documentId}`, or a GET's query parameters (`variables` and
 * `extensions` as JSON). The query may be absent when the extensions or `documentId` name a
 * persisted operation. Throws a GatewayError (400) for anything else.
 */
export function sseOperationParams(method: string, query: ReadonlyArray<readonly [string, string]>, body: Buffer | undefined): OperationParams {
  let params: unknown;
  if (method === "POST") {
    try {
      params = JSON.parse(body?.toString("utf8") ?? "");
    } catch (error) {
      throw new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", `the body is not JSON: ${(error as Error).message}`);
    }
  } else {
    const get = (name: string) => query.find(([key]) => key === name)?.[1];
    const json = (name: string): unknown => {
      const value = get(name);
      try {
        return value === undefined ? undefined : JSON.parse(value);
      } catch {
        throw new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_QUERY", `the query parameter ${name} is not JSON`);
      }
    };
    params = { query: get("query"), variables: json("variables"), operationName: get("operationName"), extensions: json("extensions"), documentId: get("documentId") };
  }
  if (typeof params !== "object" || params === null) throw new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", "expected a JSON object {query, variables, operationName}");
  const { query: text, variables, operationName, extensions, documentId } = params as Record<string, unknown>;
  if (extensions !== undefined && extensions !== null && !isJsonObject(extensions)) throw new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", "extensions must be an object");
  const namesPersisted = documentId !== undefined || (isJsonObject(extensions) && extensions.persistedQuery !== undefined);
  if (typeof text !== "string" && !(text === undefined && namesPersisted)) throw new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", "the operation has no query (a string)");
  if (variables !== undefined && variables !== null && !isJsonObject(variables)) throw new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", "variables must be an object");
  if (operationName !== undefined && operationName !== null && typeof operationName !== "string") throw new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", "operationName must be a string");
  return { query: text, variables, operationName, extensions: extensions as Record<string, unknown> | null | undefined, documentId };
}
