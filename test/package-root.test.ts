import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT, packageVersion } from "../src/package-root.js";

describe("the package root", () => {
  it("is the checkout's root when running from src/ (the package's dist/src/ is covered by test/package)", () => {
    expect(PACKAGE_ROOT).toBe(join(import.meta.dirname, ".."));
  });

  it("gives the version of protogate's package.json", () => {
    expect(packageVersion()).toBe((JSON.parse(readFileSync(join(import.meta.dirname, "../package.json"), "utf8")) as { version: string }).version);
  });
});
