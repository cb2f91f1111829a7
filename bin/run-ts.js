#!/usr/bin/env node
// Runs a TypeScript entry file of this project (benchmarks, scripts) through tsx, as `protogate` runs in a checkout.
import { pathToFileURL } from "node:url";
import { register as registerTsx } from "tsx/esm/api";

registerTsx();
const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error("usage: run-ts.js FILE.ts [args...]");
  process.exit(2);
}
process.argv = [process.argv[0], entry, ...rest];
await import(pathToFileURL(entry).href);
