// `node bench/run-dist.mjs ARGS...`: runs `protogate ARGS...` from the compiled JavaScript in dist/
// (what the published package runs), for the benchmarks; bin/protogate.js runs the TypeScript
// sources through tsx whenever they are there, which adds tsx's per-function name wrappers
// (esbuild's keepNames) and its loader thread to what is measured.
const { main } = await import(new URL("../dist/src/cli/main.js", import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
