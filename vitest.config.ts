import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // One graphql-js for everything, the CommonJS build Node itself loads for `import "graphql"`
    // (the package has no `exports`, so Node takes its `main`): packages Node loads (graphql-http,
    // @apollo/subgraph) get that one, and Vite would otherwise give the sources and tests the ES
    // build (its `module` field): two copies, and graphql-js refuses a schema or a scalar "from
    // another module or realm".
    alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve("graphql") }],
  },
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts", "codegen/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
