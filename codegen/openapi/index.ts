/** The OpenAPI 3.1 emitter: `openapi.json` from the validated HTTP bindings. */
export { buildOpenApiDocument, type BuildOptions } from "./build-document.js";
export { DEFAULT_INFO, documentInfo, type DocumentInfo } from "./document-info.js";
export { parsePluginParameter, pluginOptions, PluginOptionError, type OpenApiSettings } from "./settings.js";
export { readSwaggerOption, SWAGGER_OPTION, type ProtoDocumentOptions } from "./swagger-option.js";
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
  OpenApiServer,
} from "./openapi-types.js";
