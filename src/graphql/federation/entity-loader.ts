import DataLoader from "dataloader";
import type { GraphqlEntity, GraphqlJoin } from "../schema-map.js";
import type { EntityKey, EntityValue, ResolveEntity } from "./subgraph.js";

/**
 * Resolves the keys of one entity type at once: one result per key, in key order (null: no such
 * entity; an Error: that key failed, the others still resolve). The runtime makes one call of the
 * entity's RPC per key (or one batch RPC, when the type has one), like a join's loader.
 */
export type LoadEntities<Context> = (entity: GraphqlEntity, keys: readonly EntityKey[], context: Context) => Promise<readonly (EntityValue | null | Error)[]>;

/**
 * A `ResolveEntity` that batches: the references of one request (one context object) to the
 * same entity type are collected with dataloader, so `_entities` with many representations makes
 * one `load` per type, each distinct key once. Loaders live as long as their context (a
 * WeakMap), so nothing is cached across requests.
 */
export function batchedEntityResolver<Context extends object>(load: LoadEntities<Context>): ResolveEntity<Context> {
  const loaders = new WeakMap<Context, Map<string, DataLoader<EntityKey, EntityValue | null>>>();
  return (entity, key, context) => {
    let byType = loaders.get(context);
    if (byType === undefined) {
      byType = new Map();
      loaders.set(context, byType);
    }
    let loader = byType.get(entity.type);
    if (loader === undefined) {
      loader = new DataLoader<EntityKey, EntityValue | null>((keys) => load(entity, keys, context));
      byType.set(entity.type, loader);
    }
    return loader.load(key);
  };
}

/**
 * An entity as a row of the join table: from a representation's key to the entity's RPC, so the
 * runtime's join loaders (one DataLoader per row and request, one call per distinct key) resolve
 * references as they resolve join fields. Make the row once per entity and keep it: loaders are
 * found by the row object.
 */
export function entityAsJoin(entity: GraphqlEntity): GraphqlJoin {
  return {
    type: entity.type,
    protoType: entity.protoType,
    field: "_entities",
    keyField: entity.keyField,
    list: false,
    rpcPath: entity.rpcPath,
    requestType: entity.requestType,
    requestField: entity.requestField,
    source: entity.source,
  };
}
