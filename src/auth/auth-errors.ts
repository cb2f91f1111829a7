import { GatewayError, type AuthFailureReason } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { SCOPE_TOKEN } from "./auth-syntax.js";

/** The `realm` of every challenge the gateway sends. */
export const AUTH_REALM = "protogate";

/**
 * What kind of 401 (RFC 6750 §3.1):
 * - `none`: the request carried no usable credentials (none at all, or an unsupported scheme
 *   such as Basic); the challenge then has no `error` attribute, the body still says why;
 * - `invalid_request`: the credentials are malformed (two Authorization headers, `Bearer` with
 *   no token, two kinds of credential);
 * - `invalid_token`: a well-formed credential that is not valid (bad signature, expired, unknown key).
 */
export type UnauthenticatedKind = "none" | "invalid_request" | "invalid_token";

const MAX_DESCRIPTION_CHARS = 200;

/** The metrics reason of each kind of 401 (a token rejection may say more: expired, ...). */
const FAILURE_OF_KIND: Readonly<Record<UnauthenticatedKind, AuthFailureReason>> = { none: "missing", invalid_request: "malformed", invalid_token: "invalid" };

/**
 * A 401 UNAUTHENTICATED `PG_ERR_UNAUTHENTICATED` with its `WWW-Authenticate: Bearer` challenge.
 * `description` is the body message and, unless `kind` is `none`, the `error_description`; it
 * must never contain the credential (callers pass fixed texts).
 */
export function unauthenticated(kind: UnauthenticatedKind, description: string, cause?: unknown, authFailure: AuthFailureReason = FAILURE_OF_KIND[kind]): GatewayError {
  const attributes: Array<[string, string]> = [["realm", AUTH_REALM]];
  if (kind !== "none") attributes.push(["error", kind], ["error_description", description]);
  return new GatewayError(GrpcCode.UNAUTHENTICATED, "PG_ERR_UNAUTHENTICATED", description, {
    headers: { "www-authenticate": bearerChallenge(attributes) },
    authFailure,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * A 403 PERMISSION_DENIED `PG_ERR_PERMISSION_DENIED` naming the scopes the caller lacks
 * ("missing scope orders:write"), with an `insufficient_scope` challenge whose `scope` lists
 * `required` (the scopes the method needs; default the missing ones).
 */
export function permissionDenied(missing: readonly string[], required: readonly string[] = missing): GatewayError {
  const description = missing.length === 0 ? "permission denied" : `missing scope${missing.length === 1 ? "" : "s"} ${missing.join(" ")}`;
  const attributes: Array<[string, string]> = [
    ["realm", AUTH_REALM],
    ["error", "insufficient_scope"],
    ["error_description", description],
  ];
  const scope = required.filter((item) => SCOPE_TOKEN.test(item)).join(" ");
  if (scope !== "") attributes.push(["scope", scope]);
  return new GatewayError(GrpcCode.PERMISSION_DENIED, "PG_ERR_PERMISSION_DENIED", description, {
    headers: { "www-authenticate": bearerChallenge(attributes) },
    authFailure: "insufficient_scope",
  });
}

/** `Bearer a="x", b="y"` with every value made safe for a quoted auth-param. */
function bearerChallenge(attributes: ReadonlyArray<readonly [string, string]>): string {
  return `Bearer ${attributes.map(([name, value]) => `${name}="${attributeValue(value)}"`).join(", ")}`;
}

/**
 * RFC 6750 limits `error_description` and `scope` to printable ASCII without `"` and `\`, so
 * instead of backslash-escaping (not allowed there) those characters are replaced; anything
 * outside printable ASCII becomes `?`. Long texts are cut.
 */
function attributeValue(value: string): string {
  const cut = value.length > MAX_DESCRIPTION_CHARS ? `${value.slice(0, MAX_DESCRIPTION_CHARS)}...` : value;
  return cut.replace(/"/g, "'").replace(/\\/g, "/").replace(/[^\x20-\x7e]/g, "?");
}
