import type { Page } from "playwright-core";

/** The CodeMirror editor (GraphiQL 3 uses CodeMirror 5, which hangs its instance on the wrapper element). */
export async function setEditor(page: Page, selector: string, text: string): Promise<void> {
  await page.locator(selector).waitFor();
  await page.locator(selector).evaluate((element, value) => {
    // Boundary: CodeMirror 5's instance, as the library attaches it to its element.
    (element as unknown as { CodeMirror: { setValue(v: string): void } }).CodeMirror.setValue(value);
  }, text);
}

/** Runs the query in the editor and reads the result pane once an answer to this run is in it. */
export async function runQuery(page: Page, query: string, expected: string): Promise<string> {
  await setEditor(page, ".graphiql-query-editor .CodeMirror", query);
  const answered = page.waitForResponse((response) => response.url().endsWith("/graphql") && response.request().method() === "POST");
  await page.locator("button.graphiql-execute-button").click();
  await answered;
  const result = page.locator(".graphiql-response .CodeMirror");
  await result.filter({ hasText: expected }).waitFor();
  return result.innerText();
}

/** Types `headers` (a JSON object) into GraphiQL's headers editor. */
export async function setHeaders(page: Page, headers: Record<string, string>): Promise<void> {
  await page.getByRole("button", { name: "Headers" }).click();
  await setEditor(page, ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror", JSON.stringify(headers));
}

/** The result pane's text as JSON (CodeMirror renders spaces as no-break spaces). */
export function resultJson(text: string): unknown {
  return JSON.parse(text.replace(/\u00a0/g, " "));
}
