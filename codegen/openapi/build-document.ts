import type { DescService } from "@bufbuild/protobuf";
import type { CodegenBinding } from "../model.js";
import { commentOf } from "./comments.js";
import type { OpenApiDocument, OpenApiInfo, OpenApiMethod, OpenApiOperation, OpenApiPathItem, OpenApiServer, OpenApiTag } from "./openapi-types.js";
import { formatOpenApiPath, pathShape, slotNames, splitTemplate } from "./openapi-path.js";
import { buildOperation, createServiceNames } from "./operation.js";
import { createSchemaRegistry } from "./schema-registry.js";
import { securitySchemes } from "./security.js";
import { STATUS_TYPE } from "./well-known.js";

const PATH_ITEM_METHODS: ReadonlySet<string> = new Set<OpenApiMethod>(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/** What the document says besides the bindings, and where its warnings go. */
export interface BuildOptions {
  /** `servers`: none by default (viewers then call the origin they loaded the document from). */
  readonly servers?: readonly OpenApiServer[];
  /** The API-key header the apiKey scheme names (default `x-api-key`, the gateway's default). */
  readonly apiKeyHeader?: string;
  /** Told about a binding the document cannot show (see below); ignored by default. */
  readonly warn?: (source: string, message: string) => void;
}

/**
 * Builds the OpenAPI 3.1 document of the bindings. The output depends only on the bindings'
 * descriptors, not on their order: bindings are taken in proto declaration order.
 *
 * Every binding is an operation of its own path: a variable over several segments is expanded
 * into literals and one parameter per wildcard (`/v2/{name=projects/*}` becomes
 * `/v2/projects/{project}`, see openapi-path.ts); each parameter names the field it sets
 * (`x-protogate-field`, and `x-protogate-field-template` for the parts of an expanded one).
 * OpenAPI cannot express everything an HttpRule can, so:
 * - paths that differ only in their parameters' names (`/v1/users/{user_id}` and
 *   `/v1/users/{user.user_id}`) are one path to OpenAPI, which forbids listing both; the first
 *   binding (in declaration order) names the parameters, later ones reuse the names;
 * - a `*` and a `**` at the same place look alike in OpenAPI paths; if two bindings of one method
 *   differ only there, the later one cannot be listed: `warn` is told, naming both rules;
 * - methods a Path Item has no field for (HttpRule `custom` kinds) go to
 *   `x-protogate-custom-methods`, keyed by the method as written.
 *
 * Every operation states its `security` (from the binding's access rule; deny by default), and
 * non-public ones document their 401 and 403 responses.
 */
export function buildOpenApiDocument(bindings: readonly CodegenBinding[], info: OpenApiInfo, options: BuildOptions = {}): OpenApiDocument {
  const ordered = [...bindings].sort(declarationOrder);
  const names = createServiceNames(ordered);
  const schemas = createSchemaRegistry();
  schemas.refSpecial(STATUS_TYPE);
  const namesByShape = new Map<string, readonly string[]>();
  const paths = new Map<string, OpenApiPathItem>();
  const placedBy = new Map<string, CodegenBinding>();
  const services = new Map<string, DescService>();

  for (const binding of ordered) {
    services.set(names.tag(binding.rpc.parent), binding.rpc.parent);
    const split = splitTemplate(binding.template, binding.source);
    const shape = pathShape(split, binding.template.verb);
    const parameterNames = namesByShape.get(shape) ?? slotNames(split);
    namesByShape.set(shape, parameterNames);
    const path = formatOpenApiPath(split, parameterNames, binding.template.verb);
    const key = `${placementKey(binding.httpMethod)} ${shape}`;
    const taken = placedBy.get(key);
    if (taken !== undefined) {
      options.warn?.(
        binding.source,
        `${binding.httpMethod} ${binding.pattern} is left out of openapi.json: OpenAPI cannot tell it from ${taken.httpMethod} ${taken.pattern} (${taken.source}), which differs only in a '*' against a '**'`,
      );
      continue;
    }
    placedBy.set(key, binding);
    const operation = buildOperation(binding, { names, schemas, split, parameterNames });
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
  return {
    openapi: "3.1.0",
    info,
    ...(options.servers === undefined || options.servers.length === 0 ? {} : { servers: options.servers }),
    tags,
    paths: sortedPaths,
    components: { schemas: schemas.components(), securitySchemes: securitySchemes(options.apiKeyHeader) },
  };
}

/** Where a method goes in a Path Item: a field for the standard methods (upper case, as HTTP writes them), else a custom method. */
function placement(httpMethod: string): { field: OpenApiMethod } | { custom: string } {
  const lower = httpMethod.toLowerCase();
  return PATH_ITEM_METHODS.has(lower) && httpMethod === httpMethod.toUpperCase() ? { field: lower as OpenApiMethod } : { custom: httpMethod };
}

function placementKey(httpMethod: string): string {
  const where = placement(httpMethod);
  return "field" in where ? where.field : `custom ${where.custom}`;
}

/** Puts the operation under its method; the caller has made sure the method is free. */
function place(item: OpenApiPathItem, httpMethod: string, operation: OpenApiOperation): void {
  const where = placement(httpMethod);
  if ("field" in where) item[where.field] = operation;
  else (item["x-protogate-custom-methods"] ??= {})[where.custom] = operation;
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
