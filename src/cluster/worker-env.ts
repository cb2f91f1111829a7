import cluster from "node:cluster";

/** The environment variable that marks a process the primary forked (not any node:cluster worker: pm2's cluster mode forks its own). */
export const WORKER_ENV = "PROTOGATE_WORKER";

/** Whether this process is a worker of `protogate serve --workers N`. */
export function isProtogateWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] === "1";
}
