import { z } from "zod";

/** A method selector in gateway.yaml: `pkg.Service.Method`, `pkg.Service.*` or `*`. */
export const selectorSchema = z.string().regex(/^(\*|[A-Za-z_][A-Za-z0-9_.]*(\.\*)?)$/, "expected pkg.Service.Method, pkg.Service.* or *");

/**
 * How specifically `selector` names `service`.`method`: 3 for the method itself, 2 for
 * `service.*`, 1 for `*`, 0 when it does not match. The most specific rule wins.
 */
export function selectorSpecificity(selector: string, service: string, method: string): number {
  if (selector === methodSelector(service, method)) return 3;
  if (selector === `${service}.*`) return 2;
  return selector === "*" ? 1 : 0;
}

/**
 * The selector naming exactly `service`.`method`; a route of the gateway's own with no method
 * (the GraphQL endpoint: service `graphql`, method "") is named by its service alone.
 */
export function methodSelector(service: string, method: string): string {
  return method === "" ? service : `${service}.${method}`;
}
