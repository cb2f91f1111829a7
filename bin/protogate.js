#!/usr/bin/env node
// Entry point of the `protogate` command. The project ships TypeScript sources (and `generate`
// writes TypeScript), so this registers tsx's loader plus a resolver that lets generated folders
// anywhere on disk import the packages protogate itself depends on.
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

registerTsx();
register("../src/loader/resolve-from-protogate.js", import.meta.url);
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
