import { GET_QUERY, GET_REST_PATH, GRAPHQL_BENCH_PATH, JOIN_QUERY, JOIN_REST_ORDERS_PATHS, JOIN_USERS, joinRestUsersPath, type GraphqlBenchMode } from "./graphql-requests.js";
import type { LoadResult } from "./latency-recorder.js";
import { hasFailures, median } from "./report.js";
import { protogateTarget, runLoadProcess, type BenchContext } from "./targets.js";

/** One round: each mode loaded for the same time, GraphQL and its REST counterpart one after the other. */
export type GraphqlRound = Readonly<Record<GraphqlBenchMode, LoadResult>>;

export interface GraphqlSummary {
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerAnswer: number | undefined;
}

/** A GraphQL query against the REST calls it stands for: medians over the rounds, GraphQL / REST ratios. */
export interface GraphqlComparison {
  readonly graphql: GraphqlSummary;
  readonly rest: GraphqlSummary;
  readonly throughputRatio: number;
  readonly p50Ratio: number;
  readonly p99Ratio: number;
  readonly cpuRatio: number | undefined;
}

/** The GraphQL measurement (issue 16). */
export interface GraphqlResult {
  readonly rounds: readonly GraphqlRound[];
  /** getUser against GET /v1/users/u-1. */
  readonly get: GraphqlComparison;
  /** The users-with-orders query (joined users) against the client's own REST calls. */
  readonly join: GraphqlComparison;
  readonly failed: boolean;
}

/**
 * GraphQL on, its limits otherwise the defaults: the join query selects every field of two lists
 * of orders and their users, which the default list size (10 per list) makes about 2100 complex.
 */
const GRAPHQL_CONFIG = { enabled: true, maxComplexity: 5000 };

/**
 * One plain Protogate (auth off, GraphQL on) on the server CPUs, against the bench's backend, with
 * the same keep-alive load client (bench/graphql-load.ts) on the load CPUs for every mode; each
 * GraphQL mode and its REST counterpart alternate within each round so machine drift hits both alike.
 */
export async function measureGraphql(context: BenchContext, rounds: number, warmupSeconds: number): Promise<GraphqlResult> {
  const gateway = await protogateTarget({ name: "protogate-graphql", description: "Protogate serve, auth off, GraphQL on", config: { graphql: GRAPHQL_CONFIG } }).start(context);
  try {
    const base = gateway.base;
    if (base === undefined) throw new Error("the GraphQL gateway has no base URL");
    await checkAnswers(base);
    const measured: GraphqlRound[] = [];
    const load = (mode: GraphqlBenchMode, round: number) =>
      runLoadProcess(`graphql ${mode}`, "bench/graphql-load.ts", ["--url", base, "--mode", mode, "--server-pid", String(gateway.pid)], context.settings, round === 1 ? warmupSeconds : Math.min(warmupSeconds, 1), context.loadAffinity);
    for (let round = 1; round <= rounds; round++) {
      const graphqlGet = await load("graphql-get", round);
      const restGet = await load("rest-get", round);
      const graphqlJoin = await load("graphql-join", round);
      const restJoin = await load("rest-join", round);
      measured.push({ "graphql-get": graphqlGet, "rest-get": restGet, "graphql-join": graphqlJoin, "rest-join": restJoin });
    }
    return summarizeGraphql(measured);
  } finally {
    await gateway.stop();
  }
}

/** Each GraphQL query answers the same data as its REST calls before anything is measured. */
async function checkAnswers(base: string): Promise<void> {
  const json = async (path: string, query?: string): Promise<Record<string, unknown>> => {
    const response = await fetch(base + path, query === undefined ? undefined : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`graphql bench: ${path} answered ${response.status}: ${text.slice(0, 300)}`);
    const body = JSON.parse(text) as Record<string, unknown>;
    if ("errors" in body) throw new Error(`graphql bench: ${path} answered errors: ${text.slice(0, 300)}`);
    return body;
  };
  const same = (what: string, graphql: unknown, rest: unknown) => {
    if (JSON.stringify(sortKeys(graphql)) !== JSON.stringify(sortKeys(rest))) throw new Error(`graphql bench: ${what}: GraphQL and REST answer different data:\n${JSON.stringify(graphql).slice(0, 300)}\n${JSON.stringify(rest).slice(0, 300)}`);
  };
  const user = ((await json(GRAPHQL_BENCH_PATH, GET_QUERY)).data as { getUser: Record<string, unknown> }).getUser;
  same("getUser", withoutNulls(user), await json(GET_REST_PATH));
  const joined = (await json(GRAPHQL_BENCH_PATH, JOIN_QUERY)).data as Record<string, { orders: Array<{ user: unknown }> }>;
  const lists = await Promise.all(JOIN_REST_ORDERS_PATHS.map((path) => json(path)));
  const graphqlOrders = JOIN_USERS.flatMap((_, index) => joined[`u${index}`].orders);
  const restOrders = lists.flatMap((list) => list.orders as Array<{ userId: string }>);
  same("orders", graphqlOrders.map(({ user: _user, ...order }) => withoutNulls(order)), restOrders);
  const users = (await json(joinRestUsersPath([...new Set(restOrders.map((order) => order.userId))]))).users as Array<{ userId: string }>;
  same("joined users", graphqlOrders.map((order) => withoutNulls(order.user)), restOrders.map((order) => users.find((u) => u.userId === order.userId)));
}

/**
 * The GraphQL answer as proto3 JSON would write it: unset optional fields (null in GraphQL) and
 * default values are left out of REST's JSON, so both sides drop nulls, empty lists and proto3
 * defaults before comparing.
 */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => !isDefault(v)).map(([k, v]) => [k, withoutNulls(v)]));
}

function isDefault(value: unknown): boolean {
  return value === null || value === "" || value === 0 || value === "0" || value === false || (Array.isArray(value) && value.length === 0) || (typeof value === "string" && /_UNSPECIFIED$/.test(value));
}

/** Maps (a map field: REST writes an object, GraphQL a list of entries) and key order made comparable. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    const entries = value.every((item) => typeof item === "object" && item !== null && Object.keys(item).sort().join() === "key,value");
    return entries ? sortKeys(Object.fromEntries(value.map((item: { key: string; value: unknown }) => [item.key, item.value]))) : value.map(sortKeys);
  }
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => !isDefault(v)).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]));
}

export function summarizeGraphql(rounds: readonly GraphqlRound[]): GraphqlResult {
  return {
    rounds,
    get: compare(rounds.map((round) => round["graphql-get"]), rounds.map((round) => round["rest-get"])),
    join: compare(rounds.map((round) => round["graphql-join"]), rounds.map((round) => round["rest-join"])),
    failed: rounds.some((round) => Object.values(round).some(hasFailures)),
  };
}

function summary(runs: readonly LoadResult[]): GraphqlSummary {
  const cpu = runs.map((run) => run.cpuUsPerRequest).filter((value): value is number => value !== undefined);
  return {
    perSecond: median(runs.map((run) => run.requestsPerSecond)),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    cpuUsPerAnswer: cpu.length === runs.length && cpu.length > 0 ? median(cpu) : undefined,
  };
}

function compare(graphqlRuns: readonly LoadResult[], restRuns: readonly LoadResult[]): GraphqlComparison {
  const graphql = summary(graphqlRuns);
  const rest = summary(restRuns);
  return {
    graphql,
    rest,
    throughputRatio: graphql.perSecond / rest.perSecond,
    p50Ratio: graphql.p50Ms / rest.p50Ms,
    p99Ratio: graphql.p99Ms / rest.p99Ms,
    cpuRatio: graphql.cpuUsPerAnswer !== undefined && rest.cpuUsPerAnswer !== undefined ? graphql.cpuUsPerAnswer / rest.cpuUsPerAnswer : undefined,
  };
}

export function formatGraphql(result: GraphqlResult): string {
  const line = (name: string, s: GraphqlSummary) =>
    `  ${name.padEnd(44)} ${s.perSecond.toFixed(0).padStart(7)} answers/s  p50 ${s.p50Ms.toFixed(2)} ms  p99 ${s.p99Ms.toFixed(2)} ms${s.cpuUsPerAnswer === undefined ? "" : `  gateway CPU ${s.cpuUsPerAnswer.toFixed(0)} µs/answer`}`;
  const ratios = (c: GraphqlComparison) =>
    `  GraphQL / REST: ${c.throughputRatio.toFixed(2)}x answers/s, ${c.p50Ratio.toFixed(2)}x p50, ${c.p99Ratio.toFixed(2)}x p99${c.cpuRatio === undefined ? "" : `, ${c.cpuRatio.toFixed(2)}x gateway CPU per answer`}`;
  return [
    `GraphQL (issue 16), medians over ${result.rounds.length} round(s)${result.failed ? " (WITH FAILURES)" : ""}:`,
    line(`POST /graphql getUser (all fields)`, result.get.graphql),
    line(`GET ${GET_REST_PATH}`, result.get.rest),
    ratios(result.get),
    line(`POST /graphql users' orders + joined users`, result.join.graphql),
    line(`${JOIN_REST_ORDERS_PATHS.length} REST lists, then users:batchGet (client)`, result.join.rest),
    ratios(result.join),
  ].join("\n");
}
