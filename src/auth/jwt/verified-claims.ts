import type { JWTPayload } from "jose";
import { SCOPE_TOKEN } from "../auth-syntax.js";
import type { VerifiedJwt } from "./jwt-verifier.js";

/**
 * The caller described by a verified payload (`sub`, `iss`, `exp` already checked present).
 * Scopes come from `scope` (space separated, RFC 8693) or else `scp` (an array, or a space
 * separated string); values of the wrong type are ignored, so they grant nothing. See `scopesOf`
 * for what counts as a separator and as a scope.
 */
export function toVerifiedJwt(payload: JWTPayload): VerifiedJwt {
  return Object.freeze({
    subject: String(payload.sub),
    issuer: String(payload.iss),
    audience: Object.freeze(audienceOf(payload.aud)) as string[],
    scopes: Object.freeze(scopesOf(payload)) as string[],
    expiresAt: Number(payload.exp),
    claims: deepFreeze(payload),
  });
}

function audienceOf(aud: unknown): string[] {
  if (typeof aud === "string") return [aud];
  return Array.isArray(aud) ? aud.filter((value): value is string => typeof value === "string") : [];
}

/**
 * The scopes of a payload. RFC 6749 §3.3: scope tokens are separated by U+0020 only, so a
 * string is split on spaces and nothing else (splitting on `\s` made
 * `orders:read\u00a0users:write` grant `users:write`). A token is RFC 6749's `scope-token`
 * (printable ASCII without space, `"` and `\`); anything else (a tab, a non-breaking space, any
 * non-ASCII character inside it) is not a scope and grants nothing, whether it came from a string
 * or an array element.
 */
export function scopesOf(payload: JWTPayload): string[] {
  const raw = payload.scope !== undefined ? payload.scope : payload.scp;
  let scopes: readonly unknown[] = [];
  if (typeof raw === "string") scopes = raw.split(" ");
  else if (Array.isArray(raw)) scopes = raw;
  const out = new Set<string>();
  for (const scope of scopes) if (typeof scope === "string" && SCOPE_TOKEN.test(scope)) out.add(scope);
  return [...out];
}

/** Freezes a parsed JSON value in place, iteratively (a hostile payload may nest deeply). */
function deepFreeze<T extends object>(root: T): Readonly<T> {
  const pending: object[] = [root];
  while (pending.length > 0) {
    const value = pending.pop() as object;
    Object.freeze(value);
    for (const child of Object.values(value)) {
      if (typeof child === "object" && child !== null && !Object.isFrozen(child)) pending.push(child);
    }
  }
  return root;
}
