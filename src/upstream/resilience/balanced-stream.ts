import type { UpstreamError } from "../upstream-error.js";
import type { MetadataEntries, UpstreamStream } from "../upstream.js";
import type { Endpoint } from "./endpoint.js";

/** What a balanced stream reports to its upstream. */
export interface StreamOwner {
  /** The stream's headers arrived (`error` undefined: the address answered) or it failed before any. */
  streamJudged(endpoint: Endpoint, ticket: number, error: unknown): void;
  /** The stream is over (ended, failed or cancelled): it no longer counts as in flight. */
  streamEnded(endpoint: Endpoint): void;
}

const NO_METADATA: MetadataEntries = Object.freeze([]);
const ignore = (): void => undefined;

/**
 * A stream on one address of a balanced upstream. It passes everything through and tells the
 * upstream how the address did (outlier detection and the breaker judge a stream by whether its
 * headers came) and when the stream is over (the concurrency bound and least_request count open
 * streams). Streams are never retried: once a message may have gone, sending the stream again
 * could repeat it (the transport still resends a stream the upstream refused unprocessed).
 */
export class BalancedStream implements UpstreamStream {
  readonly headers: Promise<MetadataEntries>;
  private over = false;
  private readonly onRead: (message: Uint8Array | undefined) => Uint8Array | undefined;
  private readonly onReadError: (error: unknown) => never;

  constructor(
    private readonly inner: UpstreamStream,
    private readonly owner: StreamOwner,
    private readonly endpoint: Endpoint,
    ticket: number,
  ) {
    this.headers = inner.headers;
    inner.headers.then(
      () => owner.streamJudged(endpoint, ticket, undefined),
      (error: unknown) => {
        owner.streamJudged(endpoint, ticket, error);
        this.finish();
      },
    );
    // Bound once per stream, not per message.
    this.onRead = (message) => {
      if (message === undefined) this.finish();
      return message;
    };
    this.onReadError = (error) => {
      this.finish();
      throw error;
    };
  }

  read(): Promise<Uint8Array | undefined> {
    return this.inner.read().then(this.onRead, this.onReadError);
  }

  trailers(): MetadataEntries {
    return this.inner.trailers();
  }

  write(message: Uint8Array): Promise<void> {
    return this.inner.write(message);
  }

  end(): void {
    this.inner.end();
  }

  cancel(): void {
    this.inner.cancel();
    this.finish();
  }

  private finish(): void {
    if (this.over) return;
    this.over = true;
    this.owner.streamEnded(this.endpoint);
  }
}

/** A stream the balanced upstream refused before opening it (overloaded, breaker open, no address). */
export class RefusedStream implements UpstreamStream {
  readonly headers: Promise<MetadataEntries>;

  constructor(private readonly error: UpstreamError) {
    this.headers = Promise.reject(error);
    // Whoever reads the stream learns of the error from `read`; headers alone must not go unhandled.
    this.headers.catch(ignore);
  }

  read(): Promise<Uint8Array | undefined> {
    return Promise.reject(this.error);
  }

  trailers(): MetadataEntries {
    return NO_METADATA;
  }

  write(): Promise<void> {
    return Promise.reject(this.error);
  }

  end(): void {}

  cancel(): void {}
}
