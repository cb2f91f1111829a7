import { encodeReply, type EncodedReply, type Reply } from "./encoded-reply.js";

/** The source's answer; `cacheable` false when it is not the source's own (it could not be reached). */
export interface SourcedReply {
  readonly reply: Reply;
  readonly cacheable: boolean;
}

/** Asks the source of truth (the real demo backend) for the reply to one call. Never rejects. */
export type ReplySource = (path: string, message: Buffer) => Promise<SourcedReply>;

/** The default bound on cached keys. */
export const MAX_CACHED_KEYS = 10_000;

/**
 * The replies of unary calls, keyed by (gRPC path, request message bytes): the first call with a
 * key asks the source (calls with the same key arriving meanwhile wait for that one answer), the
 * later ones are answered from the cache, encoded once. Bounded by refusing to cache beyond
 * `maxKeys`: calls with a new key then go to the source each time, so the answers stay right and
 * memory stays bounded, and the hot keys cached first (the bench's routes) never move. (An LRU
 * would keep a changing working set cached, but would cost a reordering on every hit.)
 *
 * Assumes the source's answer depends on the path and the message only, not on the request
 * metadata nor on earlier calls: true of the demo's reads the bench loads (GetUser, SearchUsers);
 * a write (CreateUser ...) would be answered from the cache after its first time, without its effect.
 */
export class ReplyCache {
  private readonly replies = new Map<string, EncodedReply>();
  private readonly pending = new Map<string, Promise<EncodedReply>>();
  /** Calls answered from the cache, and calls that went to the source. */
  hits = 0;
  misses = 0;

  constructor(
    private readonly source: ReplySource,
    private readonly maxKeys = MAX_CACHED_KEYS,
  ) {}

  get size(): number {
    return this.replies.size;
  }

  /** The reply to `message` on `path`: at once when cached, else once the source answered. `message` may be a view that is reused: it is copied when kept. */
  reply(path: string, message: Buffer): EncodedReply | Promise<EncodedReply> {
    // latin1: one char per byte, so the key is exact and cheap to build.
    const key = `${path} ${message.toString("latin1")}`;
    const cached = this.replies.get(key);
    if (cached !== undefined) {
      this.hits++;
      return cached;
    }
    this.misses++;
    const waiting = this.pending.get(key);
    if (waiting !== undefined) return waiting;
    const asked = this.source(path, Buffer.from(message)).then(({ reply, cacheable }) => {
      const encoded = encodeReply(reply);
      this.pending.delete(key);
      if (cacheable && this.replies.size < this.maxKeys) this.replies.set(key, encoded);
      return encoded;
    });
    this.pending.set(key, asked);
    return asked;
  }
}
