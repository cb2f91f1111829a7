import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import type { PathTemplate, TemplateSegment, TemplateVariable } from "../../src/routing/template.js";

/** One `{...}` expression of an OpenAPI path: a template variable, or a wildcard bound to no field. */
export interface PathExpression {
  /** The variable, or undefined for a `*` / `**` outside any variable. */
  readonly variable: TemplateVariable | undefined;
  /** The template segments the expression covers. */
  readonly segments: readonly TemplateSegment[];
  /** Index of the first covered segment. */
  readonly start: number;
  /** Whether it covers exactly one `*`, the only case OpenAPI's `{name}` expresses exactly. */
  readonly single: boolean;
}

/** A template split into literal path text and expressions, ready to print with chosen names. */
export interface OpenApiPathParts {
  readonly parts: readonly (string | PathExpression)[];
  readonly expressions: readonly PathExpression[];
}

/**
 * Splits a template into OpenAPI path pieces. Throws (an internal error naming `source`) when
 * the variables do not fit the segments, which a validated binding never does.
 */
export function splitTemplate(template: PathTemplate, source: string): OpenApiPathParts {
  const { segments } = template;
  const variables = [...template.variables].sort((a, b) => a.start - b.start);
  const parts: (string | PathExpression)[] = [];
  const expressions: PathExpression[] = [];
  const expression = (variable: TemplateVariable | undefined, start: number, end: number): void => {
    const covered = segments.slice(start, end);
    const made: PathExpression = { variable, segments: covered, start, single: covered.length === 1 && covered[0].kind === "wildcard" };
    parts.push(made);
    expressions.push(made);
  };
  let i = 0;
  for (const variable of variables) {
    if (!(variable.start >= i && variable.end > variable.start && variable.end <= segments.length)) {
      throw new GatewayError(
        GrpcCode.INTERNAL,
        "PG_ERR_INTERNAL",
        `${source}: path variable {${variable.fieldPath.join(".")}} covers segments [${variable.start}, ${variable.end}), which do not fit the ${segments.length} segments of the template`,
      );
    }
    for (; i < variable.start; i++) pushSegment(i);
    expression(variable, variable.start, variable.end);
    i = variable.end;
  }
  for (; i < segments.length; i++) pushSegment(i);
  return { parts, expressions };

  function pushSegment(index: number): void {
    const segment = segments[index];
    if (segment.kind === "literal") parts.push(encodePathText(segment.value));
    else expression(undefined, index, index + 1);
  }
}

/** Prints the OpenAPI path with `names[i]` for the i-th expression, the verb after a `:`. */
export function formatOpenApiPath(split: OpenApiPathParts, names: readonly string[], verb: string | null): string {
  let n = 0;
  const pieces = split.parts.map((part) => (typeof part === "string" ? part : `{${names[n++]}}`));
  const path = `/${pieces.join("/")}`;
  return verb === null ? path : `${path}:${encodePathText(verb)}`;
}

/** The path with expression names erased: OpenAPI treats paths of equal shape as identical. */
export function pathShape(split: OpenApiPathParts, verb: string | null): string {
  return formatOpenApiPath(split, split.expressions.map(() => ""), verb);
}

/** The covered segments in template syntax: literals, `*` and `**` joined by `/`. */
export function segmentsText(segments: readonly TemplateSegment[]): string {
  return segments.map((s) => (s.kind === "literal" ? encodePathText(s.value) : s.kind === "wildcard" ? "*" : "**")).join("/");
}

/** An ECMA-262 regular expression for the (raw) value of an expression covering `segments`. */
export function segmentsRegex(segments: readonly TemplateSegment[]): string {
  const oneSegment = "[^/]+";
  let out = "";
  // Whether the next piece needs a "/" before it (not at the start, nor after a leading `**`
  // that already ended with its own).
  let needSeparator = false;
  segments.forEach((segment, i) => {
    const sep = needSeparator ? "/" : "";
    needSeparator = true;
    if (segment.kind === "literal") out += sep + escapeRegex(encodePathText(segment.value));
    else if (segment.kind === "wildcard") out += sep + oneSegment;
    // `**` matches zero or more segments, so a separator goes optional along with it: the one
    // before it, or (when it leads and more follow) the one after it.
    else if (i === 0 && segments.length > 1) {
      out += `(?:${oneSegment}(?:/${oneSegment})*/)?`;
      needSeparator = false;
    } else out += `(?:${sep}${oneSegment}(?:/${oneSegment})*)?`;
  });
  return `^${out}$`;
}

// RFC 3986 pchar: "{" and "}" (which delimit OpenAPI expressions) and everything else is
// percent-encoded (UTF-8).
const PATH_TEXT_SAFE = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]$/;

/** A decoded literal (or verb) as OpenAPI path text: RFC 3986 `pchar`s kept, the rest percent-encoded. */
export function encodePathText(value: string): string {
  let out = "";
  for (const char of value) {
    if (PATH_TEXT_SAFE.test(char)) out += char;
    else {
      try {
        out += encodeURIComponent(char);
      } catch {
        out += "%EF%BF%BD"; // a lone surrogate: print U+FFFD rather than fail
      }
    }
  }
  return out;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
