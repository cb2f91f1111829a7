import { BASE64_STRING } from "./json-policy.js";

/**
 * Strict base64 for proto3 JSON `bytes`: standard or URL-safe alphabet, with or without
 * padding. Returns undefined for anything else (stray characters, impossible lengths, padding
 * in the wrong place) instead of silently skipping characters like Buffer.from does.
 */
export function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64_STRING.test(text)) return undefined;
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  if (padding > 0 && text.length % 4 !== 0) return undefined;
  if ((text.length - padding) % 4 === 1) return undefined;
  return Buffer.from(text, "base64");
}

/** Standard base64 with padding. */
export function encodeBase64(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString("base64");
}
