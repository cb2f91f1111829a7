/**
 * GraphQL names from proto names, and how clashes are resolved. The rules (README, "GraphQL
 * schema"): a type is named after its proto name within its package (`demo.v1.User` -> `User`,
 * nested `Order.Item` -> `Order_Item`), an input type adds `Input`, a root field is the method in
 * lowerCamelCase. Names that clash are all qualified, never first-come-first-served, so the
 * result does not depend on declaration order: types by their package (`DemoV1User`), root fields
 * by their service (`userServiceGetUser`), then by package and service. Input names are given
 * after all object and enum names (type-graph.ts), so a message named `BookInput` keeps its name
 * and `Book`'s input type is qualified instead.
 */

export { isGraphqlName } from "../../src/graphql/graphql-name.js";

/** `GetUser` -> `getUser`, `URLFetch` -> `urlFetch`, `ABC` -> `abc`: the leading capitals lowered, except one that starts the next word. */
export function lowerCamel(name: string): string {
  const leading = /^[A-Z]+/.exec(name)?.[0] ?? "";
  if (leading.length <= 1 || leading.length === name.length) return leading.toLowerCase() + name.slice(leading.length);
  const keep = /[a-z]/.test(name[leading.length] ?? "") ? 1 : 0;
  return leading.slice(0, leading.length - keep).toLowerCase() + name.slice(leading.length - keep);
}

/** `demo.v1` -> `DemoV1`, `google.cloud.run.v2` -> `GoogleCloudRunV2` (snake_case parts too: `my_pkg` -> `MyPkg`). */
export function pascalPackage(pkg: string): string {
  return pkg
    .split(/[._]/)
    .filter((part) => part !== "")
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join("");
}

/** A proto type's name within its package, `.` of nesting written `_`: `demo.v1.Order.Item` in `demo.v1` -> `Order_Item`. */
export function localTypeName(typeName: string, pkg: string): string {
  const local = pkg === "" ? typeName : typeName.slice(pkg.length + 1);
  return local.split(".").join("_");
}

/**
 * One thing to name: its key (unique per thing), and the names to try, most preferred first. A
 * candidate is a set of names the thing needs together (the first is the name assigned); the
 * schema's own requests have one name per candidate.
 */
export interface NameRequest {
  readonly key: string;
  readonly candidates: readonly (readonly string[])[];
  /** Given by the proto author (an option): never qualified; a clash is an error. */
  readonly explicit?: boolean;
}

/** The outcome: a name per key, and the requests that could not get one. */
export interface NameAssignment {
  readonly names: ReadonlyMap<string, string>;
  readonly clashes: readonly { readonly keys: readonly string[]; readonly name: string }[];
}

/**
 * Gives every request a name, in rounds: each request still unnamed proposes its next candidate;
 * a request whose names nobody else proposes (and that are not reserved or given in an earlier
 * round) gets them; every request that shares a name with another moves on to its next candidate,
 * and the shared name is given to nobody. Explicit names are settled first and only ever propose
 * their one candidate. Order-independent: a request's name depends on the set of requests, not
 * on their order.
 */
export function assignNames(requests: readonly NameRequest[], reserved: ReadonlySet<string>): NameAssignment {
  const names = new Map<string, string>();
  const taken = new Set(reserved);
  const clashes: { keys: string[]; name: string }[] = [];
  const round = (pending: readonly NameRequest[], index: number): NameRequest[] => {
    const proposers = new Map<string, NameRequest[]>();
    for (const request of pending) for (const name of request.candidates[index] ?? []) proposers.set(name, [...(proposers.get(name) ?? []), request]);
    const contested = new Set([...proposers].filter(([name, list]) => list.length > 1 || taken.has(name)).map(([name]) => name));
    const left: NameRequest[] = [];
    for (const request of pending) {
      const candidate = request.candidates[index] ?? [];
      const conflict = candidate.find((name) => contested.has(name));
      if (conflict === undefined && candidate.length > 0) {
        names.set(request.key, candidate[0]);
        continue;
      }
      if (request.candidates[index + 1] === undefined) clashes.push({ keys: [request.key], name: conflict ?? "" });
      else left.push(request);
    }
    for (const name of proposers.keys()) taken.add(name);
    return left;
  };
  // Explicit names first; a clash among them (or with a reserved name) is reported once, naming every key.
  const explicit = new Map<string, string[]>();
  for (const request of requests.filter((r) => r.explicit)) {
    const name = request.candidates[0]?.[0] ?? "";
    explicit.set(name, [...(explicit.get(name) ?? []), request.key]);
  }
  for (const [name, keys] of explicit) {
    if (keys.length === 1 && !taken.has(name)) names.set(keys[0], name);
    else clashes.push({ keys: keys.sort(), name });
    taken.add(name);
  }
  let pending = requests.filter((r) => !r.explicit);
  for (let index = 0; pending.length > 0; index++) pending = round(pending, index);
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  clashes.sort((a, b) => order(a.name, b.name) || order(a.keys.join(" "), b.keys.join(" ")));
  return { names, clashes };
}
