/**
 * Characters a path-template literal (or verb) may contain without percent-encoding: RFC 3986
 * `pchar` minus the ones the template grammar gives a meaning to (`*`, `=`, `:`). Everything else
 * must be written as `%XX`.
 */
const LITERAL_CHARS = (() => {
  const table = new Uint8Array(128);
  const allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()+,;@";
  for (let i = 0; i < allowed.length; i++) table[allowed.charCodeAt(i)] = 1;
  return table;
})();

/** Whether the UTF-16 code unit may appear unencoded in a template literal. */
export function isLiteralCharCode(code: number): boolean {
  return code < 128 && LITERAL_CHARS[code] === 1;
}

/**
 * Prints a (decoded) literal value in template syntax: allowed characters as they are, every
 * other character as upper-case `%XX` of its UTF-8 bytes. Parsing the result gives `value` back.
 * Throws URIError for strings that are not well-formed Unicode (lone surrogates), which
 * `parseTemplate` never produces.
 */
export function encodeLiteral(value: string): string {
  let out = "";
  let plainFrom = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (isLiteralCharCode(code)) continue;
    out += value.slice(plainFrom, i);
    // A surrogate pair is one code point: encode both halves together.
    const width = code >= 0xd800 && code <= 0xdbff && i + 1 < value.length ? 2 : 1;
    const char = value.slice(i, i + width);
    out += char === "*" ? "%2A" : encodeURIComponent(char);
    i += width - 1;
    plainFrom = i + 1;
  }
  return plainFrom === 0 ? value : out + value.slice(plainFrom);
}
