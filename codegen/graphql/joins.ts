import type { DescField, FileRegistry } from "@bufbuild/protobuf";
import { checkJoin, type JoinCheck, type ServedRpcs } from "../../src/graphql/check-join.js";
import { sourcePath } from "../openapi/comments.js";
import { sourceLine } from "../source-location.js";
import { JOIN_EXTENSION_NUMBER, readJoin, type GraphqlExtensions } from "./graphql-options.js";

export { rpcPath, type CheckedJoin, type ServedRpcs } from "../../src/graphql/check-join.js";

/**
 * The `(protogate.v1.join)` of a field, checked (src/graphql/check-join.ts): undefined when the
 * field has none, else the join, a problem or why it is left out, with the option's source line.
 */
export function readFieldJoin(field: DescField, extensions: GraphqlExtensions, registry: FileRegistry, served: ServedRpcs): (JoinCheck & { readonly source: string }) | undefined {
  const read = readJoin(field, extensions.join);
  if (read === undefined) return undefined;
  const path = sourcePath(field);
  const source = path === undefined ? field.parent.file.proto.name : sourceLine(field.parent.file, [...path, 8, JOIN_EXTENSION_NUMBER]);
  if ("problem" in read) return { problem: `${field.parent.typeName}.${field.name}: ${read.problem}`, source };
  return { ...checkJoin(field, read.value, registry, served, source), source };
}
