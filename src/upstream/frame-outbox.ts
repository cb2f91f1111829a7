import type { Socket } from "node:net";

/** Up to this many queued bytes are copied into one buffer for one write; more are written corked. */
const COALESCE_BYTES = 64 * 1024;

/**
 * The frames an HTTP/2 connection has to send, written once per event-loop turn: the frames of
 * every call started (or answered) in the same turn share one socket write, which under load is
 * most of what owning the HTTP/2 layer saves. Used by the wire client's connection and by the
 * bench's replay server.
 */
export class FrameOutbox {
  private pieces: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;
  private done = false;

  constructor(private readonly socket: Socket) {}

  /** Queues frames for the next flush; nothing once the outbox has ended or was discarded. */
  queue(frames: Buffer): void {
    if (this.done) return;
    this.pieces.push(frames);
    this.bytes += frames.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(flushOutbox, this);
    }
  }

  /** Writes what is queued now: one write when it is small, else the pieces under one cork. */
  flush(): void {
    this.scheduled = false;
    const pieces = this.pieces;
    if (pieces.length === 0 || this.done) return;
    this.pieces = [];
    const bytes = this.bytes;
    this.bytes = 0;
    if (pieces.length === 1) {
      this.socket.write(pieces[0]);
    } else if (bytes <= COALESCE_BYTES) {
      this.socket.write(Buffer.concat(pieces, bytes));
    } else {
      this.socket.cork();
      for (const piece of pieces) this.socket.write(piece);
      this.socket.uncork();
    }
  }

  /** Writes what is queued, then `last` (a GOAWAY, say), and ends the socket; later frames are dropped. */
  end(last?: Buffer): void {
    if (this.done) return;
    if (last !== undefined) this.pieces.push(last);
    const pieces = this.pieces;
    this.discard();
    if (pieces.length > 0) this.socket.end(Buffer.concat(pieces));
    else this.socket.end();
  }

  /** Drops what is queued (the socket is gone); later frames are dropped too. */
  discard(): void {
    this.done = true;
    this.pieces = [];
    this.bytes = 0;
  }
}

function flushOutbox(outbox: FrameOutbox): void {
  outbox.flush();
}
