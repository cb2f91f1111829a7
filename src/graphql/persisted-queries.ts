import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { GraphQLError } from "graphql";
import { ConfigError } from "../config/load-config.js";
import { isJsonObject } from "../transcode/json/json-object.js";

/** `graphql.persistedQueries` (graphql-config.ts). */
export interface PersistedQueriesConfig {
  /** The manifest file (absolute once the config is loaded). */
  readonly manifest: string;
  /** Run nothing but the manifest's operations (trusted documents). */
  readonly only: boolean;
}

/** What a client sent that names a persisted operation: its query text (may be absent) and the extensions / document ID. */
export interface PersistedParams {
  readonly query: string | undefined;
  readonly extensions?: Readonly<Record<string, unknown>> | null | undefined;
  /** The GraphQL-over-HTTP draft's `documentId` (e.g. `sha256:<hex>`). */
  readonly documentId?: unknown;
}

/** Resolves the query text to run: the persisted one an ID names, the text sent (checked), or the errors refusing it. */
export type QueryResolver = (params: PersistedParams) => string | readonly GraphQLError[];

const APOLLO_FORMAT = "apollo-persisted-query-manifest";
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The resolver of `config` (its manifest read now; a ConfigError names the file and what is
 * wrong with it), or, without config, the one that runs the text sent and answers an ID alone
 * with `PERSISTED_QUERY_NOT_SUPPORTED` (the reply Apollo's APQ link takes to stop sending IDs).
 *
 * An operation is named by `extensions.persistedQuery.sha256Hash` (Apollo, version 1) or by
 * `documentId` (`sha256:<hex>`, or any manifest ID). An ID without text runs the manifest's
 * operation (unknown: `PERSISTED_QUERY_NOT_FOUND`, message `PersistedQueryNotFound`, as Apollo's
 * clients expect); a SHA-256 with text must be the text's hash. With `only`, text that is not a
 * manifest operation's body is refused (`PERSISTED_QUERY_ONLY`); without it any text runs, so
 * clients may send IDs where they have them. Operations are never registered by clients (no
 * automatic persisted queries): the manifest is the list.
 */
export function createQueryResolver(config: PersistedQueriesConfig | undefined): QueryResolver {
  if (config === undefined) {
    return (params) => {
      if (params.query !== undefined) return params.query;
      return namesOperation(params) ? [refusal("PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED")] : [missingQuery()];
    };
  }
  const byId = readManifest(config.manifest);
  // By the SHA-256 of the body too: a hash names its operation whatever the manifest's IDs are.
  const byHash = new Map([...byId.values()].map((body) => [sha256(body), body]));
  return (params) => {
    const id = operationId(params);
    if (typeof id !== "string" && id !== undefined) return id;
    if (params.query === undefined) {
      if (id === undefined) return [missingQuery()];
      const body = byId.get(id) ?? (isSha256Id(id) ? (byId.get(stripSha256(id)) ?? byHash.get(stripSha256(id))) : undefined);
      return body ?? [refusal("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")];
    }
    const hash = sha256(params.query);
    if (id !== undefined && isSha256Id(id) && stripSha256(id) !== hash) return [refusal("the query's SHA-256 is not the persisted query ID sent with it", "PERSISTED_QUERY_HASH_MISMATCH")];
    if (config.only && !byHash.has(hash)) return [refusal("this endpoint runs persisted operations only (graphql.persistedQueries.only): send the ID of one of its manifest's operations", "PERSISTED_QUERY_ONLY")];
    return params.query;
  };
}

/** Whether the params name a persisted operation (an Apollo hash or a document ID). */
function namesOperation(params: PersistedParams): boolean {
  return params.documentId !== undefined || (params.extensions !== null && params.extensions !== undefined && params.extensions.persistedQuery !== undefined);
}

/** The ID the params name (a SHA-256 from Apollo's extension, or the document ID), undefined for none, or the errors of a malformed one. */
function operationId(params: PersistedParams): string | undefined | readonly GraphQLError[] {
  if (params.documentId !== undefined && params.documentId !== null) {
    if (typeof params.documentId !== "string" || params.documentId === "") return [refusal("documentId must be a non-empty string", "PERSISTED_QUERY_BAD_REQUEST")];
    return params.documentId;
  }
  const persisted = params.extensions?.persistedQuery;
  if (persisted === undefined || persisted === null) return undefined;
  if (!isJsonObject(persisted)) return [refusal("extensions.persistedQuery must be an object {version: 1, sha256Hash}", "PERSISTED_QUERY_BAD_REQUEST")];
  const { version, sha256Hash } = persisted;
  if (version !== 1) return [refusal("extensions.persistedQuery.version must be 1", "PERSISTED_QUERY_BAD_REQUEST")];
  if (typeof sha256Hash !== "string" || !SHA256_HEX.test(sha256Hash)) return [refusal("extensions.persistedQuery.sha256Hash must be a SHA-256 in lower-case hex", "PERSISTED_QUERY_BAD_REQUEST")];
  return `sha256:${sha256Hash}`;
}

function isSha256Id(id: string): boolean {
  return id.startsWith("sha256:") && SHA256_HEX.test(id.slice(7));
}

function stripSha256(id: string): string {
  return isSha256Id(id) ? id.slice(7) : id;
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function refusal(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

function missingQuery(): GraphQLError {
  return refusal("the request has no query (a string), and names no persisted operation", "GRAPHQL_PARSE_FAILED");
}

/** The manifest's operations by ID. Throws a ConfigError naming the file and the problem. */
function readManifest(file: string): Map<string, string> {
  const fail = (problem: string): never => {
    throw new ConfigError(`graphql.persistedQueries.manifest ${file}: ${problem}`);
  };
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    fail(`cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    fail(`is not JSON (${(error as Error).message})`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return fail("expected a JSON object: Apollo's persisted query manifest, or an object of ID to query text");
  const record = data as Record<string, unknown>;
  const byId = new Map<string, string>();
  if (record.format === APOLLO_FORMAT) {
    if (record.version !== 1) fail(`version ${JSON.stringify(record.version)} of ${APOLLO_FORMAT} is not supported (1 is)`);
    if (!Array.isArray(record.operations)) fail("operations must be a list");
    (record.operations as unknown[]).forEach((operation, index) => {
      const { id, body } = (typeof operation === "object" && operation !== null ? operation : {}) as Record<string, unknown>;
      if (typeof id !== "string" || id === "" || typeof body !== "string") fail(`operations[${index}] needs an id and a body (strings)`);
      add(byId, id as string, body as string, fail);
    });
  } else {
    for (const [id, body] of Object.entries(record)) {
      if (typeof body !== "string") fail(`the query of ID ${JSON.stringify(id)} is not a string`);
      add(byId, id, body as string, fail);
    }
  }
  return byId;
}

function add(byId: Map<string, string>, id: string, body: string, fail: (problem: string) => never): void {
  const known = byId.get(id);
  if (known !== undefined && known !== body) fail(`ID ${JSON.stringify(id)} names two different operations`);
  byId.set(id, body);
}
