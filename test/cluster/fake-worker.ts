import type { PrimaryMessage, WorkerMessage } from "../../src/cluster/messages.js";
import type { WorkerProcess } from "../../src/cluster/worker-process.js";
import { Changes } from "../support/until.js";

/** A worker process the test drives: it says what it is told, and exits when the test says so. */
export class FakeWorker implements WorkerProcess {
  readonly sent: PrimaryMessage[] = [];
  readonly signals: NodeJS.Signals[] = [];
  private readonly messageListeners: Array<(message: WorkerMessage) => void> = [];
  private readonly exitListeners: Array<(code: number | null, signal: string | null) => void> = [];
  exited = false;
  private readonly changes = new Changes();

  constructor(readonly pid: number) {}

  send(message: PrimaryMessage): void {
    this.sent.push(message);
    this.changes.changed();
  }
  /** Resolves once the primary has sent this worker a message `matches` accepts. */
  whenSent(matches: (message: PrimaryMessage) => boolean): Promise<void> {
    return this.changes.until(() => this.sent.some(matches));
  }
  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
  }
  onMessage(listener: (message: WorkerMessage) => void): void {
    this.messageListeners.push(listener);
  }
  onExit(listener: (code: number | null, signal: string | null) => void): void {
    this.exitListeners.push(listener);
  }

  /** The worker sends `message` to the primary. */
  say(message: WorkerMessage): void {
    for (const listener of [...this.messageListeners]) listener(message);
  }
  /** The worker starts listening: hello, then ready on `port`. */
  becomeReady(port = 8080): void {
    this.say({ protogate: "hello" });
    this.say({ protogate: "ready", url: `http://127.0.0.1:${port}`, port });
  }
  exit(code: number | null, signal: string | null = null): void {
    this.exited = true;
    for (const listener of [...this.exitListeners]) listener(code, signal);
  }
}

/** A fork function handing out FakeWorkers with pids 101, 102, ...; `forked` lists them in order; `whenForked(n)` resolves once n exist. */
export function fakeFork(): { fork: () => FakeWorker; forked: FakeWorker[]; whenForked: (count: number) => Promise<void> } {
  const forked: FakeWorker[] = [];
  const changes = new Changes();
  return {
    forked,
    fork: () => {
      const worker = new FakeWorker(101 + forked.length);
      forked.push(worker);
      changes.changed();
      return worker;
    },
    whenForked: (count) => changes.until(() => forked.length >= count),
  };
}
