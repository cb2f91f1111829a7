import { GraphQLError } from "graphql";
import type { SubscribeToRpc } from "../executable-schema.js";

/**
 * Subscription fields' event source: the field's server-streaming RPC, opened through the
 * request's context (resolver-context.ts: on the client's behalf, counted against maxRpcCalls).
 */
export const subscribeThroughContext: SubscribeToRpc = (operation, request, context) => {
  if (context.stream === undefined) throw new GraphQLError(`subscription ${operation.field} is not served on this transport; use graphql-ws or GraphQL over SSE`, { extensions: { code: "SUBSCRIPTIONS_NOT_SERVED" } });
  return context.stream(operation.rpcPath, request, `Subscription.${operation.field} (${operation.rpcPath.slice(1)})`);
};
