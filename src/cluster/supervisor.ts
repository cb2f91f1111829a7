import type { Timers } from "../timers.js";
import type { PrimaryMessage } from "./messages.js";
import { DEFAULT_RESTART_POLICY, RestartBackoff, type RestartPolicy } from "./restart-backoff.js";
import { WorkerChannel, type WorkerProcess } from "./worker-process.js";

export interface SupervisorOptions {
  /** How many workers. */
  readonly count: number;
  /** Starts one worker process. */
  readonly fork: () => WorkerProcess;
  /** The message that starts worker `slot` (`first`: the very first worker, which logs the start-up warnings). */
  readonly startMessage: (slot: number, first: boolean) => PrimaryMessage;
  readonly timers: Timers;
  readonly log: SupervisorLog;
  readonly restartPolicy?: RestartPolicy;
}

export interface SupervisorLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** One worker slot's state, for /readyz. */
export interface WorkerSlotState {
  /** 1..N; a restarted worker takes its slot's number. */
  readonly worker: number;
  readonly pid: number | undefined;
  /** `starting` (forked, not listening yet), `ready`, `restarting` (dead, waiting for its backoff), `stopped`. */
  readonly state: "starting" | "ready" | "restarting" | "stopped";
  /** How many times this slot's worker has been restarted. */
  readonly restarts: number;
}

/** A worker exited before it was ready during the start: the gateway cannot start (the worker said why on stderr). */
export class WorkerStartError extends Error {
  override name = "WorkerStartError";
}

interface Slot {
  readonly id: number;
  process: WorkerProcess | undefined;
  channel: WorkerChannel | undefined;
  state: WorkerSlotState["state"];
  startedAt: number;
  restarts: number;
  restartTimer: unknown;
  readonly backoff: RestartBackoff;
}

/**
 * Keeps N worker processes running: starts the first, then the others on the same port; restarts a worker that dies, after a backoff that grows
 * with repeated failures (restart-backoff.ts), logging each exit and restart; on `stop`, sends
 * SIGTERM to every worker (each drains as a single gateway would) and waits for all to exit.
 */
export class Supervisor {
  private readonly slots: Slot[];
  private stopping = false;
  /** Set once every worker has been ready: before that, a worker that dies fails the start instead of being restarted. */
  private started = false;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly options: SupervisorOptions) {
    this.slots = Array.from({ length: options.count }, (_, index) => ({
      id: index + 1,
      process: undefined,
      channel: undefined,
      state: "stopped" as const,
      startedAt: 0,
      restarts: 0,
      restartTimer: undefined,
      backoff: new RestartBackoff(options.restartPolicy ?? DEFAULT_RESTART_POLICY),
    }));
  }

  /**
   * Starts every worker: the first alone (a start-up error is then printed once, and with port 0
   * the free port is taken once), then the rest together. Resolves with the first worker's URL and port
   * once all are ready; rejects with a WorkerStartError if one exits first.
   */
  async start(): Promise<{ url: string; port: number }> {
    const [first, ...rest] = this.slots;
    const { url, port } = await this.launch(first, true);
    await Promise.all(rest.map((slot) => this.launch(slot, false)));
    this.started = true;
    return { url, port };
  }

  /** The slots now (for /readyz). */
  states(): readonly WorkerSlotState[] {
    return this.slots.map((slot) => ({ worker: slot.id, pid: slot.process?.pid, state: slot.state, restarts: slot.restarts }));
  }

  /** The channels of the workers that are ready, with their slot numbers. */
  readyChannels(): ReadonlyArray<{ readonly worker: number; readonly pid: number | undefined; readonly channel: WorkerChannel }> {
    return this.slots.flatMap((slot) => (slot.state === "ready" && slot.channel ? [{ worker: slot.id, pid: slot.process?.pid, channel: slot.channel }] : []));
  }

  /** Calls `listener` whenever a slot's state changes (a worker ready, dead, restarted). */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /**
   * No more restarts; SIGTERM to every worker; resolves once all have exited, true when every
   * one exited with 0 (drained).
   */
  stop(signal: NodeJS.Signals = "SIGTERM"): Promise<boolean> {
    this.stopping = true;
    const exits: Array<Promise<boolean>> = [];
    for (const slot of this.slots) {
      this.options.timers.clearTimeout(slot.restartTimer);
      const worker = slot.process;
      if (worker === undefined || slot.state === "restarting" || slot.state === "stopped") {
        slot.state = "stopped";
        continue;
      }
      exits.push(new Promise((resolve) => worker.onExit((code) => resolve(code === 0))));
      worker.kill(signal);
    }
    this.changed();
    return Promise.all(exits).then((clean) => clean.every(Boolean));
  }

  /** Starts the worker of `slot`; resolves when it is ready (with its URL and port), rejects if it exits first. */
  private launch(slot: Slot, first: boolean): Promise<{ url: string; port: number }> {
    const worker = this.options.fork();
    slot.process = worker;
    slot.channel = new WorkerChannel(worker, this.options.timers);
    slot.state = "starting";
    slot.startedAt = this.options.timers.now();
    this.changed();
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.onMessage((message) => {
        if (message.protogate === "hello") return worker.send(this.options.startMessage(slot.id, first));
        if (message.protogate !== "ready" || ready) return;
        ready = true;
        slot.state = "ready";
        this.changed();
        resolve({ url: message.url, port: message.port });
      });
      worker.onExit((code, signal) => {
        if (slot.process === worker) {
          slot.process = undefined;
          slot.channel = undefined;
        }
        if (!ready) reject(new WorkerStartError(`worker ${slot.id} exited before it was ready (${signal ?? `exit code ${code}`})`));
        this.exited(slot, worker, code, signal);
      });
    });
  }

  /** A worker exited: unless the gateway is stopping, start its slot again after the backoff. */
  private exited(slot: Slot, worker: WorkerProcess, code: number | null, signal: string | null): void {
    if (this.stopping || !this.started) {
      slot.state = "stopped";
      this.changed();
      return;
    }
    const uptimeMs = this.options.timers.now() - slot.startedAt;
    const delay = slot.backoff.nextDelay(uptimeMs);
    slot.state = "restarting";
    this.changed();
    this.options.log.warn({ worker: slot.id, pid: worker.pid, code, signal, uptimeMs: Math.round(uptimeMs), restartInMs: delay }, "worker exited; restarting it");
    slot.restartTimer = this.options.timers.setTimeout(() => {
      slot.restarts++;
      this.launch(slot, false).then(
        () => this.options.log.info({ worker: slot.id, pid: slot.process?.pid, restarts: slot.restarts }, "worker restarted"),
        // It died again before it was ready: exited() has scheduled the next attempt.
        () => undefined,
      );
    }, delay);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
