import type { AuthRuleData } from "../../src/binding.js";
import type { OpenApiResponse, OpenApiSecurityRequirement, OpenApiSecurityScheme } from "./openapi-types.js";
import type { SchemaRegistry } from "./schema-registry.js";
import { STATUS_TYPE } from "./well-known.js";

/** Name of the JWT bearer-token scheme in `components.securitySchemes`. */
export const BEARER_SCHEME = "bearerAuth";
/** Name of the API-key scheme in `components.securitySchemes`. */
export const API_KEY_SCHEME = "apiKeyAuth";
/** The API-key header the document names: the gateway's default (its config may choose another). */
export const API_KEY_HEADER = "x-api-key";

/**
 * `components.securitySchemes`: the two credentials the gateway verifies. `apiKeyHeader` is the
 * header a gateway configured with another one reads (`generate --openapi-api-key-header`).
 */
export function securitySchemes(apiKeyHeader: string = API_KEY_HEADER): { readonly [name: string]: OpenApiSecurityScheme } {
  return {
    [BEARER_SCHEME]: {
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
      description: "A JWT from a trusted issuer in `Authorization: Bearer <token>`; its `scope` (or `scp`) claim carries the scopes.",
    },
    [API_KEY_SCHEME]: {
      type: "apiKey",
      in: "header",
      name: apiKeyHeader,
      description: `An API key in the \`${apiKeyHeader}\` header (the header name is configurable per gateway); its scopes come from the gateway's configuration.`,
    },
  };
}

/**
 * The `security` of an operation: `[]` (no credentials) for a public rule; otherwise a bearer
 * token carrying the rule's scopes, or an API key. No rule means any authenticated caller.
 */
export function operationSecurity(auth: AuthRuleData | null): OpenApiSecurityRequirement[] {
  if (auth?.public === true) return [];
  return [{ [BEARER_SCHEME]: [...(auth?.scopes ?? [])] }, { [API_KEY_SCHEME]: [] }];
}

/** The 401 and 403 responses of a non-public operation (none for a public one), as google.rpc.Status. */
export function authResponses(auth: AuthRuleData | null, schemas: Pick<SchemaRegistry, "refSpecial">): { readonly [status: string]: OpenApiResponse } {
  if (auth?.public === true) return {};
  const content = { "application/json": { schema: schemas.refSpecial(STATUS_TYPE) } };
  const scopes = auth?.scopes ?? [];
  return {
    "401": {
      description: `Unauthenticated: no credentials, or credentials that are invalid or expired (a ${STATUS_TYPE} with code UNAUTHENTICATED).`,
      headers: {
        "WWW-Authenticate": {
          description: "The Bearer challenge (RFC 6750), with `error` and `error_description` when a token was presented.",
          schema: { type: "string" },
        },
      },
      content,
    },
    "403": {
      description:
        scopes.length > 0
          ? `Permission denied: the caller lacks a required scope (${scopes.join(", ")}) (a ${STATUS_TYPE} with code PERMISSION_DENIED naming it).`
          : `Permission denied (a ${STATUS_TYPE} with code PERMISSION_DENIED).`,
      content,
    },
  };
}
