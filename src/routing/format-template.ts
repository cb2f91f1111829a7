import { encodeLiteral } from "./template-literal.js";
import type { PathTemplate, TemplateSegment } from "./template.js";

/**
 * Prints a template in canonical syntax: `{x}` for a variable over a single `*`, `{x=...}`
 * otherwise, literals and the verb percent-encoded only where needed (upper-case hex), and `/`
 * for the root template with no segments. `parseTemplate(formatTemplate(t))` deep-equals `t`.
 */
export function formatTemplate(template: PathTemplate): string {
  const { segments, variables } = template;
  if (segments.length === 0) return template.verb === null ? "/" : `/:${encodeLiteral(template.verb)}`;
  let out = "";
  let i = 0;
  for (const variable of [...variables].sort((a, b) => a.start - b.start)) {
    for (; i < variable.start; i++) out += `/${formatSegment(segments[i])}`;
    const name = variable.fieldPath.join(".");
    const covered = segments.slice(variable.start, variable.end);
    if (covered.length === 1 && covered[0].kind === "wildcard") out += `/{${name}}`;
    else out += `/{${name}=${covered.map(formatSegment).join("/")}}`;
    i = variable.end;
  }
  for (; i < segments.length; i++) out += `/${formatSegment(segments[i])}`;
  return template.verb === null ? out : `${out}:${encodeLiteral(template.verb)}`;
}

/**
 * The template with its variables erased, printed canonically: the shape of
 * `/v1/{name=users/*}:cancel` is `/v1/users/*:cancel`.
 * Two templates with the same shape match exactly the same paths with the same precedence, so
 * the shape is the key for duplicate detection.
 */
export function routeShape(template: PathTemplate): string {
  return formatTemplate({ segments: template.segments, variables: [], verb: template.verb });
}

function formatSegment(segment: TemplateSegment): string {
  switch (segment.kind) {
    case "literal":
      return encodeLiteral(segment.value);
    case "wildcard":
      return "*";
    case "deepWildcard":
      return "**";
  }
}
