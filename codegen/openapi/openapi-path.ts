import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import type { PathTemplate, TemplateSegment, TemplateVariable } from "../../src/routing/template.js";
import { singularName } from "./singular.js";

/**
 * One `{...}` of an OpenAPI path: one `*` or `**` of the template. A variable over several
 * segments (`{parent=projects/*}`) is expanded into its literals and one slot per wildcard
 * (`projects/{project}`), as grpc-gateway's `expand_slashed_path_patterns` does, so every binding has a path of
 * its own and each slot is one segment a viewer can validate.
 */
export interface PathSlot {
  /** The variable the slot is (part of) the value of, or undefined for a wildcard bound to no field. */
  readonly variable: TemplateVariable | undefined;
  /** The wildcards it covers: one `*`, one `**`, or (in a variable) a run of them with a `**`. */
  readonly segments: readonly TemplateSegment[];
  /** Whether it covers a `**`: any number of segments, their "/" included; else one segment (`*`). */
  readonly deep: boolean;
  /** Index of its first template segment. */
  readonly index: number;
  /** Whether the slot is its variable's whole value (`{id}`, `{id=*}`, `{path=**}`). */
  readonly whole: boolean;
  /**
   * The slot's name before names are made unique: the field path for a whole variable; for a
   * part, the singular of the literal before it in the variable (`projects/*` -> `project`), else
   * the field's own name; `_segmentN` for a free wildcard (N its segment index).
   */
  readonly proposedName: string;
}

/** A variable's value as literal text (encoded) and slots: how the parameters map back to its field. */
export interface ExpandedVariable {
  readonly variable: TemplateVariable;
  readonly pieces: readonly (string | PathSlot)[];
}

/** A template expanded into OpenAPI path pieces, ready to print with chosen slot names. */
export interface OpenApiPathParts {
  readonly parts: readonly (string | PathSlot)[];
  readonly slots: readonly PathSlot[];
  readonly variables: readonly ExpandedVariable[];
}

/**
 * Expands a template into OpenAPI path pieces. Throws (an internal error naming `source`) when
 * the variables do not fit the segments, which a validated binding never does.
 */
export function splitTemplate(template: PathTemplate, source: string): OpenApiPathParts {
  const { segments } = template;
  const sorted = [...template.variables].sort((a, b) => a.start - b.start);
  const parts: (string | PathSlot)[] = [];
  const slots: PathSlot[] = [];
  const variables: ExpandedVariable[] = [];
  const slot = (start: number, end: number, variable: TemplateVariable | undefined): PathSlot => {
    const covered = segments.slice(start, end);
    const whole = variable !== undefined && start === variable.start && end === variable.end;
    const made: PathSlot = { variable, segments: covered, deep: covered.some((s) => s.kind === "deepWildcard"), index: start, whole, proposedName: proposeName(segments, start, variable, whole) };
    slots.push(made);
    return made;
  };
  /** Pieces of segments [start, end): literals, and a slot per wildcard, or per run of wildcards with a `**`. */
  const pieces = (start: number, end: number, variable: TemplateVariable | undefined): (string | PathSlot)[] => {
    const out: (string | PathSlot)[] = [];
    for (let i = start; i < end; ) {
      const segment = segments[i];
      if (segment.kind === "literal") {
        out.push(encodePathText(segment.value));
        i++;
        continue;
      }
      // In a variable, `*/**` (or `**/*`) is any number of segments, and one slot says so
      // (`documents/{document}` rather than `documents/{document}/{name}`).
      let runEnd = i + 1;
      if (variable !== undefined) while (runEnd < end && segments[runEnd].kind !== "literal") runEnd++;
      const run = segments.slice(i, runEnd);
      if (run.length > 1 && !run.some((s) => s.kind === "deepWildcard")) runEnd = i + 1;
      out.push(slot(i, runEnd, variable));
      i = runEnd;
    }
    return out;
  };
  let i = 0;
  for (const variable of sorted) {
    if (!(variable.start >= i && variable.end > variable.start && variable.end <= segments.length)) {
      throw new GatewayError(
        GrpcCode.INTERNAL,
        "PG_ERR_INTERNAL",
        `${source}: path variable {${variable.fieldPath.join(".")}} covers segments [${variable.start}, ${variable.end}), which do not fit the ${segments.length} segments of the template`,
      );
    }
    parts.push(...pieces(i, variable.start, undefined));
    const own = pieces(variable.start, variable.end, variable);
    parts.push(...own);
    variables.push({ variable, pieces: own });
    i = variable.end;
  }
  parts.push(...pieces(i, segments.length, undefined));
  return { parts, slots, variables };
}

function proposeName(segments: readonly TemplateSegment[], index: number, variable: TemplateVariable | undefined, whole: boolean): string {
  if (variable === undefined) return `_segment${index}`;
  if (whole) return variable.fieldPath.join(".");
  const before = index > variable.start ? segments[index - 1] : undefined;
  return (before?.kind === "literal" ? singularName(before.value) : undefined) ?? variable.fieldPath[variable.fieldPath.length - 1];
}

/**
 * The final slot names, in slot order: whole variables keep their field path and free wildcards
 * their `_segmentN` (both unique already); a part's name that is taken gets `_2`, `_3`, ...
 */
export function slotNames(split: OpenApiPathParts): string[] {
  const taken = new Set(split.slots.filter((s) => s.whole || s.variable === undefined).map((s) => s.proposedName));
  return split.slots.map((slot) => {
    if (slot.whole || slot.variable === undefined) return slot.proposedName;
    let name = slot.proposedName;
    for (let n = 2; taken.has(name); n++) name = `${slot.proposedName}_${n}`;
    taken.add(name);
    return name;
  });
}

/** A variable's value with `{name}` for each slot: `projects/{project}/services/{service}`. */
export function fieldTemplate(split: OpenApiPathParts, expanded: ExpandedVariable, names: readonly string[]): string {
  return expanded.pieces.map((p) => (typeof p === "string" ? p : `{${names[split.slots.indexOf(p)]}}`)).join("/");
}

/** Prints the OpenAPI path with `names[i]` for the i-th slot, the verb after a `:`. */
export function formatOpenApiPath(split: OpenApiPathParts, names: readonly string[], verb: string | null): string {
  const pieces = split.parts.map((part) => (typeof part === "string" ? part : `{${names[split.slots.indexOf(part)]}}`));
  const path = `/${pieces.join("/")}`;
  return verb === null ? path : `${path}:${encodePathText(verb)}`;
}

/** The path with slot names erased: OpenAPI treats paths of equal shape as identical. */
export function pathShape(split: OpenApiPathParts, verb: string | null): string {
  return formatOpenApiPath(split, split.slots.map(() => ""), verb);
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
