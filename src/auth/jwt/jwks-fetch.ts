import type { JSONWebKeySet, JWK } from "jose";

/** A JWKS document larger than this is refused (real ones are a few KiB). */
const MAX_JWKS_BYTES = 512 * 1024;
/** Keys kept from one JWKS document; the rest are ignored. */
const MAX_JWKS_KEYS = 100;
const PUBLIC_KEY_TYPES: ReadonlySet<unknown> = new Set(["RSA", "EC", "OKP"]);
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/** How to fetch one JWKS document. */
export interface JwksFetchOptions {
  readonly fetch: typeof fetch;
  /** The whole exchange (connect, headers, body) is abandoned after this. */
  readonly timeoutMs: number;
  /** Aborts the fetch early (the verifier is closing). */
  readonly signal?: AbortSignal;
}

/**
 * Fetches and validates a JWKS document. Only public signature keys (RSA, EC, OKP without private
 * members) are kept, so a key set that leaks a symmetric or private key cannot turn it into a
 * verification key. Rejects on timeout, non-2xx status, oversize or invalid JSON; an injected
 * `fetch` that ignores the abort signal still cannot hold the caller beyond `timeoutMs`.
 */
export async function fetchJwks(url: string, options: JwksFetchOptions): Promise<JSONWebKeySet> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`JWKS fetch from ${url} timed out after ${options.timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, options.timeoutMs);
    timer.unref();
  });
  try {
    if (options.signal?.aborted) throw new Error("JWKS fetch aborted");
    return await Promise.race([download(url, options.fetch, controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

async function download(url: string, fetchFn: typeof fetch, signal: AbortSignal): Promise<JSONWebKeySet> {
  const response = await fetchFn(url, { signal, headers: { accept: "application/jwk-set+json, application/json" } });
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`JWKS fetch from ${url} failed with HTTP ${response.status}`);
  }
  const text = await readCapped(response, url);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new Error(`JWKS from ${url} is not valid JSON`);
  }
  if (typeof document !== "object" || document === null || !Array.isArray((document as { keys?: unknown }).keys)) {
    throw new Error(`JWKS from ${url} has no "keys" array`);
  }
  const keys = ((document as { keys: unknown[] }).keys.filter(isPublicSignatureKey) as JWK[]).slice(0, MAX_JWKS_KEYS);
  return { keys };
}

async function readCapped(response: Response, url: string): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  const tooLarge = (): Error => new Error(`JWKS from ${url} is larger than ${MAX_JWKS_BYTES} bytes`);
  if (Number.isFinite(declared) && declared > MAX_JWKS_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_JWKS_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function isPublicSignatureKey(key: unknown): boolean {
  if (typeof key !== "object" || key === null || Array.isArray(key)) return false;
  const jwk = key as Record<string, unknown>;
  if (!PUBLIC_KEY_TYPES.has(jwk.kty)) return false;
  if (jwk.kid !== undefined && typeof jwk.kid !== "string") return false;
  return !PRIVATE_MEMBERS.some((member) => Object.hasOwn(jwk, member));
}
