/**
 * A structural check of an OpenAPI 3.1 document, written for these tests before an outside
 * validator was added (Redocly runs too: redocly-lint.ts); kept because it is synchronous and
 * cheap, so many tests can call it. It checks the fields of each object, path templating,
 * parameter rules, unique operationIds, resolvable `$ref`s, security schemes and requirements
 * naming declared schemes, and JSON Schema 2020-12 keywords. Returns problems as
 * `json/pointer: message`; an empty list means nothing was found.
 */
export function lintOpenApi31(doc: unknown): string[] {
  const problems: string[] = [];
  const report = (where: string, message: string) => problems.push(`${where || "/"}: ${message}`);
  if (!isObject(doc)) return ["/: the document is not an object"];

  checkKeys(doc, "", ["openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks", "components", "security", "tags", "externalDocs"], report);
  if (typeof doc.openapi !== "string" || !/^3\.1\.\d+$/.test(doc.openapi)) report("/openapi", "must be 3.1.x");
  const info = doc.info;
  if (!isObject(info) || typeof info.title !== "string" || typeof info.version !== "string") report("/info", "needs string title and version");

  const tagNames = new Set<string>();
  if (doc.tags !== undefined) {
    if (!Array.isArray(doc.tags)) report("/tags", "must be an array");
    else
      doc.tags.forEach((tag, i) => {
        if (!isObject(tag) || typeof tag.name !== "string") return report(`/tags/${i}`, "needs a name");
        if (tagNames.has(tag.name)) report(`/tags/${i}`, `duplicate tag ${tag.name}`);
        tagNames.add(tag.name);
        checkKeys(tag, `/tags/${i}`, ["name", "description", "externalDocs"], report);
      });
  }

  const schemeNames = checkSecuritySchemes(doc.components, report);
  if (doc.security !== undefined) checkSecurity(doc.security, "/security", schemeNames, report);

  const operationIds = new Set<string>();
  const shapes = new Map<string, string>();
  if (!isObject(doc.paths)) report("/paths", "must be an object");
  else {
    for (const [path, item] of Object.entries(doc.paths)) {
      const where = `/paths/${pointerEscape(path)}`;
      if (!path.startsWith("/")) report(where, "a path must start with /");
      if (/[?#]/.test(path)) report(where, "a path must not contain a query or fragment");
      const names = templateNames(path);
      if (names === undefined) {
        report(where, "unbalanced or nested braces");
        continue;
      }
      if (new Set(names).size !== names.length) report(where, "a template name appears twice");
      const shape = path.replace(/\{[^}]*\}/g, "{}");
      const other = shapes.get(shape);
      if (other !== undefined) report(where, `equivalent to ${other} (same hierarchy, different template names)`);
      shapes.set(shape, path);
      if (!isObject(item)) {
        report(where, "a path item must be an object");
        continue;
      }
      checkKeys(item, where, ["$ref", "summary", "description", ...METHODS, "servers", "parameters"], report);
      const operations: Array<[string, unknown]> = METHODS.filter((m) => item[m] !== undefined).map((m) => [`${where}/${m}`, item[m]]);
      const custom = item["x-protogate-custom-methods"];
      if (isObject(custom)) for (const [m, op] of Object.entries(custom)) operations.push([`${where}/x-protogate-custom-methods/${m}`, op]);
      for (const [opWhere, operation] of operations) {
        checkOperation(operation, opWhere, names, operationIds, tagNames, report);
        if (isObject(operation) && operation.security !== undefined) checkSecurity(operation.security, `${opWhere}/security`, schemeNames, report);
      }
    }
  }

  const components = doc.components;
  if (components !== undefined) {
    if (!isObject(components)) report("/components", "must be an object");
    else {
      checkKeys(components, "/components", ["schemas", "responses", "parameters", "examples", "requestBodies", "headers", "securitySchemes", "links", "callbacks", "pathItems"], report);
      if (isObject(components.schemas)) {
        for (const name of Object.keys(components.schemas)) {
          if (!/^[a-zA-Z0-9.\-_]+$/.test(name)) report(`/components/schemas/${name}`, "component names must match ^[a-zA-Z0-9.\\-_]+$");
        }
      }
    }
  }

  walk(doc, "", (value, where) => {
    if (where.endsWith("/schema") || /\/components\/schemas\/[^/]+$/.test(where)) checkSchema(value, where, report);
    if (isObject(value) && typeof value.$ref === "string") {
      if (!value.$ref.startsWith("#/") || resolvePointer(doc, value.$ref.slice(1)) === undefined) report(where, `unresolved $ref ${value.$ref}`);
    }
  });
  return problems;
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
type Report = (where: string, message: string) => void;

/** Checks `components.securitySchemes` and returns the declared scheme names. */
function checkSecuritySchemes(components: unknown, report: Report): Set<string> {
  const names = new Set<string>();
  if (!isObject(components) || components.securitySchemes === undefined) return names;
  const schemes = components.securitySchemes;
  if (!isObject(schemes)) {
    report("/components/securitySchemes", "must be an object");
    return names;
  }
  for (const [name, scheme] of Object.entries(schemes)) {
    const at = `/components/securitySchemes/${pointerEscape(name)}`;
    names.add(name);
    if (!isObject(scheme)) {
      report(at, "must be an object");
      continue;
    }
    checkKeys(scheme, at, ["type", "description", "name", "in", "scheme", "bearerFormat", "flows", "openIdConnectUrl"], report);
    switch (scheme.type) {
      case "apiKey":
        if (typeof scheme.name !== "string" || scheme.name === "") report(at, "an apiKey scheme needs a name");
        if (!["query", "header", "cookie"].includes(String(scheme.in))) report(at, `bad "in" ${String(scheme.in)}`);
        break;
      case "http":
        if (typeof scheme.scheme !== "string" || scheme.scheme === "") report(at, "an http scheme needs a scheme");
        break;
      case "mutualTLS":
        break;
      case "oauth2":
        if (!isObject(scheme.flows)) report(at, "an oauth2 scheme needs flows");
        break;
      case "openIdConnect":
        if (typeof scheme.openIdConnectUrl !== "string") report(at, "an openIdConnect scheme needs openIdConnectUrl");
        break;
      default:
        report(at, `bad type ${String(scheme.type)}`);
    }
  }
  return names;
}

/** A security requirement list: objects whose keys are declared schemes and whose values are string arrays. */
function checkSecurity(security: unknown, where: string, schemes: ReadonlySet<string>, report: Report): void {
  if (!Array.isArray(security)) return report(where, "must be an array");
  security.forEach((requirement, i) => {
    const at = `${where}/${i}`;
    if (!isObject(requirement)) return report(at, "a security requirement must be an object");
    for (const [name, scopes] of Object.entries(requirement)) {
      if (!schemes.has(name)) report(at, `security scheme ${name} is not declared in components.securitySchemes`);
      if (!Array.isArray(scopes) || scopes.some((scope) => typeof scope !== "string")) report(`${at}/${pointerEscape(name)}`, "must be an array of strings");
    }
  });
}

function checkOperation(operation: unknown, where: string, pathNames: readonly string[], ids: Set<string>, tags: Set<string>, report: Report): void {
  if (!isObject(operation)) return report(where, "an operation must be an object");
  checkKeys(operation, where, ["tags", "summary", "description", "externalDocs", "operationId", "parameters", "requestBody", "responses", "callbacks", "deprecated", "security", "servers"], report);
  if (typeof operation.operationId === "string") {
    if (ids.has(operation.operationId)) report(where, `duplicate operationId ${operation.operationId}`);
    ids.add(operation.operationId);
  }
  if (operation.tags !== undefined) {
    if (!Array.isArray(operation.tags) || operation.tags.some((t) => typeof t !== "string")) report(`${where}/tags`, "must be strings");
    else for (const tag of operation.tags) if (!tags.has(tag)) report(`${where}/tags`, `tag ${tag} is not declared at the top level`);
  }
  const parameters = operation.parameters ?? [];
  const seen = new Set<string>();
  const pathParams = new Set<string>();
  if (!Array.isArray(parameters)) report(`${where}/parameters`, "must be an array");
  else
    parameters.forEach((parameter, i) => {
      const at = `${where}/parameters/${i}`;
      if (!isObject(parameter)) return report(at, "must be an object");
      checkKeys(parameter, at, ["name", "in", "description", "required", "deprecated", "allowEmptyValue", "style", "explode", "allowReserved", "schema", "example", "examples", "content"], report);
      const { name, in: location, style } = parameter;
      if (typeof name !== "string" || name === "") report(at, "needs a name");
      if (!["query", "header", "path", "cookie"].includes(String(location))) report(at, `bad "in" ${String(location)}`);
      const key = `${String(location)} ${String(name)}`;
      if (seen.has(key)) report(at, `duplicate parameter ${key}`);
      seen.add(key);
      if ((parameter.schema === undefined) === (parameter.content === undefined)) report(at, "needs exactly one of schema and content");
      if (location === "path") {
        pathParams.add(String(name));
        if (parameter.required !== true) report(at, "a path parameter must be required");
        if (!pathNames.includes(String(name))) report(at, `path parameter ${String(name)} is not in the path`);
      }
      const styles: Record<string, string[]> = { path: ["matrix", "label", "simple"], query: ["form", "spaceDelimited", "pipeDelimited", "deepObject"], header: ["simple"], cookie: ["form"] };
      if (style !== undefined && !(styles[String(location)] ?? []).includes(String(style))) report(at, `style ${String(style)} is not allowed in ${String(location)}`);
      if (parameter.explode !== undefined && typeof parameter.explode !== "boolean") report(at, "explode must be a boolean");
    });
  for (const name of pathNames) if (!pathParams.has(name)) report(where, `template {${name}} has no path parameter`);
  if (operation.requestBody !== undefined) {
    const body = operation.requestBody;
    if (!isObject(body) || !isObject(body.content)) report(`${where}/requestBody`, "needs content");
    else checkKeys(body, `${where}/requestBody`, ["description", "content", "required"], report);
  }
  const responses = operation.responses;
  if (!isObject(responses) || Object.keys(responses).length === 0) return report(`${where}/responses`, "needs at least one response");
  for (const [status, response] of Object.entries(responses)) {
    const at = `${where}/responses/${status}`;
    if (status !== "default" && !/^[1-5](\d\d|XX)$/.test(status)) report(at, "bad status code");
    if (!isObject(response) || typeof response.description !== "string") report(at, "needs a description");
    else checkKeys(response, at, ["description", "headers", "content", "links"], report);
  }
}

const JSON_TYPES = ["null", "boolean", "object", "array", "number", "integer", "string"];
// JSON Schema 2020-12 (core, applicator, validation, meta-data, format, content, unevaluated) plus OpenAPI's additions.
const SCHEMA_KEYWORDS = new Set([
  "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$comment", "$defs",
  "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems", "items", "contains",
  "properties", "patternProperties", "additionalProperties", "propertyNames", "unevaluatedItems", "unevaluatedProperties",
  "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength",
  "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains", "minContains", "maxProperties",
  "minProperties", "required", "dependentRequired", "title", "description", "default", "deprecated", "readOnly",
  "writeOnly", "examples", "format", "contentEncoding", "contentMediaType", "contentSchema",
  "discriminator", "xml", "externalDocs", "example",
]);
const SUBSCHEMA = ["items", "additionalProperties", "propertyNames", "not", "contains", "if", "then", "else"];
const SUBSCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "prefixItems"];
const SUBSCHEMA_MAPS = ["properties", "patternProperties", "$defs", "dependentSchemas"];

function checkSchema(schema: unknown, where: string, report: Report): void {
  if (typeof schema === "boolean") return;
  if (!isObject(schema)) return report(where, "a schema must be an object or boolean");
  for (const key of Object.keys(schema)) if (!SCHEMA_KEYWORDS.has(key) && !key.startsWith("x-")) report(where, `unknown schema keyword ${key}`);
  const type = schema.type;
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    if (types.length === 0 || types.some((t) => !JSON_TYPES.includes(String(t))) || new Set(types).size !== types.length) report(`${where}/type`, `bad type ${JSON.stringify(type)}`);
  }
  for (const key of ["description", "format", "pattern", "contentEncoding", "contentMediaType", "$ref", "title"]) {
    if (schema[key] !== undefined && typeof schema[key] !== "string") report(`${where}/${key}`, "must be a string");
  }
  if (typeof schema.pattern === "string") {
    try {
      new RegExp(schema.pattern, "u");
    } catch {
      report(`${where}/pattern`, "not an ECMA-262 regex");
    }
  }
  if (schema.enum !== undefined && (!Array.isArray(schema.enum) || schema.enum.length === 0)) report(`${where}/enum`, "must be a non-empty array");
  if (schema.required !== undefined && (!Array.isArray(schema.required) || schema.required.some((r) => typeof r !== "string"))) report(`${where}/required`, "must be an array of strings");
  for (const key of ["minimum", "maximum", "maxProperties", "minProperties"]) if (schema[key] !== undefined && typeof schema[key] !== "number") report(`${where}/${key}`, "must be a number");
  for (const key of SUBSCHEMA) if (schema[key] !== undefined) checkSchema(schema[key], `${where}/${key}`, report);
  for (const key of SUBSCHEMA_LISTS) {
    const list = schema[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) report(`${where}/${key}`, "must be a non-empty array");
    else list.forEach((s, i) => checkSchema(s, `${where}/${key}/${i}`, report));
  }
  for (const key of SUBSCHEMA_MAPS) {
    const map = schema[key];
    if (map === undefined) continue;
    if (!isObject(map)) report(`${where}/${key}`, "must be an object");
    else for (const [name, s] of Object.entries(map)) checkSchema(s, `${where}/${key}/${pointerEscape(name)}`, report);
  }
}

function templateNames(path: string): string[] | undefined {
  const names: string[] = [];
  let open = -1;
  for (let i = 0; i < path.length; i++) {
    if (path[i] === "{") {
      if (open >= 0) return undefined;
      open = i;
    } else if (path[i] === "}") {
      if (open < 0 || i === open + 1) return undefined;
      names.push(path.slice(open + 1, i));
      open = -1;
    }
  }
  return open >= 0 ? undefined : names;
}

function checkKeys(object: Record<string, unknown>, where: string, allowed: readonly string[], report: Report): void {
  for (const key of Object.keys(object)) if (!allowed.includes(key) && !key.startsWith("x-")) report(where, `unexpected field ${key}`);
}

function walk(value: unknown, where: string, visit: (value: unknown, where: string) => void): void {
  visit(value, where);
  if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${where}/${i}`, visit));
  else if (isObject(value)) for (const [key, item] of Object.entries(value)) walk(item, `${where}/${pointerEscape(key)}`, visit);
}

function resolvePointer(doc: unknown, pointer: string): unknown {
  let current: unknown = doc;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(current) || !(key in current)) return undefined;
    current = current[key];
  }
  return current;
}

function pointerEscape(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
