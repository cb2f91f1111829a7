/** Small helpers for the plain JSON objects the codecs read and build. */

/** A plain JSON object (from JSON.parse or a literal): not an array, Buffer, Map, LosslessInteger... */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Sets an own property even when the key is "__proto__" (which plain assignment would not). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** A JSON object key as a path segment: `.name` when it looks like one, `[odd key]` otherwise. */
export function keySegment(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : mapKeySegment(key);
}

/** A map key as a path segment: `[key]`, JSON-quoted if it holds brackets, quotes or controls. */
export function mapKeySegment(key: string): string {
  const shown = key.length > 40 ? `${key.slice(0, 40)}...` : key;
  return /^[^[\]"\\\u0000-\u001f]*$/.test(shown) ? `[${shown}]` : `[${JSON.stringify(shown)}]`;
}
