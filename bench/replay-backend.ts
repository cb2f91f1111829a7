// Child process: the bench's replay backend (bench/replay/), until SIGTERM. It starts the real
// grpc-js demo backends in-process on another free loopback port as the source of truth, and
// answers gRPC unary calls on its own port with the bytes and statuses the demo answered the
// first time for the same path and message, at a small fraction of grpc-js's CPU per call, so
// that a benchmark's backend costs little next to the gateway it measures. It prints the line
// bench/backend.ts prints, so every script reads either the same way.
import { DEMO_SERVICE_DEFINITIONS, startDemoBackends } from "../src/demo/index.js";
import { createWireUpstream } from "../src/upstream/wire-upstream.js";
import { upstreamReplySource } from "./replay/demo-source.js";
import { startReplayServer, streamingPaths } from "./replay/replay-server.js";

const demo = await startDemoBackends({ host: "127.0.0.1", port: 0 });
const upstream = createWireUpstream({ address: demo.address });
const replay = await startReplayServer({ host: "127.0.0.1", port: 0, source: upstreamReplySource(upstream), streamingPaths: streamingPaths(DEMO_SERVICE_DEFINITIONS) });
console.log(`demo backends listening on ${replay.address} (${demo.services.join(", ")}); replaying the grpc-js demo backends on ${demo.address}`);
const stop = () =>
  void replay
    .close()
    .then(() => upstream.close())
    .then(() => demo.close())
    .then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
