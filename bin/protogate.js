#!/usr/bin/env -S node --no-memory-reducer
// Entry point of the `protogate` command. The V8 flags on the line above are the serving flags of
// src/cli/node-flags.ts (why: see there); `env -S` splits them (GNU coreutils 8.30+, BSD env).
// - In a checkout, it runs the TypeScript sources through tsx (no build step while developing).
// - The published package ships no .ts sources (see `files` in package.json) and runs the
//   JavaScript that `npm run build` compiled into dist/ (run by `prepack`): nothing is compiled at
//   start, and tsx is not needed (it is a dev dependency).
// It decides by whether the sources are there, not by whether dist/ is: a stale dist/ left in a
// checkout by `npm pack` is then never run. Generated folders are JavaScript either way.
import { existsSync } from "node:fs";

const sources = new URL("../src/cli/main.ts", import.meta.url);
let main;
if (existsSync(sources)) {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import(sources.href));
} else ({ main } = await import("../dist/src/cli/main.js"));
process.exitCode = await main(process.argv.slice(2));
