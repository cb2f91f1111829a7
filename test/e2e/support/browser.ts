/**
 * A real browser for the e2e suites: Debian's `chromium` driven by playwright-core, never a
 * browser build Playwright downloads (`npx playwright install` is not used: it fetches from
 * outside the package registries). `.ci/run` installs chromium when it is missing.
 *
 * Like the Redis suites, a browser suite never skips silently: without chromium it fails with a
 * message saying how to install it, unless `PROTOGATE_SKIP_BROWSER_TESTS=1` opts out explicitly
 * (then it is skipped with a loud message). CI never sets it.
 */
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { describe, it } from "vitest";

/** The browser binary: Debian's chromium, or `PROTOGATE_CHROMIUM` (another Chromium build). */
export const CHROMIUM_PATH = process.env.PROTOGATE_CHROMIUM ?? "/usr/bin/chromium";

/** The env variable that turns a missing chromium from a failure into a loud skip. */
export const SKIP_BROWSER_ENV = "PROTOGATE_SKIP_BROWSER_TESTS";

/**
 * Chromium's flags for a test: headless, no sandbox (CI runs as root), and nothing that calls
 * home (QUIC, component updates, background networking, sync), so the only traffic is the test's.
 */
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** Whether the browser can run here, and if not, why. */
export function chromiumAvailability(): { available: boolean; reason: string } {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return { available: true, reason: CHROMIUM_PATH };
  } catch {
    return { available: false, reason: `${CHROMIUM_PATH} is not an executable (install Debian's chromium: \`apt-get install -y --no-install-recommends chromium\`, as .ci/run does)` };
  }
}

/**
 * `describe` for a suite that drives a real browser: runs it when chromium is here; otherwise
 * fails it, or, only when `PROTOGATE_SKIP_BROWSER_TESTS=1`, skips it with a loud message.
 */
export function describeWithBrowser(name: string, body: () => void): void {
  const availability = chromiumAvailability();
  if (availability.available) {
    describe(name, body);
    return;
  }
  if (process.env[SKIP_BROWSER_ENV] !== "1") {
    describe(name, () => {
      it("has a real browser to test with", () => {
        throw new Error(`this suite needs a browser: ${availability.reason}. To skip it instead (never in CI), set ${SKIP_BROWSER_ENV}=1`);
      });
    });
    return;
  }
  const bar = "!".repeat(100);
  console.warn(`\n${bar}\n!!! SKIPPED "${name}" (${SKIP_BROWSER_ENV}=1): ${availability.reason}.\n${bar}\n`);
  describe.skip(name, body);
}

/** A browser started for one suite, with a fresh profile in `dir`. */
export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Starts chromium with a fresh user-data-dir under `dir` (a persistent context, so the folder is ours); close() removes it. */
export async function launchChromium(dir: string): Promise<TestBrowser> {
  const profile = mkdtempSync(join(dir, "chromium-profile-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
