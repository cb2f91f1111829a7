import type { GraphQLError, OperationTypeNode } from "graphql";
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL } from "graphql-ws";
import { makeServer } from "graphql-ws";
import type { MessageSocket } from "../../gateway/socket-call.js";
import { truncateUtf8 } from "../../gateway/socket-call.js";
import type { ResolverContext } from "../executable-schema.js";
import { isRefusal, type OperationCheck } from "../graphql-http-handler.js";

/** The WebSocket subprotocol graphql-ws speaks (the GraphQL over WebSocket protocol). */
export const GRAPHQL_WS_PROTOCOL = GRAPHQL_TRANSPORT_WS_PROTOCOL;

/** A WebSocket the pipeline admitted to the GraphQL endpoint. */
export interface GraphqlSocketSession {
  readonly socket: MessageSocket;
  /** The endpoint's checks (size, document cache, introspection, depth, complexity), as over HTTP. */
  readonly check: OperationCheck;
  /** A fresh resolver context for one operation (its own RPC count; a subscription has no overall deadline). */
  readonly contextFor: (kind: OperationTypeNode | undefined) => ResolverContext;
  /**
   * Counts one operation against the endpoint's rate limits, as one HTTP request is counted: the
   * errors to refuse it with (429's RESOURCE_EXHAUSTED) when over, else undefined.
   */
  readonly admitOperation: () => readonly GraphQLError[] | undefined | Promise<readonly GraphQLError[] | undefined>;
  /** How long the client may take to send `connection_init`. */
  readonly connectionInitTimeoutMs: number;
}

/** How a session ended: the close code the server sent (graphql-ws's 44xx, 4500), or undefined when the client closed. */
export interface GraphqlSocketEnd {
  readonly serverClose: number | undefined;
}

const MAX_REASON_BYTES = 123;

/**
 * Serves the GraphQL over WebSocket protocol (graphql-ws's transport-agnostic server) on an
 * admitted socket: `connection_init` within the timeout, then any number of operations, each
 * counted against the endpoint's rate limits and checked like an HTTP one, and run with its own context; a subscription's `next` messages are its
 * RPC's replies. The client's `complete`, or the socket closing (the client, or the gateway
 * shutting down), returns the operation's iterator, which cancels the upstream stream at once.
 * Resolves when the socket has closed and every operation has been stopped; never rejects.
 */
export async function serveGraphqlSocket(session: GraphqlSocketSession): Promise<GraphqlSocketEnd> {
  const { socket } = session;
  let serverClose: number | undefined;
  const close = (code: number, reason: string): void => {
    serverClose ??= code;
    socket.close(code, truncateUtf8(reason, MAX_REASON_BYTES));
  };
  const server = makeServer<Record<string, unknown> | undefined>({
    connectionInitWaitTimeout: session.connectionInitTimeoutMs,
    onSubscribe: async (_ctx, _id, payload) => {
      // Counted before the checks, as an HTTP request is counted before its body is read.
      const limited = await session.admitOperation();
      if (limited !== undefined) return limited;
      const checked = session.check(payload);
      if (isRefusal(checked)) return checked;
      const { schema, document, variableValues, operationName, kind } = checked;
      return { schema, document, variableValues, operationName, contextValue: session.contextFor(kind) };
    },
  });
  let onMessage: ((data: string) => Promise<void>) | undefined;
  const closed = server.opened(
    {
      protocol: GRAPHQL_WS_PROTOCOL,
      send: (data) => socket.send(data),
      close: (code, reason) => close(code ?? CloseCode.InternalServerError, reason ?? ""),
      onMessage: (handler) => (onMessage = handler),
    },
    undefined,
  );
  for await (const frame of socket.frames()) {
    if ("binary" in frame) {
      close(CloseCode.BadRequest, "graphql-ws messages are JSON in text frames");
      continue;
    }
    // Not awaited: graphql-ws's handler of a subscribe message resolves only when the operation ends.
    onMessage?.(frame.text).catch((error: unknown) => close(CloseCode.InternalServerError, error instanceof Error ? error.message : String(error)));
  }
  await closed(serverClose ?? 1000, "");
  return { serverClose };
}
