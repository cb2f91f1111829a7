import { createPublicKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { importJWK, type JSONWebKeySet, type JWK } from "jose";
import { ConfigError } from "../../config/load-config.js";
import { algorithmsForKey, minimumHmacSecretBytes } from "./jwt-algorithms.js";

/** Key and secret files are small; anything bigger is a wrong path. */
const MAX_KEY_FILE_BYTES = 1024 * 1024;
/** Bounds the work of one key file. */
const MAX_KEYS_PER_FILE = 100;
/** JWK members that only private or symmetric keys have. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * Loads the public keys of a PEM file (public keys and/or certificates) or a JWK file (one JWK or
 * a JWK set) as a JWK set. Each key must be public and able to verify at least one of
 * `algorithms`; errors name the issuer and the file (never key material).
 */
export async function loadKeyFile(issuer: string, file: string, algorithms: readonly string[]): Promise<JSONWebKeySet> {
  const fail = (problem: string): ConfigError => new ConfigError(`issuer "${issuer}": keyFile ${file}: ${problem}`);
  const text = (await readSmallFile(file, fail)).toString("utf8").trim();
  let keys: JWK[];
  if (text.startsWith("{")) keys = parseJwkFile(text, fail);
  else if (text.includes("-----BEGIN ")) keys = parsePemFile(text, fail);
  else throw fail("expected PEM public keys or certificates, or a JWK / JWK set in JSON");
  if (keys.length === 0) throw fail("holds no key");
  if (keys.length > MAX_KEYS_PER_FILE) throw fail(`holds ${keys.length} keys; at most ${MAX_KEYS_PER_FILE} are allowed`);
  for (const [index, key] of keys.entries()) await checkKey(key, `key #${index + 1}`, algorithms, fail);
  return { keys };
}

/**
 * Loads an issuer's HMAC secret (inline, or a file whose one trailing newline is ignored) and
 * checks it is at least as long as the longest allowed HMAC hash (RFC 7518 section 3.2).
 */
export async function loadHmacSecret(issuer: string, source: { hmacSecret?: string; hmacSecretFile?: string }, algorithms: readonly string[]): Promise<Uint8Array> {
  let secret: Uint8Array;
  let where: string;
  if (source.hmacSecretFile !== undefined) {
    const file = source.hmacSecretFile;
    where = `hmacSecretFile ${file}`;
    const bytes = await readSmallFile(file, (problem) => new ConfigError(`issuer "${issuer}": ${where}: ${problem}`));
    const text = bytes.toString("utf8").replace(/\r?\n$/, "");
    secret = new Uint8Array(Buffer.from(text, "utf8"));
  } else if (source.hmacSecret !== undefined) {
    where = "hmacSecret";
    secret = new Uint8Array(Buffer.from(source.hmacSecret, "utf8"));
  } else {
    throw new ConfigError(`issuer "${issuer}": no HMAC secret configured`);
  }
  const minimum = minimumHmacSecretBytes(algorithms);
  if (secret.byteLength < minimum) {
    throw new ConfigError(`issuer "${issuer}": ${where}: the secret has ${secret.byteLength} bytes; ${algorithms.join(", ")} need at least ${minimum}`);
  }
  return secret;
}

async function readSmallFile(file: string, fail: (problem: string) => ConfigError): Promise<Buffer> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw fail("not a regular file");
    if (info.size > MAX_KEY_FILE_BYTES) throw fail(`larger than ${MAX_KEY_FILE_BYTES} bytes`);
    return await readFile(file);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw fail(`cannot read: ${(error as NodeJS.ErrnoException).code ?? "unknown error"}`);
  }
}

function parseJwkFile(text: string, fail: (problem: string) => ConfigError): JWK[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw fail("invalid JSON");
  }
  if (!isObject(value)) throw fail("expected a JWK or a JWK set object");
  if (value.keys !== undefined) {
    if (!Array.isArray(value.keys)) throw fail('"keys" must be an array');
    return value.keys.map((key, index) => {
      if (!isObject(key)) throw fail(`key #${index + 1} is not an object`);
      return key as JWK;
    });
  }
  return [value as JWK];
}

function parsePemFile(text: string, fail: (problem: string) => ConfigError): JWK[] {
  const keys: JWK[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const label = match[1];
    const position = `PEM block #${keys.length + 1}`;
    if (label.includes("PRIVATE")) throw fail(`${position} is a private key; give the public key (or certificate) only`);
    let publicKey: KeyObject;
    try {
      publicKey = label === "CERTIFICATE" ? new X509Certificate(match[0]).publicKey : createPublicKey({ key: match[0], format: "pem" });
    } catch {
      throw fail(`${position} (${label}) is not a valid public key or certificate`);
    }
    keys.push(publicKey.export({ format: "jwk" }) as JWK);
  }
  return keys;
}

async function checkKey(key: JWK, name: string, algorithms: readonly string[], fail: (problem: string) => ConfigError): Promise<void> {
  if (key.kty === "oct") throw fail(`${name} is a symmetric (oct) key; configure HMAC secrets with hmacSecret or hmacSecretFile`);
  if (PRIVATE_MEMBERS.some((member) => Object.hasOwn(key, member))) throw fail(`${name} holds private key material; give the public key only`);
  if (key.kid !== undefined && typeof key.kid !== "string") throw fail(`${name} has a non-string "kid"`);
  if (key.kty === "RSA" && typeof key.n === "string" && Buffer.from(key.n, "base64url").byteLength * 8 < 2048) {
    throw fail(`${name} is an RSA key shorter than 2048 bits`);
  }
  const fits = algorithmsForKey(key);
  if (fits.length === 0) throw fail(`${name} has an unsupported key type ${describeType(key)}`);
  let usable: readonly string[] = fits.filter((alg) => algorithms.includes(alg));
  if (typeof key.alg === "string") usable = usable.filter((alg) => alg === key.alg);
  if (usable.length === 0) {
    const own = typeof key.alg === "string" ? ` (its "alg" is ${key.alg})` : "";
    throw fail(`${name} (${describeType(key)})${own} cannot verify any of the allowed algorithms ${algorithms.join(", ")}`);
  }
  try {
    await importJWK(key, usable[0]);
  } catch {
    throw fail(`${name} (${describeType(key)}) is not a valid public key`);
  }
}

function describeType(key: JWK): string {
  const kty = typeof key.kty === "string" ? key.kty : "?";
  return typeof key.crv === "string" ? `${kty} ${key.crv}` : kty;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
