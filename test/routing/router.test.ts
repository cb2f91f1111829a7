import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseTemplate } from "../../codegen/http-rule/parse-template.js";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { GrpcCode } from "../../src/errors/grpc-code.js";
import { createRouter, findRouteConflicts, type RouteDefinition, type RouteMatch } from "../../src/routing/router.js";
import type { PathTemplate, TemplateSegment, TemplateVariable } from "../../src/routing/template.js";
import { fuzzRuns } from "../support/fuzz.js";

const route = (httpMethod: string, pattern: string, value = `${httpMethod} ${pattern}`): RouteDefinition<string> => ({
  httpMethod,
  template: parseTemplate(pattern),
  value,
});

/** A match as compact data: "found value {a.b=x, ...}", "405 GET,POST" or "404". */
function describeMatch(m: RouteMatch<string>): string {
  if (m.kind === "notFound") return "404";
  if (m.kind === "methodNotAllowed") return `405 ${m.allow.join(",")}`;
  const vars = m.variables.map((v) => `${v.fieldPath.join(".")}=${v.value}`).join(", ");
  return vars === "" ? m.value : `${m.value} {${vars}}`;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("router: demo API", () => {
  const router = createRouter([
    route("GET", "/v1/{name=users/*/orders/*}", "GetOrder"),
    route("GET", "/v1/orders/{name}", "GetOrder_1"),
    route("GET", "/v1/{parent=users/*}/orders", "ListOrders"),
    route("POST", "/v1/{parent=users/*}/orders", "CreateOrder"),
    route("POST", "/v1/{name=users/*/orders/*}:cancel", "CancelOrder"),
    route("GET", "/v1/{name=users/*/orders/*}/items", "ListItems"),
    route("GET", "/v1/users/{user_id}", "GetUser"),
    route("GET", "/v1/users", "ListUsers"),
    route("POST", "/v1/users", "CreateUser"),
    route("PATCH", "/v1/users/{user.user_id}", "UpdateUser"),
    route("DELETE", "/v1/users/{user_id}", "DeleteUser"),
    route("POST", "/v1/users:search", "SearchUsers"),
    route("GET", "/v1/archive/{path=**}", "Archive"),
  ]);

  it.each([
    ["GET", "/v1/users/42", "GetUser {user_id=42}"],
    ["GET", "/v1/users", "ListUsers"],
    ["GET", "/v1/users/", "ListUsers"],
    ["GET", "/v1/user%73", "ListUsers"],
    ["GET", "/v1/users/a%20b%2Fc%3A", "GetUser {user_id=a b/c:}"],
    ["GET", "/v1/users/%E2%82%AC%F0%9F%98%80", "GetUser {user_id=€😀}"],
    ["GET", "/v1/users/a+b", "GetUser {user_id=a+b}"],
    ["GET", "/v1/users/a:b", "GetUser {user_id=a:b}"],
    ["PATCH", "/v1/users/7", "UpdateUser {user.user_id=7}"],
    ["DELETE", "/v1/users/7/", "DeleteUser {user_id=7}"],
    ["POST", "/v1/users:search", "SearchUsers"],
    ["POST", "/v1/users/:search", "SearchUsers"],
    ["POST", "/v1/users:search/", "SearchUsers"],
    ["POST", "/v1/users/u1/orders/o2:cancel", "CancelOrder {name=users/u1/orders/o2}"],
    ["POST", "/v1/users/u%2F1/orders/o%202:cancel", "CancelOrder {name=users/u%2F1/orders/o 2}"],
    // No GET route has the verb, so the whole last segment is the variable's.
    ["GET", "/v1/users/u1/orders/o2:cancel", "GetOrder {name=users/u1/orders/o2:cancel}"],
    ["GET", "/v1/users/u1/orders/o2", "GetOrder {name=users/u1/orders/o2}"],
    ["GET", "/v1/users/u1/orders", "ListOrders {parent=users/u1}"],
    ["POST", "/v1/users/u1/orders", "CreateOrder {parent=users/u1}"],
    ["GET", "/v1/users/u1/orders/o2/items", "ListItems {name=users/u1/orders/o2}"],
    ["GET", "/v1/orders/o%2F9", "GetOrder_1 {name=o/9}"],
    ["GET", "/v1/archive", "Archive {path=}"],
    ["GET", "/v1/archive/", "Archive {path=}"],
    ["GET", "/v1/archive/a/b%2Fc/d%20e", "Archive {path=a/b%2Fc/d e}"],
    ["GET", "/v1/archive/a%2fb%2F", "Archive {path=a%2fb%2F}"],
    ["GET", "/v1/archive/x:y", "Archive {path=x:y}"],
    ["GET", "/v1/archive/%252F", "Archive {path=%2F}"],
    // 405: the path matches routes of other methods only.
    ["PUT", "/v1/users", "405 GET,POST"],
    ["HEAD", "/v1/users", "405 GET,POST"],
    ["get", "/v1/users", "405 GET,POST"],
    ["POST", "/v1/users/9", "405 DELETE,GET,PATCH"],
    ["GET", "/v1/users:search", "405 POST"],
    ["PUT", "/v1/users/u1/orders/o2:cancel", "405 GET,POST"],
    // 404
    ["POST", "/v1/users%3Asearch", "404"],
    ["GET", "/nope", "404"],
    ["GET", "/", "404"],
    ["GET", "", "404"],
    ["GET", "v1/users", "404"],
    ["GET", "*", "404"],
    ["GET", "/v1/users//", "404"],
    ["GET", "//v1/users", "404"],
    ["GET", "/v1//users", "404"],
    ["GET", "/v1/archive//a", "404"],
    ["GET", "/v1/archive/a//", "404"],
    ["GET", "/v1/users/u1/orders/", "ListOrders {parent=users/u1}"],
    // "/orders/:cancel" is "/orders:cancel" for verb routes (no segment for the order id), so only
    // GetOrder matches, binding ":cancel" as the order id.
    ["POST", "/v1/users/u1/orders/:cancel", "405 GET"],
    ["GET", "/v1/users/u1/orders/:cancel", "GetOrder {name=users/u1/orders/:cancel}"],
  ])("%s %s -> %s", (method, path, expected) => {
    expect(describeMatch(router.match(method, path))).toBe(expected);
  });
});

describe("router: precedence", () => {
  const tables: Array<{ patterns: string[]; cases: Array<[path: string, expected: string]> }> = [
    {
      patterns: ["/v1/users/me", "/v1/users/{id}"],
      cases: [
        ["/v1/users/me", "/v1/users/me"],
        ["/v1/users/m%65", "/v1/users/me"],
        ["/v1/users/you", "/v1/users/{id} {id=you}"],
      ],
    },
    {
      patterns: ["/v1/{a}/x", "/v1/**"],
      cases: [
        ["/v1/q/x", "/v1/{a}/x {a=q}"],
        ["/v1/q/y", "/v1/**"],
        ["/v1", "/v1/**"],
      ],
    },
    {
      patterns: ["/v1/*/lit", "/v1/lit/*"],
      cases: [
        ["/v1/lit/lit", "/v1/lit/*"],
        ["/v1/x/lit", "/v1/*/lit"],
      ],
    },
    {
      // A template ending at the path's end beats a `**` matching zero segments.
      patterns: ["/v1/files", "/v1/files/{p=**}"],
      cases: [
        ["/v1/files", "/v1/files"],
        ["/v1/files/", "/v1/files"],
        ["/v1/files/a", "/v1/files/{p=**} {p=a}"],
      ],
    },
    {
      // Backtracking out of a literal branch that fails deeper down.
      patterns: ["/a/b/c", "/a/*/d", "/a/{x=**}"],
      cases: [
        ["/a/b/c", "/a/b/c"],
        ["/a/b/d", "/a/*/d"],
        ["/a/b/e", "/a/{x=**} {x=b/e}"],
      ],
    },
    {
      patterns: ["/", "/**"],
      cases: [
        ["/", "/"],
        ["/x", "/**"],
      ],
    },
    {
      // Verb routes first; if none matches, the verbless routes see the whole path.
      patterns: ["/v1/{p=**}", "/v1/{name}:cancel", "/v1/{id}:do"],
      cases: [
        ["/v1/a:cancel", "/v1/{name}:cancel {name=a}"],
        ["/v1/a:b:cancel", "/v1/{name}:cancel {name=a:b}"],
        ["/v1/a/b:cancel", "/v1/{p=**} {p=a/b:cancel}"],
        ["/v1/a:other", "/v1/{p=**} {p=a:other}"],
        ["/v1/a:%64o", "/v1/{id}:do {id=a}"],
        ["/v1/a%3Acancel", "/v1/{p=**} {p=a:cancel}"],
        ["/v1/:cancel", "/v1/{p=**} {p=:cancel}"],
      ],
    },
    {
      patterns: ["/v1/{p=**}:get", "/**:get"],
      cases: [
        ["/v1:get", "/v1/{p=**}:get {p=}"],
        ["/v1/:get", "/v1/{p=**}:get {p=}"],
        ["/v1/a/b:get", "/v1/{p=**}:get {p=a/b}"],
        ["/:get", "/**:get"],
        ["/x:get", "/**:get"],
      ],
    },
  ];

  for (const { patterns, cases } of tables) {
    for (const order of ["declared", "reversed"] as const) {
      const ordered = order === "declared" ? patterns : [...patterns].reverse();
      const router = createRouter(ordered.map((p) => route("GET", p, p)));
      it.each(cases)(`${patterns.join(" | ")} (${order}): %s -> %s`, (path, expected) => {
        expect(describeMatch(router.match("GET", path))).toBe(expected);
      });
    }
  }
});

describe("router: errors and limits", () => {
  const router = createRouter([route("GET", "/v1/users/{id}"), route("GET", "/v1/{p=**}")]);

  it.each([
    ["/v1/users/%zz", 3, "%zz"],
    ["/v1/users/%4", 3, "%4"],
    ["/v1/users/%", 3, "%"],
    ["/v1/users/ab%4g", 3, "ab%4g"],
    ["/v1/users/%C0%AF", 3, "%C0%AF"],
    ["/v1/users/%ED%A0%80", 3, "%ED%A0%80"],
    ["/v1/users/%FF", 3, "%FF"],
    ["/v1/users/%E2%82", 3, "%E2%82"],
    ["/nomatch/%zz/x", 2, "%zz"],
    ["/v1/users/1:%zz", 3, "1:%zz"],
  ])("%s -> 400 PG_ERR_BAD_PATH naming segment %i", (path, index, segment) => {
    const error = thrown(() => router.match("GET", path));
    expect(error).toBeInstanceOf(GatewayError);
    const e = error as GatewayError;
    expect(e.code).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(e.reason).toBe("PG_ERR_BAD_PATH");
    expect(e.message).toContain(`segment ${index} ${JSON.stringify(segment)}`);
  });

  it("truncates a long bad segment in the message", () => {
    const error = thrown(() => router.match("GET", `/v1/${"a".repeat(500)}%zz`)) as GatewayError;
    expect(error.reason).toBe("PG_ERR_BAD_PATH");
    expect(error.message.length).toBeLessThan(200);
  });

  it("rejects paths over the length and segment limits with a 400", () => {
    const ok = `/v1/${"a".repeat(8188)}`;
    expect(ok.length).toBe(8192);
    expect(describeMatch(router.match("GET", ok))).toBe(`GET /v1/{p=**} {p=${"a".repeat(8188)}}`);
    const tooLong = thrown(() => router.match("GET", `${ok}b`)) as GatewayError;
    expect(tooLong.reason).toBe("PG_ERR_BAD_PATH");
    expect(tooLong.message).toMatch(/longer than 8192/);

    const segments = (n: number) => `/${Array.from({ length: n }, () => "s").join("/")}`;
    expect(router.match("GET", segments(256)).kind).toBe("notFound");
    const tooMany = thrown(() => router.match("GET", segments(257))) as GatewayError;
    expect(tooMany.reason).toBe("PG_ERR_BAD_PATH");
    expect(tooMany.message).toMatch(/more than 256 segments/);
    const deep = createRouter([route("GET", "/{p=**}")]);
    expect(deep.match("GET", segments(256))).toMatchObject({ kind: "found", variables: [{ value: segments(256).slice(1) }] });
  });

  it("honours custom limits", () => {
    const small = createRouter([route("GET", "/{p=**}")], { maxPathLength: 10, maxSegments: 2 });
    expect(small.match("GET", "/a/b").kind).toBe("found");
    expect((thrown(() => small.match("GET", "/a/b/c")) as GatewayError).reason).toBe("PG_ERR_BAD_PATH");
    expect((thrown(() => small.match("GET", "/aaaaaaaaaa")) as GatewayError).reason).toBe("PG_ERR_BAD_PATH");
  });

  it("refuses two routes of the same method and shape", () => {
    expect(() => createRouter([route("GET", "/v1/users/{id}"), route("GET", "/v1/users/{name}")])).toThrow(/two routes for GET \/v1\/users\/\*/);
    expect(() => createRouter([route("GET", "/v1/{p=**}:x"), route("GET", "/v1/**:x")])).toThrow(/two routes/);
    expect(() => createRouter([route("GET", "/v1/users/{id}"), route("PUT", "/v1/users/{id}"), route("GET", "/v1/users/{id}:x")])).not.toThrow();
  });
});

// ---- property tests -------------------------------------------------------------------------

/** Client-side encoding of a single-segment value: everything but [-_.~0-9a-zA-Z]. */
function encodeSingle(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Client-side encoding of a multi-segment value: everything but [-_.~/0-9a-zA-Z]. */
function encodeMulti(value: string): string {
  return value.split("/").map(encodeSingle).join("/");
}

const text = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{1,5}$/),
  fc.string({ unit: fc.constantFrom(..."/:%+?#*{}= .~é€\u{1F600}"), minLength: 1, maxLength: 4 }),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 4 }),
);
/** A segment value for a multi-segment variable: no "/" of its own, but maybe an explicit %2F. */
const multiPiece = fc
  .tuple(fc.array(text.map((s) => s.replaceAll("/", "_")), { minLength: 1, maxLength: 3 }), fc.constantFrom("%2F", "%2f"))
  .map(([parts, slash]) => ({ encoded: parts.map(encodeSingle).join(slash), decoded: parts.join(slash) }));

type Piece =
  | { kind: "literal"; value: string }
  | { kind: "single"; value: string }
  | { kind: "multi"; segments: Array<{ kind: "literal"; value: string } | { kind: "star"; encoded: string; decoded: string }>; deep: Array<{ encoded: string; decoded: string }> | null }
  | { kind: "deep"; values: string[] };

/** A random template plus concrete values for it. */
const scenario = fc
  .record({
    pieces: fc.array(
      fc.oneof(
        text.map((value): Piece => ({ kind: "literal", value })),
        text.map((value): Piece => ({ kind: "single", value })),
        fc
          .record({
            segments: fc.array(
              fc.oneof(
                text.map((value) => ({ kind: "literal" as const, value })),
                multiPiece.map((p) => ({ kind: "star" as const, ...p })),
              ),
              { minLength: 2, maxLength: 3 },
            ),
          })
          .map((x): Piece => ({ kind: "multi", segments: x.segments, deep: null })),
      ),
      { minLength: 1, maxLength: 4 },
    ),
    tail: fc.oneof(
      fc.constant(null),
      fc.array(text, { maxLength: 3 }).map((values): Piece => ({ kind: "deep", values })),
      fc
        .record({ segments: fc.array(text.map((value) => ({ kind: "literal" as const, value })), { maxLength: 1 }), deep: fc.array(multiPiece, { maxLength: 3 }) })
        .map((x): Piece => ({ kind: "multi", segments: x.segments, deep: x.deep })),
    ),
    verb: fc.option(text, { nil: null }),
    trailingSlash: fc.boolean(),
  })
  .map(({ pieces, tail, verb, trailingSlash }) => {
    const all = tail === null ? pieces : [...pieces, tail];
    const segments: TemplateSegment[] = [];
    const variables: TemplateVariable[] = [];
    const pathParts: string[] = [];
    const expected: Array<{ fieldPath: string[]; value: string }> = [];
    all.forEach((piece, i) => {
      const fieldPath = [`f${i}`];
      switch (piece.kind) {
        case "literal":
          segments.push({ kind: "literal", value: piece.value });
          pathParts.push(encodeSingle(piece.value));
          break;
        case "single":
          variables.push({ fieldPath, start: segments.length, end: segments.length + 1 });
          segments.push({ kind: "wildcard" });
          pathParts.push(encodeSingle(piece.value));
          expected.push({ fieldPath, value: piece.value });
          break;
        case "deep":
          segments.push({ kind: "deepWildcard" });
          pathParts.push(...piece.values.map(encodeSingle));
          break;
        case "multi": {
          const start = segments.length;
          const decoded: string[] = [];
          for (const s of piece.segments) {
            if (s.kind === "literal") {
              segments.push(s);
              // A literal inside a multi-segment variable comes back decoded except "/" (%2F).
              pathParts.push(encodeSingle(s.value));
              decoded.push(s.value.replaceAll("/", "%2F"));
            } else {
              segments.push({ kind: "wildcard" });
              pathParts.push(s.encoded);
              decoded.push(s.decoded);
            }
          }
          if (piece.deep !== null) {
            segments.push({ kind: "deepWildcard" });
            for (const d of piece.deep) {
              pathParts.push(d.encoded);
              decoded.push(d.decoded);
            }
          }
          variables.push({ fieldPath, start, end: segments.length });
          expected.push({ fieldPath, value: decoded.join("/") });
          break;
        }
      }
    });
    const template: PathTemplate = { segments, variables, verb };
    let path = `/${pathParts.join("/")}`;
    if (verb !== null) path += `:${encodeSingle(verb)}`;
    if (trailingSlash && path !== "/") path += "/";
    return { template, path, expected };
  });

describe("router properties", () => {
  it("matches a path built from a template and values, giving the values back", () => {
    fc.assert(
      fc.property(scenario, ({ template, path, expected }) => {
        const router = createRouter([{ httpMethod: "POST", template, value: "the-route" }]);
        const m = router.match("POST", path);
        expect(m).toEqual({ kind: "found", value: "the-route", variables: expected });
        expect(router.match("GET", path)).toEqual({ kind: "methodNotAllowed", allow: ["POST"] });
      }),
      fuzzRuns(1000),
    );
  });

  // Differential test against a naive reference: every template tried one by one, the best kept.
  const vocabulary = ["a", "b", "%61", "x%2Fy", "a:x", "b:y", ":x", "q%3Ax", "c"];
  const smallSegment: fc.Arbitrary<TemplateSegment> = fc.oneof(
    fc.constantFrom("a", "b", "x/y").map((value): TemplateSegment => ({ kind: "literal", value })),
    fc.constant<TemplateSegment>({ kind: "wildcard" }),
  );
  const smallTemplate: fc.Arbitrary<PathTemplate> = fc
    .record({
      segments: fc.array(smallSegment, { maxLength: 4 }),
      // A `**` anywhere (once), or none.
      deep: fc.option(fc.nat(), { nil: undefined }),
      verb: fc.constantFrom(null, null, "x", "y"),
      variableStart: fc.nat(),
      variableLength: fc.nat(),
    })
    .map(({ segments, deep, verb, variableStart, variableLength }) => {
      const all: TemplateSegment[] = [...segments];
      if (deep !== undefined) all.splice(deep % (segments.length + 1), 0, { kind: "deepWildcard" });
      // One variable over a random run of the template's segments, when it has any.
      const start = all.length === 0 ? 0 : variableStart % all.length;
      const end = start + 1 + (variableLength % (all.length - start));
      const variables: TemplateVariable[] = all.length === 0 ? [] : [{ fieldPath: ["v"], start, end }];
      return { segments: all, variables, verb: all.length === 0 ? null : verb };
    });

  it("agrees with a naive reference matcher on precedence and values", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(smallTemplate, { maxLength: 8, selector: (t) => shapeKey(t) }),
        fc.array(fc.constantFrom(...vocabulary), { maxLength: 5 }),
        fc.boolean(),
        (templates, parts, trailingSlash) => {
          const path = `/${parts.join("/")}${trailingSlash && parts.length > 0 ? "/" : ""}`;
          const router = createRouter(templates.map((template, i) => ({ httpMethod: "GET", template, value: i })));
          const expected = referenceMatch(templates, path);
          const actual = router.match("GET", path);
          if (expected === undefined) expect(actual).toEqual({ kind: "notFound" });
          else expect(actual).toEqual({ kind: "found", value: expected.index, variables: expected.variables });
        },
      ),
      fuzzRuns(3000),
    );
  });

  it("agrees with the reference across methods: found, 405 with the sorted Allow list, or 404", () => {
    const methods = ["GET", "POST", "DELETE", "PATCH"] as const;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...methods), smallTemplate), { maxLength: 8 }),
        fc.array(fc.constantFrom(...vocabulary), { maxLength: 5 }),
        fc.constantFrom(...methods, "PUT"),
        (routes, parts, method) => {
          // Same-shaped templates of one method are a configuration error; keep the first of each.
          const seen = new Set<string>();
          const unique = routes.filter(([m, t]) => !seen.has(`${m} ${shapeKey(t)}`) && seen.add(`${m} ${shapeKey(t)}`));
          const path = `/${parts.join("/")}`;
          const router = createRouter(unique.map(([httpMethod, template], i) => ({ httpMethod, template, value: i })));
          const ofMethod = (m: string) => unique.map((r, i) => ({ r, i })).filter(({ r }) => r[0] === m);
          const own = ofMethod(method);
          const found = referenceMatch(own.map(({ r }) => r[1]), path);
          const actual = router.match(method, path);
          if (found !== undefined) {
            expect(actual).toEqual({ kind: "found", value: own[found.index].i, variables: found.variables });
            return;
          }
          const allow = methods.filter((m) => m !== method && referenceMatch(ofMethod(m).map(({ r }) => r[1]), path) !== undefined);
          expect(actual).toEqual(allow.length === 0 ? { kind: "notFound" } : { kind: "methodNotAllowed", allow: [...allow].sort() });
        },
      ),
      fuzzRuns(1000),
    );
  });
});

function shapeKey(t: PathTemplate): string {
  return JSON.stringify([t.segments, t.verb]);
}

function referenceMatch(templates: PathTemplate[], path: string): { index: number; variables: Array<{ fieldPath: readonly string[]; value: string }> } | undefined {
  const body = path.length > 1 && path.endsWith("/") ? path.slice(1, -1) : path.slice(1);
  const raw = body === "" ? [] : body.split("/");
  if (raw.some((s) => s === "")) return undefined;
  const candidates: Array<{ index: number; raw: string[] }> = [];
  const last = raw.at(-1);
  const colon = last === undefined ? -1 : last.lastIndexOf(":");
  if (last !== undefined && colon !== -1) {
    const verb = decodeURIComponent(last.slice(colon + 1));
    const prefix = colon === 0 ? raw.slice(0, -1) : [...raw.slice(0, -1), last.slice(0, colon)];
    templates.forEach((t, index) => {
      if (t.verb === verb && matches(t, prefix)) candidates.push({ index, raw: prefix });
    });
  }
  if (candidates.length === 0) {
    templates.forEach((t, index) => {
      if (t.verb === null && matches(t, raw)) candidates.push({ index, raw });
    });
  }
  if (candidates.length === 0) return undefined;
  candidates.sort((a, b) => compareSpecificity(templates[a.index], templates[b.index]));
  const best = candidates[0];
  const t = templates[best.index];
  return {
    index: best.index,
    variables: t.variables.map((v) => {
      // Segments after the `**` count from the end of the path.
      const deep = t.segments.findIndex((s) => s.kind === "deepWildcard");
      const at = (i: number) => (deep < 0 || i <= deep ? i : best.raw.length - t.segments.length + i);
      const multi = v.end - v.start !== 1 || (deep >= v.start && deep < v.end);
      const pieces = best.raw.slice(at(v.start), at(v.end));
      const value = multi ? pieces.map((p) => p.split(/(%2[fF])/).map((x, i) => (i % 2 === 1 ? x : decodeURIComponent(x))).join("")).join("/") : decodeURIComponent(pieces[0]);
      return { fieldPath: v.fieldPath, value };
    }),
  };
}

/** Whether `t` matches: segments before a `**` from the start of the path, those after it at its end. */
function matches(t: PathTemplate, raw: string[]): boolean {
  const decoded = raw.map((s) => decodeURIComponent(s));
  const one = (s: TemplateSegment, value: string) => s.kind !== "literal" || s.value === value;
  const deep = t.segments.findIndex((s) => s.kind === "deepWildcard");
  if (deep < 0) return t.segments.length === decoded.length && t.segments.every((s, i) => one(s, decoded[i]));
  const tail = t.segments.slice(deep + 1);
  if (decoded.length < deep + tail.length) return false;
  return t.segments.slice(0, deep).every((s, i) => one(s, decoded[i])) && tail.every((s, i) => one(s, decoded[decoded.length - tail.length + i]));
}

/**
 * Left to right: literal < `*` < end of template < `**` (smaller is more specific). Two templates
 * that agree up to a `**` (both have it there): the longer tail wins, then the tails compare
 * left to right the same way.
 */
function compareSpecificity(a: PathTemplate, b: PathTemplate): number {
  const rank = (t: PathTemplate, i: number) => (i >= t.segments.length ? 1.5 : { literal: 0, wildcard: 1, deepWildcard: 2 }[t.segments[i].kind]);
  for (let i = 0; i < Math.max(a.segments.length, b.segments.length); i++) {
    const d = rank(a, i) - rank(b, i);
    if (d !== 0) return d;
    if (rank(a, i) === 2) {
      const tailA = a.segments.slice(i + 1);
      const tailB = b.segments.slice(i + 1);
      if (tailA.length !== tailB.length) return tailB.length - tailA.length;
      return compareSpecificity({ ...a, segments: tailA, variables: [] }, { ...b, segments: tailB, variables: [] });
    }
  }
  return 0;
}

describe("router: conflicts", () => {
  it("findRouteConflicts pairs each route with the earlier one of the same method and shape, as createRouter rejects them", () => {
    const routes = [
      route("GET", "/v1/{name=projects/*/sessions/*}", "ReadRows"),
      route("GET", "/v1/{other=projects/*/sessions/*}", "SplitReadStream"),
      route("POST", "/v1/{name=projects/*/sessions/*}", "Post"), // another method
      route("GET", "/v1/{name=projects/*/sessions/*}:cancel", "Cancel"), // another verb
      route("GET", "/v1/projects/{p}/sessions/me", "Me"), // overlaps, but the literal wins: no conflict
      route("GET", "/v1/projects/*/sessions/{id}", "Third"),
    ];
    expect(findRouteConflicts(routes).map(({ first, second }) => [first.value, second.value])).toEqual([
      ["ReadRows", "SplitReadStream"],
      ["ReadRows", "Third"],
    ]);
    expect(() => createRouter(routes)).toThrow("two routes for GET /v1/projects/*/sessions/*: the second can never match");
    expect(findRouteConflicts(routes.slice(2))).toEqual([]);
  });
});
