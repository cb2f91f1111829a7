#!/usr/bin/env node
// Entry point of the `protogate` command.
// - In a checkout, it runs the TypeScript sources through tsx (no build step while developing).
// - The published package ships no .ts sources (see `files` in package.json) and runs the
//   JavaScript that `npm run build` compiled into dist/ (run by `prepack`).
// It decides by whether the sources are there, not by whether dist/ is: a stale dist/ left in a
// checkout by `npm pack` is then never run.
// tsx is registered either way, because the folders `protogate generate` writes are TypeScript;
// a resolver lets such a folder, anywhere on disk, import the packages protogate depends on.
import { existsSync } from "node:fs";
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

const sources = new URL("../src/cli/main.ts", import.meta.url);
registerTsx();
register("../src/loader/resolve-from-protogate.js", import.meta.url);
const { main } = await import(existsSync(sources) ? sources.href : "../dist/src/cli/main.js");
process.exitCode = await main(process.argv.slice(2));
