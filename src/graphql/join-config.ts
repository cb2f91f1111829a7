import type { FileRegistry } from "@bufbuild/protobuf";
import { z } from "zod";
import { checkJoin, type CheckedJoin, type ServedRpcs } from "./check-join.js";

const protoName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/, "expected a full proto name such as demo.v1.Order.user_id");
const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected a proto field name such as user_id");

/**
 * One entry of gateway.yaml's `graphql.joins`: a join on a message a team does not own (so it
 * cannot add the `(protogate.v1.join)` option to its proto), with the option's fields in
 * camelCase. The schema is defined here for the GraphQL runtime; config/schema.ts does not read
 * it yet.
 *
 *   graphql:
 *     joins:
 *       - field: demo.v1.Order.user_id      # the message's field holding the key
 *         name: user                        # the GraphQL field added to the message's type
 *         rpc: demo.v1.UserService.GetUser  # the unary RPC resolving one key
 *         requestField: user_id             # its request field set to the key (default: the field's name)
 *         batch:                            # optional: one call for a list of keys
 *           rpc: demo.v1.UserService.BatchGetUsers
 *           requestField: user_ids
 *           responseField: users
 *           keyField: user_id
 */
export const joinConfigSchema = z.strictObject({
  field: protoName,
  name: z.string().regex(/^[_A-Za-z][_0-9A-Za-z]*$/, "expected a GraphQL name such as user").refine((name) => !name.startsWith("__"), { message: "a GraphQL name cannot start with __" }),
  rpc: protoName,
  requestField: fieldName.optional(),
  batch: z.strictObject({ rpc: protoName, requestField: fieldName, responseField: fieldName, keyField: fieldName }).optional(),
});

/** `graphql.joins` of gateway.yaml. */
export const joinsConfigSchema = z.array(joinConfigSchema).default([]);

export type JoinConfig = z.infer<typeof joinConfigSchema>;

/** Configured joins checked against the generated descriptors: the rows, and one problem per bad entry (`graphql.joins[i]: ...`). */
export interface ConfiguredJoins {
  readonly joins: readonly CheckedJoin[];
  readonly problems: readonly string[];
  /** Entries left out because their RPC is not served (for a warning at start-up). */
  readonly skipped: readonly string[];
}

/**
 * Checks gateway.yaml's joins by the rules of the proto option (check-join.ts) against the
 * generated folder's descriptor set and the RPCs its route table serves. The runtime then adds
 * each join's field to the GraphQL type standing for its message (graphql-map.js `types`, by
 * `protoType`) and its row to the join table; a join named like a field of that type is a problem
 * the runtime reports, as codegen does.
 */
export function checkConfiguredJoins(entries: readonly JoinConfig[], registry: FileRegistry, served: ServedRpcs): ConfiguredJoins {
  const joins: CheckedJoin[] = [];
  const problems: string[] = [];
  const skipped: string[] = [];
  entries.forEach((entry, index) => {
    const source = `gateway.yaml graphql.joins[${index}]`;
    const dot = entry.field.lastIndexOf(".");
    const message = registry.getMessage(entry.field.slice(0, dot));
    const field = message?.fields.find((f) => f.name === entry.field.slice(dot + 1));
    if (field === undefined) {
      problems.push(`${source}: ${entry.field} is not a field of a message in the generated protos (write package.Message.field_name)`);
      return;
    }
    const checked = checkJoin(field, { name: entry.name, rpc: entry.rpc, requestField: entry.requestField ?? "", ...(entry.batch === undefined ? {} : { batch: entry.batch }) }, registry, served, "gateway.yaml");
    if ("problem" in checked) problems.push(`${source}: ${checked.problem}`);
    else if ("skipped" in checked) skipped.push(`${source}: ${checked.skipped}`);
    else joins.push(checked.join);
  });
  return { joins, problems, skipped };
}
