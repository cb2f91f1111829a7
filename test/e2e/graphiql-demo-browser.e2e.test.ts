import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startDemo, type RunningDemo } from "../../src/cli/demo.js";
import { describeWithBrowser, launchChromium, type TestBrowser } from "./support/browser.js";
import { resultJson, runQuery, setHeaders } from "./support/graphiql-page.js";

/** GraphiQL renders in a moment here; a slow shared CI core gets room (each wait, and each test). */
const UI_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 60_000;

/** Two users' orders with each order's user joined (the demo's own query, as a user would type it). */
const ORDERS_QUERY = '{ ada: listOrders(parent: "users/u-1") { orders { name user { displayName } } } grace: listOrders(parent: "users/u-2") { orders { name user { displayName } } } }';

interface SentRequest {
  readonly authorization: string | undefined;
  readonly status: number;
}

describeWithBrowser("GraphiQL in a real browser against the demo gateway's real /graphql (chromium)", () => {
  let demo: RunningDemo;
  let browser: TestBrowser;
  let page: Page;
  let dir: string;
  const answered: SentRequest[] = [];
  const requestedUrls: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pg-graphiql-demo-browser-"));
    demo = await startDemo({ host: "127.0.0.1", port: 0, logLevel: "silent" });
    browser = await launchChromium(dir);
    browser.context.setDefaultTimeout(UI_TIMEOUT_MS);
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on("request", (request) => requestedUrls.push(request.url()));
    page.on("response", (response) => {
      if (new URL(response.url()).pathname === "/graphql") answered.push({ authorization: response.request().headers().authorization, status: response.status() });
    });
    await page.goto(`${demo.gateway.url}/graphiql`);
    await page.locator(".graphiql-query-editor .CodeMirror").waitFor();
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  it("serves the page and its assets from the gateway alone", () => {
    const origin = new URL(demo.gateway.url).origin;
    expect(requestedUrls.length).toBeGreaterThan(0);
    expect(requestedUrls.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(requestedUrls.some((url) => new URL(url).pathname === "/graphiql/assets/graphiql.min.js")).toBe(true);
  });

  it("without a token, the query is refused by the real endpoint: its 401 google.rpc.Status shown, no data", async () => {
    answered.length = 0;
    const shown = resultJson(await runQuery(page, ORDERS_QUERY, "authentication required")) as Record<string, unknown>;
    expect(shown).toMatchObject({ code: 16, message: "authentication required" });
    expect(shown).not.toHaveProperty("data");
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.every((sent) => sent.status === 401 && sent.authorization === undefined)).toBe(true);
  }, TEST_TIMEOUT_MS);

  it("with the dev token typed into the headers editor, the same query is answered by the real endpoint: the orders and their joined users", async () => {
    await setHeaders(page, { Authorization: `Bearer ${demo.devAuth.token}` });
    answered.length = 0;
    const shown = resultJson(await runQuery(page, ORDERS_QUERY, "Grace Hopper"));
    expect(shown).toEqual({
      data: {
        ada: {
          orders: [
            { name: "users/u-1/orders/o-1", user: { displayName: "Ada Lovelace" } },
            { name: "users/u-1/orders/o-2", user: { displayName: "Ada Lovelace" } },
          ],
        },
        grace: { orders: [{ name: "users/u-2/orders/o-3", user: { displayName: "Grace Hopper" } }] },
      },
    });
    const withToken = answered.filter((sent) => sent.authorization === `Bearer ${demo.devAuth.token}`);
    expect(withToken.length).toBeGreaterThan(0);
    expect(withToken.every((sent) => sent.status === 200)).toBe(true);
  }, TEST_TIMEOUT_MS);
  it("a subscription runs over GraphQL over SSE with the typed token: the room's messages shown as they come, the stream complete", async () => {
    const posted = await fetch(`${demo.gateway.url}/v1/rooms/graphiql/messages:batch`, {
      method: "POST",
      headers: { authorization: `Bearer ${demo.devAuth.token}`, "content-type": "application/x-ndjson" },
      body: '{"author":"ada","text":"first"}\n{"author":"grace","text":"second over sse"}\n',
    });
    expect(posted.status).toBe(200);
    await setHeaders(page, { Authorization: `Bearer ${demo.devAuth.token}` });
    const streamed = page.waitForResponse((response) => response.url().endsWith("/graphql") && response.headers()["content-type"] === "text/event-stream");
    const shown = resultJson(await runQuery(page, 'subscription { subscribe(room: "graphiql", replay: 2, limit: 2) { author text } }', "second over sse"));
    expect((await streamed).request().headers().authorization).toBe(`Bearer ${demo.devAuth.token}`);
    expect(shown).toEqual({ data: { subscribe: { author: "grace", text: "second over sse" } } });
  }, TEST_TIMEOUT_MS);
});
