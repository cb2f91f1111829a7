// Child process: the demo gRPC backends on a free loopback port, until SIGTERM.
import { startDemoBackends } from "../src/demo/index.js";

const backends = await startDemoBackends({ host: "127.0.0.1", port: 0 });
console.log(`demo backends listening on ${backends.address} (${backends.services.join(", ")})`);
const stop = () => void backends.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
