import { formatTemplate, routeShape } from "../../src/routing/format-template.js";
import { isLiteralCharCode } from "../../src/routing/template-literal.js";
import type { PathTemplate, TemplateSegment, TemplateVariable } from "../../src/routing/template.js";

export { formatTemplate, routeShape };

/** A syntax error in a path template; `column` is the 1-based position of the offending character. */
export class TemplateError extends Error {
  readonly column: number;
  /** The message without the column suffix. */
  readonly reason: string;

  constructor(reason: string, column: number) {
    super(`${reason} (column ${column})`);
    this.name = "TemplateError";
    this.reason = reason;
    this.column = column;
  }
}

const CHAR_SLASH = 0x2f;
const CHAR_COLON = 0x3a;
const CHAR_STAR = 0x2a;
const CHAR_OPEN = 0x7b;
const CHAR_CLOSE = 0x7d;
const CHAR_EQUALS = 0x3d;
const CHAR_DOT = 0x2e;
const CHAR_PERCENT = 0x25;

/**
 * Parses a `google.api.http` path template (grammar in google/api/http.proto):
 *
 *     Template = "/" Segments [ Verb ] ;  Segments = Segment { "/" Segment } ;
 *     Segment  = "*" | "**" | LITERAL | Variable ;  Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *     FieldPath = IDENT { "." IDENT } ;  Verb = ":" LITERAL ;
 *
 * Beyond the grammar: the template `/` alone is accepted as the root path (zero segments, no
 * verb), as grpc-gateway does. `{x}` is `{x=*}`. A LITERAL is made of RFC 3986 path characters
 * other than `* = :` (see `isLiteralCharCode`) and `%XX` escapes; it is stored percent-decoded and
 * must be valid UTF-8. IDENT is `[A-Za-z_][A-Za-z0-9_]*`. `**` may appear once, anywhere (the
 * grammar puts it last; real APIs such as Firestore's follow it with more segments, and
 * grpc-gateway and Envoy accept that). A field may be bound once, and not together with a
 * field path it is a prefix of (`{a}` and `{a.b}`). Field paths are not checked against the
 * request message here. Throws `TemplateError` for anything else.
 */
export function parseTemplate(text: string): PathTemplate {
  return new TemplateParser(text).parse();
}

/** Whether two templates (of the same HTTP method) match exactly the same paths, so one of them can never be reached. */
export function templatesConflict(a: PathTemplate, b: PathTemplate): boolean {
  return routeShape(a) === routeShape(b);
}

class TemplateParser {
  private pos = 0;
  private readonly segments: TemplateSegment[] = [];
  /** 1-based column where each segment starts, for `**` errors. */
  private readonly segmentColumns: number[] = [];
  private readonly variables: TemplateVariable[] = [];
  private readonly boundFields: Array<{ path: string; column: number }> = [];

  constructor(private readonly text: string) {}

  parse(): PathTemplate {
    const { text } = this;
    if (text.length === 0) this.fail("the template is empty; it must start with '/'", 0);
    if (text.charCodeAt(0) !== CHAR_SLASH) this.fail("the template must start with '/'", 0);
    if (text.length === 1) return { segments: [], variables: [], verb: null };
    this.pos = 1;
    this.parseSegments(undefined);
    let verb: string | null = null;
    if (this.pos < text.length && text.charCodeAt(this.pos) === CHAR_COLON) {
      const colon = this.pos;
      this.pos++;
      verb = this.parseLiteral(undefined, "verb");
      if (verb === "") this.fail("the custom verb after ':' is empty", colon);
    }
    if (this.pos < text.length) this.failUnexpected(verb !== null);
    this.checkDeepWildcard();
    return { segments: this.segments, variables: this.variables, verb };
  }

  /** Segments {"/" Segment}, stopping before anything that is not "/" after a segment. */
  private parseSegments(variableStart: number | undefined): void {
    for (;;) {
      this.parseSegment(variableStart);
      if (this.pos < this.text.length && this.text.charCodeAt(this.pos) === CHAR_SLASH) this.pos++;
      else return;
    }
  }

  private parseSegment(variableStart: number | undefined): void {
    const { text } = this;
    const start = this.pos;
    const code = start < text.length ? text.charCodeAt(start) : -1;
    if (code === -1 && variableStart !== undefined) this.fail(`unclosed '{' (opened at column ${variableStart + 1})`, start);
    if (code === -1) this.fail("empty segment (a template must not end with '/')", start);
    if (code === CHAR_CLOSE && variableStart === undefined) this.fail("unmatched '}'", start);
    if (code === CHAR_SLASH || code === CHAR_CLOSE) this.fail("empty segment", start);
    if (code === CHAR_COLON) this.fail(variableStart === undefined ? "empty segment before the verb" : "a custom verb cannot appear inside a variable", start);
    if (code === CHAR_STAR) {
      const deep = start + 1 < text.length && text.charCodeAt(start + 1) === CHAR_STAR;
      this.pos = start + (deep ? 2 : 1);
      this.expectSegmentEnd(deep ? "'**' must be a whole segment" : "'*' must be a whole segment");
      this.push(deep ? { kind: "deepWildcard" } : { kind: "wildcard" }, start);
      return;
    }
    if (code === CHAR_OPEN) {
      if (variableStart !== undefined) this.fail(`nested variables are not allowed (the variable opened at column ${variableStart + 1} is still open)`, start);
      this.parseVariable();
      return;
    }
    const value = this.parseLiteral(variableStart, "literal");
    this.push({ kind: "literal", value }, start);
  }

  private parseVariable(): void {
    const { text } = this;
    const open = this.pos;
    this.pos++;
    const fieldPath = this.parseFieldPath();
    const first = this.segments.length;
    const code = this.pos < text.length ? text.charCodeAt(this.pos) : -1;
    if (code === CHAR_CLOSE) {
      this.push({ kind: "wildcard" }, open);
    } else if (code === CHAR_EQUALS) {
      this.pos++;
      this.parseSegments(open);
    } else if (code === -1) {
      this.fail(`unclosed '{' (opened at column ${open + 1})`, text.length);
    } else {
      this.fail(`expected '=' or '}' after the field path "${fieldPath.join(".")}"`, this.pos);
    }
    if (this.pos >= text.length) this.fail(`unclosed '{' (opened at column ${open + 1})`, text.length);
    if (text.charCodeAt(this.pos) === CHAR_COLON) this.fail("a custom verb cannot appear inside a variable", this.pos);
    if (text.charCodeAt(this.pos) !== CHAR_CLOSE) this.fail(`expected '}' to close the variable opened at column ${open + 1}`, this.pos);
    this.pos++;
    this.expectSegmentEnd("a variable must be a whole segment");
    this.bind(fieldPath, open);
    this.variables.push({ fieldPath, start: first, end: this.segments.length });
  }

  private parseFieldPath(): string[] {
    const path: string[] = [];
    for (;;) {
      path.push(this.parseIdent());
      if (this.pos < this.text.length && this.text.charCodeAt(this.pos) === CHAR_DOT) this.pos++;
      else return path;
    }
  }

  private parseIdent(): string {
    const { text } = this;
    const start = this.pos;
    let i = start;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
      const digit = c >= 0x30 && c <= 0x39;
      if (letter || (digit && i > start)) i++;
      else break;
    }
    if (i === start) {
      const found = start < text.length ? `'${text[start]}'` : "the end of the template";
      this.fail(`expected a field name (letters, digits and '_', not starting with a digit) but found ${found}`, start);
    }
    this.pos = i;
    return text.slice(start, i);
  }

  /** Reads literal characters and `%XX` escapes up to a delimiter, returning the decoded value. */
  private parseLiteral(variableStart: number | undefined, what: "literal" | "verb"): string {
    const { text } = this;
    const start = this.pos;
    let i = start;
    let escaped = false;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (isLiteralCharCode(c)) {
        i++;
      } else if (c === CHAR_PERCENT) {
        if (!(i + 2 < text.length && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2)))) {
          this.fail(`invalid percent-encoding in the ${what}: '%' must be followed by two hex digits`, i);
        }
        escaped = true;
        i += 3;
      } else if (c === CHAR_SLASH || c === CHAR_COLON || (c === CHAR_CLOSE && variableStart !== undefined)) {
        break;
      } else if (c === CHAR_CLOSE) {
        this.fail("unmatched '}'", i);
      } else if (c === CHAR_OPEN) {
        this.fail(variableStart !== undefined ? `nested variables are not allowed (the variable opened at column ${variableStart + 1} is still open)` : "a variable must be a whole segment", i);
      } else if (c === CHAR_STAR) {
        this.fail(`'*' cannot be part of a ${what}; wildcards must be whole segments (write %2A for a literal '*')`, i);
      } else if (c === CHAR_EQUALS) {
        this.fail(`'=' cannot appear in a ${what} (it only follows a variable's field path; write %3D for a literal '=')`, i);
      } else {
        this.fail(`character ${describeChar(text, i)} cannot appear in a ${what}; percent-encode it`, i);
      }
    }
    this.pos = i;
    const raw = text.slice(start, i);
    if (!escaped) return raw;
    try {
      return decodeURIComponent(raw);
    } catch {
      this.fail(`the ${what} "${raw}" is not valid UTF-8 after percent-decoding`, start);
    }
  }

  /** After `*`, `**` or a variable only a delimiter may follow. */
  private expectSegmentEnd(reason: string): void {
    if (this.pos >= this.text.length) return;
    const c = this.text.charCodeAt(this.pos);
    if (c !== CHAR_SLASH && c !== CHAR_COLON && c !== CHAR_CLOSE) this.fail(reason, this.pos);
  }

  private push(segment: TemplateSegment, start: number): void {
    this.segments.push(segment);
    this.segmentColumns.push(start + 1);
  }

  private bind(fieldPath: readonly string[], open: number): void {
    const path = fieldPath.join(".");
    for (const bound of this.boundFields) {
      if (bound.path === path) this.fail(`the field "${path}" is bound twice (first at column ${bound.column})`, open);
      const [shorter, longer] = bound.path.length < path.length ? [bound.path, path] : [path, bound.path];
      if (longer.startsWith(`${shorter}.`)) this.fail(`the field "${path}" overlaps "${bound.path}" bound at column ${bound.column}`, open);
    }
    this.boundFields.push({ path, column: open + 1 });
  }

  /**
   * `**` may be followed by more segments (Firestore's `.../documents/**}/{collection_id}`), as
   * grpc-gateway and Envoy accept, but only once: with two, which one takes which segments
   * would be ambiguous, and matching could backtrack without bound.
   */
  private checkDeepWildcard(): void {
    const deep = this.segments.flatMap((segment, i) => (segment.kind === "deepWildcard" ? [i] : []));
    if (deep.length > 1) this.fail("'**' may appear only once in a template", this.segmentColumns[deep[1]] - 1);
  }

  private failUnexpected(afterVerb: boolean): never {
    const c = this.text.charCodeAt(this.pos);
    if (afterVerb) this.fail(c === CHAR_SLASH ? "the verb must be at the end of the template" : "unexpected ':' in the verb (a verb cannot contain ':')", this.pos);
    if (c === CHAR_CLOSE) this.fail("unmatched '}'", this.pos);
    this.fail(`unexpected ${describeChar(this.text, this.pos)}`, this.pos);
  }

  /** `index` is 0-based; the error reports it 1-based. */
  private fail(reason: string, index: number): never {
    throw new TemplateError(reason, index + 1);
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function describeChar(text: string, index: number): string {
  const code = text.codePointAt(index) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return code > 0x20 && code < 0x7f ? `'${String.fromCharCode(code)}'` : hex;
}
