import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { buildSchema } from "graphql";
import { createHandler } from "graphql-http/lib/use/fastify";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { registerGraphiqlRoutes } from "../../src/graphql/graphiql/graphiql-routes.js";
import { describeWithBrowser, launchChromium, type TestBrowser } from "./support/browser.js";
import { runQuery as run, setEditor } from "./support/graphiql-page.js";

/** GraphiQL renders in a moment here; a slow shared CI core gets room (each wait, and each test). */
const UI_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 60_000;

/**
 * A stand-in for the gateway's GraphQL endpoint (graphql-http on a tiny schema): what the page
 * sends is recorded, and `whoami` echoes the Authorization header, so a header typed into
 * GraphiQL's headers editor shows in the result. The page against the gateway's real endpoint (the
 * demo) is graphiql-demo-browser.e2e.test.ts.
 */
const SCHEMA = buildSchema(`
  type Query {
    hello(name: String!): String!
    whoami: String
  }
`);

interface SentRequest {
  readonly method: string;
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  readonly authorization: string | undefined;
}

describeWithBrowser("the GraphiQL page in a real browser (a stand-in endpoint, chromium)", () => {
  let server: FastifyInstance;
  let origin: string;
  let browser: TestBrowser;
  let page: Page;
  let dir: string;
  const sent: SentRequest[] = [];
  const consoleMessages: string[] = [];
  const requestedUrls: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pg-graphiql-browser-"));
    server = Fastify();
    registerGraphiqlRoutes(server, { pagePath: "/graphiql", endpoint: "/graphql", title: "Stand-in API" });
    server.addHook("onRequest", async (request) => {
      if (request.url.startsWith("/graphql")) {
        sent.push({ method: request.method, contentType: request.headers["content-type"], accept: request.headers.accept, authorization: request.headers.authorization });
      }
    });
    const rootValue = {
      hello: ({ name }: { name: string }) => `Hello, ${name}!`,
      // The Authorization header of the request, as the endpoint received it.
      whoami: (_args: unknown, context: { authorization: string | null }) => context.authorization,
    };
    server.all(
      "/graphql",
      createHandler({
        schema: SCHEMA,
        rootValue,
        context: (request) => ({ authorization: request.raw.headers.authorization ?? null }),
      }),
    );
    origin = await server.listen({ host: "127.0.0.1", port: 0 });
    browser = await launchChromium(dir);
    browser.context.setDefaultTimeout(UI_TIMEOUT_MS);
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on("console", (message) => consoleMessages.push(`${message.type()}: ${message.text()}`));
    page.on("request", (request) => requestedUrls.push(request.url()));
    await page.goto(`${origin}/graphiql`);
    await page.locator(".graphiql-query-editor .CodeMirror").waitFor();
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("loads GraphiQL from this origin only, with no console error (a CSP violation would be one)", async () => {
    await expect(page.title()).resolves.toBe("Stand-in API: GraphiQL");
    expect(requestedUrls.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(requestedUrls.filter((url) => url.includes("/graphiql/assets/")).map((url) => new URL(url).pathname).sort()).toEqual([
      "/graphiql/assets/graphiql-init.js",
      "/graphiql/assets/graphiql-operation-kind.js",
      "/graphiql/assets/graphiql-page.css",
      "/graphiql/assets/graphiql.min.css",
      "/graphiql/assets/graphiql.min.js",
      "/graphiql/assets/react-dom.production.min.js",
      "/graphiql/assets/react.production.min.js",
    ]);
    expect(consoleMessages.filter((message) => message.startsWith("error"))).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it("runs a query against the endpoint: a JSON POST accepting application/graphql-response+json, the result shown", async () => {
    sent.length = 0;
    const text = await run(page, '{ hello(name: "Ada") }', "Hello, Ada!");
    expect(JSON.parse(text.replace(/\u00a0/g, " "))).toEqual({ data: { hello: "Hello, Ada!" } });
    const posts = sent.filter((request) => request.method === "POST");
    expect(posts.length).toBeGreaterThan(0);
    for (const post of posts) {
      expect(post.contentType).toBe("application/json");
      expect(post.accept).toBe("application/graphql-response+json");
    }
  }, TEST_TIMEOUT_MS);

  it("sends the headers typed into the headers editor (a bearer token) with the query", async () => {
    await page.getByRole("button", { name: "Headers" }).click();
    await setEditor(page, ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror", '{"Authorization": "Bearer t-1"}');
    sent.length = 0;
    const text = await run(page, "{ whoami }", "Bearer t-1");
    expect(JSON.parse(text.replace(/\u00a0/g, " "))).toEqual({ data: { whoami: "Bearer t-1" } });
    expect(sent.filter((request) => request.method === "POST").map((request) => request.authorization)).toContain("Bearer t-1");
  }, TEST_TIMEOUT_MS);

  it("an error answer is shown as the endpoint's JSON (a 400 with graphql-response+json)", async () => {
    const text = await run(page, "{ nothing }", "Cannot query field");
    const answer = JSON.parse(text.replace(/\u00a0/g, " ")) as { errors: { message: string }[] };
    expect(answer.errors[0].message).toBe('Cannot query field "nothing" on type "Query".');
  }, TEST_TIMEOUT_MS);

  it("renders: a screenshot is written to the test's temp dir", async () => {
    const file = join(dir, "graphiql.png");
    await page.screenshot({ path: file, fullPage: true });
    const png = readFileSync(file);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.length).toBeGreaterThan(20_000);
    console.log(`GraphiQL screenshot: ${file}`);
  }, TEST_TIMEOUT_MS);
});
