import { isDeepStrictEqual } from "node:util";
import type { GatewayConfig } from "../config/schema.js";
import { ReloadRefused } from "./reload-refused.js";

/**
 * The sections the listeners are built from at start: the public listener (`server`: address,
 * TLS, connection and body limits, drain timings), the admin listener (`admin`), and what is
 * registered on the public one (`cors`, the `docs` paths). A reload cannot change them.
 */
export const LISTENER_SECTIONS = ["server", "admin", "cors", "docs"] as const;

/** Single keys of other sections that register paths on the public listener (the GraphiQL page), fixed likewise. */
export const LISTENER_KEYS = [
  ["graphql", "graphiql"],
  ["graphql", "graphiqlPath"],
] as const;

/**
 * The keys (dotted: `server.port`, `cors`) of the listener sections whose values differ between
 * the active config and a new one; empty when a reload may apply the new one.
 */
export function changedListenerSettings(active: Readonly<GatewayConfig>, next: Readonly<GatewayConfig>): string[] {
  const changed: string[] = [];
  for (const section of LISTENER_SECTIONS) {
    const before: unknown = active[section];
    const after: unknown = next[section];
    if (isDeepStrictEqual(before, after)) continue;
    if (!isRecord(before) || !isRecord(after)) {
      changed.push(section);
      continue;
    }
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (!isDeepStrictEqual(before[key], after[key])) changed.push(`${section}.${key}`);
    }
  }
  for (const [section, key] of LISTENER_KEYS) {
    if (!isDeepStrictEqual(active[section][key], next[section][key])) changed.push(`${section}.${key}`);
  }
  return changed;
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Refuses (ReloadRefused "restart-required", naming each key) a new config that changes a listener setting. */
export function refuseListenerChanges(active: Readonly<GatewayConfig>, next: Readonly<GatewayConfig>): void {
  const changed = changedListenerSettings(active, next);
  if (changed.length === 0) return;
  const one = changed.length === 1;
  throw new ReloadRefused("restart-required", `${changed.join(", ")} changed: the listeners were built from ${one ? "it" : "them"} at start; restart the gateway to apply ${one ? "this change" : "these changes"}`);
}
