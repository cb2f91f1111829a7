#!/usr/bin/env node
// The protoc/buf plugin that emits Protogate's route tables and OpenAPI document. Like
// bin/protogate.js: the TypeScript sources through tsx in a checkout, dist/ in the package.
import { existsSync } from "node:fs";

const sources = new URL("../codegen/plugin.ts", import.meta.url);
let plugin;
if (existsSync(sources)) {
  const { register } = await import("tsx/esm/api");
  register();
  plugin = await import(sources.href);
} else plugin = await import("../dist/codegen/plugin.js");
await plugin.runPlugin(process.stdin, process.stdout);
