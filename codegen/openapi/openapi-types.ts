/**
 * The subset of OpenAPI 3.1 (and its JSON Schema 2020-12 dialect) that the emitter produces.
 * Everything is plain JSON data, so `renderOpenApi` can print it as is.
 */

/** Specification extensions (`x-...`), allowed on most OpenAPI objects and on schemas. */
export type Extensions = { readonly [extension: `x-${string}`]: unknown };

/** A JSON Schema 2020-12 type name. */
export type JsonType = "null" | "boolean" | "object" | "array" | "number" | "integer" | "string";

/** A JSON Schema as OpenAPI 3.1 uses it (only the keywords the emitter writes). */
export interface JsonSchema extends Extensions {
  readonly $ref?: string;
  readonly type?: JsonType | readonly JsonType[];
  readonly format?: string;
  readonly description?: string;
  readonly deprecated?: boolean;
  readonly enum?: readonly (string | null)[];
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly contentEncoding?: string;
  readonly contentMediaType?: string;
  readonly items?: JsonSchema;
  readonly properties?: { readonly [name: string]: JsonSchema };
  readonly required?: readonly string[];
  /** Set by the server only (an OUTPUT_ONLY field). */
  readonly readOnly?: boolean;
  readonly additionalProperties?: JsonSchema | boolean;
  readonly propertyNames?: JsonSchema;
  readonly oneOf?: readonly JsonSchema[];
}

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
  readonly termsOfService?: string;
  readonly contact?: { readonly name?: string; readonly url?: string; readonly email?: string };
  readonly license?: { readonly name: string; readonly url?: string };
}

export interface OpenApiServer {
  readonly url: string;
  readonly description?: string;
}

export interface OpenApiTag {
  readonly name: string;
  readonly description?: string;
}

export interface OpenApiParameter extends Extensions {
  readonly name: string;
  readonly in: "path" | "query";
  readonly required?: boolean;
  readonly description?: string;
  readonly deprecated?: boolean;
  readonly style?: "simple" | "form" | "deepObject";
  readonly explode?: boolean;
  readonly schema: JsonSchema;
}

export interface OpenApiMediaType {
  readonly schema: JsonSchema;
}

export interface OpenApiRequestBody {
  readonly description?: string;
  readonly required?: boolean;
  readonly content: { readonly [mediaType: string]: OpenApiMediaType };
}

export interface OpenApiHeader {
  readonly description?: string;
  readonly schema: JsonSchema;
}

export interface OpenApiResponse {
  readonly description: string;
  readonly headers?: { readonly [name: string]: OpenApiHeader };
  readonly content?: { readonly [mediaType: string]: OpenApiMediaType };
}

/** The security schemes the gateway accepts (only the kinds the emitter writes). */
export type OpenApiSecurityScheme =
  | { readonly type: "http"; readonly scheme: "bearer"; readonly bearerFormat?: string; readonly description?: string }
  | { readonly type: "apiKey"; readonly in: "header"; readonly name: string; readonly description?: string };

/**
 * One way to satisfy an operation's security: every named scheme, each with the scopes (roles)
 * it must carry. An empty requirement list means no authentication.
 */
export type OpenApiSecurityRequirement = { readonly [scheme: string]: readonly string[] };

export interface OpenApiOperation extends Extensions {
  readonly operationId: string;
  readonly summary?: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly deprecated?: boolean;
  readonly parameters?: readonly OpenApiParameter[];
  readonly requestBody?: OpenApiRequestBody;
  readonly responses: { readonly [status: string]: OpenApiResponse };
  /** Alternatives (any one suffices); `[]` for a public operation. */
  readonly security?: readonly OpenApiSecurityRequirement[];
}

/** The HTTP methods a Path Item Object has a field for. */
export type OpenApiMethod = "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace";

export type OpenApiPathItem = { [method in OpenApiMethod]?: OpenApiOperation } & {
  /** Operations whose method OpenAPI has no field for (`custom` HttpRule kinds), by upper-case method. */
  "x-protogate-custom-methods"?: { [method: string]: OpenApiOperation };
};

export interface OpenApiDocument {
  readonly openapi: "3.1.0";
  readonly info: OpenApiInfo;
  readonly servers?: readonly OpenApiServer[];
  readonly tags: readonly OpenApiTag[];
  readonly paths: { readonly [path: string]: OpenApiPathItem };
  readonly components: {
    readonly schemas: { readonly [name: string]: JsonSchema };
    readonly securitySchemes: { readonly [name: string]: OpenApiSecurityScheme };
  };
}
