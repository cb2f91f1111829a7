import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startDemo, type RunningDemo } from "../../src/cli/demo.js";
import { describeWithBrowser, launchChromium, type TestBrowser } from "./support/browser.js";

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/** Swagger UI renders in a moment here; a slow shared CI core gets room (each wait, and each test). */
const UI_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 60_000;

interface OpenApiDocument {
  paths: Record<string, Record<string, { operationId?: string; tags?: string[] }>>;
}

/** Every operation of the document as `METHOD /path`, sorted. */
function operationsOf(document: OpenApiDocument): string[] {
  const operations: string[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of Object.keys(item)) if (HTTP_METHODS.includes(method)) operations.push(`${method.toUpperCase()} ${path}`);
  }
  return operations.sort();
}

/** The operation block of `operationId` (Swagger UI's id is `operations-TAG-OPERATIONID`). */
function operation(page: Page, operationId: string): Locator {
  return page.locator(`.opblock[id$="-${operationId}"]`);
}

/** Opens an operation, fills its path parameter, presses Execute; the live response's status and body. */
async function tryIt(page: Page, operationId: string, parameter: string, value: string): Promise<{ status: string; body: string }> {
  const block = operation(page, operationId);
  if ((await block.locator(".opblock-body").count()) === 0) await block.locator(".opblock-summary-control").click();
  await block.locator(`tr[data-param-name="${parameter}"] input`).fill(value);
  const live = block.locator(".live-responses-table");
  // A previous response stays on show until Clear: clear it, so the one read below is the new one.
  if ((await block.locator("button.btn-clear").count()) > 0) {
    await block.locator("button.btn-clear").click();
    await live.waitFor({ state: "detached" });
  }
  await block.locator("button.execute").click();
  await live.waitFor();
  return {
    status: (await live.locator("tbody .response-col_status").first().innerText()).trim(),
    body: await live.locator(".response-col_description pre").first().innerText(),
  };
}

describeWithBrowser("the docs page in a real browser (demo gateway, chromium)", () => {
  let demo: RunningDemo;
  let browser: TestBrowser;
  let page: Page;
  let dir: string;
  const consoleMessages: string[] = [];
  const requestedUrls: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pg-docs-browser-"));
    demo = await startDemo({ host: "127.0.0.1", port: 0, logLevel: "silent" });
    browser = await launchChromium(dir);
    browser.context.setDefaultTimeout(UI_TIMEOUT_MS);
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on("console", (message) => consoleMessages.push(`${message.type()}: ${message.text()}`));
    page.on("request", (request) => requestedUrls.push(request.url()));
    await page.goto(demo.docsUrl);
    await page.locator(".opblock").first().waitFor();
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  it("lists every operation of the served /openapi.json, loading nothing from anywhere but the gateway, with no console error (a CSP violation is one)", async () => {
    const document = (await (await fetch(demo.openApiUrl)).json()) as OpenApiDocument;
    const expected = operationsOf(document);
    expect(expected.length).toBeGreaterThan(10);
    const shown = await page.locator(".opblock").evaluateAll((blocks) =>
      blocks.map((block) => `${block.querySelector(".opblock-summary-method")?.textContent ?? "?"} ${block.querySelector(".opblock-summary-path")?.getAttribute("data-path") ?? "?"}`),
    );
    expect([...new Set(shown)].sort()).toEqual(expected);
    const origin = new URL(demo.gateway.url).origin;
    expect(requestedUrls.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(consoleMessages.filter((message) => message.startsWith("error"))).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it("try it: GET /v1/users/{user_id} with u-1 goes to this gateway and the page shows the reply", async () => {
    const sent = page.waitForRequest((request) => request.url().includes("/v1/users/u-1"));
    const { status, body } = await tryIt(page, "UserService_GetUser", "user_id", "u-1");
    expect((await sent).url()).toBe(`${demo.gateway.url}/v1/users/u-1`);
    expect(status).toBe("200");
    expect(JSON.parse(body)).toMatchObject({ userId: "u-1", displayName: "Ada Lovelace" });
  }, TEST_TIMEOUT_MS);

  it("try it with the gateway's auth: GET /v1/payments/{payment_id} is 401 without a token and 200 once the dev token is pasted into Authorize", async () => {
    const anonymous = await tryIt(page, "PaymentService_GetPayment", "payment_id", "p-1");
    expect(anonymous.status).toBe("401");
    expect(JSON.parse(anonymous.body)).toMatchObject({ code: 16, details: [{ reason: "PG_ERR_UNAUTHENTICATED" }, { "@type": "type.googleapis.com/google.rpc.RequestInfo" }] });

    await page.locator(".auth-wrapper button.authorize").click();
    const bearer = page.locator(".auth-container", { has: page.locator("h4", { hasText: "bearerAuth" }) });
    await bearer.locator("input").fill(demo.devAuth.token);
    await bearer.locator("button[type=submit]").click();
    await page.locator(".modal-ux button.close-modal").click();

    const sent = page.waitForRequest((request) => request.url().endsWith("/v1/payments/p-1"));
    const authorized = await tryIt(page, "PaymentService_GetPayment", "payment_id", "p-1");
    expect((await sent).headers().authorization).toBe(`Bearer ${demo.devAuth.token}`);
    expect(authorized.status).toBe("200");
    expect(JSON.parse(authorized.body)).toMatchObject({ paymentId: "p-1" });
  }, TEST_TIMEOUT_MS);

  it("renders: screenshots of the whole page and of the operation just tried are written to the test's temp dir", async () => {
    const files = [join(dir, "docs.png"), join(dir, "try-it.png")];
    await page.screenshot({ path: files[0], fullPage: true });
    await operation(page, "PaymentService_GetPayment").screenshot({ path: files[1] });
    for (const file of files) {
      const png = readFileSync(file);
      expect(png.subarray(1, 4).toString()).toBe("PNG");
      expect(png.length).toBeGreaterThan(20_000);
    }
    console.log(`docs page screenshots: ${files.join(" ")}`);
  }, TEST_TIMEOUT_MS);
});
