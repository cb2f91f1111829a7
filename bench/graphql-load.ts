// Child process: load for the GraphQL benchmark (bench/graphql.ts), one mode per process:
// - `graphql-get`:  POST /graphql with the getUser query (every field of the REST GET's JSON);
// - `rest-get`:     GET /v1/users/u-1;
// - `graphql-join`: POST /graphql with the users-with-orders query (each order's user joined);
// - `rest-join`:    what a REST client does for the same data: each user's orders in parallel,
//                   then the users of those orders in one GET /v1/users:batchGet.
// The same client code drives every mode over keep-alive connections, so the ratios compare the
// gateway's work, not two clients. Prints one `BENCH_RESULT {json}` line (a LoadResult; a
// "request" is one whole answer: one query, or all the REST calls it stands for).
// Usage: graphql-load.ts --url BASE --mode MODE --connections N --warmup S --duration S [--server-pid PID]
import { Agent } from "node:http";
import { parseArgs } from "node:util";
import { runClosedLoop, sendJson, type JsonAnswer } from "./closed-loop.js";
import { RESULT_PREFIX } from "./latency-recorder.js";
import { GET_QUERY, GET_REST_PATH, GRAPHQL_BENCH_MODES, GRAPHQL_BENCH_PATH, JOIN_QUERY, JOIN_REST_ORDERS_PATHS, joinRestUsersPath, type GraphqlBenchMode } from "./graphql-requests.js";

const { values } = parseArgs({ options: { url: { type: "string" }, mode: { type: "string" }, connections: { type: "string" }, warmup: { type: "string" }, duration: { type: "string" }, "server-pid": { type: "string" }, rate: { type: "string" } } });
const isMode = (mode: string | undefined): mode is GraphqlBenchMode => GRAPHQL_BENCH_MODES.some((known) => known === mode);
if (!values.url || !isMode(values.mode)) throw new Error(`--url and --mode ${GRAPHQL_BENCH_MODES.join("|")} are required`);
const base = new URL(values.url);
const mode = values.mode;
const connections = Number(values.connections ?? 32);
const serverPid = values["server-pid"] === undefined ? undefined : Number(values["server-pid"]);
// The REST join has as many requests in flight as users: that many sockets per worker, all kept alive.
const agent = new Agent({ keepAlive: true, maxSockets: connections * JOIN_REST_ORDERS_PATHS.length });

type Answer = JsonAnswer;
const send = (method: "GET" | "POST", path: string, body?: string) => sendJson(base, agent, method, path, body);

const getQueryBody = JSON.stringify({ query: GET_QUERY });
const joinQueryBody = JSON.stringify({ query: JOIN_QUERY });

/** A GraphQL answer is a success when it is a 200 without errors. */
const graphqlOk = (answer: Answer): boolean => answer.status === 200 && typeof answer.body === "object" && answer.body !== null && !("errors" in answer.body);

/** One whole answer in the chosen mode: whether it succeeded. */
async function once(): Promise<boolean> {
  switch (mode) {
    case "graphql-get":
      return graphqlOk(await send("POST", GRAPHQL_BENCH_PATH, getQueryBody));
    case "rest-get":
      return (await send("GET", GET_REST_PATH)).status === 200;
    case "graphql-join":
      return graphqlOk(await send("POST", GRAPHQL_BENCH_PATH, joinQueryBody));
    case "rest-join": {
      const lists = await Promise.all(JOIN_REST_ORDERS_PATHS.map((path) => send("GET", path)));
      const userIds = new Set<string>();
      for (const list of lists) for (const order of (list.body as { orders?: Array<{ userId?: string }> }).orders ?? []) if (order.userId) userIds.add(order.userId);
      const users = await send("GET", joinRestUsersPath([...userIds]));
      return lists.every((list) => list.status === 200) && users.status === 200;
    }
  }
}

const loop = { connections, serverPid, once };

const warmupSeconds = Number(values.warmup ?? 2);
if (warmupSeconds > 0) await runClosedLoop(loop, warmupSeconds, false);
const result = await runClosedLoop(loop, Number(values.duration ?? 10), true);
agent.destroy();
console.log(RESULT_PREFIX + JSON.stringify(result));
