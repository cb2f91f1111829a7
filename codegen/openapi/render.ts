import type { OpenApiDocument } from "./openapi-types.js";

const ROOT_ORDER = ["openapi", "info", "jsonSchemaDialect", "servers", "tags", "paths", "webhooks", "components"];

/**
 * Prints the document as `openapi.json`: 2-space JSON with a trailing newline. Key order does
 * not depend on how the object was built: the root's keys come in the conventional order, every
 * other object's keys in code-unit order, so equal documents print byte-identically.
 */
export function renderOpenApi(doc: OpenApiDocument): string {
  return `${JSON.stringify(canonical(doc, true), null, 2)}\n`;
}

function canonical(value: unknown, root: boolean): unknown {
  if (Array.isArray(value)) return value.map((item) => canonical(item, false));
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort(root ? rootOrder : compare);
  const out: Record<string, unknown> = {};
  // defineProperty, so a "__proto__" key stays a plain key instead of replacing the prototype.
  for (const key of keys) Object.defineProperty(out, key, { value: canonical(record[key], false), enumerable: true, writable: true, configurable: true });
  return out;
}

function rootOrder(a: string, b: string): number {
  const rank = (key: string) => {
    const i = ROOT_ORDER.indexOf(key);
    return i < 0 ? ROOT_ORDER.length : i;
  };
  return rank(a) - rank(b) || compare(a, b);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
