import DataLoader from "dataloader";
import type { GraphqlJoin } from "./schema-map.js";

/** A reply's proto3 JSON object. */
export type JsonObject = Record<string, unknown>;

/** One RPC of a GraphQL request (resolver-context.ts makes it on the client's behalf, counted against maxRpcCalls). */
export type RpcCall = (rpcPath: string, request: JsonObject, what: string) => Promise<JsonObject>;

/** A join key: the key field's proto3 JSON value (a string, number or boolean). */
export type JoinKey = string | number | boolean;

/**
 * The join loaders of one GraphQL request: one DataLoader per join, made on first use, so a key
 * asked for by many objects of the reply is resolved once. Without a batch RPC, each distinct key
 * is one call of the join's RPC; with one, the keys a tick collects go in ONE call, whose results
 * are matched to them by the batch's key field (a key without a result resolves to null).
 */
export class JoinLoaders {
  private readonly loaders = new Map<GraphqlJoin, DataLoader<JoinKey, JsonObject | null>>();

  constructor(private readonly rpc: RpcCall) {}

  loaderOf(join: GraphqlJoin): DataLoader<JoinKey, JsonObject | null> {
    let loader = this.loaders.get(join);
    if (loader === undefined) {
      loader = new DataLoader((keys) => (join.batch === undefined ? this.oneCallPerKey(join, keys) : this.oneBatchCall(join, keys)));
      this.loaders.set(join, loader);
    }
    return loader;
  }

  private oneCallPerKey(join: GraphqlJoin, keys: readonly JoinKey[]): Promise<Array<JsonObject | Error>> {
    const what = `join ${join.type}.${join.field}`;
    return Promise.all(keys.map((key) => this.rpc(join.rpcPath, { [join.requestField]: key }, what).catch((error: unknown) => asError(error))));
  }

  private async oneBatchCall(join: GraphqlJoin, keys: readonly JoinKey[]): Promise<Array<JsonObject | null>> {
    const batch = join.batch!;
    const reply = await this.rpc(batch.rpcPath, { [batch.requestField]: keys }, `join ${join.type}.${join.field} (batch)`);
    const results = reply[batch.responseField];
    const byKey = new Map<unknown, JsonObject>();
    if (Array.isArray(results)) {
      for (const result of results as JsonObject[]) byKey.set(keyOf(result[batch.keyField]), result);
    }
    return keys.map((key) => byKey.get(keyOf(key)) ?? null);
  }
}

/**
 * A key as the batch reply writes it: proto3 JSON writes a 64-bit key as a string and a result
 * that omits a default key omits it, so keys are compared by their text.
 */
function keyOf(value: unknown): string {
  return value === undefined ? "" : String(value);
}

function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

/** Whether a key field's value stands for no reference (left out of the reply: its default, or empty). */
export function isEmptyKey(value: unknown): boolean {
  return value === undefined || value === null || value === "";
}
