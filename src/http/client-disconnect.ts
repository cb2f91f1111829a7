import type { CancelSignal } from "../upstream/upstream.js";

/**
 * A cancel signal that fires when the HTTP client goes away before its response is complete, so
 * the upstream call (and, for streams, the deadline and the writers) stop. Any number of
 * listeners; each fires once. A plain object: an AbortController and its EventTarget per request
 * cost measurable throughput on the hot path.
 */
export class ClientDisconnect implements CancelSignal {
  aborted = false;
  // The common case is one listener (the upstream call): kept in a field, no array per request.
  private first: (() => void) | undefined;
  private rest: Array<() => void> | undefined;

  /** Marks the signal aborted and runs every listener once. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const first = this.first;
    const rest = this.rest;
    this.first = undefined;
    this.rest = undefined;
    first?.();
    if (rest) for (const listener of rest) listener();
  }

  addEventListener(_type: "abort", listener: () => void): void {
    if (this.aborted) return;
    if (this.first === undefined) this.first = listener;
    else (this.rest ??= []).push(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    if (this.first === listener) this.first = undefined;
    else if (this.rest) {
      const index = this.rest.indexOf(listener);
      if (index >= 0) this.rest.splice(index, 1);
    }
  }
}
