// Child process entry: the demo gRPC backends on 127.0.0.1 and the port given as the first
// argument (0: a free one), until killed. The fault tests kill it and start it again on the
// port it had, as a restarted backend would come back.
import { startDemoBackends } from "../../../src/demo/index.js";

const port = Number(process.argv[2] ?? 0);
const backends = await startDemoBackends({ host: "127.0.0.1", port });
console.log(`demo backends listening on ${backends.address}`);
