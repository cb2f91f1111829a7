import type { DescService } from "@bufbuild/protobuf";
import type { CodegenBinding } from "../model.js";
import { commentOf } from "./comments.js";
import type { OpenApiDocument, OpenApiInfo, OpenApiMethod, OpenApiOperation, OpenApiPathItem, OpenApiTag } from "./openapi-types.js";
import { formatOpenApiPath, pathShape, splitTemplate } from "./openapi-path.js";
import { buildOperation, createServiceNames } from "./operation.js";
import { createSchemaRegistry } from "./schema-registry.js";
import { securitySchemes } from "./security.js";
import { STATUS_TYPE } from "./well-known.js";

const PATH_ITEM_METHODS: ReadonlySet<string> = new Set<OpenApiMethod>(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/**
 * Builds the OpenAPI 3.1 document of the bindings. The output depends only on the bindings'
 * descriptors, not on their order: bindings are taken in proto declaration order.
 *
 * OpenAPI cannot express everything an HttpRule can, so:
 * - paths that differ only in their expressions' names (`/v1/users/{user_id}` and
 *   `/v1/users/{user.user_id}`) are one path to OpenAPI, which forbids listing both; the first
 *   binding (in declaration order) names the expressions, later ones reuse the names and record
 *   the field they set in `x-protogate-field`;
 * - a variable over several segments is a single `{name}` with `x-protogate-pattern`, so two
 *   bindings may then share a path and method: the later ones go to the path item's
 *   `x-protogate-alternate-operations` (`[{method, operation}]`);
 * - methods a Path Item has no field for (HttpRule `custom` kinds) go to
 *   `x-protogate-custom-methods`, keyed by the upper-case method.
 *
 * Every operation states its `security` (from the binding's access rule; deny by default), and
 * non-public ones document their 401 and 403 responses.
 */
export function buildOpenApiDocument(bindings: readonly CodegenBinding[], info: OpenApiInfo): OpenApiDocument {
  const ordered = [...bindings].sort(declarationOrder);
  const names = createServiceNames(ordered);
  const schemas = createSchemaRegistry();
  schemas.refSpecial(STATUS_TYPE);
  const namesByShape = new Map<string, readonly string[]>();
  const paths = new Map<string, OpenApiPathItem>();
  const services = new Map<string, DescService>();

  for (const binding of ordered) {
    services.set(names.tag(binding.rpc.parent), binding.rpc.parent);
    const split = splitTemplate(binding.template, binding.source);
    const shape = pathShape(split, binding.template.verb);
    const own = split.expressions.map((e) => (e.variable ? e.variable.fieldPath.join(".") : `_segment${e.start}`));
    const parameterNames = namesByShape.get(shape) ?? own;
    namesByShape.set(shape, parameterNames);
    const path = formatOpenApiPath(split, parameterNames, binding.template.verb);
    const operation = buildOperation(binding, { names, schemas, expressions: split.expressions, parameterNames });
    const item = paths.get(path) ?? {};
    paths.set(path, item);
    place(item, binding.httpMethod, operation);
  }

  const tags: OpenApiTag[] = [...services.entries()].sort(([a], [b]) => compare(a, b)).map(([name, service]) => {
    const description = commentOf(service);
    return description === undefined ? { name } : { name, description };
  });
  const sortedPaths: Record<string, OpenApiPathItem> = {};
  for (const path of [...paths.keys()].sort(compare)) sortedPaths[path] = paths.get(path) as OpenApiPathItem;
  return { openapi: "3.1.0", info: { title: info.title, version: info.version }, tags, paths: sortedPaths, components: { schemas: schemas.components(), securitySchemes: securitySchemes() } };
}

function place(item: OpenApiPathItem, httpMethod: string, operation: OpenApiOperation): void {
  const lower = httpMethod.toLowerCase();
  if (PATH_ITEM_METHODS.has(lower)) {
    const method = lower as OpenApiMethod;
    if (item[method] === undefined) {
      item[method] = operation;
      return;
    }
    (item["x-protogate-alternate-operations"] ??= []).push({ method, operation });
    return;
  }
  const upper = httpMethod.toUpperCase();
  const custom = (item["x-protogate-custom-methods"] ??= {});
  if (custom[upper] === undefined) custom[upper] = operation;
  else (item["x-protogate-alternate-operations"] ??= []).push({ method: upper, operation });
}

/** Proto declaration order: file name, service, method, then main rule before additional bindings. */
function declarationOrder(a: CodegenBinding, b: CodegenBinding): number {
  return compare(a.rpc.parent.file.name, b.rpc.parent.file.name) || compareNumbers(serviceIndex(a), serviceIndex(b)) || compareNumbers(methodIndex(a), methodIndex(b)) || compareNumbers(a.bindingIndex, b.bindingIndex);
}

function serviceIndex(binding: CodegenBinding): number {
  return binding.rpc.parent.file.services.indexOf(binding.rpc.parent);
}

function methodIndex(binding: CodegenBinding): number {
  return binding.rpc.parent.methods.indexOf(binding.rpc);
}

function compareNumbers(a: number, b: number): number {
  return a - b;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
