import { describe, expect, it } from "vitest";
import { CODEGEN_PACKAGES, missingCodegenPackages, missingCodegenPackagesMessage } from "../../codegen/codegen-dependencies.js";

/** A resolver that finds every package but `absent`. */
const resolverWithout = (absent: readonly string[]) => (specifier: string) => {
  if (absent.some((name) => specifier === `${name}/package.json`)) throw Object.assign(new Error(`Cannot find module '${specifier}'`), { code: "MODULE_NOT_FOUND" });
  return `/node_modules/${specifier}`;
};

describe("the codegen packages (optional peer dependencies)", () => {
  it.each([
    [[], []],
    [["ts-proto"], ["ts-proto"]],
    [["google-proto-files", "@bufbuild/buf"], ["@bufbuild/buf", "google-proto-files"]],
    [[...CODEGEN_PACKAGES], [...CODEGEN_PACKAGES]],
  ])("absent %j: missing %j (in the fixed order)", (absent, missing) => {
    expect(missingCodegenPackages(resolverWithout(absent))).toEqual(missing);
  });

  it("are all installed in this checkout (devDependencies)", () => {
    expect(missingCodegenPackages()).toEqual([]);
  });

  it.each([
    [["ts-proto"] as const, "protogate generate needs ts-proto, which is not installed"],
    [["@bufbuild/buf", "ts-proto"] as const, "protogate generate needs @bufbuild/buf, ts-proto, which are not installed"],
  ])("the message names %j and the command installing all three", (missing, start) => {
    const message = missingCodegenPackagesMessage(missing);
    expect(message.startsWith(start)).toBe(true);
    expect(message).toContain("`npm install --save-dev @bufbuild/buf ts-proto google-proto-files`");
    expect(message).not.toContain("\n");
  });
});
