import { execute, subscribe, type ExecutionResult, type GraphQLError } from "graphql";
import { GatewayError } from "../../errors/gateway-error.js";
import { GrpcCode } from "../../errors/grpc-code.js";
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
}

const COMPLETE = "event: complete\ndata:\n\n";

function next(result: ExecutionResult): string {
  return `event: next\ndata: ${JSON.stringify(result)}\n\n`;
}

/**
 * GraphQL over SSE in the "distinct connections mode" of the GraphQL-over-SSE protocol: the
 * operation's results as `event: next` (one for a query or mutation, one per event of a
 * subscription), then `event: complete`. An operation the checks refuse is one `next` with the
 * errors, then `complete`. Resolves to the body once a subscription has been set up.
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
      const item = await results.next();
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
 * operationName}`, or a GET's query parameters (`variables` as JSON). Throws a GatewayError (400)
 * for anything else.
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
    const variables = get("variables");
    let parsed: unknown;
    try {
      parsed = variables === undefined ? undefined : JSON.parse(variables);
    } catch {
      throw new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_QUERY", "the query parameter variables is not JSON");
    }
    params = { query: get("query"), variables: parsed, operationName: get("operationName") };
  }
  if (typeof params !== "object" || params === null) throw new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", "expected a JSON object {query, variables, operationName}");
  const { query: text, variables, operationName } = params as Record<string, unknown>;
  if (typeof text !== "string") throw new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", "the operation has no query (a string)");
  if (variables !== undefined && variables !== null && (typeof variables !== "object" || Array.isArray(variables))) throw new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", "variables must be an object");
  if (operationName !== undefined && operationName !== null && typeof operationName !== "string") throw new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_JSON", "operationName must be a string");
  return { query: text, variables: variables as Record<string, unknown> | null | undefined, operationName };
}
