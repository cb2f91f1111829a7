import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { WarnLog } from "../log-throttle.js";
import { createLogThrottle } from "../log-throttle.js";
import { otlpTraceJson } from "./otlp-json.js";

export interface OtlpHttpExporterOptions {
  /** The full URL spans are POSTed to, e.g. `http://127.0.0.1:4318/v1/traces`. */
  readonly endpoint: string;
  /** Extra request headers (a collector's API key, for instance). */
  readonly headers?: Readonly<Record<string, string>>;
  /** How long one POST may take, connection included, before it is abandoned. */
  readonly timeoutMs: number;
  /** Where failed exports are reported, at most once per `logIntervalMs`. */
  readonly log?: WarnLog;
  readonly logIntervalMs?: number;
}

/**
 * The gateway's span exporter: one OTLP/HTTP JSON POST per batch (the BatchSpanProcessor bounds a
 * batch's size), body written by `otlpTraceJson`, on a keep-alive connection.
 *
 * Why not @opentelemetry/exporter-trace-otlp-http: its serialiser was most of tracing's cost per
 * request (see otlp-json.ts for the figures), and its retry machinery is not needed for a
 * best-effort signal. A failed export (a refusal, a timeout, a network error) drops its spans:
 * it is logged (throttled) and reported FAILED to the processor, and never reaches a request.
 */
export class OtlpHttpJsonExporter implements SpanExporter {
  private readonly url: URL;
  private readonly send: (url: URL, options: RequestOptions, answer: (response: IncomingMessage) => void) => ClientRequest;
  private readonly agent: HttpAgent;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly warn: (key: string, details: object, message: string) => void;
  private readonly pending = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly options: OtlpHttpExporterOptions) {
    this.url = new URL(options.endpoint);
    const https = this.url.protocol === "https:";
    this.send = https ? httpsRequest : httpRequest;
    this.agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.headers = { ...options.headers, "content-type": "application/json" };
    const log = options.log ?? { warn: () => undefined };
    this.warn = createLogThrottle(log, options.logIntervalMs ?? 10_000);
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.stopped) {
      done({ code: ExportResultCode.FAILED, error: new Error("the OTLP exporter is shut down") });
      return;
    }
    // Encoded once: the length header and the write use the same bytes.
    const sent = this.post(Buffer.from(otlpTraceJson(spans))).then(
      () => done({ code: ExportResultCode.SUCCESS }),
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        this.warn("otlp-export", { endpoint: this.options.endpoint, spans: spans.length, reason }, "span export failed; its spans are dropped");
        done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(reason) });
      },
    );
    this.pending.add(sent);
    void sent.finally(() => this.pending.delete(sent));
  }

  /** Resolves once every export started so far has finished. */
  async forceFlush(): Promise<void> {
    await Promise.all(this.pending);
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    await this.forceFlush();
    this.agent.destroy();
  }

  /** One POST; resolves on a 2xx answer, rejects on anything else, an error or the timeout. */
  private post(body: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = this.send(
        this.url,
        {
          method: "POST",
          agent: this.agent,
          headers: { ...this.headers, "content-length": body.length },
          timeout: this.options.timeoutMs,
        },
        (response) => {
          // The body (a partial-success notice at most) is not used; reading it frees the socket.
          response.resume();
          const status = response.statusCode ?? 0;
          response.on("end", () => (status >= 200 && status < 300 ? resolve() : reject(new Error(`the collector answered HTTP ${status}`))));
          response.on("error", reject);
        },
      );
      // `timeout` is socket inactivity; a whole-request deadline bounds a slow trickle too.
      const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      deadline.unref();
      request.on("timeout", () => request.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)));
      request.on("error", reject);
      request.on("close", () => clearTimeout(deadline));
      request.end(body);
    });
  }
}
