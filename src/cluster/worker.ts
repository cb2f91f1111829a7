import type { AddressInfo } from "node:net";
import { startGateway, type PreparedReload, type RunningGateway } from "../app.js";
import { ReloadRefused } from "../reload/reload-refused.js";
import { configFromObject } from "../config/load-config.js";
import { isProtogateMessage, type PrimaryMessage, type WorkerMessage, type WorkerReplies, type WorkerRequest } from "./messages.js";

type StartMessage = Extract<PrimaryMessage, { protogate: "start" }>;

/**
 * A worker of `protogate serve --workers N`: waits for the primary's config, serves it on the
 * shared port with no admin listener of its own (the primary asks it for its metrics and
 * readiness over IPC), and drains like a single gateway on SIGTERM (forwarded by the primary),
 * SIGINT (a terminal's Ctrl-C reaches the whole process group) or when the primary is gone.
 * Resolves with its exit code; a start-up error is thrown to `main`, which prints it.
 */
export async function runWorker(): Promise<number> {
  const shutdown = shutdownRequested();
  const start = await Promise.race([nextStart(), shutdown.then(() => undefined)]);
  if (start === undefined) return leave(0);
  let gateway: RunningGateway;
  try {
    const config = configFromObject(start.config);
    gateway = await startGateway(config, undefined, {}, { adminListener: false, startupWarnings: start.startupWarnings, configSha256: start.configSha256 });
  } catch (error) {
    leave(1);
    // main prints the error; what a half-done start left open (a Redis connection) must not keep the worker alive.
    setTimeout(() => process.exit(1), 1_000).unref();
    throw error;
  }
  answerRequests(gateway);
  send({ protogate: "ready", url: gateway.url, port: (gateway.app.server.address() as AddressInfo).port });
  await shutdown;
  await gateway.close();
  return leave(0);
}

/**
 * Resolves on the first SIGTERM, SIGINT or loss of the primary; later ones are ignored (the drain
 * is under way). SIGHUP (a terminal's hangup reaches the whole process group) is the primary's to
 * act on: it reloads every worker.
 */
function shutdownRequested(): Promise<void> {
  process.on("SIGHUP", () => undefined);
  return new Promise((resolve) => {
    const stop = () => resolve();
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    process.once("disconnect", stop);
  });
}

function nextStart(): Promise<StartMessage> {
  return new Promise((resolve) => {
    const listener = (message: unknown) => {
      if (!isProtogateMessage<PrimaryMessage>(message) || message.protogate !== "start") return;
      process.off("message", listener);
      resolve(message);
    };
    process.on("message", listener);
    send({ protogate: "hello" });
  });
}

/**
 * Answers the primary's requests: metrics for /metrics, readiness for /readyz, the configuration
 * in force for /config, and the two halves of a reload (the primary commits only when every
 * worker has prepared, so that all serve the same configuration).
 */
function answerRequests(gateway: RunningGateway): void {
  let prepared: PreparedReload | undefined;
  const answer = async (request: WorkerRequest): Promise<WorkerReplies[WorkerRequest["kind"]]> => {
    switch (request.kind) {
      case "metrics":
        return (await gateway.metricsRegistry?.getMetricsAsJSON()) ?? [];
      case "readiness":
        return gateway.readiness();
      case "config":
        return gateway.activeConfig();
      case "prepare-reload": {
        await prepared?.abort();
        prepared = undefined;
        const next = await gateway.prepareReload(configFromObject(request.config), request.configSha256);
        prepared = next;
        return next.identity;
      }
      case "commit-reload": {
        if (prepared === undefined) throw new Error("no reload is prepared");
        prepared.commit();
        const { identity } = prepared;
        prepared = undefined;
        return identity;
      }
      case "abort-reload":
        await prepared?.abort();
        prepared = undefined;
        return null;
    }
  };
  process.on("message", (message: unknown) => {
    if (!isProtogateMessage<PrimaryMessage>(message) || message.protogate !== "request") return;
    answer(message.request).then(
      (value) => send({ protogate: "reply", id: message.id, value }),
      (error: unknown) =>
        send({ protogate: "reply", id: message.id, error: error instanceof Error ? error.message : String(error), ...(error instanceof ReloadRefused && { refusal: error.refusal }) }),
    );
  });
}

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

/** Closes the IPC channel (it would keep the process alive) and gives the exit code back. */
function leave(code: number): number {
  if (process.connected) process.disconnect();
  return code;
}
