/** The OpenAPI 3.1 emitter: `openapi.json` from the validated HTTP bindings. */
export { buildOpenApiDocument } from "./build-document.js";
export { renderOpenApi } from "./render.js";
export type {
  JsonSchema,
  OpenApiDocument,
  OpenApiInfo,
  OpenApiOperation,
  OpenApiParameter,
  OpenApiPathItem,
  OpenApiRequestBody,
  OpenApiResponse,
} from "./openapi-types.js";
