import { isIP } from "node:net";
import { z } from "zod";
import { rateLimitConfigSchema } from "../ratelimit/rate-limit-config.js";
import { selectorSchema } from "./selector.js";
import { authConfigSchema } from "../auth/auth-config.js";
import { accessLogConfigSchema } from "../observe/access-log/access-log-config.js";
import { tracingConfigSchema } from "../observe/tracing/tracing-config.js";
import { aggregatesSchema } from "../aggregate/aggregate-config.js";
import { graphqlConfigSchema } from "../graphql/graphql-config.js";

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "expected HOST:PORT");
const serviceName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/, "expected a fully qualified gRPC service name such as pkg.v1.Service");
const selector = selectorSchema;
/**
 * A path the gateway answers itself (the docs): absolute, one or more segments of unreserved
 * characters (RFC 3986), no trailing slash, so it is matched exactly as written.
 */
const docsPath = z
  .string()
  .regex(/^(?:\/[A-Za-z0-9._~-]+)+$/, "expected an absolute path such as /docs (letters, digits, . _ ~ -; no trailing slash)")
  .refine((path) => !path.split("/").some((segment) => segment === "." || segment === ".."), { message: "a path cannot hold . or .. segments" });
/** An address, a CIDR, or a proxy-addr range name. */
const trustedProxy = z
  .string()
  .refine((value) => ["loopback", "linklocal", "uniquelocal"].includes(value) || isAddressOrCidr(value), { message: "expected an IP address, a CIDR, loopback, linklocal or uniquelocal" });

function isAddressOrCidr(value: string): boolean {
  const [address, bits, extra] = value.split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** TLS toward an upstream: trust roots, an optional client certificate, a name override. */
const upstreamTlsSchema = z
  .strictObject({
    /** PEM file of the CA(s) that sign the upstream's certificate; default: the system roots. */
    caFile: z.string().min(1).optional(),
    /** PEM client certificate and key, for upstreams that require client certificates. */
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    /** The name to verify the upstream's certificate against, when it differs from the host. */
    serverName: z.string().min(1).optional(),
  })
  .refine((tls) => (tls.certFile === undefined) === (tls.keyFile === undefined), { message: "certFile and keyFile go together" });

/** `dns:///NAME:PORT`: every address the name resolves to, resolved again every `dnsRefreshMs`. */
const dnsTarget = z.string().regex(/^dns:\/\/\/[A-Za-z0-9.-]+:\d{1,5}$/, "expected dns:///NAME:PORT");
/** `HOST:PORT` or `dns:///NAME:PORT`. */
const upstreamAddress = z.string().refine((value) => hostPort.safeParse(value).success || dnsTarget.safeParse(value).success, { message: "expected HOST:PORT or dns:///NAME:PORT" });
const positiveMs = z.number().int().positive();

/** Retries of idempotent calls (GET bindings, `idempotency_level`) on UNAVAILABLE before any response. */
const retriesSchema = z
  .strictObject({
    /** Attempts per call, the first included (gRPC caps maxAttempts at 5). */
    maxAttempts: z.number().int().min(2).max(5).default(2),
    /** Backoff before retry n: random up to min(maxBackoffMs, initialBackoffMs * 2^(n-1)) (Envoy's 25 ms and 250 ms). */
    initialBackoffMs: z.number().int().nonnegative().default(25),
    maxBackoffMs: z.number().int().nonnegative().default(250),
    /** Retries in flight at most this % of the upstream's calls in flight, but always minRetryConcurrency (Envoy's retry budget). */
    budgetPercent: z.number().min(0).max(100).default(20),
    minRetryConcurrency: z.number().int().nonnegative().default(3),
  })
  .refine((retries) => retries.maxBackoffMs >= retries.initialBackoffMs, { message: "maxBackoffMs must be at least initialBackoffMs", path: ["maxBackoffMs"] });

/** Envoy's outlier detection defaults (consecutive gateway failures). */
const outlierDetectionSchema = z
  .strictObject({
    /** Connection failures or UNAVAILABLE answers in a row that eject an address. */
    consecutiveFailures: z.number().int().positive().default(5),
    /** An ejection lasts this long times the address's ejections so far. */
    baseEjectionMs: positiveMs.default(30_000),
    maxEjectionMs: positiveMs.default(300_000),
    /** At most this % of the addresses ejected at once (but one of two or more always may be). */
    maxEjectionPercent: z.number().min(0).max(100).default(10),
  })
  .refine((outlier) => outlier.maxEjectionMs >= outlier.baseEjectionMs, { message: "maxEjectionMs must be at least baseEjectionMs", path: ["maxEjectionMs"] });

const circuitBreakerSchema = z.strictObject({
  /** Calls in a row that failed with a connection failure or UNAVAILABLE (after retries) that open it. */
  consecutiveFailures: z.number().int().positive().default(5),
  /** How long it refuses calls (503 with Retry-After) before one probe call goes. */
  coolDownMs: positiveMs.default(10_000),
});

const healthCheckSchema = z
  .strictObject({
    /** `HealthCheckRequest.service`; "" asks about the whole server. */
    service: z.string().default(""),
    intervalMs: positiveMs.default(10_000),
    timeoutMs: positiveMs.default(1_000),
    unhealthyThreshold: z.number().int().positive().default(3),
    healthyThreshold: z.number().int().positive().default(2),
  })
  .refine((check) => check.timeoutMs <= check.intervalMs, { message: "timeoutMs must not exceed intervalMs", path: ["timeoutMs"] });

/** One upstream: where it is, how to reach it, and what protects calls to it. */
const upstreamObjectSchema = z
  .strictObject({
    /** `HOST:PORT`, or `dns:///NAME:PORT` for every address the name resolves to. */
    address: upstreamAddress.optional(),
    /** Several `HOST:PORT`s, balanced (instead of `address`). */
    addresses: z.array(hostPort).min(1).optional(),
    /** Largest reply accepted from this upstream. */
    maxReceiveMessageBytes: z.number().int().positive().optional(),
    /** Plaintext when absent. */
    tls: upstreamTlsSchema.optional(),
    /** The gRPC client: `wire` (default: Protogate's own, writing HTTP/2 frames itself), `http2` (Protogate's own on node:http2) or `grpc-js`. */
    transport: z.enum(["http2", "wire", "grpc-js"]).optional(),
    /** How calls are spread over the addresses in rotation: `round_robin` (default) or `least_request` (fewest in flight). */
    balancing: z.enum(["round_robin", "least_request"]).optional(),
    /** dns:/// targets: how often the name is resolved again (default 30000). */
    dnsRefreshMs: positiveMs.optional(),
    retries: retriesSchema.optional(),
    outlierDetection: outlierDetectionSchema.optional(),
    circuitBreaker: circuitBreakerSchema.optional(),
    /** Calls and streams in flight at most; beyond, a fast 503 with Retry-After (no queue). */
    maxConcurrentCalls: z.number().int().positive().optional(),
    /** Active grpc.health.v1.Health/Check of each address; off when absent. */
    healthCheck: healthCheckSchema.optional(),
  }, { error: (issue) => (issue.code === "invalid_type" ? "expected HOST:PORT, dns:///NAME:PORT or an object with address or addresses" : undefined) })
  .superRefine((upstream, context) => {
    if ((upstream.address === undefined) === (upstream.addresses === undefined)) {
      context.addIssue({ code: "custom", message: "give either address or addresses (one of them, not both)", path: [upstream.address === undefined ? "address" : "addresses"] });
    }
    const addresses = upstream.addresses ?? [];
    const duplicate = addresses.find((address, i) => addresses.indexOf(address) !== i);
    if (duplicate !== undefined) context.addIssue({ code: "custom", message: `${duplicate} is listed twice`, path: ["addresses"] });
    const dns = upstream.address?.startsWith("dns:///") === true;
    if (upstream.dnsRefreshMs !== undefined && !dns) context.addIssue({ code: "custom", message: "dnsRefreshMs applies to a dns:///NAME:PORT address only", path: ["dnsRefreshMs"] });
  });

/** An upstream: `HOST:PORT` (or `dns:///NAME:PORT`) for short, or an object with options. */
const upstreamSchema = z.preprocess((value) => (typeof value === "string" ? { address: value } : value), upstreamObjectSchema);

/** The schema of `gateway.yaml`. Every key is optional; defaults make the gateway run as is. */
export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).default("127.0.0.1"),
      port: z.number().int().min(0).max(65535).default(8080),
      /** Largest accepted request body; larger ones get 413. */
      bodyLimitBytes: z.number().int().positive().default(1024 * 1024),
      /** How long SIGTERM waits for in-flight requests before closing connections. */
      drainTimeoutMs: z.number().int().nonnegative().default(10_000),
      /** After SIGTERM: keep serving this long with /readyz 503 so load balancers stop sending, then stop accepting. */
      preStopDelayMs: z.number().int().nonnegative().default(0),
      /** Idle keep-alive timeout of client connections. */
      keepAliveTimeoutMs: z.number().int().positive().default(72_000),
      /** The request line and headers must arrive within this long (408 otherwise; nginx's client_header_timeout is 60 s). */
      headersTimeoutMs: z.number().int().positive().max(60_000).default(30_000),
      /** A request body must arrive completely within this long after the headers (408 otherwise). */
      bodyTimeoutMs: z.number().int().positive().default(60_000),
      /** No request body data for this long fails the request (408). */
      bodyIdleTimeoutMs: z.number().int().positive().default(15_000),
      /** After `minBodyRateGraceMs`, a body arriving slower than this on average fails the request (408); 0 turns the check off. */
      minBodyBytesPerSecond: z.number().int().nonnegative().default(1024),
      minBodyRateGraceMs: z.number().int().nonnegative().default(5_000),
      /** Open client connections at most; "auto": 80% of the process's open-file limit. Over it, new connections are refused. */
      maxConnections: z.union([z.literal("auto"), z.number().int().positive()]).default("auto"),
      /** Open connections per client address at most (0: no cap); peers listed in `trustProxy` are exempt. */
      maxConnectionsPerIp: z.number().int().nonnegative().default(256),
      /** Longest request target (path and query) in bytes; longer ones get 414. */
      maxUrlBytes: z.number().int().min(64).default(8192),
      /** Largest request line plus headers (HTTP/1.1) or header list (HTTP/2) in bytes; larger ones get 431. */
      maxHeaderBytes: z.number().int().min(1024).max(1024 * 1024).default(16 * 1024),
      /** HTTP/2 (with `tls`): streams one connection may have open at once. */
      http2MaxConcurrentStreams: z.number().int().positive().default(100),
      /**
       * Proxies whose X-Forwarded-For is believed when finding the client IP (rate limits by IP):
       * addresses or CIDRs (or `loopback`, `linklocal`, `uniquelocal`), or the number of proxy hops.
       * Absent: the client IP is the connection's peer address.
       */
      trustProxy: z.union([z.array(trustedProxy).min(1), z.number().int().min(1)]).optional(),
      /** HTTPS (HTTP/2 and HTTP/1.1 by ALPN) from these PEM files; plain HTTP/1.1 when absent. */
      tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
    })
    .prefault({}),
  /** CORS for browser clients (@fastify/cors); off when absent. */
  cors: z
    .strictObject({
      /** Allowed origins (exact, e.g. https://app.example.com), or "*" for any. */
      origins: z.union([z.literal("*"), z.array(z.string().min(1)).min(1)]),
      credentials: z.boolean().default(false),
      /** Response headers scripts may read, besides the CORS-safelisted ones. */
      exposedHeaders: z
        .array(z.string().min(1))
        .default(["x-request-id", "grpc-metadata-x-request-id", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "ratelimit-policy", "ratelimit", "retry-after"]),
      maxAgeSeconds: z.number().int().nonnegative().default(600),
    })
    .refine((cors) => !(cors.credentials && cors.origins === "*"), { message: "credentials cannot be combined with origins \"*\"" })
    .optional(),
  /**
   * The served API docs: the generated OpenAPI document and a Swagger UI page whose "try it"
   * calls this gateway. Off by default (the document lists every route of the gateway).
   */
  docs: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** The docs page; its assets are served under `PATH/assets/`. */
      path: docsPath.default("/docs"),
      /** The OpenAPI document (the generated folder's openapi.json as loaded at start-up). */
      openApiPath: docsPath.default("/openapi.json"),
    })
    .refine((docs) => docs.openApiPath !== docs.path && !docs.openApiPath.startsWith(`${docs.path}/assets/`), {
      message: "openApiPath must differ from path and from the page's assets (PATH/assets/...)",
      path: ["openApiPath"],
    })
    .prefault({}),
  /** The folder `protogate generate` wrote. */
  generated: z.string().min(1).default("generated"),
  /** Fully qualified service name -> `HOST:PORT` (or an object with options). */
  upstreams: z.record(serviceName, upstreamSchema).default({}),
  deadlines: z
    .strictObject({
      /** Deadline of an upstream call when no rule matches; a client's `grpc-timeout` may only shorten it. */
      defaultMs: z.number().int().positive().default(15_000),
      rules: z.array(z.strictObject({ selector, ms: z.number().int().positive() })).default([]),
      /** Streaming methods (server, client, bidi): not cut by the unary default. */
      streams: z
        .strictObject({
          /** Deadline of a stream when no rule matches; 0: none. */
          defaultMs: z.number().int().nonnegative().default(0),
          /** A stream with no message in either direction for this long ends with DEADLINE_EXCEEDED; 0: never (Envoy's stream_idle_timeout is also 5 minutes). */
          idleTimeoutMs: z.number().int().nonnegative().default(300_000),
          rules: z
            .array(z.strictObject({ selector, ms: z.number().int().nonnegative().optional(), idleTimeoutMs: z.number().int().nonnegative().optional() }))
            .default([]),
        })
        .prefault({}),
    })
    .prefault({}),
  /** How streaming methods are served over HTTP and WebSocket. */
  streaming: z
    .strictObject({
      /** Server-Sent Events: a comment line this often on an idle stream, so proxies keep it open; 0: none. */
      sseKeepAliveMs: z.number().int().nonnegative().default(15_000),
      /** Largest single request message of a client stream (JSON text or WebSocket frame); larger is 413 / close 1009. */
      maxMessageBytes: z.number().int().positive().default(1024 * 1024),
      /** Largest whole client-stream request body over HTTP; 0: no limit. */
      maxBodyBytes: z.number().int().nonnegative().default(64 * 1024 * 1024),
      webSocket: z
        .strictObject({
          /** A ping this often; a peer that has not answered the previous one by then is disconnected. 0: no pings. */
          pingIntervalMs: z.number().int().nonnegative().default(30_000),
        })
        .prefault({}),
    })
    .prefault({}),
  transcoding: z
    .strictObject({
      /** Accept and drop JSON fields that the message does not have (default: 400). */
      ignoreUnknownFields: z.boolean().default(false),
      /** Accept and drop query parameters that name no field (default: 400). */
      ignoreUnknownQueryParameters: z.boolean().default(false),
      /**
       * Fields marked `(google.api.field_behavior) = OUTPUT_ONLY` in a request: "drop" (default,
       * as AIP-203 asks of servers: ignored, not an error) or "reject" (400 naming them).
       */
      outputOnlyFields: z.enum(["drop", "reject"]).default("drop"),
    })
    .prefault({}),
  metadata: z
    .strictObject({
      /** Request headers forwarded as gRPC metadata, besides every `Grpc-Metadata-*` header. */
      forwardHeaders: z.array(z.string().min(1).transform((h) => h.toLowerCase())).optional(),
    })
    .prefault({}),
  /** Authentication and per-method authorisation; on by default. */
  auth: authConfigSchema.prefault({}),
  /** Rate limits (none by default), in memory or shared through Redis. */
  rateLimits: rateLimitConfigSchema.prefault({}),
  /** The admin listener (health, readiness, Prometheus metrics): never on the public port. */
  admin: z
    .strictObject({
      enabled: z.boolean().default(true),
      host: z.string().min(1).default("127.0.0.1"),
      /** 0 takes a free port. */
      port: z.number().int().min(0).max(65535).default(9901),
    })
    .prefault({}),
  logging: z
    .strictObject({
      level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    })
    .prefault({}),
  /** One JSON line per request (src/observe/access-log/); failures only by default. */
  accessLog: accessLogConfigSchema.prefault({}),
  /** OpenTelemetry tracing, exported over OTLP/HTTP; off when absent. */
  tracing: tracingConfigSchema.optional(),
  /** Aggregate routes (backend for frontend): one route answered by several RPCs (src/aggregate/). */
  aggregates: aggregatesSchema,
  /** The GraphQL endpoint (src/graphql/): off by default. */
  graphql: graphqlConfigSchema,
});

/** The validated configuration, frozen after loading. */
export type GatewayConfig = z.infer<typeof configSchema>;
export type UpstreamConfig = z.infer<typeof upstreamSchema>;
export type UpstreamTlsConfig = z.infer<typeof upstreamTlsSchema>;
