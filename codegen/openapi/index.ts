/** The OpenAPI 3.1 emitter: `openapi.json` from the validated HTTP bindings. */
export { buildOpenApiDocument } from "./build-document.js";
export { renderOpenApi } from "./render.js";
export { API_KEY_HEADER, API_KEY_SCHEME, BEARER_SCHEME } from "./security.js";
export type {
  JsonSchema,
  OpenApiDocument,
  OpenApiHeader,
  OpenApiInfo,
  OpenApiOperation,
  OpenApiParameter,
  OpenApiPathItem,
  OpenApiRequestBody,
  OpenApiResponse,
  OpenApiSecurityRequirement,
  OpenApiSecurityScheme,
} from "./openapi-types.js";
