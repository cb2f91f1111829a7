/**
 * FieldMask JSON: "user.displayName,tags" (lowerCamel, comma-separated) <-> snake_case paths.
 * Both directions reject what cannot round-trip, like Google's implementation.
 */
export function parseFieldMask(text: string): string[] | string {
  if (text === "") return [];
  const paths = text.split(",");
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i];
    if (path.includes("_")) return `field mask path ${JSON.stringify(path)} must be lowerCamelCase (no "_")`;
    if (!/^[A-Za-z0-9.]+$/.test(path) || path.startsWith(".") || path.endsWith(".") || path.includes("..")) {
      return `${JSON.stringify(path)} is not a valid field mask path`;
    }
    paths[i] = path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  }
  return paths;
}

/** snake_case paths to the JSON string; an error detail for a path that has no camelCase form. */
export function formatFieldMask(paths: readonly string[]): string | { error: string } {
  const out: string[] = [];
  for (const path of paths) {
    if (/[A-Z]/.test(path)) return { error: `field mask path ${JSON.stringify(path)} contains upper-case letters` };
    if (/_(?![a-z])/.test(path)) return { error: `field mask path ${JSON.stringify(path)} has a "_" not followed by a lower-case letter` };
    out.push(path.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));
  }
  return out.join(",");
}
