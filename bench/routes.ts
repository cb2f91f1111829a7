import type { ClientUnaryCall, Metadata, ServiceError } from "@grpc/grpc-js";
import type { ListUsersResponse, User, UserServiceClient } from "../generated/demo/v1/user.js";

/** One benchmarked operation, as an HTTP request and as the equivalent direct gRPC call. */
export interface BenchRoute {
  readonly id: string;
  /** Shown in the table, e.g. "GET /v1/users/u-1". */
  readonly label: string;
  readonly http: { readonly method: "GET" | "POST"; readonly path: string; readonly headers: Record<string, string>; readonly body?: string };
  /** Whether a JSON response body is the expected one (checked once before loading a target). */
  checkJson(body: unknown): boolean;
  /** Makes the call with a grpc-js client; `done` gets the response or the error. */
  callGrpc(client: UserServiceClient, metadata: Metadata, done: (error: ServiceError | null, response: unknown) => void): ClientUnaryCall;
}

/**
 * A ~1 KB SearchUsers body. The demo matches users holding every whitespace-separated term, so
 * the repeated word keeps the result non-empty (u-1) and the response realistic.
 */
export function searchBody(targetBytes = 1024): string {
  const base = JSON.stringify({ query: "", pageSize: 10 });
  const word = "lovelace ";
  const query = word.repeat(Math.max(1, Math.floor((targetBytes - base.length) / word.length))).trimEnd();
  return JSON.stringify({ query, pageSize: 10 });
}

const SEARCH_BODY = searchBody();
const SEARCH_REQUEST = JSON.parse(SEARCH_BODY) as { query: string; pageSize: number };

function isUser1(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Partial<User>).userId === "u-1";
}

/** GET with a path variable, and POST with a ~1 KB JSON body. */
export const BENCH_ROUTES: readonly BenchRoute[] = [
  {
    id: "get-user",
    label: "GET /v1/users/u-1",
    http: { method: "GET", path: "/v1/users/u-1", headers: {} },
    checkJson: isUser1,
    callGrpc: (client, metadata, done) => client.getUser({ userId: "u-1" }, metadata, done),
  },
  {
    id: "search-users",
    label: `POST /v1/users:search (${Buffer.byteLength(SEARCH_BODY)} B)`,
    http: { method: "POST", path: "/v1/users:search", headers: { "content-type": "application/json" }, body: SEARCH_BODY },
    checkJson: (body) => {
      const users = (body as Partial<ListUsersResponse> | null)?.users;
      return Array.isArray(users) && users.length === 1 && isUser1(users[0]);
    },
    callGrpc: (client, metadata, done) => client.searchUsers(SEARCH_REQUEST, metadata, done),
  },
];

/** The route with this id; throws on an unknown id. */
export function routeById(id: string): BenchRoute {
  const route = BENCH_ROUTES.find((candidate) => candidate.id === id);
  if (!route) throw new Error(`unknown route "${id}"; known: ${BENCH_ROUTES.map((r) => r.id).join(", ")}`);
  return route;
}
