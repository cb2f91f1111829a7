import { describe, expect, it } from "vitest";
import { CODEGEN_PACKAGES, missingCodegenPackages, missingCodegenPackagesMessage } from "../../codegen/codegen-dependencies.js";

/** A resolver that finds every package but `absent`. */
const resolverWithout = (absent: readonly string[]) => (specifier: string) => {
  if (absent.some((name) => specifier === `${name}/package.json`)) throw Object.assign(new Error(`Cannot find module '${specifier}'`), { code: "MODULE_NOT_FOUND" });
  return `/node_modules/${specifier}`;
};

describe("the codegen packages (optional peer dependencies)", () => {
  it.each<[string[], boolean, string[]]>([
    [[], false, []],
    [["ts-proto"], false, []],
    [["ts-proto"], true, ["ts-proto"]],
    [["google-proto-files", "@bufbuild/buf"], false, ["@bufbuild/buf", "google-proto-files"]],
    [["google-proto-files", "@bufbuild/buf", "ts-proto"], true, ["@bufbuild/buf", "google-proto-files", "ts-proto"]],
  ])("absent %j, --ts-proto %s: missing %j (in the fixed order)", (absent, tsProto, missing) => {
    expect(missingCodegenPackages({ tsProto, resolve: resolverWithout(absent) })).toEqual(missing);
  });

  it("are all installed in this checkout (devDependencies)", () => {
    expect(missingCodegenPackages({ tsProto: true })).toEqual([]);
  });

  it.each([
    [["ts-proto"] as const, "protogate generate --ts-proto needs ts-proto, which is not installed", "`npm install --save-dev ts-proto`"],
    [[...CODEGEN_PACKAGES], "protogate generate needs @bufbuild/buf, google-proto-files, which are not installed", "`npm install --save-dev @bufbuild/buf google-proto-files`"],
  ])("the message names %j and the command installing them", (missing, start, command) => {
    const message = missingCodegenPackagesMessage(missing);
    expect(message.startsWith(start)).toBe(true);
    expect(message).toContain(command);
    expect(message).not.toContain("\n");
  });
});
