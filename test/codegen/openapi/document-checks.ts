import type { OpenApiDocument, OpenApiOperation, OpenApiParameter } from "../../../codegen/openapi/index.js";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** One operation of a document, with the HTTP method and path it is listed under. */
export interface ListedOperation {
  readonly method: string;
  readonly path: string;
  readonly operation: OpenApiOperation;
}

/** Every operation a viewer lists (the Path Item's method fields), plus the custom-method ones. */
export function operationsOf(document: OpenApiDocument): ListedOperation[] {
  const listed: ListedOperation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) listed.push({ method: method.toUpperCase(), path, operation });
    }
    for (const [method, operation] of Object.entries(item["x-protogate-custom-methods"] ?? {})) listed.push({ method, path, operation });
  }
  return listed;
}

/** The path parameters of an operation. */
export function pathParametersOf(operation: OpenApiOperation): OpenApiParameter[] {
  return (operation.parameters ?? []).filter((p) => p.in === "path");
}

/** The path with each `{name}` replaced by `values(name)`. */
export function fillPath(path: string, values: (name: string) => string): string {
  return path.replace(/\{([^{}]+)\}/g, (_, name: string) => values(name));
}
