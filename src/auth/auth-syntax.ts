/**
 * Character-level rules shared by the auth modules: what may travel in a header, a metadata
 * value, a `WWW-Authenticate` attribute or a scope.
 */

/** gRPC metadata keys: lower-case letters, digits, `_`, `-`, `.`. */
export const METADATA_KEY = /^[0-9a-z_.-]+$/;

/** gRPC ASCII metadata values: printable ASCII (space included). */
export const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** An HTTP field name or cookie name (RFC 9110 `token`). */
export const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** RFC 6750 `scope-token`: printable ASCII except space, `"` and `\`. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** RFC 7235 `token68` (what a Bearer token is made of; a JWT is a subset). */
export const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Whether `value` is a non-empty printable-ASCII string fit for a gRPC metadata value. */
export function isMetadataText(value: string): boolean {
  return value !== "" && PRINTABLE_ASCII.test(value);
}
