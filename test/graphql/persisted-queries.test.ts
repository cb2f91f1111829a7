import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { createQueryResolver, type PersistedParams } from "../../src/graphql/persisted-queries.js";

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const A = "{ a }";
const B = "{ b }";

function manifestFile(content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), "pg-pq-")), "manifest.json");
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

/** The resolver's answer as a string (the text) or the error codes. */
function outcome(answer: string | readonly GraphQLError[]): string | unknown[] {
  return typeof answer === "string" ? answer : answer.map((error) => error.extensions.code);
}

const apollo = (hash: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });

describe("createQueryResolver", () => {
  const relay = manifestFile({ "relay-1": A });
  const cases: Array<[string, { manifest?: string; only?: boolean }, PersistedParams, string | unknown[]]> = [
    ["text without a manifest", {}, { query: A }, A],
    ["an ID alone without a manifest", {}, { query: undefined, ...apollo(sha256(A)) }, ["PERSISTED_QUERY_NOT_SUPPORTED"]],
    ["nothing at all", {}, { query: undefined }, ["GRAPHQL_PARSE_FAILED"]],
    ["a Relay ID alone", { manifest: relay }, { query: undefined, documentId: "relay-1" }, A],
    ["a SHA-256 of a Relay body, whatever its ID", { manifest: relay }, { query: undefined, ...apollo(sha256(A)) }, A],
    ["a documentId sha256:<hex>", { manifest: relay }, { query: undefined, documentId: `sha256:${sha256(A)}` }, A],
    ["an unknown ID", { manifest: relay }, { query: undefined, documentId: "relay-2" }, ["PERSISTED_QUERY_NOT_FOUND"]],
    ["text and its own hash", { manifest: relay }, { query: B, ...apollo(sha256(B)) }, B],
    ["text and another text's hash", { manifest: relay }, { query: B, ...apollo(sha256(A)) }, ["PERSISTED_QUERY_HASH_MISMATCH"]],
    ["text not in the manifest, only", { manifest: relay, only: true }, { query: B }, ["PERSISTED_QUERY_ONLY"]],
    ["the manifest's text, only", { manifest: relay, only: true }, { query: A }, A],
    ["a version other than 1", { manifest: relay }, { query: undefined, extensions: { persistedQuery: { version: 2, sha256Hash: sha256(A) } } }, ["PERSISTED_QUERY_BAD_REQUEST"]],
    ["a hash that is not hex", { manifest: relay }, { query: undefined, ...apollo("XYZ") }, ["PERSISTED_QUERY_BAD_REQUEST"]],
    ["a documentId that is not a string", { manifest: relay }, { query: undefined, documentId: 7 }, ["PERSISTED_QUERY_BAD_REQUEST"]],
  ];
  it.each(cases)("%s", (_name, config, params, expected) => {
    const resolve = createQueryResolver(config.manifest === undefined ? undefined : { manifest: config.manifest, only: config.only ?? false });
    expect(outcome(resolve(params))).toEqual(expected);
  });

  it("property: every operation of an Apollo manifest runs by its hash alone, and with only no other text runs", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 8 }), fc.string(), (bodies, other) => {
        const file = manifestFile({ format: "apollo-persisted-query-manifest", version: 1, operations: bodies.map((body) => ({ id: sha256(body), body })) });
        const resolve = createQueryResolver({ manifest: file, only: true });
        for (const body of bodies) expect(resolve({ query: undefined, ...apollo(sha256(body)) })).toBe(body);
        expect(outcome(resolve({ query: other }))).toEqual(bodies.includes(other) ? other : ["PERSISTED_QUERY_ONLY"]);
      }),
      { numRuns: 50 },
    );
  });

  it.each([
    ["not JSON", "{", /is not JSON/],
    ["a list", [], /expected a JSON object/],
    ["an Apollo manifest of another version", { format: "apollo-persisted-query-manifest", version: 2, operations: [] }, /version 2 .* is not supported/],
    ["an operation without a body", { format: "apollo-persisted-query-manifest", version: 1, operations: [{ id: "x" }] }, /operations\[0\] needs an id and a body/],
    ["one ID for two operations", { format: "apollo-persisted-query-manifest", version: 1, operations: [{ id: "x", body: A }, { id: "x", body: B }] }, /ID "x" names two different operations/],
  ])("refuses a manifest that is %s, naming the file", (_name, content, problem) => {
    const file = manifestFile(content);
    expect(() => createQueryResolver({ manifest: file, only: false })).toThrow(problem);
    expect(() => createQueryResolver({ manifest: file, only: false })).toThrow(file);
  });

  it("refuses a manifest that cannot be read", () => {
    expect(() => createQueryResolver({ manifest: "/nonexistent/manifest.json", only: false })).toThrow(/cannot be read \(ENOENT\)/);
  });
});
