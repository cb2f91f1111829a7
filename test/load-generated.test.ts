import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROUTE_TABLE_FORMAT } from "../src/binding.js";
import { GetUserRequest } from "../generated/demo/v1/user.js";
import { GeneratedFolderError, loadGenerated } from "../src/load-generated.js";

/** A generated folder with an index.js of the given body. */
function folder(indexSource: string): string {
  const dir = mkdtempSync(join(tmpdir(), "pg-generated-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(join(dir, "index.js"), indexSource);
  return dir;
}

describe("loadGenerated", () => {
  it("loads the demo's folder, whose format is the runtime's", async () => {
    const loaded = await loadGenerated(new URL("../generated", import.meta.url).pathname);
    expect(loaded.bindings.length).toBeGreaterThan(0);
    expect(new Set(loaded.bindings.map((binding) => binding.kind))).toEqual(new Set(["unary", "server", "client", "bidi"]));
  });

  it("returns the folder's openapi.json as it is on disk at load, for the served docs", async () => {
    const dir = new URL("../generated", import.meta.url).pathname;
    const loaded = await loadGenerated(dir);
    expect(loaded.openApi).toBe(readFileSync(join(dir, "openapi.json"), "utf8"));
  });

  it("a folder without openapi.json loads, with no document (only the docs need one)", async () => {
    const dir = folder(`export const bindings = []; export const descriptorSetBase64 = ""; export const routeTableFormat = ${ROUTE_TABLE_FORMAT};\n`);
    expect((await loadGenerated(dir)).openApi).toBeUndefined();
    writeFileSync(join(dir, "openapi.json"), "{}");
    expect((await loadGenerated(dir)).openApi).toBe("{}");
  });

  it("refuses a folder written before formats were versioned (format 1), naming the fix", async () => {
    const dir = folder(`export const bindings = []; export const descriptorSetBase64 = "";\n`);
    const error = await loadGenerated(dir).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(GeneratedFolderError);
    expect((error as Error).message).toBe(`${dir} holds route tables of format 1, and this protogate reads format ${ROUTE_TABLE_FORMAT}: regenerate it with \`protogate generate --out ${dir}\``);
  });

  it("refuses a folder of a newer format", async () => {
    const dir = folder(`export const bindings = []; export const descriptorSetBase64 = ""; export const routeTableFormat = ${ROUTE_TABLE_FORMAT + 1};\n`);
    await expect(loadGenerated(dir)).rejects.toThrow(`format ${ROUTE_TABLE_FORMAT + 1}`);
  });

  it("refuses a folder without index.js", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pg-generated-"));
    await expect(loadGenerated(dir)).rejects.toThrow(`${dir} has no index.js; run \`protogate generate --out ${dir}\` first`);
  });

  it("refuses a TypeScript folder of an older protogate, naming the fix", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pg-generated-"));
    writeFileSync(join(dir, "index.ts"), "export const bindings = [];\n");
    await expect(loadGenerated(dir)).rejects.toThrow(`${dir} has no index.js; it was written by an older protogate; regenerate it with \`protogate generate --out ${dir}\``);
  });

  it("gives every route the binary codecs of its message types, from the descriptor set", async () => {
    const { bindings } = await loadGenerated(new URL("../generated", import.meta.url).pathname);
    const getUser = bindings.find((b) => b.rpcPath === "/demo.v1.UserService/GetUser" && b.httpMethod === "GET");
    expect(getUser?.requestType).toBe("demo.v1.GetUserRequest");
    const message = { userId: "u-42" };
    const bytes = getUser!.requestCodec.encode(message).finish();
    // The bytes ts-proto's codec writes for the same message.
    expect(Buffer.from(bytes)).toEqual(Buffer.from(GetUserRequest.encode(message).finish()));
    expect(getUser!.requestCodec.decode(bytes)).toEqual(message);
  });
});
