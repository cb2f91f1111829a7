// Hand-written rather than a pluralisation library: resource collection names in API paths are
// regular English plurals, and a dependency's rule changes would silently rename the parameters
// of every generated document. The rules are small, fixed and tested (test/codegen/openapi).

/** Plurals whose singular no suffix rule gives. */
const IRREGULAR: ReadonlyMap<string, string> = new Map([
  ["people", "person"],
  ["children", "child"],
  ["men", "man"],
  ["women", "woman"],
  ["indices", "index"],
  ["matrices", "matrix"],
  ["vertices", "vertex"],
  ["analyses", "analysis"],
  ["statuses", "status"],
  ["aliases", "alias"],
  ["buses", "bus"],
  ["criteria", "criterion"],
  // -ves plurals: irregular, as most words ending in -ves are regular (valves, reserves).
  ["shelves", "shelf"],
  ["leaves", "leaf"],
  ["halves", "half"],
  ["wolves", "wolf"],
  ["selves", "self"],
  ["knives", "knife"],
  ["lives", "life"],
  ["wives", "wife"],
]);

/** Words ending like plurals that are singular (or the same in both). */
const INVARIANT: ReadonlySet<string> = new Set(["series", "species", "news", "status", "alias", "bus", "analysis", "basis", "canvas", "gas", "lens", "atlas", "bias", "corpus"]);

/** The singular of one lowercase word, by the common English suffix rules. */
function singularWord(word: string): string {
  const irregular = IRREGULAR.get(word);
  if (irregular !== undefined) return irregular;
  if (INVARIANT.has(word)) return word;
  if (/[^aeiou]ies$/.test(word)) return `${word.slice(0, -3)}y`; // policies -> policy
  if (/(ss|x|z|ch|sh)es$/.test(word)) return word.slice(0, -2); // addresses, indexes, batches
  if (/[^su]s$/.test(word) && !/is$/.test(word)) return word.slice(0, -1); // services, keys
  return word; // data, metadata, status, info: kept as written
}

/**
 * The singular of a collection name from a path literal, as an identifier: only its last word
 * changes (`workerPools` -> `workerPool`, `worker_pools` -> `worker_pool`); characters other than
 * `[A-Za-z0-9_]` become `_`. Undefined when nothing usable is left (`-`, `123`).
 */
export function singularName(literal: string): string | undefined {
  const identifier = literal.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "");
  if (identifier === "" || /^[0-9]/.test(identifier)) return undefined;
  // The last word: after the last "_" or before the last upper-case letter (camelCase).
  const match = /^(.*?)([A-Z]?[a-z0-9]*)$/.exec(identifier);
  const head = match?.[1] ?? "";
  const last = match?.[2] ?? identifier;
  if (last === "") return identifier; // ends in capitals (`IDs` has a word, `API` does not)
  const lower = last.toLowerCase();
  const singular = singularWord(lower);
  if (singular === lower) return identifier;
  // The word is lower case but for, in camelCase, its first letter.
  return head + (last[0] === lower[0] ? singular : singular[0].toUpperCase() + singular.slice(1));
}
