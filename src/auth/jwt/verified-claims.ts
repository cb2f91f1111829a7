import type { JWTPayload } from "jose";
import type { VerifiedJwt } from "./jwt-verifier.js";

/**
 * The caller described by a verified payload (`sub`, `iss`, `exp` already checked present).
 * Scopes come from `scope` (space separated, RFC 8693) or else `scp` (an array, or a space
 * separated string); values of the wrong type are ignored, so they grant nothing.
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

function scopesOf(payload: JWTPayload): string[] {
  const raw = payload.scope !== undefined ? payload.scope : payload.scp;
  let scopes: string[] = [];
  if (typeof raw === "string") scopes = raw.split(/\s+/);
  else if (Array.isArray(raw)) scopes = raw.filter((value): value is string => typeof value === "string");
  return [...new Set(scopes.filter((scope) => scope !== ""))];
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
