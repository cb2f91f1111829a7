/**
 * Percent-decodes one URL component strictly: every `%` must start a `%XX` escape and the
 * decoded bytes must be valid UTF-8 (no overlong forms, no surrogates). Returns undefined when
 * they are not. Returns `text` itself, without allocating, when it has no `%`.
 */
export function decodeComponent(text: string): string | undefined {
  if (text.indexOf("%") === -1) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * Decodes an already validated path segment except `%2F`/`%2f`, which are kept exactly as
 * written (the rule for multi-segment path variables in google/api/http.proto). Splitting at
 * those escapes cannot break a UTF-8 sequence, because 0x2F is never part of a multi-byte one.
 */
export function decodeKeepingSlashes(segment: string): string {
  let percent = segment.indexOf("%");
  if (percent === -1) return segment;
  let out = "";
  let pieceStart = 0;
  while (percent !== -1) {
    const hi = segment.charCodeAt(percent + 1);
    const lo = segment.charCodeAt(percent + 2);
    if (hi === 0x32 && (lo === 0x46 || lo === 0x66)) {
      out += decodeURIComponent(segment.slice(pieceStart, percent)) + segment.slice(percent, percent + 3);
      pieceStart = percent + 3;
    }
    percent = segment.indexOf("%", percent + 3);
  }
  return out + decodeURIComponent(segment.slice(pieceStart));
}
