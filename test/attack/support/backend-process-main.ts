// Child process entry: the demo gRPC backends on 127.0.0.1 and a free port, until killed. The
// fault tests kill it and start another in its place (behind a proxy that keeps the address).
import { startDemoBackends } from "../../../src/demo/index.js";

const backends = await startDemoBackends({ host: "127.0.0.1", port: 0 });
console.log(`demo backends listening on ${backends.address}`);
