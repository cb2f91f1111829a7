/**
 * The folding rules of identity-key.ts written the slow, obvious way: the reference model that
 * the fast implementation and the identity filter are tested against.
 */
export function referenceCanonicalKey(key: string): string {
  let folded = key.toLowerCase().replace(/[_.]/g, "-").replace(/-+/g, "-").replace(/^-/, "").replace(/-$/, "");
  let changed = true;
  while (changed) {
    changed = false;
    if (folded.startsWith("grpc-metadata-")) [folded, changed] = [folded.slice("grpc-metadata-".length), true];
    if (folded.endsWith("-bin")) [folded, changed] = [folded.slice(0, -"-bin".length), true];
  }
  return folded;
}
