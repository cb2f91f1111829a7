// Preloaded into the soak's gateway process (`node --import ./bench/soak/gateway-probe.mjs
// bin/protogate.js serve ...`), so that the gateway runs its real entry point and src/ needs no
// debug endpoint. It answers the soak's IPC requests with what only the process itself can see:
// V8 heap figures and the event-loop delay since the previous request. RSS and open file
// descriptors are read from /proc by the soak instead, without the gateway's help.
//
// Plain JavaScript on purpose: `--import` runs before bin/protogate.js registers the TypeScript
// loader. Without an IPC channel (started any other way) it does nothing.
import { monitorEventLoopDelay, PerformanceObserver, constants } from "node:perf_hooks";
import { writeHeapSnapshot } from "node:v8";

/** Must match SAMPLE_MESSAGE / SNAPSHOT_MESSAGE in probe-client.ts. */
const SAMPLE_MESSAGE = "protogate-soak-sample";
const SNAPSHOT_MESSAGE = "protogate-soak-heap-snapshot";
/** The delay timer's period (ms). Each recorded value is one period plus the delay: it is subtracted. */
const RESOLUTION_MS = 10;

if (process.send && process.channel) {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  // Heap used right after the last major (mark-sweep-compact) GC: garbage-free, so a steadier leak
  // signal than heap used at an arbitrary moment, which follows the allocation sawtooth.
  let majorGcs = 0;
  /** @type {number | undefined} */
  let heapAfterMajorGc;
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = /** @type {{ kind?: number } | undefined} */ (entry.detail);
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        majorGcs++;
        heapAfterMajorGc = process.memoryUsage().heapUsed;
      }
    }
  });
  gcObserver.observe({ entryTypes: ["gc"] });

  const ms = (/** @type {number} */ ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  process.on("message", (/** @type {{ type?: string; id?: number; path?: string }} */ message) => {
    if (message?.type === SAMPLE_MESSAGE) {
      const memory = process.memoryUsage();
      const count = delay.count;
      const eventLoopDelayMs =
        count === 0 ? null : { count, mean: ms(delay.mean), p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) };
      delay.reset();
      process.send?.({
        type: SAMPLE_MESSAGE,
        id: message.id,
        heapUsed: memory.heapUsed,
        heapTotal: memory.heapTotal,
        external: memory.external,
        arrayBuffers: memory.arrayBuffers,
        heapAfterMajorGc: heapAfterMajorGc ?? null,
        majorGcs,
        eventLoopDelayMs,
      });
    } else if (message?.type === SNAPSHOT_MESSAGE && typeof message.path === "string") {
      const path = writeHeapSnapshot(message.path);
      process.send?.({ type: SNAPSHOT_MESSAGE, id: message.id, path });
    }
  });
  // The channel must not keep the gateway alive: after SIGTERM it exits once it has drained.
  process.channel.unref();
}
