import { fileURLToPath } from "node:url";
import { startGateway, type RunningGateway } from "../app.js";
import { configFromObject } from "../config/load-config.js";
import type { GatewayConfig } from "../config/schema.js";
import { createDevAuth, type DevAuth } from "../demo/dev-auth.js";
import { DASHBOARD_AGGREGATE } from "../demo/dashboard-aggregate.js";
import { startDemoBackends, type DemoBackends } from "../demo/index.js";
import { waitForShutdown } from "./serve.js";

const DEMO_GENERATED = fileURLToPath(new URL("../../generated", import.meta.url));
const DEMO_LIMIT_PER_MINUTE = 300;
/** The demo's limit: memory store, per caller, so the headers show and a loop meets a 429. */
const DEMO_RATE_LIMITS = { limits: [{ name: "per-caller", key: "caller", requests: DEMO_LIMIT_PER_MINUTE, periodSeconds: 60 }] };

/** What `startDemo` takes: where the gateway listens, and (tests) how much it logs. */
export interface DemoOptions {
  readonly host: string;
  readonly port: number;
  /** The admin listener's port (default 9901; a free one when `port` is 0, so test runs do not collide). */
  readonly adminPort?: number;
  /** The gateway's log level (default: info). */
  readonly logLevel?: GatewayConfig["logging"]["level"];
}

/** A running demo: the gateway, the demo gRPC services behind it and the dev token it trusts. */
export interface RunningDemo {
  readonly gateway: RunningGateway;
  readonly backends: DemoBackends;
  readonly devAuth: DevAuth;
  /** The docs page and the OpenAPI document it shows. */
  readonly docsUrl: string;
  readonly openApiUrl: string;
  /** The gateway first (it drains), then the backends. */
  close(): Promise<void>;
}

/**
 * Starts the demo as `protogate demo` runs it: the bundled demo gRPC services on a free loopback
 * port, and the gateway in front of them with embedded defaults (no Redis, nothing external),
 * authentication on, trusting a dev key generated at start, and the docs page on.
 */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const devAuth = await createDevAuth();
  const backends = await startDemoBackends({ host: "127.0.0.1", port: 0 });
  const upstreams = Object.fromEntries(backends.services.map((service) => [service, backends.address]));
  const raw = { auth: devAuth.authConfig, rateLimits: DEMO_RATE_LIMITS, docs: { enabled: true }, logging: { level: options.logLevel ?? "info" }, aggregates: [DASHBOARD_AGGREGATE], graphql: { enabled: true, graphiql: true } };
  let gateway: RunningGateway;
  let docs: GatewayConfig["docs"];
  try {
    const adminPort = options.adminPort ?? (options.port === 0 ? 0 : undefined);
    const config = configFromObject(raw, { host: options.host, port: options.port, adminPort, generated: DEMO_GENERATED, upstreams }, "demo config");
    docs = config.docs;
    gateway = await startGateway(config);
  } catch (error) {
    await backends.close();
    throw error;
  }
  return {
    gateway,
    backends,
    devAuth,
    docsUrl: `${gateway.url}${docs.path}`,
    openApiUrl: `${gateway.url}${docs.openApiPath}`,
    close: () => gateway.close().then(() => backends.close()),
  };
}

/** `protogate demo` (what `npm start` runs): starts the demo and prints how to try it. */
export async function runDemo(options: { host: string; port: number; adminPort?: number }): Promise<number> {
  const { gateway, backends, devAuth, docsUrl, openApiUrl } = await startDemo(options);
  console.log(`protogate listening on ${gateway.url}`);
  if (gateway.adminUrl !== undefined) console.log(`protogate admin on ${gateway.adminUrl}`);
  console.log(`demo gRPC services (${backends.services.join(", ")}) on ${backends.address}`);
  console.log(`\nDev token (sub dev-user, scopes users:write orders:write payments:write, 12 h):\n  ${devAuth.token}`);
  console.log(`\nAPI docs: ${docsUrl}  (to try the methods that need the token: Authorize, paste it under bearerAuth)`);
  console.log(`OpenAPI document: ${openApiUrl}`);
  console.log(`GraphQL endpoint: ${gateway.url}/graphql  (GraphQL over HTTP, POST or GET; the schema is generated/schema.graphql)`);
  console.log(`GraphiQL: ${gateway.url}/graphiql  (to call the methods that need the token: Headers, {"Authorization": "Bearer <the token above>"})`);
  console.log("\nTry (GET /v1/users/{id} is public; the rest need the token):");
  for (const line of demoCurlLines(gateway.url, devAuth.token)) console.log(`  ${line}`);
  if (gateway.adminUrl !== undefined) {
    console.log("\nOperations (the admin listener: liveness, readiness, Prometheus metrics):");
    for (const line of demoAdminLines(gateway.adminUrl)) console.log(`  ${line}`);
  }
  console.log("\nStreaming (demo.v1.ChatService, public): post two messages as NDJSON, read them back as NDJSON and as Server-Sent Events, chat:");
  for (const line of demoStreamLines(gateway.url)) console.log(`  ${line}`);
  console.log("\nThe room as a GraphQL subscription over Server-Sent Events (graphql-ws on the same path too; replays the two messages, then ends):");
  console.log(`  ${demoGraphqlSubscriptionLine(gateway.url, devAuth.token)}`);
  console.log("\nThe chat over a WebSocket (the same path; run it from the project folder):");
  console.log(`  ${demoWebSocketLine(gateway.url)}`);
  console.log(`\nRate limit: ${DEMO_LIMIT_PER_MINUTE} requests per minute per caller (anonymous callers by IP); this loop meets a 429:`);
  console.log(`  ${demoLoopLine(gateway.url)}`);
  console.log("\nCtrl-C stops.");
  return waitForShutdown(gateway, () => backends.close());
}

/**
 * The curl lines the demo prints; each ends with the status it gets as a shell comment, and the
 * e2e suite runs every one of them as printed.
 */
export function demoCurlLines(base: string, token: string): string[] {
  const auth = `-H 'authorization: Bearer ${token}'`;
  const json = "-H 'content-type: application/json'";
  return [
    `curl -s -i ${base}/v1/users/u-1  # -> 200 (public; see the RateLimit headers)`,
    `curl -s '${base}/v1/users?pageSize=2&role=ROLE_MEMBER'  # -> 200 (public)`,
    `curl -s -X POST ${base}/v1/users ${json} -d '{"displayName":"Ada","email":"ada@example.com"}'  # -> 401 (no token)`,
    `curl -s -i -X POST ${base}/v1/users ${auth} ${json} -d '{"displayName":"Ada","email":"ada@example.com"}'  # -> 201 (Created, with its Location header)`,
    `curl -s -X POST ${base}/v1/users/u-1/orders ${auth} ${json} -d '{"items":[{"quantity":1}]}'  # -> 400 (REQUIRED fields checked at the edge: order.items[0].sku, order.items[0].unitPrice)`,
    `curl -s ${base}/v1/users/u-1/orders/o-1 ${auth}  # -> 200`,
    `curl -s -X POST ${base}/v1/users/u-1/orders/o-1:cancel ${auth} ${json} -d '{"reason":"changed my mind"}'  # -> 200`,
    `curl -s ${base}/v1/payments/p-1/receipt  # -> 200 (public)`,
    `curl -s '${base}/v1/users/u-1?fields=userId,displayName,labels'  # -> 200 (public; a partial response: only the fields named)`,
    `curl -s ${base}/api/mobile/dashboard/u-1 ${auth}  # -> 200 (an aggregate: GetUser, ListOrders and ListRecommendations in one round trip)`,
    `curl -s -X POST ${base}/graphql ${auth} ${json} -d '{"query":"${DEMO_GRAPHQL_QUERY}"}'  # -> 200 (GraphQL: every user's orders (users/-), each order's user joined: ONE BatchGetUsers call for all of them)`,
    `curl -s -i ${base}/v1/users/nobody  # -> 404`,
  ];
}

/** The demo's GraphQL query (its quotes escaped for the JSON body): users' orders, each with its user (the Order.user join). */
export const DEMO_GRAPHQL_QUERY =
  '{ listOrders(parent: \\"users/-\\") { orders { name state user { displayName } } } }';

/** The admin curl lines the demo prints (like demoCurlLines, each announces its status). */
export function demoAdminLines(admin: string): string[] {
  return [`curl -s ${admin}/readyz  # -> 200 (ready; each upstream's connection state)`, `curl -s ${admin}/metrics  # -> 200 (Prometheus text format)`];
}

/**
 * The streaming curl lines the demo prints, in the order they are meant to be run: the batch
 * posts two messages first, so the subscriptions (replay=2&limit=2) replay them and end instead
 * of following the room. Bodies are piped from printf, which every POSIX sh has ($'...' is
 * bash-only). Like demoCurlLines, each announces its status and the e2e suite runs each.
 */
export function demoStreamLines(base: string): string[] {
  const ndjson = "-H 'content-type: application/x-ndjson'";
  const subscribe = `'${base}/v1/rooms/lobby/messages:subscribe?replay=2&limit=2'`;
  return [
    `printf '%s\\n' '{"author":"ada","text":"hello"}' '{"author":"grace","text":"hi Ada"}' | curl -s -X POST ${base}/v1/rooms/lobby/messages:batch ${ndjson} --data-binary @-  # -> 200 (client streaming: one JSON message per line)`,
    `curl -s -N ${subscribe}  # -> 200 (server streaming as NDJSON, one {"result": ...} per line; without limit it follows the room)`,
    `curl -s -N -H 'accept: text/event-stream' ${subscribe}  # -> 200 (the same as Server-Sent Events)`,
    `printf '%s\\n' '{"author":"ada","text":"anyone here?"}' | curl -s -N -X POST ${base}/v1/rooms/lobby:chat ${ndjson} --data-binary @-  # -> 200 (bidi over HTTP, NDJSON both ways: ends once your last message is back)`,
  ];
}

/**
 * The chat room's GraphQL subscription over SSE (GraphQL over SSE, distinct connections mode),
 * run after the batch line: `replay: 2, limit: 2` replays its two messages and ends the stream, so
 * the line ends by itself. Like the others, it announces its status and the suite runs it.
 */
export function demoGraphqlSubscriptionLine(base: string, token: string): string {
  const query = 'subscription { subscribe(room: \\"lobby\\", replay: 2, limit: 2) { author text } }';
  return `curl -s -N -X POST ${base}/graphql -H 'authorization: Bearer ${token}' -H 'content-type: application/json' -H 'accept: text/event-stream' -d '{"query":"${query}"}'  # -> 200 (event: next per message, then event: complete)`;
}

/**
 * A one-line WebSocket client for the bidi Chat (run from the project folder: it uses the `ws`
 * package Protogate depends on). It sends one message, half-closes with an empty frame, prints
 * each reply and the close code the call ended with, which its comment announces.
 */
export function demoWebSocketLine(base: string): string {
  const url = `${base.replace(/^http/, "ws")}/v1/rooms/lobby:chat`;
  const script = `const W=require('ws');const s=new W('${url}');s.on('open',()=>{s.send(JSON.stringify({author:'ada',text:'hi over WebSocket'}));s.send('')});s.on('message',m=>console.log(String(m)));s.on('close',c=>console.log('closed',c))`;
  return `node -e "${script}"  # -> closed 1000 (bidi over WebSocket: the echo, then close 1000)`;
}

/** A shell loop past the demo's limit: counts of each status, ending in 429s. */
export function demoLoopLine(base: string): string {
  return `for i in $(seq ${DEMO_LIMIT_PER_MINUTE + 100}); do curl -s -o /dev/null -w '%{http_code}\\n' ${base}/v1/users/u-1; done | sort | uniq -c`;
}
