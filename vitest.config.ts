import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts", "codegen/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
    // graphql-http is run through Vite like the sources, so its `import "graphql"` resolves to the
    // same copy of graphql as theirs (Node would pick graphql's CommonJS build for it, Vite the ES
    // one for the sources: two copies, and graphql-js refuses a schema from "another realm").
    server: { deps: { inline: ["graphql-http"] } },
  },
});
