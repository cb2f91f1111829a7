import type { Caller } from "../auth/caller.js";
import type { EdgeAuth } from "../auth/edge-auth.js";
import type { AnyBinding } from "../binding.js";
import type { GatewayConfig } from "../config/schema.js";
import type { AnyToJson } from "../errors/any-detail.js";
import { renderError } from "../errors/error-writer.js";
import { GatewayError } from "../errors/gateway-error.js";
import { GrpcCode } from "../errors/grpc-code.js";
import { toGatewayError } from "../errors/to-gateway-error.js";
import { createLogThrottle } from "../log-throttle.js";
import { NO_LIMIT_HEADERS, type LimitHeaders, type RateLimiter } from "../ratelimit/rate-limiter.js";
import { createRouter, findRouteConflicts, type RouteDefinition, type RouteVariableValue } from "../routing/router.js";
import { REAL_TIMERS, type Timers } from "../timers.js";
import type { CodecRegistry } from "../transcode/json/codec-registry.js";
import { parseQueryString } from "../transcode/query-string.js";
import { callTimeoutMs } from "../upstream/deadline.js";
import { createMetadataMapper } from "../upstream/metadata.js";
import { UpstreamError } from "../upstream/upstream-error.js";
import type { MetadataEntries, Upstream, UpstreamPool } from "../upstream/upstream.js";
import type { Exchange } from "../observe/exchange.js";
import { ExchangeRecorder } from "../observe/exchange-recorder.js";
import { createBehaviorPlans } from "../transcode/field-behavior/behavior-plan.js";
import { ConfigError } from "../config/load-config.js";
import { AggregateConfigError, compileAggregates, type PreparedAggregate } from "../aggregate/compile-aggregate.js";
import { runAggregate, type AggregateRequest } from "../aggregate/run-aggregate.js";
import type { TypedAggregate } from "../aggregate/typed/define-aggregate.js";
import { runTypedAggregate, type TypedAggregateRunner } from "../aggregate/typed/run-typed-aggregate.js";
import { parseTemplate } from "../../codegen/http-rule/parse-template.js";
import type { GraphqlFiles } from "../graphql/graphql-files.js";
import { prepareGraphql, type PreparedGraphql } from "../graphql/graphql-route.js";
import { createGraphqlRequestState, rpcErrorToGraphql } from "../graphql/resolver-context.js";
import { GRAPHQL_WS_PROTOCOL, serveGraphqlSocket } from "../graphql/subscriptions/graphql-ws-session.js";
import { CloseCode } from "graphql-ws";
import type { GraphQLError } from "graphql";
import { EVENT_STREAM, sseEvents, sseOperationParams, wantsEventStream } from "../graphql/subscriptions/sse-events.js";
import { isRefusal } from "../graphql/graphql-http-handler.js";
import { shuttingDownError } from "../errors/shutting-down.js";
import { selectBody } from "./partial-response.js";
import { prepareRoute, type PreparedRoute } from "./prepared-route.js";
import { pathOf } from "./request-path.js";
import type { GatewayRequest, GatewayResponse, RequestHead } from "./request.js";
import { closeWithStatus, runSocketCall, type MessageSocket } from "./socket-call.js";
import { createStreamCalls } from "./stream-call.js";
import { ClientDisconnect } from "../http/client-disconnect.js";

export type { GatewayRequest, GatewayResponse, RequestBodySource, RequestHead, ResponseBody } from "./request.js";
export type { PreparedRoute } from "./prepared-route.js";
export type { MessageSocket, SocketFrame } from "./socket-call.js";

export interface PipelineDependencies {
  readonly config: Readonly<GatewayConfig>;
  readonly bindings: readonly AnyBinding[];
  readonly codecs: CodecRegistry;
  readonly upstreams: UpstreamPool;
  readonly auth: EdgeAuth;
  readonly rateLimiter: RateLimiter;
  /** Where unexpected failures go; clients only ever see "internal error". */
  readonly log: { error(details: object, message: string): void; warn(details: object, message: string): void };
  /** Stream idle timeouts and keep-alives (tests pass a manual clock). */
  readonly timers?: Timers;
  /** Records each request for the observers (metrics, traces, access log); request IDs. */
  readonly recorder?: ExchangeRecorder;
  /** Aborted at the shutdown's drain deadline: open HTTP streams then end cleanly (stream-call.ts). */
  readonly shutdown?: AbortSignal;
  /** The clock of aggregate calls' deadlines (tests pass a manual clock); default: `timers`. */
  readonly aggregateTimers?: Timers;
  /** The typed aggregates' modules, loaded (src/aggregate/typed/), by aggregate name. */
  readonly aggregateModules?: ReadonlyMap<string, TypedAggregate>;
  /** generated/schema.graphql and graphql-map.js, when `graphql.enabled` (the endpoint is served then). */
  readonly graphql?: GraphqlFiles;
}

/** What a route of the router leads to: one RPC's binding, an aggregate of several (src/aggregate/), or the GraphQL endpoint (src/graphql/). */
export type RouteTarget = PreparedRoute | PreparedAggregate | PreparedGraphql;

function isAggregate(target: RouteTarget): target is PreparedAggregate {
  return "calls" in target;
}

function isGraphql(target: RouteTarget): target is PreparedGraphql {
  return "graphql" in target;
}

/** A route of one RPC's binding (not an aggregate, not the GraphQL endpoint). */
function isRpcRoute(target: RouteTarget): target is PreparedRoute {
  return !isAggregate(target) && !isGraphql(target);
}

/** A request that passed the edge checks: its route, path variables, query, caller and limit fields. */
export interface Admission<R extends RouteTarget = PreparedRoute> {
  readonly route: R;
  readonly variables: readonly RouteVariableValue[];
  readonly query: ReadonlyArray<readonly [string, string]>;
  readonly caller: Caller | undefined;
  /** Rate-limit fields for the response, whatever it turns out to be. */
  readonly limitHeaders: LimitHeaders;
}

/** An admitted WebSocket upgrade: a streaming method's call, or graphql-ws at the GraphQL endpoint. */
export type SocketAdmission = Admission<PreparedRoute> | Admission<PreparedGraphql>;

/** The request pipeline. */
export interface GatewayPipeline {
  /** The config it was built from (the adapter reads the streaming limits of the pipeline a request runs on). */
  readonly config: Readonly<GatewayConfig>;
  /** Its aggregate routes, compiled (the served OpenAPI document includes them). */
  readonly aggregates: readonly PreparedAggregate[];
  /** A request arrived: the Exchange that follows it (with its request ID) until `end`. */
  begin(head: RequestHead): Exchange;
  /** Its response is over (written or abandoned): the observers hear of it. */
  end(exchange: Exchange): void;
  /**
   * Route (404/405/501), authenticate and authorise (401/403), rate-limit (429), then read the
   * body, encode the request message, call the upstream and shape the reply (for a streaming
   * method, open the stream and write the replies as they come). Every failure on the way
   * resolves to a google.rpc.Status response; the promise itself never rejects.
   */
  handle(request: GatewayRequest): Promise<GatewayResponse>;
  /**
   * The edge checks of a WebSocket upgrade, before it is accepted: the streaming method whose
   * rule's path matches, whatever the rule's verb, then authentication, authorisation and rate
   * limits. The admission, or the error response to refuse the upgrade with.
   */
  admitUpgrade(exchange: Exchange): Promise<SocketAdmission | GatewayResponse>;
  /** Runs an admitted WebSocket call (socket-call.ts), or a graphql-ws session (graphql-ws-session.ts); resolves when it is over. */
  runSocket(exchange: Exchange, admission: SocketAdmission, socket: MessageSocket, signal: AbortSignal): Promise<void>;
  /**
   * The error response for anything thrown (with the upstream's metadata, the limit fields and
   * the request ID), recorded as the exchange's outcome.
   */
  fail(thrown: unknown, exchange: Exchange, limitHeaders?: LimitHeaders): GatewayResponse;
  /** A request the HTTP server refused before the pipeline saw it (it answered it itself): recorded as the exchange's outcome. */
  refused(error: GatewayError, exchange: Exchange): void;
}

/**
 * Methods answered by routing (404 or 405) even when no route uses them; any other method that no
 * route uses is 501 (RFC 9110 §9.1: a method the server does not implement).
 */
/** The query of a URL without one (shared, never written). */
const NO_QUERY: ReadonlyArray<readonly [string, string]> = Object.freeze([]);

export const STANDARD_METHODS: readonly string[] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/**
 * The request pipeline, framework-neutral: route -> edge checks -> body -> request message ->
 * upstream call -> reply; any failure on the way becomes one `google.rpc.Status` response.
 */
export function createGatewayPipeline(deps: PipelineDependencies): GatewayPipeline {
  const { config, codecs, auth } = deps;
  const behaviorPlans = createBehaviorPlans();
  const routes = deps.bindings.map((binding) => prepareRoute(binding, { ...deps, behaviorPlans }));
  const aggregates = compileAggregates(config.aggregates, {
    codecs,
    routes: routesByMethod(routes),
    ruleFor: (service, method, rule) => auth.ruleFor({ service, method, auth: rule }),
    limiterFor: (service, method) => deps.rateLimiter.forMethod(service, method),
    defaultDeadlineMs: config.deadlines.defaultMs,
    ...(deps.aggregateModules && { modules: deps.aggregateModules }),
  });
  const graphqlRoutes =
    config.graphql.enabled && deps.graphql !== undefined
      ? prepareGraphql({
          config: config.graphql,
          files: deps.graphql,
          codecs,
          routes,
          ruleFor: (service, method, rule) => auth.ruleFor({ service, method, auth: rule }),
          limiterFor: (service, method) => deps.rateLimiter.forMethod(service, method),
          defaultDeadlineMs: config.deadlines.defaultMs,
          outputOnlyFields: config.transcoding.outputOnlyFields,
          warn: (message) => deps.log.warn({}, message),
        })
      : [];
  const routeDefinitions = [
    ...routes.map((value): RouteDefinition<RouteTarget> => ({ httpMethod: value.binding.httpMethod, template: value.binding.template, value })),
    ...aggregates.map((value): RouteDefinition<RouteTarget> => ({ httpMethod: value.binding.httpMethod, template: value.template, value })),
    ...graphqlRoutes.map((value): RouteDefinition<RouteTarget> => ({ httpMethod: value.binding.httpMethod, template: parseTemplate(value.binding.pattern), value })),
  ];
  // An aggregate or the GraphQL endpoint on a generated route's path (or on each other's) is a config error naming both.
  const clashes = findRouteConflicts(routeDefinitions).filter((conflict) => !isRpcRoute(conflict.second.value) || !isRpcRoute(conflict.first.value));
  if (clashes.some((clash) => isGraphql(clash.first.value) || isGraphql(clash.second.value))) {
    throw new ConfigError(clashes.map((clash) => describeClash(clash.second.value, clash.first.value)).join("; "));
  }
  if (clashes.length > 0) throw new AggregateConfigError(clashes.map((clash) => describeClash(clash.second.value, clash.first.value)));
  const router = createRouter<RouteTarget>(routeDefinitions);
  const metadata = createMetadataMapper({ ...(config.metadata.forwardHeaders && { forwardHeaders: config.metadata.forwardHeaders }), droppedHeaders: auth.droppedHeaders });
  const anyToJson: AnyToJson = (typeUrl, value) => codecs.anyToJson(typeUrl, value);
  const routedMethods = new Set([...STANDARD_METHODS, ...routes.map((route) => route.binding.httpMethod), ...aggregates.map((aggregate) => aggregate.binding.httpMethod)]);

  const recorder = deps.recorder ?? new ExchangeRecorder();
  const warnThrottled = createLogThrottle(deps.log);
  /**
   * An unexpected failure is logged with its cause (clients only see "internal error"); an
   * upstream's failure (unreachable, broken reply) with what happened (address, error code), at
   * most once per interval per method and kind.
   */
  const logInternal = (error: GatewayError, exchange: Exchange): void => {
    const { head, requestId } = exchange;
    if (error.code === GrpcCode.INTERNAL && (error.reason === "PG_ERR_INTERNAL" || error.reason === "PG_ERR_AGGREGATE_MODULE")) {
      deps.log.error({ err: error.cause ?? error, method: head.method, path: pathOf(head.url), requestId }, "internal error");
      return;
    }
    const cause = error.cause;
    if (cause instanceof UpstreamError && (cause.origin === "connection" || cause.origin === "protocol" || cause.origin === "deadline")) {
      const root = cause.cause as { code?: unknown; message?: unknown } | undefined;
      warnThrottled(`${cause.rpcPath} ${cause.origin}`, { rpc: cause.rpcPath, origin: cause.origin, error: cause.message, code: root?.code, reason: error.reason, requestId }, "upstream call failed");
    }
  };
  const fail = (thrown: unknown, exchange: Exchange, limitHeaders: LimitHeaders = NO_LIMIT_HEADERS): GatewayResponse => {
    const error = toGatewayError(thrown);
    logInternal(error, exchange);
    recorder.failed(exchange, error);
    const response = renderError(error, anyToJson, exchange.requestId);
    if (error.metadata.length === 0 && limitHeaders === NO_LIMIT_HEADERS) return response;
    return { ...response, headers: { ...metadata.toHttp(error.metadata, []), ...limitHeaders, ...response.headers } };
  };
  const timers = deps.timers ?? REAL_TIMERS;
  const aggregateRunner: TypedAggregateRunner = { auth, timers: deps.aggregateTimers ?? timers, anyToJson, codecs, routesByRpcPath: unaryRoutesByRpcPath(routes) };
  const streamCall = createStreamCalls({
    streaming: config.streaming,
    timers,
    metadataToHttp: (headers, trailers) => metadata.toHttp(headers, trailers),
    recorder,
    shutdown: deps.shutdown,
    statusJson: (thrown, exchange) => {
      const error = toGatewayError(thrown);
      logInternal(error, exchange);
      recorder.failed(exchange, error);
      return renderError(error, anyToJson, exchange.requestId).body;
    },
  });

  /** The route of a request: by method and path, or (an upgrade) the streaming route at the path. */
  function routeOf(head: RequestHead, path: string, upgrade: boolean): { route: RouteTarget; variables: readonly RouteVariableValue[] } {
    if (!routedMethods.has(head.method)) {
      throw new GatewayError(GrpcCode.UNIMPLEMENTED, "PG_ERR_METHOD_NOT_IMPLEMENTED", `the method ${head.method.slice(0, 32)} is not implemented`);
    }
    const match = router.match(head.method, path);
    if (upgrade) {
      // A WebSocket opens with a GET whatever the rule's verb: take the streaming route at this path.
      const candidates = match.kind === "found" ? [match] : match.kind === "methodNotAllowed" ? match.allow.map((method) => router.match(method, path)) : [];
      for (const candidate of candidates) {
        if (candidate.kind === "found" && isRpcRoute(candidate.value) && candidate.value.binding.kind !== "unary") return { route: candidate.value, variables: candidate.variables };
        // The GraphQL endpoint's path: graphql-ws (graphql-ws-session.ts).
        if (candidate.kind === "found" && isGraphql(candidate.value)) return { route: candidate.value, variables: candidate.variables };
      }
      throw new GatewayError(GrpcCode.NOT_FOUND, "PG_ERR_ROUTE_NOT_FOUND", `no streaming method at ${path} (a WebSocket opens a streaming method's call, or graphql-ws at the GraphQL endpoint)`);
    }
    if (match.kind === "notFound") {
      throw new GatewayError(GrpcCode.NOT_FOUND, "PG_ERR_ROUTE_NOT_FOUND", `no route for ${head.method} ${path}`);
    }
    if (match.kind === "methodNotAllowed") {
      throw new GatewayError(GrpcCode.UNIMPLEMENTED, "PG_ERR_METHOD_NOT_ALLOWED", `method ${head.method} is not allowed for ${path}; allowed: ${match.allow.join(", ")}`, {
        httpStatus: 405,
        headers: { allow: match.allow.join(", ") },
      });
    }
    return { route: match.value, variables: match.variables };
  }

  /**
   * Route, authenticate, authorise, rate-limit; throws (or rejects with) the GatewayError to answer
   * otherwise. Runs synchronously as far as it can (auth off, an API key or a hot token, the
   * memory store's answer): a promise (and a microtask turn) only when a check really waits.
   */
  function admitOrThrow(exchange: Exchange, upgrade = false): Admission<RouteTarget> | Promise<Admission<RouteTarget>> {
    const { head } = exchange;
    const queryStart = head.url.indexOf("?");
    const path = queryStart < 0 ? head.url : head.url.slice(0, queryStart);
    const { route, variables } = routeOf(head, path, upgrade);
    exchange.binding = route.binding;
    const query = queryStart < 0 ? NO_QUERY : parseQueryString(head.url.slice(queryStart + 1));
    const caller = auth.admit(route.rule, head.rawHeaders, head.client.ip, head.connection);
    if (caller instanceof Promise) {
      return caller.then((known) => {
        exchange.caller = known;
        return limit(head, route, variables, query, known);
      });
    }
    exchange.caller = caller;
    return limit(head, route, variables, query, caller);
  }

  function limit(head: RequestHead, route: RouteTarget, variables: readonly RouteVariableValue[], query: ReadonlyArray<readonly [string, string]>, caller: Caller | undefined): Admission<RouteTarget> | Promise<Admission<RouteTarget>> {
    if (!route.limiter) return { route, variables, query, caller, limitHeaders: NO_LIMIT_HEADERS };
    const checked = route.limiter.check({ caller, clientIp: head.client.ip, headers: head.headers });
    if (checked instanceof Promise) return checked.then((limitHeaders) => ({ route, variables, query, caller, limitHeaders }));
    return { route, variables, query, caller, limitHeaders: checked };
  }

  function upstreamOf(route: PreparedRoute): Upstream {
    if (route.upstream) return route.upstream;
    throw new GatewayError(GrpcCode.UNAVAILABLE, "PG_ERR_UPSTREAM_NOT_CONFIGURED", `no upstream is configured for ${route.binding.upstreamServices?.[0] ?? route.binding.service}`);
  }

  /** The metadata of an admitted request's upstream call, which starts now (the recorder hears of it). */
  function upstreamMetadata(exchange: Exchange, { route, caller }: Admission<RouteTarget>): MetadataEntries {
    const { head } = exchange;
    return recorder.upstreamStarted(exchange, auth.metadata(metadata.toGrpc(head.headers, head.client), caller, route.rule, head.headers.authorization));
  }

  /** The client's `grpc-timeout` shortens a call's deadline, never extends it. */
  function clientTimeout(head: RequestHead): string | undefined {
    const header = head.headers["grpc-timeout"];
    return typeof header === "string" ? header : undefined;
  }

  /** A stream's deadline: the configured one, shortened (never extended) by the client's `grpc-timeout`. */
  function streamTimeoutMs(head: RequestHead, route: PreparedRoute): number | undefined {
    const header = clientTimeout(head);
    return header === undefined ? route.stream.deadlineMs : callTimeoutMs(route.stream.deadlineMs ?? Number.MAX_SAFE_INTEGER, header);
  }

  /** An admitted aggregate request: its calls run (src/aggregate/), one JSON answer. Throws the GatewayError to answer otherwise. */
  async function handleAggregate(request: GatewayRequest, admission: Admission<PreparedAggregate>): Promise<GatewayResponse> {
    const { exchange } = request;
    const { head } = exchange;
    const { route: aggregate, caller } = admission;
    // `fields` (a partial answer) is checked before any call is made.
    const { query, pruning } = aggregate.fields === undefined ? { query: admission.query, pruning: undefined } : aggregate.fields.take(admission.query);
    const timeoutMs = callTimeoutMs(aggregate.deadlineMs, clientTimeout(head));
    // One upstream span for the aggregate: its request ID and trace context go with every call.
    const sharedMetadata = recorder.upstreamStarted(exchange, []);
    let answer;
    try {
      const aggregateRequest: AggregateRequest = {
          aggregate,
          variables: admission.variables,
          query,
          pruning,
          caller,
          limited: { caller, clientIp: head.client.ip, headers: head.headers },
          authorization: head.headers.authorization,
          baseMetadata: metadata.toGrpc(head.headers, head.client),
          sharedMetadata,
          timeoutMs,
          signal: request.signal,
          requestId: exchange.requestId,
          callFailed: (error) => logInternal(error, exchange),
        };
      answer = aggregate.typed === undefined ? await runAggregate(aggregateRequest, aggregateRunner) : await runTypedAggregate(aggregate.typed, aggregateRequest, aggregateRunner);
    } catch (thrown) {
      recorder.upstreamEnded(exchange, upstreamCodeOf(thrown));
      throw thrown;
    }
    recorder.upstreamEnded(exchange, answer.upstreamCode);
    exchange.settle(GrpcCode.OK);
    return { status: 200, headers: { ...admission.limitHeaders, "content-type": "application/json" }, body: answer.body };
  }

  /**
   * An admitted GraphQL request: GraphQL over HTTP (graphql-http's statuses and bodies, which the
   * spec governs), each resolver's RPC made on the client's behalf. Throws the GatewayError to
   * answer otherwise (a body too large or too slow).
   */
  async function handleGraphql(request: GatewayRequest, admission: Admission<PreparedGraphql>): Promise<GatewayResponse> {
    const { exchange } = request;
    const { head } = exchange;
    const { graphql } = admission.route;
    if (wantsEventStream(head.headers.accept)) return handleGraphqlSse(request, admission);
    const body = head.method === "POST" ? await request.body.read() : undefined;
    const timeoutMs = callTimeoutMs(graphql.deadlineMs, clientTimeout(head));
    // One upstream span for the request: its request ID and trace context go with every RPC.
    const sharedMetadata = recorder.upstreamStarted(exchange, []);
    const cancel = new ClientDisconnect();
    const onClientGone = () => cancel.abort();
    request.signal.addEventListener("abort", onClientGone, { once: true });
    const state = graphqlState(exchange, admission, { sharedMetadata, deadlineAt: aggregateRunner.timers.now() + timeoutMs, cancelled: cancel });
    let answer;
    try {
      answer = await graphql.handle({ method: head.method, url: head.url, headers: head.headers, body: body === undefined ? null : body.toString("utf8"), context: state.context });
    } catch (thrown) {
      recorder.upstreamEnded(exchange, upstreamCodeOf(thrown));
      throw thrown;
    } finally {
      request.signal.removeEventListener("abort", onClientGone);
      cancel.abort();
    }
    recorder.upstreamEnded(exchange, state.upstreamCode());
    const [text, init] = answer;
    // A request graphql-http refused (bad JSON, a media type it does not take, ...) is the client's error.
    exchange.settle(init.status < 400 ? GrpcCode.OK : GrpcCode.INVALID_ARGUMENT);
    const headers: Record<string, string> = { ...admission.limitHeaders };
    for (const [name, value] of Object.entries(init.headers ?? {})) if (value !== undefined) headers[name] = value;
    return { status: init.status, headers, body: text ?? "" };
  }

  /**
   * An admitted GraphQL request asking for `text/event-stream`: GraphQL over SSE (distinct
   * connections mode, sse-events.ts). A subscription's stream runs under its method's stream
   * deadline and idle timeout; a query or mutation within the endpoint's deadline. The client
   * going away cancels the upstream stream. Throws the GatewayError to answer otherwise (a body
   * that is not an operation, too large, too slow).
   */
  async function handleGraphqlSse(request: GatewayRequest, admission: Admission<PreparedGraphql>): Promise<GatewayResponse> {
    const { exchange } = request;
    const { head } = exchange;
    const { graphql } = admission.route;
    const body = head.method === "POST" ? await request.body.read() : undefined;
    const checked = graphql.check(sseOperationParams(head.method, admission.query, body));
    const subscription = !isRefusal(checked) && checked.kind === "subscription";
    const deadlineAt = subscription ? Number.POSITIVE_INFINITY : aggregateRunner.timers.now() + callTimeoutMs(graphql.deadlineMs, clientTimeout(head));
    const sharedMetadata = recorder.upstreamStarted(exchange, []);
    const cancelled = new ClientDisconnect();
    request.signal.addEventListener("abort", () => cancelled.abort());
    const state = graphqlState(exchange, admission, { sharedMetadata, deadlineAt, cancelled });
    // At the shutdown's drain deadline a subscription still open ends cleanly: its stream is cancelled, `complete` is sent.
    let shutDown = false;
    const onShutdown = () => {
      shutDown = true;
      cancelled.abort();
    };
    deps.shutdown?.addEventListener("abort", onShutdown, { once: true });
    const events = sseEvents({ checked, context: state.context, gone: cancelled, keepAliveMs: config.streaming.sseKeepAliveMs, timers });
    async function* recorded(): AsyncGenerator<string> {
      try {
        yield* events;
        if (!shutDown) exchange.settle(GrpcCode.OK);
      } finally {
        deps.shutdown?.removeEventListener("abort", onShutdown);
        if (cancelled.aborted) recorder.failed(exchange, shutDown ? shuttingDownError() : new GatewayError(GrpcCode.CANCELLED, "PG_ERR_CANCELLED", "the client went away"));
        cancelled.abort();
        recorder.upstreamEnded(exchange, state.upstreamCode());
      }
    }
    return { status: 200, headers: { ...admission.limitHeaders, "content-type": EVENT_STREAM, "cache-control": "no-cache" }, body: recorded() };
  }

  /** The resolver state of one GraphQL operation (an HTTP request's, or one operation of a graphql-ws session). */
  function graphqlState(exchange: Exchange, admission: Admission<PreparedGraphql>, shared: { sharedMetadata: MetadataEntries; deadlineAt: number; cancelled: ClientDisconnect; callFailed?: (error: GatewayError) => void }) {
    const { head } = exchange;
    const { route, caller } = admission;
    return createGraphqlRequestState({
      targets: route.graphql.targets,
      onBehalf: {
        caller,
        limited: { caller, clientIp: head.client.ip, headers: head.headers },
        authorization: head.headers.authorization,
        baseMetadata: metadata.toGrpc(head.headers, head.client),
        sharedMetadata: shared.sharedMetadata,
        deadlineAt: shared.deadlineAt,
        cancelled: shared.cancelled,
      },
      // The same pieces as aggregate calls: the edge auth and the calls' clock.
      runner: aggregateRunner,
      anyToJson,
      maxRpcCalls: route.graphql.maxRpcCalls,
      requestId: exchange.requestId,
      callFailed: (error) => {
        shared.callFailed?.(error);
        logInternal(error, exchange);
      },
    });
  }

  /**
   * An admitted graphql-ws session: each operation with its own resolver context (queries and
   * mutations within the endpoint's deadline; a subscription's stream under its method's stream
   * deadline and idle timeout), every RPC on the client's behalf with the upgrade's credentials.
   * Recorded as one exchange (rpc /graphql) from the upgrade to the close.
   */
  async function runGraphqlSocket(exchange: Exchange, admission: Admission<PreparedGraphql>, socket: MessageSocket, signal: AbortSignal): Promise<void> {
    const { graphql } = admission.route;
    const { head } = exchange;
    // Queries and mutations within the endpoint's deadline, shortened by the upgrade's grpc-timeout.
    const operationTimeoutMs = callTimeoutMs(graphql.deadlineMs, clientTimeout(head));
    const sharedMetadata = recorder.upstreamStarted(exchange, []);
    // The socket closing stops every operation's RPCs (graphql-ws also returns each subscription).
    const cancelled = new ClientDisconnect();
    signal.addEventListener("abort", () => cancelled.abort(), { once: true });
    let firstFailure: number = GrpcCode.OK;
    const callFailed = (error: GatewayError) => {
      if (firstFailure === GrpcCode.OK) firstFailure = error.code;
    };
    let end;
    try {
      end = await serveGraphqlSocket({
        socket,
        check: graphql.check,
        connectionInitTimeoutMs: graphql.connectionInitTimeoutMs,
        admitOperation: operationLimit(admission, exchange),
        contextFor: (kind) => graphqlState(exchange, admission, { sharedMetadata, deadlineAt: kind === "subscription" ? Number.POSITIVE_INFINITY : aggregateRunner.timers.now() + operationTimeoutMs, cancelled, callFailed }).context,
      });
    } finally {
      cancelled.abort();
      recorder.upstreamEnded(exchange, firstFailure);
    }
    // A socket the gateway closed as it shut down (1001) did not end well for the client.
    const refusal = graphqlWsRefusal(end.serverClose) ?? (deps.shutdown?.aborted ? shuttingDownError() : undefined);
    if (refusal === undefined) exchange.settle(GrpcCode.OK);
    else recorder.failed(exchange, refusal);
  }

  /**
   * Counts each operation of a graphql-ws session against the endpoint's rate limits, as each HTTP
   * request is; the upgrade was counted when it was admitted, and stands for the first operation.
   * Over the limit, the operation is refused with the limit's 429 as a GraphQL error (the socket stays open).
   */
  function operationLimit(admission: Admission<PreparedGraphql>, exchange: Exchange): () => readonly GraphQLError[] | undefined | Promise<readonly GraphQLError[] | undefined> {
    const { limiter } = admission.route;
    let upgradeUnused = true;
    const refuse = (thrown: unknown): readonly GraphQLError[] => [rpcErrorToGraphql(toGatewayError(thrown), anyToJson, exchange.requestId)];
    return () => {
      if (limiter === undefined) return undefined;
      if (upgradeUnused) {
        upgradeUnused = false;
        return undefined;
      }
      try {
        const checked = limiter.check({ caller: admission.caller, clientIp: exchange.head.client.ip, headers: exchange.head.headers });
        return checked instanceof Promise ? checked.then(() => undefined, refuse) : undefined;
      } catch (thrown) {
        return refuse(thrown);
      }
    };
  }

  return {
    config,
    aggregates,
    begin: (head) => recorder.begin(head),
    end: (exchange) => recorder.end(exchange),
    admitUpgrade: async (exchange) => {
      try {
        const admission = await admitOrThrow(exchange, true);
        const { route } = admission;
        if (isGraphql(route)) {
          if (!offersProtocol(exchange.head, GRAPHQL_WS_PROTOCOL)) {
            throw new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_REQUEST", `a WebSocket to the GraphQL endpoint speaks graphql-ws: offer the subprotocol ${GRAPHQL_WS_PROTOCOL} in Sec-WebSocket-Protocol`, { httpStatus: 400 });
          }
          return { ...admission, route };
        }
        // routeOf picks streaming routes (and the GraphQL endpoint) only for an upgrade.
        if (!isRpcRoute(route)) throw new GatewayError(GrpcCode.NOT_FOUND, "PG_ERR_ROUTE_NOT_FOUND", "an aggregate route is not a streaming method");
        return { ...admission, route };
      } catch (thrown) {
        return fail(thrown, exchange);
      }
    },
    fail,
    refused: (error, exchange) => recorder.failed(exchange, error),

    async runSocket(exchange, socketAdmission, socket, signal) {
      if (isGraphql(socketAdmission.route)) return runGraphqlSocket(exchange, socketAdmission as Admission<PreparedGraphql>, socket, signal);
      const admission = socketAdmission as Admission<PreparedRoute>;
      const { route } = admission;
      const { head } = exchange;
      let upstream: Upstream;
      try {
        upstream = upstreamOf(route);
      } catch (thrown) {
        const error = toGatewayError(thrown);
        recorder.failed(exchange, error);
        closeWithStatus(socket, error);
        return;
      }
      await runSocketCall(
        { route, upstream, socket, variables: admission.variables, query: admission.query, metadata: upstreamMetadata(exchange, admission), timeoutMs: streamTimeoutMs(head, route), signal, exchange, recorder },
        timers,
        (error) => logInternal(error, exchange),
      );
    },

    async handle(request) {
      const { exchange } = request;
      const { head } = exchange;
      let limitHeaders = NO_LIMIT_HEADERS;
      try {
        const admitted = admitOrThrow(exchange);
        const admission = admitted instanceof Promise ? await admitted : admitted;
        limitHeaders = admission.limitHeaders;
        const { route } = admission;
        if (isAggregate(route)) return await handleAggregate(request, { ...admission, route });
        if (isGraphql(route)) return await handleGraphql(request, { ...admission, route });
        if (route.binding.kind !== "unary") {
          return await streamCall({
            route,
            upstream: upstreamOf(route),
            request,
            variables: admission.variables,
            query: admission.query,
            metadata: upstreamMetadata(exchange, admission),
            timeoutMs: streamTimeoutMs(head, route),
            extraHeaders: limitHeaders,
            exchange,
          });
        }

        // `fields` (partial responses) is checked before the body is read or any upstream is called.
        const { query, selection } = route.partial === undefined ? { query: admission.query, selection: undefined } : route.partial.take(admission.query);
        // Admitted: only now is the body read.
        const body = route.binding.body.kind === "none" ? undefined : await request.body.read();
        const requestBytes = route.encodeRequest({ variables: admission.variables, query, body, contentType: head.headers["content-type"] });
        const upstream = upstreamOf(route);
        const timeoutMs = callTimeoutMs(route.deadlineMs, clientTimeout(head));
        let result;
        try {
          result = await upstream.call({
            rpcPath: route.binding.rpcPath,
            request: requestBytes,
            metadata: upstreamMetadata(exchange, admission),
            deadline: Date.now() + timeoutMs,
            timeoutMs,
            signal: request.signal,
            idempotent: route.idempotent,
          });
        } catch (thrown) {
          recorder.upstreamEnded(exchange, upstreamCodeOf(thrown));
          throw thrown;
        }
        recorder.upstreamEnded(exchange, GrpcCode.OK);
        const { success } = route;
        const headers = metadata.toHttp(result.headers, result.trailers);
        if (limitHeaders !== NO_LIMIT_HEADERS) Object.assign(headers, limitHeaders);
        if (success.location !== undefined) {
          const location = success.location(result.response);
          if (location !== undefined) headers.location = location;
        }
        // 204 No Content: the reply is not shaped, nothing is written (not even a Content-Type).
        let replyBody: string | Buffer = "";
        if (!success.noContent) {
          const shaped = route.shape(result.response);
          headers["content-type"] = shaped.contentType;
          replyBody = selection === undefined ? shaped.body : selectBody(shaped.body, selection);
        }
        exchange.settle(GrpcCode.OK);
        return { status: success.status, headers, body: replyBody };
      } catch (thrown) {
        return fail(thrown, exchange, limitHeaders);
      }
    },
  };
}

/** One line naming a route Protogate adds (an aggregate, the GraphQL endpoint) and the route whose path it takes. */
function describeClash(added: RouteTarget, other: RouteTarget): string {
  const describe = (target: RouteTarget) =>
    isAggregate(target) ? `aggregate "${target.name}"'s path ${target.binding.pattern}` : isGraphql(target) ? `the GraphQL endpoint (graphql.path) ${target.binding.pattern}` : `the route of ${target.binding.service}.${target.binding.method} (${target.binding.source}): ${target.binding.httpMethod} ${target.binding.pattern}`;
  if (isGraphql(added) || (!isAggregate(added) && isGraphql(other))) {
    const [endpoint, taken] = isGraphql(added) ? [added, other] : [other, added];
    return `graphql: path ${endpoint.binding.pattern} clashes with ${describe(taken)}; set graphql.path to another path`;
  }
  const aggregate = isAggregate(added) ? added : (other as PreparedAggregate);
  const taken = aggregate === added ? other : added;
  return `aggregate "${aggregate.name}": path ${aggregate.binding.httpMethod} ${aggregate.binding.pattern} clashes with ${describe(taken)}; give the aggregate another path`;
}

/** Whether a WebSocket upgrade offers a subprotocol (Sec-WebSocket-Protocol: a comma-separated list). */
function offersProtocol(head: RequestHead, protocol: string): boolean {
  const header = head.headers["sec-websocket-protocol"];
  return typeof header === "string" && header.split(",").some((offered) => offered.trim() === protocol);
}

/** A graphql-ws session the server closed with a refusal (a bad message, no connection_init in time, a failure), as the exchange's outcome. */
function graphqlWsRefusal(serverClose: number | undefined): GatewayError | undefined {
  if (serverClose === undefined || serverClose < 4000) return undefined;
  if (serverClose === CloseCode.ConnectionInitialisationTimeout) return new GatewayError(GrpcCode.DEADLINE_EXCEEDED, "PG_ERR_REQUEST_TIMEOUT", "graphql-ws: no connection_init in time");
  if (serverClose === CloseCode.InternalServerError) return new GatewayError(GrpcCode.INTERNAL, "PG_ERR_INTERNAL", "graphql-ws: internal error");
  return new GatewayError(GrpcCode.INVALID_ARGUMENT, "PG_ERR_BAD_REQUEST", `graphql-ws: closed with ${serverClose}`);
}

/** The gRPC code an upstream call failed with (the gateway's own code for its own failures). */
function upstreamCodeOf(thrown: unknown): number {
  return thrown instanceof UpstreamError ? thrown.code : toGatewayError(thrown).code;
}

/** The unary routes by `/pkg.Service/Method` (a method's first binding): what typed aggregates call. */
function unaryRoutesByRpcPath(routes: readonly PreparedRoute[]): Map<string, PreparedRoute> {
  const byPath = new Map<string, PreparedRoute>();
  for (const route of routes) if (route.binding.kind === "unary" && !byPath.has(route.binding.rpcPath)) byPath.set(route.binding.rpcPath, route);
  return byPath;
}

/** The routes by `pkg.Service.Method` (a method's first binding): what an aggregate's calls use (unary ones only; compileAggregates says so). */
function routesByMethod(routes: readonly PreparedRoute[]): Map<string, PreparedRoute> {
  const byMethod = new Map<string, PreparedRoute>();
  for (const route of routes) {
    const key = `${route.binding.service}.${route.binding.method}`;
    if (!byMethod.has(key)) byMethod.set(key, route);
  }
  return byMethod;
}
