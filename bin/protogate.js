#!/usr/bin/env node
// Entry point of the `protogate` command. The project ships TypeScript sources, so this registers
// tsx's loader (generated folders are JavaScript and need no compiling), plus a resolver that lets
// code generated with --ts-proto anywhere on disk import the packages protogate depends on.
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

registerTsx();
register("../src/loader/resolve-from-protogate.js", import.meta.url);
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
