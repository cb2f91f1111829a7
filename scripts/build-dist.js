#!/usr/bin/env node
// `npm run build` (run by `npm pack` / `npm publish` through `prepack`): compiles src/, codegen/
// and the demo's generated/ into dist/ with tsc (tsconfig.build.json), then copies the files tsc
// does not emit but the compiled code reads beside itself.
import { spawnSync } from "node:child_process";
import { cpSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = `${root}dist`;
/**
 * Files the compiled modules open at run time, by path relative to the checkout: the docs and GraphiQL pages'
 * scripts (and GraphiQL's page style), and the demo's generated folder as `protogate demo` loads it (generate writes its route
 * tables and descriptor set as JavaScript already; tsc compiles only the ts-proto code beside them).
 */
const generatedJs = readdirSync(`${root}generated`, { recursive: true })
  .map((file) => String(file))
  .filter((file) => file.endsWith(".js"))
  .map((file) => `generated/${file}`);
const ASSETS = ["src/docs/browser/docs-init.js", "src/graphql/graphiql/browser/graphiql-init.js", "src/graphql/graphiql/browser/graphiql-operation-kind.js", "src/graphql/graphiql/browser/graphiql-page.css", "generated/openapi.json", "generated/schema.graphql", ...generatedJs];

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const build = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
for (const asset of ASSETS) cpSync(`${root}${asset}`, `${dist}/${asset}`);
