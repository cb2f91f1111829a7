import { unauthenticated } from "./auth-errors.js";
import { TOKEN68 } from "./auth-syntax.js";

/**
 * Where a bearer token may come from:
 * - `{ header }`: a request header. With `bearer` (the default) its value must be
 *   `Bearer <token>`; without, the whole value is the token (e.g. `X-Auth-Token: <jwt>`).
 * - `{ cookie }`: the value of the named cookie.
 * - `{ webSocketProtocol }`: for browsers, which cannot set headers on a WebSocket: an entry of
 *   `Sec-WebSocket-Protocol` that starts with this prefix carries the token, base64url-encoded
 *   after it (as Kubernetes does with `base64url.bearer.authorization.k8s.io.`). The server never
 *   selects (echoes) that entry.
 */
export type TokenSource = { readonly header: string; readonly bearer?: boolean } | { readonly cookie: string } | { readonly webSocketProtocol: string };

/** What the request carries. At most one credential is accepted. */
export type Credentials =
  | { readonly kind: "none" }
  | {
      readonly kind: "jwt";
      readonly token: string;
      /**
       * Only with `deferTokenSyntax`: the token68 check of a header's token is still to be done
       * (`assertTokenSyntax`), and this is the description of its failure.
       */
      readonly uncheckedSyntax?: string;
    }
  | { readonly kind: "api-key"; readonly key: string };

export interface CredentialOptions {
  /** Default `[{ header: "authorization" }]` (`Authorization: Bearer <token>`); `[]` reads no token. */
  readonly tokenSources?: readonly TokenSource[];
  /** The API-key header (any case); undefined: API keys are not read. */
  readonly apiKeyHeader?: string;
  /**
   * Leave a header token's token68 check to `assertTokenSyntax`, for a caller that first looks the
   * token up among tokens verified before (which all passed it): the check is a regular
   * expression over the whole token, about 0.6 µs for a typical 700-byte JWT on every request.
   */
  readonly deferTokenSyntax?: boolean;
}

/** Throws the 401 `invalid_request` of a token whose token68 check was deferred and fails. */
export function assertTokenSyntax(credentials: Credentials): void {
  if (credentials.kind === "jwt" && credentials.uncheckedSyntax !== undefined && !TOKEN68.test(credentials.token)) {
    throw unauthenticated("invalid_request", credentials.uncheckedSyntax);
  }
}

/** The default token source: `Authorization: Bearer <token>`. */
export const DEFAULT_TOKEN_SOURCES: readonly TokenSource[] = Object.freeze([{ header: "authorization" }]);
/** The default API-key header. */
export const DEFAULT_API_KEY_HEADER = "x-api-key";

const NONE: Credentials = Object.freeze({ kind: "none" });
/** An Authorization scheme (RFC 9110 token). */
const SCHEME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Extracts credentials from raw request headers. */
export type CredentialExtractor = (rawHeaders: readonly string[]) => Credentials;

/**
 * Builds the extractor for `options`. It reads Node's `rawHeaders` (name, value, name, value...)
 * rather than `IncomingMessage.headers`, because Node keeps only the first of two
 * `Authorization` headers there and joins two `X-Api-Key` headers with ", ", hiding duplicates.
 *
 * It throws the 401 of `auth-errors.ts` for malformed credentials (never echoing them):
 * two headers or cookies of one source ("multiple Authorization headers"), an Authorization
 * scheme other than Bearer or none at all ("missing Bearer ..."), `Bearer` without exactly one
 * token, or more than one credential ("send one credential ..."): when a request carries both a
 * token and an API key, or tokens from two sources, it is rejected rather than one being picked,
 * so the gateway and a backend can never disagree about which one counts.
 */
export function createCredentialExtractor(options: CredentialOptions = {}): CredentialExtractor {
  const sources = (options.tokenSources ?? DEFAULT_TOKEN_SOURCES).map((source) =>
    "cookie" in source
      ? { kind: "cookie" as const, name: source.cookie, label: `cookie ${source.cookie}` }
      : "webSocketProtocol" in source
        ? { kind: "protocol" as const, name: WEBSOCKET_PROTOCOL, prefix: source.webSocketProtocol, label: "Sec-WebSocket-Protocol" }
        : { kind: "header" as const, name: source.header.toLowerCase(), bearer: source.bearer ?? true, label: headerLabel(source.header), syntaxProblem: tokenSyntaxProblem(headerLabel(source.header), source.bearer ?? true) },
  );
  const defer = options.deferTokenSyntax === true;
  const apiKeyHeader = options.apiKeyHeader?.toLowerCase();
  const readsCookies = sources.some((source) => source.kind === "cookie");
  const watched = new Set<string>();
  for (const source of sources) if (source.kind !== "cookie") watched.add(source.name);
  if (apiKeyHeader !== undefined) watched.add(apiKeyHeader);
  // The lengths of the names read: most headers of a request are skipped by their length alone,
  // without lower-casing their name (this runs on every request).
  const readLengths = new Set<number>([...watched].map((name) => name.length));
  if (readsCookies) readLengths.add("cookie".length);
  const EMPTY = new Map<string, string[]>();

  return (rawHeaders) => {
    // Values per watched header name (lower-case), plus every Cookie header; allocated on the first one found.
    let values: Map<string, string[]> | undefined;
    let cookieHeaders: string[] | undefined;
    for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
      if (!readLengths.has(rawHeaders[index].length)) continue;
      const name = rawHeaders[index].toLowerCase();
      const value = rawHeaders[index + 1];
      if (readsCookies && name === "cookie") (cookieHeaders ??= []).push(value);
      if (!watched.has(name)) continue;
      values ??= new Map();
      const list = values.get(name);
      if (list) list.push(value);
      else values.set(name, [value]);
    }
    if (values === undefined && cookieHeaders === undefined) return NONE;
    values ??= EMPTY;

    let found: { token: string; label: string; uncheckedSyntax: string | undefined } | undefined;
    for (const source of sources) {
      let token: string | undefined;
      let uncheckedSyntax: string | undefined;
      if (source.kind === "cookie") {
        token = cookieValue(cookieHeaders ?? [], source.name, source.label);
      } else if (source.kind === "protocol") {
        token = protocolToken(values.get(source.name), source.prefix);
      } else {
        const list = values.get(source.name);
        if (list === undefined) continue;
        if (list.length > 1) throw unauthenticated("invalid_request", `multiple ${source.label} headers`);
        token = source.bearer ? bearerToken(list[0], source.label) : plainToken(list[0], source.label);
        // Deferred: not even tested here (a hot token is looked up before its syntax is checked).
        if (!defer && !TOKEN68.test(token)) throw unauthenticated("invalid_request", source.syntaxProblem);
        if (defer) uncheckedSyntax = source.syntaxProblem;
      }
      if (token === undefined) continue;
      if (found !== undefined) throw unauthenticated("invalid_request", `send one credential: found tokens in ${found.label} and ${source.label}`);
      found = { token, label: source.label, uncheckedSyntax };
    }

    let key: string | undefined;
    if (apiKeyHeader !== undefined) {
      const list = values.get(apiKeyHeader);
      if (list !== undefined) {
        const label = headerLabel(apiKeyHeader);
        if (list.length > 1) throw unauthenticated("invalid_request", `multiple ${label} headers`);
        key = list[0].trim();
        if (key === "") throw unauthenticated("invalid_request", `empty ${label} header`);
      }
    }

    if (found !== undefined && key !== undefined) throw unauthenticated("invalid_request", "send one credential: a bearer token or an API key, not both");
    if (found !== undefined) return found.uncheckedSyntax === undefined ? { kind: "jwt", token: found.token } : { kind: "jwt", token: found.token, uncheckedSyntax: found.uncheckedSyntax };
    if (key !== undefined) return { kind: "api-key", key };
    return NONE;
  };
}

/** Shorthand: extract once with `options`. Prefer `createCredentialExtractor` on hot paths. */
export function extractCredentials(rawHeaders: readonly string[], options: CredentialOptions = {}): Credentials {
  return createCredentialExtractor(options)(rawHeaders);
}

const WEBSOCKET_PROTOCOL = "sec-websocket-protocol";

/**
 * The token carried by the one `Sec-WebSocket-Protocol` entry (of all such headers) that starts
 * with `prefix`, base64url-decoded; two such entries, an empty or undecodable one are malformed.
 */
function protocolToken(headers: readonly string[] | undefined, prefix: string): string | undefined {
  if (headers === undefined) return undefined;
  let token: string | undefined;
  for (const header of headers) {
    for (const entry of header.split(",")) {
      const protocol = entry.trim();
      if (!protocol.startsWith(prefix)) continue;
      if (token !== undefined) throw unauthenticated("invalid_request", "multiple tokens in Sec-WebSocket-Protocol");
      const encoded = protocol.slice(prefix.length);
      token = /^[A-Za-z0-9_-]+$/.test(encoded) ? Buffer.from(encoded, "base64url").toString("latin1") : "";
      if (token === "" || !TOKEN68.test(token)) throw unauthenticated("invalid_request", "the Sec-WebSocket-Protocol token must be one base64url-encoded token");
    }
  }
  return token;
}

/** Whether a `Sec-WebSocket-Protocol` entry carries a token (it must never be selected, so never echoed). */
export function isTokenProtocol(protocol: string, sources: readonly TokenSource[] | undefined): boolean {
  return (sources ?? []).some((source) => "webSocketProtocol" in source && protocol.startsWith(source.webSocketProtocol));
}

function headerLabel(name: string): string {
  return name.toLowerCase() === "authorization" ? "Authorization" : name;
}

/** What a header token that is not one token68 is told. */
function tokenSyntaxProblem(label: string, bearer: boolean): string {
  return bearer ? `${label} header must be Bearer followed by exactly one token` : `${label} header must hold exactly one token`;
}

/**
 * `<scheme> <rest>` of an Authorization-style value (RFC 7235: 1*SP between them), or undefined
 * when the value does not start with a scheme; `rest` is undefined without a space. (By hand
 * rather than one regular expression: capturing the rest cost as much as reading the token.)
 */
export function schemeAndRest(value: string): { scheme: string; rest: string | undefined } | undefined {
  const space = value.indexOf(" ");
  const scheme = space < 0 ? value : value.slice(0, space);
  if (!SCHEME.test(scheme)) return undefined;
  if (space < 0) return { scheme, rest: undefined };
  let start = space + 1;
  while (value.charCodeAt(start) === 0x20) start++;
  return { scheme, rest: value.slice(start) };
}

/**
 * `Bearer <token>`, scheme in any case. Another scheme (Basic, Digest...) is an unsupported
 * method, so the 401 carries no `error` attribute (RFC 6750 §3.1); a bare value with no scheme,
 * or `Bearer` alone, is a malformed request. The token's token68 syntax (more than one token)
 * is checked by the caller.
 */
function bearerToken(raw: string, label: string): string {
  const parts = schemeAndRest(raw.trim());
  if (parts === undefined) throw unauthenticated("invalid_request", `missing Bearer scheme in ${label} header`);
  const { scheme, rest } = parts;
  if (scheme.toLowerCase() !== "bearer") {
    if (rest === undefined) throw unauthenticated("invalid_request", `missing Bearer scheme in ${label} header`);
    throw unauthenticated("none", `missing Bearer: the ${label} scheme must be Bearer`);
  }
  const token = rest ?? "";
  if (token === "") throw unauthenticated("invalid_request", `empty bearer token in ${label} header`);
  return token;
}

function plainToken(raw: string, label: string): string {
  const token = raw.trim();
  if (token === "") throw unauthenticated("invalid_request", `empty ${label} header`);
  return token;
}

/**
 * The value of cookie `name` across all Cookie headers (HTTP/2 clients may split them). An
 * empty value counts as absent (a cleared session cookie); two cookies of that name are an error.
 */
function cookieValue(cookieHeaders: readonly string[], name: string, label: string): string | undefined {
  let value: string | undefined;
  for (const header of cookieHeaders) {
    for (const part of header.split(";")) {
      const equals = part.indexOf("=");
      if (equals < 0 || part.slice(0, equals).trim() !== name) continue;
      if (value !== undefined) throw unauthenticated("invalid_request", `multiple ${name} cookies`);
      let raw = part.slice(equals + 1).trim();
      if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) raw = raw.slice(1, -1);
      value = raw;
    }
  }
  if (value === undefined || value === "") return undefined;
  if (!TOKEN68.test(value)) throw unauthenticated("invalid_request", `${label} must hold exactly one token`);
  return value;
}
