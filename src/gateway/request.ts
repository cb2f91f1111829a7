import type { IncomingHttpHeaders } from "node:http";
import type { ClientInfo } from "../upstream/metadata.js";
import type { CancelSignal } from "../upstream/upstream.js";
import type { Exchange } from "../observe/exchange.js";

/** What is known of a request before its body is read: enough to route and authenticate it. */
export interface RequestHead {
  readonly method: string;
  /** Path and query exactly as received. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Node's raw header list: duplicates stay visible (two Authorization headers are an error). */
  readonly rawHeaders: readonly string[];
  readonly client: ClientInfo;
  /**
   * The connection the request came on (HTTP/1: its socket; HTTP/2: its session), only as a key
   * for per-connection memos (the last verified token); never read. Absent: no memo.
   */
  readonly connection?: object;
}

/**
 * One request as the adapter hands it to the pipeline: the head, ways to read the body (bounded
 * and timed by the adapter; used only after the edge checks pass, so an unauthenticated client
 * cannot make the gateway read one, and `Expect: 100-continue` is answered only then), and the
 * client's cancel signal.
 */
export interface GatewayRequest {
  /** The request's head (`exchange.head`), request ID and record, filled in as it flows. */
  readonly exchange: Exchange;
  /** The request body, read only when asked for. */
  readonly body: RequestBodySource;
  /** Aborted when the client goes away; cancels the upstream call. */
  readonly signal: CancelSignal;
}

/** How the pipeline reads a request's body (an object with methods: nothing is allocated per request for it). */
export interface RequestBodySource {
  /** The whole body, or undefined when the request has none; rejects with a GatewayError (413, 408, ...). */
  read(): Promise<Buffer | undefined>;
  /**
   * The body as it arrives, for client-streaming calls (bounded in total size; no overall time
   * limit, the stream's idle timeout applies instead). Throws a GatewayError (413, or CANCELLED
   * when the client goes away).
   */
  stream(): AsyncIterable<Buffer>;
}

/** A response body: whole, or chunks written as they come with back-pressure (server streams). */
export type ResponseBody = string | Buffer | AsyncIterable<string | Buffer>;

/** What the adapter writes back. */
export interface GatewayResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ResponseBody;
}
