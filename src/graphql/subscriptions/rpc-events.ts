import type { GraphQLError } from "graphql";
import type { JsonObject } from "../join-loader.js";

/**
 * A subscription's events: each reply of the server-streaming RPC as proto3 JSON, or (last) the
 * GraphQLError the stream failed with. A failure is handed over as an event, not thrown: graphql-js
 * rethrows an event source's error out of the whole response stream, while an event the field's
 * resolver throws on is answered as `{data: {field: null}, errors: [...]}` on that subscription.
 */
export type RpcEvent = JsonObject | GraphQLError;

/**
 * Maps a stream of reply bytes to RpcEvents. `return()` goes straight to the source (which cancels
 * the upstream call at once, even while a `next()` waits): an async generator would queue it.
 */
export class RpcEvents implements AsyncIterableIterator<RpcEvent> {
  private over = false;

  constructor(
    private readonly replies: AsyncIterator<Uint8Array>,
    private readonly toJson: (reply: Uint8Array) => JsonObject,
    private readonly toError: (thrown: unknown) => GraphQLError,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<RpcEvent>> {
    if (this.over) return { done: true, value: undefined };
    try {
      const reply = await this.replies.next();
      if (reply.done === true) {
        this.over = true;
        return { done: true, value: undefined };
      }
      return { done: false, value: this.toJson(reply.value) };
    } catch (thrown) {
      this.over = true;
      void this.replies.return?.(); // a reply that would not decode: the call is not needed any more
      return { done: false, value: this.toError(thrown) };
    }
  }

  async return(): Promise<IteratorResult<RpcEvent>> {
    this.over = true;
    await this.replies.return?.();
    return { done: true, value: undefined };
  }
}
