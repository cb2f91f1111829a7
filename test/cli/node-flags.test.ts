import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SERVING_NODE_FLAGS } from "../../src/cli/node-flags.js";

const root = join(import.meta.dirname, "../..");

describe("the serving V8 flags reach every way the gateway starts", () => {
  it("bin/protogate.js's #! line passes each of them to node (env -S)", () => {
    const shebang = readFileSync(join(root, "bin/protogate.js"), "utf8").split("\n")[0];
    expect(shebang.startsWith("#!/usr/bin/env -S node ")).toBe(true);
    expect(shebang.split(" ").slice(3)).toEqual([...SERVING_NODE_FLAGS]);
  });

  it("npm start runs node with each of them", () => {
    const start = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
    expect(start).toBe(`node ${SERVING_NODE_FLAGS.join(" ")} bin/protogate.js demo`);
  });
});
