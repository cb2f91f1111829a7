import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { startDemoBackends, type DemoBackends } from "../../src/demo/index.js";
import { send, startTestGateway } from "./support/gateway-harness.js";

const GET_USER = '{ getUser(userId: "u-1") { displayName } }';
const LIST_USERS = "{ listUsers(pageSize: 1) { users { userId } } }";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const ADA = { data: { getUser: { displayName: "Ada Lovelace" } } };

interface Answer {
  status: number;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

async function postJson(base: string, payload: Record<string, unknown>): Promise<Answer> {
  const response = await send(base, "POST", "/graphql", { headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(payload) });
  return { status: response.status, body: JSON.parse(response.text) as Answer["body"] };
}

async function get(base: string, params: Record<string, string>): Promise<Answer> {
  const response = await send(base, "GET", `/graphql?${new URLSearchParams(params).toString()}`, { headers: { accept: "application/json" } });
  return { status: response.status, body: JSON.parse(response.text) as Answer["body"] };
}

const codes = (answer: Answer) => answer.body.errors?.map((error) => error.extensions?.code);

describe("GraphQL persisted queries (real server, demo backends)", () => {
  let backends: DemoBackends;
  let upstreams: Record<string, string>;
  let manifest: string;
  const gateways: RunningGateway[] = [];
  const start = async (persistedQueries?: Record<string, unknown>) => {
    const gateway = await startTestGateway(upstreams, { graphql: { enabled: true, ...(persistedQueries && { persistedQueries }) } });
    gateways.push(gateway);
    return gateway;
  };

  beforeAll(async () => {
    backends = await startDemoBackends({ host: "127.0.0.1", port: 0 });
    upstreams = Object.fromEntries(backends.services.map((s) => [s, backends.address]));
    manifest = join(mkdtempSync(join(tmpdir(), "pg-persisted-")), "manifest.json");
    writeFileSync(manifest, JSON.stringify({ format: "apollo-persisted-query-manifest", version: 1, operations: [{ id: sha256(GET_USER), name: "GetUser", type: "query", body: GET_USER }] }));
  });
  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await backends?.close();
  });

  it("runs a manifest operation named by Apollo's sha256Hash alone (POST), by a GET's extensions, and by documentId", async () => {
    const gateway = await start({ manifest });
    const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(GET_USER) } };
    expect(await postJson(gateway.url, { extensions })).toEqual({ status: 200, body: ADA });
    expect(await get(gateway.url, { extensions: JSON.stringify(extensions) })).toEqual({ status: 200, body: ADA });
    expect(await postJson(gateway.url, { documentId: `sha256:${sha256(GET_USER)}` })).toEqual({ status: 200, body: ADA });
    expect(await postJson(gateway.url, { query: null, extensions })).toEqual({ status: 200, body: ADA });
  });

  it("an unknown ID is PersistedQueryNotFound (as Apollo's clients expect); a hash that is not the text's is refused", async () => {
    const gateway = await start({ manifest });
    const unknown = await postJson(gateway.url, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(LIST_USERS) } } });
    expect(unknown.body.errors?.map((error) => [error.message, error.extensions?.code])).toEqual([["PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND"]]);
    const mismatch = await postJson(gateway.url, { query: LIST_USERS, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(GET_USER) } } });
    expect(codes(mismatch)).toEqual(["PERSISTED_QUERY_HASH_MISMATCH"]);
    // Without `only`, text runs as ever.
    expect((await postJson(gateway.url, { query: LIST_USERS })).body).toEqual({ data: { listUsers: { users: [{ userId: "u-1" }] } } });
  });

  it("with only: text that is not a manifest operation is refused, before any call; the manifest's own text runs", async () => {
    const gateway = await start({ manifest, only: true });
    expect(codes(await postJson(gateway.url, { query: LIST_USERS }))).toEqual(["PERSISTED_QUERY_ONLY"]);
    expect(await postJson(gateway.url, { query: GET_USER })).toEqual({ status: 200, body: ADA });
  });

  it("over SSE too: an ID alone runs the manifest's operation", async () => {
    const gateway = await start({ manifest });
    const response = await send(gateway.url, "POST", "/graphql", {
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(GET_USER) } } }),
    });
    expect(response.status).toBe(200);
    expect(response.text).toBe(`event: next\ndata: ${JSON.stringify(ADA)}\n\nevent: complete\ndata:\n\n`);
  });

  it("without a manifest, an ID alone is PersistedQueryNotSupported (Apollo's APQ link then sends the text)", async () => {
    const gateway = await start();
    const answer = await postJson(gateway.url, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(GET_USER) } } });
    expect(answer.body.errors?.map((error) => [error.message, error.extensions?.code])).toEqual([["PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED"]]);
    expect((await postJson(gateway.url, { query: GET_USER })).body).toEqual(ADA);
  });

  it("a manifest that cannot be used stops the start, naming the file and why", async () => {
    const broken = join(mkdtempSync(join(tmpdir(), "pg-persisted-")), "broken.json");
    writeFileSync(broken, JSON.stringify({ a: GET_USER, b: 42 }));
    await expect(start({ manifest: broken })).rejects.toThrow(/graphql\.persistedQueries\.manifest .*broken\.json: the query of ID "b" is not a string/);
  });
});
