import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parseTemplate } from "../../codegen/http-rule/parse-template.js";
import type { AnyBinding } from "../../src/binding.js";
import { ConfigError, configFromObject } from "../../src/config/load-config.js";
import { DOCS_CONTENT_SECURITY_POLICY } from "../../src/docs/docs-page.js";
import { createDocsRoutes, type DocsRoutesOptions } from "../../src/docs/docs-routes.js";
import { readDocsAssets } from "../../src/docs/swagger-ui-assets.js";
import { demoGenerated } from "../e2e/support/gateway-harness.js";

const OPENAPI = readFileSync(new URL("../../generated/openapi.json", import.meta.url), "utf8");
const ASSETS = [{ name: "swagger-ui-bundle.js", contentType: "text/javascript; charset=utf-8", body: Buffer.from("bundle") }];

let demoBindings: readonly AnyBinding[];
beforeAll(async () => {
  demoBindings = (await demoGenerated()).bindings;
});

function docsConfig(docs: Record<string, unknown> = { enabled: true }) {
  return configFromObject({ docs }).docs;
}

function options(overrides: Partial<DocsRoutesOptions> = {}): DocsRoutesOptions {
  return { docs: docsConfig(), openApi: OPENAPI, generatedDir: "gen", bindings: demoBindings, apiKeyHeader: "x-api-key", assets: ASSETS, ...overrides };
}

/** A demo binding moved to another method and path template. */
function bindingAt(httpMethod: string, pattern: string): AnyBinding {
  return { ...demoBindings[0], httpMethod, pattern, template: parseTemplate(pattern), service: "team.v1.Docs", method: "Get", source: "team/v1/docs.proto:12" };
}

describe("createDocsRoutes", () => {
  it("serves nothing when the docs are off (the default), even without an openapi.json", () => {
    expect(configFromObject({}).docs).toEqual({ enabled: false, path: "/docs", openApiPath: "/openapi.json" });
    expect(createDocsRoutes(options({ docs: configFromObject({}).docs, openApi: undefined }))).toEqual([]);
  });

  it("serves the page, the document as loaded (byte for byte) and the page's assets under PATH/assets/", () => {
    const routes = createDocsRoutes(options());
    expect(routes.map((route) => route.path)).toEqual(["/docs", "/openapi.json", "/docs/assets/swagger-ui-bundle.js"]);
    const [page, document, asset] = routes;
    expect(page.headers).toMatchObject({ "content-type": "text/html; charset=utf-8", "content-security-policy": DOCS_CONTENT_SECURITY_POLICY });
    expect(document.body.toString("utf8")).toBe(OPENAPI);
    expect(document.headers["content-type"]).toBe("application/json");
    expect(asset.body.toString()).toBe("bundle");
  });

  it("the page loads only its own assets and tells the start script where the document is and which API-key header to use", () => {
    const docs = docsConfig({ enabled: true, path: "/api/reference", openApiPath: "/api/openapi.json" });
    const html = createDocsRoutes(options({ docs, apiKeyHeader: "x-team-key" }))[0].body.toString();
    expect(html).toContain('data-openapi="/api/openapi.json"');
    expect(html).toContain('data-api-key-header="x-team-key"');
    const sources = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((match) => match[1]);
    expect(sources.sort()).toEqual(["/api/reference/assets/docs-init.js", "/api/reference/assets/favicon-32x32.png", "/api/reference/assets/swagger-ui-bundle.js", "/api/reference/assets/swagger-ui.css"]);
    expect(html).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/i);
  });

  it("escapes the document's title in the page", () => {
    const document = JSON.stringify({ openapi: "3.1.0", info: { title: `</title><script>alert("x")</script>`, version: "1" }, paths: {} });
    const html = createDocsRoutes(options({ openApi: document }))[0].body.toString();
    expect(html).toContain("<title>&#60;/title&#62;&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;: API docs</title>");
  });

  it("fails the start, naming the folder and the fix, when docs are on and the folder has no openapi.json", () => {
    expect(() => createDocsRoutes(options({ openApi: undefined }))).toThrow(
      new ConfigError("docs.enabled is true, but gen/openapi.json does not exist: regenerate the folder with `protogate generate --out gen` (it writes openapi.json), or turn the docs off"),
    );
  });

  it("fails the start when openapi.json is not JSON, or not an object", () => {
    expect(() => createDocsRoutes(options({ openApi: "{" }))).toThrow(/gen\/openapi\.json is not valid JSON/);
    expect(() => createDocsRoutes(options({ openApi: "[]" }))).toThrow(/gen\/openapi\.json is not an OpenAPI document/);
  });

  it("the demo's routes and the default docs paths do not meet", () => {
    expect(createDocsRoutes(options())).toHaveLength(3);
  });

  it.each([
    ["a literal route on the page's path", "GET", "/docs", "docs.path /docs is matched by GET /docs (team.v1.Docs.Get, team/v1/docs.proto:12)"],
    ["a route of another method on the document's path", "POST", "/openapi.json", "docs.openApiPath /openapi.json is matched by POST /openapi.json"],
    ["a variable route over an asset", "GET", "/docs/assets/{file}", "docs.path /docs/assets/swagger-ui-bundle.js is matched by GET /docs/assets/{file}"],
    ["a catch-all route", "GET", "/{path=**}", "docs.path /docs is matched by GET /{path=**}"],
  ])("fails the start when a generated route would be hidden: %s", (_name, method, pattern, message) => {
    const bindings = [...demoBindings, bindingAt(method, pattern)];
    let thrown: unknown;
    try {
      createDocsRoutes(options({ bindings }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toContain(message);
    expect((thrown as Error).message).toContain("set docs.path / docs.openApiPath to paths no route matches, or turn the docs off");
  });

  it("a route on the docs' path under another prefix is no conflict (the docs can move out of its way)", () => {
    const bindings = [...demoBindings, bindingAt("GET", "/docs")];
    const docs = docsConfig({ enabled: true, path: "/gateway/docs" });
    expect(createDocsRoutes(options({ bindings, docs })).map((route) => route.path)).toContain("/gateway/docs");
  });
});

describe("readDocsAssets", () => {
  it("reads Swagger UI's bundle, style sheet and icon from swagger-ui-dist, and the page's start script", () => {
    const assets = readDocsAssets();
    expect(assets.map((asset) => [asset.name, asset.contentType])).toEqual([
      ["swagger-ui-bundle.js", "text/javascript; charset=utf-8"],
      ["swagger-ui.css", "text/css; charset=utf-8"],
      ["favicon-32x32.png", "image/png"],
      ["docs-init.js", "text/javascript; charset=utf-8"],
    ]);
    expect(assets[0].body.toString("utf8", 0, 2000)).toMatch(/SwaggerUIBundle/);
    // The start script never names another origin: "try it" goes to the page's own.
    expect(assets[3].body.toString()).toContain("window.location.origin");
    expect(assets[3].body.toString()).not.toMatch(/https?:\/\//);
  });
});

describe("the docs config", () => {
  it.each([
    [{ path: "docs" }, "docs.path: expected an absolute path"],
    [{ path: "/docs/" }, "docs.path: expected an absolute path"],
    [{ path: "/a b" }, "docs.path: expected an absolute path"],
    [{ path: "/docs/../x" }, "docs.path: a path cannot hold . or .. segments"],
    [{ openApiPath: "/docs" }, "docs.openApiPath: openApiPath must differ from path"],
    [{ openApiPath: "/docs/assets/openapi.json" }, "docs.openApiPath: openApiPath must differ from path and from the page's assets"],
    [{ enabled: "yes" }, "docs.enabled"],
    [{ theme: "dark" }, 'docs: unknown key(s) "theme"'],
  ])("refuses %j", (docs, message) => {
    expect(() => configFromObject({ docs })).toThrow(message);
  });
});
