/** How a property of a new ts-proto object starts out. */
export type InitialValue = { readonly kind: "list" } | { readonly kind: "map" } | { readonly kind: "value"; readonly value: unknown };

/**
 * Compiles `() => ({ a: 0, b: [], c: new Map(), ... })` for a message type, like ts-proto's
 * `createBaseFoo`. Generated once per type because an object literal is ~100x faster than
 * copying a template (a many-property template drops to dictionary mode) and gives every
 * object of the type one hidden class. Only constants are referenced by index; property names
 * are JSON-quoted, `__proto__` computed so it stays an own property.
 */
export function compileObjectFactory(props: readonly string[], initial: readonly InitialValue[]): () => Record<string, unknown> {
  const constants: unknown[] = [];
  const parts = props.map((prop, i) => {
    const init = initial[i];
    const key = prop === "__proto__" ? `[${JSON.stringify(prop)}]` : JSON.stringify(prop);
    if (init.kind === "list") return `${key}: []`;
    if (init.kind === "map") return `${key}: new Map()`;
    constants.push(init.value);
    return `${key}: c[${constants.length - 1}]`;
  });
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- code generation from escaped names only (see above).
  const factory = new Function("c", `return function create() { return { ${parts.join(", ")} }; };`) as (c: unknown[]) => () => Record<string, unknown>;
  return factory(constants);
}
