import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTemplate } from "../../../codegen/http-rule/parse-template.js";
import type { AnyBinding } from "../../../src/binding.js";
import { ConfigError } from "../../../src/config/load-config.js";
import { readGraphiqlAssets } from "../../../src/graphql/graphiql/graphiql-assets.js";
import { GRAPHIQL_CONTENT_SECURITY_POLICY, renderGraphiqlPage } from "../../../src/graphql/graphiql/graphiql-page.js";
import { createGraphiqlRoutes, registerGraphiqlRoutes, type GraphiqlRoutesOptions } from "../../../src/graphql/graphiql/graphiql-routes.js";
import { demoGenerated } from "../../e2e/support/gateway-harness.js";

const JS = "text/javascript; charset=utf-8";
const ASSETS = [
  { name: "graphiql.min.js", contentType: JS, body: Buffer.from("bundle") },
  { name: "graphiql.min.css", contentType: "text/css; charset=utf-8", body: Buffer.from("sheet") },
];

function options(overrides: Partial<GraphiqlRoutesOptions> = {}): GraphiqlRoutesOptions {
  return { pagePath: "/graphiql", endpoint: "/graphql", title: "Demo API", assets: ASSETS, ...overrides };
}

/** A demo binding moved to another method and path template. */
function bindingAt(demo: AnyBinding, httpMethod: string, pattern: string): AnyBinding {
  return { ...demo, httpMethod, pattern, template: parseTemplate(pattern), service: "team.v1.Tools", method: "Get", source: "team/v1/tools.proto:7" };
}

describe("renderGraphiqlPage", () => {
  it("loads only its own assets, React before GraphiQL, the start script last, with no inline script or style", () => {
    const html = renderGraphiqlPage({ title: "Demo API", endpoint: "/api/graphql", assetsPath: "/tools/graphiql/assets" });
    const scripts = [...html.matchAll(/<script src="([^"]*)"><\/script>/g)].map((match) => match[1]);
    expect(scripts).toEqual([
      "/tools/graphiql/assets/react.production.min.js",
      "/tools/graphiql/assets/react-dom.production.min.js",
      "/tools/graphiql/assets/graphiql.min.js",
      "/tools/graphiql/assets/graphiql-operation-kind.js",
      "/tools/graphiql/assets/graphiql-init.js",
    ]);
    const sheets = [...html.matchAll(/<link rel="stylesheet" href="([^"]*)">/g)].map((match) => match[1]);
    expect(sheets).toEqual(["/tools/graphiql/assets/graphiql.min.css", "/tools/graphiql/assets/graphiql-page.css"]);
    expect(html).toContain('data-endpoint="/api/graphql"');
    expect(html).toContain("<title>Demo API: GraphiQL</title>");
    expect(html).toContain('<link rel="icon" href="data:,">');
    expect(html).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=|https?:\/\//i);
  });

  it("escapes the title and the paths", () => {
    const html = renderGraphiqlPage({ title: `</title><script>alert("x")</script>`, endpoint: `/g"ql`, assetsPath: "/a" });
    expect(html).toContain("<title>&#60;/title&#62;&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;: GraphiQL</title>");
    expect(html).toContain('data-endpoint="/g&#34;ql"');
  });

  it("its CSP allows this origin only, plus data: fonts and images (GraphiQL's style sheet embeds its fonts)", () => {
    expect(GRAPHIQL_CONTENT_SECURITY_POLICY).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });
});

describe("createGraphiqlRoutes", () => {
  it("serves the page at pagePath and its files under PAGE/assets/ (or assetsPath)", () => {
    const routes = createGraphiqlRoutes(options());
    expect(routes.map((route) => route.path)).toEqual(["/graphiql", "/graphiql/assets/graphiql.min.js", "/graphiql/assets/graphiql.min.css"]);
    expect(routes[0].headers).toEqual({ "content-type": "text/html; charset=utf-8", "content-security-policy": GRAPHIQL_CONTENT_SECURITY_POLICY, "referrer-policy": "no-referrer" });
    expect(routes[1]).toEqual({ path: "/graphiql/assets/graphiql.min.js", body: Buffer.from("bundle"), headers: { "content-type": JS } });
    const moved = createGraphiqlRoutes(options({ assetsPath: "/static/gql" }));
    expect(moved.map((route) => route.path)).toEqual(["/graphiql", "/static/gql/graphiql.min.js", "/static/gql/graphiql.min.css"]);
    expect(moved[0].body.toString()).toContain('src="/static/gql/graphiql-init.js"');
  });

  it("the demo's routes and the default paths do not meet", async () => {
    const { bindings } = await demoGenerated();
    expect(createGraphiqlRoutes(options({ bindings }))).toHaveLength(3);
  });

  it.each([
    ["a literal route on the page's path", "GET", "/graphiql", "graphql.graphiqlPath /graphiql is matched by GET /graphiql (team.v1.Tools.Get, team/v1/tools.proto:7)"],
    ["a POST route on an asset's path", "POST", "/graphiql/assets/{file}", "graphql.graphiqlPath /graphiql/assets/graphiql.min.js is matched by POST /graphiql/assets/{file}"],
  ])("refuses to start when %s", async (_name, method, pattern, message) => {
    const { bindings } = await demoGenerated();
    const call = () => createGraphiqlRoutes(options({ bindings: [...bindings, bindingAt(bindings[0], method, pattern)] }));
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(message);
  });
});

describe("readGraphiqlAssets", () => {
  it("reads React, ReactDOM and GraphiQL's UMD builds from their packages, and the page's own files", () => {
    const assets = readGraphiqlAssets();
    expect(assets.map((asset) => [asset.name, asset.contentType])).toEqual([
      ["react.production.min.js", JS],
      ["react-dom.production.min.js", JS],
      ["graphiql.min.js", JS],
      ["graphiql.min.css", "text/css; charset=utf-8"],
      ["graphiql-operation-kind.js", JS],
      ["graphiql-init.js", JS],
      ["graphiql-page.css", "text/css; charset=utf-8"],
    ]);
    const text = (name: string) => assets.find((asset) => asset.name === name)?.body.toString("utf8") ?? "";
    expect(text("react.production.min.js")).toMatch(/React v18\.3\.1|18\.3\.1/);
    expect(text("graphiql.min.js")).toContain("GraphiQL");
    // The start script sends to the page's endpoint on this origin, as GraphQL over HTTP asks.
    const init = text("graphiql-init.js");
    expect(init).toContain('getAttribute("data-endpoint")');
    expect(init).toContain('"content-type": "application/json"');
    expect(init).toContain('accept: "application/graphql-response+json"');
    expect(init).toContain("shouldPersistHeaders: false");
    expect(init).not.toMatch(/https?:\/\//);
  });
});

describe("registerGraphiqlRoutes (a Fastify instance of its own)", () => {
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    app = Fastify();
    registerGraphiqlRoutes(app, options());
    url = await app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(() => app.close());

  it("GET of the page: the HTML, its CSP, an ETag and no-cache; a matching If-None-Match gets 304", async () => {
    const page = await app.inject({ method: "GET", url: "/graphiql" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["content-security-policy"]).toBe(GRAPHIQL_CONTENT_SECURITY_POLICY);
    expect(page.headers["cache-control"]).toBe("no-cache");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.headers["x-request-id"]).toEqual(expect.any(String));
    expect(page.body).toContain('data-endpoint="/graphql"');
    const etag = String(page.headers.etag);
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    const again = await app.inject({ method: "GET", url: "/graphiql", headers: { "if-none-match": `W/${etag}` } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe("");
    expect(again.headers.etag).toBe(etag);
  });

  it("GET and HEAD of an asset: its bytes and content type, with its own ETag", async () => {
    const asset = await app.inject({ method: "GET", url: "/graphiql/assets/graphiql.min.js" });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers["content-type"]).toBe(JS);
    expect(asset.body).toBe("bundle");
    // HEAD over a real connection (the injector does not drop a HEAD answer's body; Node does).
    const head = await fetch(`${url}/graphiql/assets/graphiql.min.css`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(head.headers.get("content-length")).toBe("5");
    expect(await head.text()).toBe("");
    const page = await app.inject({ method: "GET", url: "/graphiql" });
    expect(head.headers.get("etag")).not.toBe(page.headers.etag);
  });

  it.each([["/graphiql/assets/nothing.js"], ["/graphiql/assets/graphiql.min.js.map"], ["/graphiql/assets/deeper/react.production.min.js"]])("an unknown asset %s is a Status 404", async (url) => {
    const response = await app.inject({ method: "GET", url });
    expect(response.statusCode).toBe(404);
    expect(response.headers["content-type"]).toBe("application/json");
    const body = JSON.parse(response.body) as { code: number; details: { reason?: string }[] };
    expect(body.code).toBe(5);
    expect(body.details[0]?.reason).toBe("PG_ERR_ROUTE_NOT_FOUND");
  });

  it("other methods are a Status 405 with Allow", async () => {
    const response = await app.inject({ method: "POST", url: "/graphiql", payload: "{}", headers: { "content-type": "application/json" } });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe("GET, HEAD");
    expect(JSON.parse(response.body)).toMatchObject({ code: 12, details: expect.arrayContaining([expect.objectContaining({ reason: "PG_ERR_METHOD_NOT_ALLOWED" })]) });
  });
});
