import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GenerateError, runGenerate } from "../../../codegen/run-generate.js";

const FIXTURES = join(import.meta.dirname, "../../fixtures/graphql");
const work = mkdtempSync(join(tmpdir(), "pg-graphql-bad-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The problems generate reports for a fixture folder, one per line. */
async function problemsOf(fixture: string): Promise<string[]> {
  const error = await runGenerate({ protoDirs: [join(FIXTURES, fixture)], outDir: join(work, fixture), check: false }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GenerateError);
  expect(existsSync(join(work, fixture))).toBe(false);
  return (error as GenerateError).message.split("\n");
}

describe("invalid GraphQL options", () => {
  it("are all reported in one run, each at its option's line, and nothing is generated", async () => {
    const file = relative(process.cwd(), join(FIXTURES, "bad/bad/v1/bad.proto"));
    expect(await problemsOf("bad")).toEqual([
      `${file}:17: two RPCs are both named Query.thing in GraphQL (/bad.v1.BadService/GetOtherThing, /bad.v1.BadService/GetThing); rename one with option (protogate.v1.graphql) = {name: "..."}`,
      `${file}:22: bad.v1.BadService.BadName: GraphQL name "__thing" is not a GraphQL name (letters, digits and _, not starting with a digit or __)`,
      `${file}:27: bad.v1.BadService.UnarySubscription: a unary RPC cannot be a Subscription field (only server-streaming ones can)`,
      `${file}:32: bad.v1.BadService.StreamQuery: a server-streaming RPC can only be a Subscription field, not a Query field`,
      `${file}:37: bad.v1.BadService.Bidi: a bidi-streaming RPC has no GraphQL form; remove the kind (client- and bidi-streaming RPCs are left out of the schema)`,
      `${file}:50: bad.v1.Thing.a: join rpc "bad.v1.BadService.Nope" names no RPC (write the full name: package.Service.Method)`,
      `${file}:52: bad.v1.Thing.c: join rpc bad.v1.BadService.StreamQuery is server-streaming; a join calls a unary RPC`,
      `${file}:53: bad.v1.Thing.d: request_field "missing" is not a field of bad.v1.GetThingRequest`,
      `${file}:54: bad.v1.Thing.e: request field bad.v1.GetThingRequest.id must be a singular int64 field, like the key`,
      `${file}:55: bad.v1.Thing.f: a join's field must be a scalar (or a repeated scalar) holding the key`,
      `${file}:56: bad.v1.Thing.g: join name "1st" is not a GraphQL name (letters, digits and _, not starting with a digit or __)`,
      `${file}:57: bad.v1.Thing.h: batch request_field "id" must be a repeated string field of bad.v1.GetThingRequest, like the key`,
    ]);
  }, 60_000);

  it("include a join named like a field of the type it is added to", async () => {
    const file = relative(process.cwd(), join(FIXTURES, "join-clash/clash/v1/clash.proto"));
    expect(await problemsOf("join-clash")).toEqual([`${file}:17: clash.v1.Thing: join name "id" is already a field of GraphQL type Thing; choose another name`]);
  }, 60_000);

  it("include federation entities that break the rules (the warning for one with no type in the schema is not a problem)", async () => {
    const file = relative(process.cwd(), join(FIXTURES, "bad-entity/entity/v1/entity.proto"));
    expect(await problemsOf("bad-entity")).toEqual([
      `${file}:17: entity.v1.EntityService.GetThingAgain: entity: entity.v1.Thing is already an entity resolved by entity.v1.EntityService.GetThing (${file}:12); one RPC resolves an entity`,
      `${file}:22: entity.v1.EntityService.WatchThing: entity: a server-streaming RPC cannot resolve an entity; declare it on a unary RPC answering one entity.v1.Thing`,
      `${file}:27: entity.v1.EntityService.GetByScore: entity: key "score" must be a singular string or integer field of entity.v1.Scored`,
      `${file}:32: entity.v1.EntityService.GetByMissing: entity: key "missing" must be a singular string or integer field of entity.v1.Scored`,
      `${file}:37: entity.v1.EntityService.GetByNumber: entity: request field "number" must be a singular int64 field of entity.v1.GetThingRequest, like the key`,
      `${file}:42: entity.v1.EntityService.GetByOtherField: entity: request field "nope" must be a singular string field of entity.v1.GetThingRequest, like the key`,
    ]);
  }, 60_000);

  it("include options of another shape, when a team file shadows protogate/v1/graphql.proto", async () => {
    const file = relative(process.cwd(), join(FIXTURES, "shadow/shadow/v1/shadow.proto"));
    expect(await problemsOf("shadow")).toEqual([
      `${file}:11: shadow.v1.ShadowService.GetThing: (protogate.v1.graphql) is not a protogate.v1.GraphqlMethod {string name = 1; bool hide = 2; GraphqlKind kind = 3; GraphqlEntity entity = 4;}`,
      `${file}:20: shadow.v1.Thing.id: (protogate.v1.join) is not a protogate.v1.Join {string name = 1; string rpc = 2; string request_field = 3; JoinBatch batch = 4;}`,
    ]);
  }, 60_000);
});

describe("a schema graphql-js finds invalid (a gap in the mapping, not the team's mistake)", () => {
  it("is a warning: the routes are written, the GraphQL files are not", async () => {
    const out = join(work, "no-enum-values");
    const result = await runGenerate({ protoDirs: [join(FIXTURES, "no-enum-values")], outDir: out, check: false });
    expect(result.report.routes).toBe(1);
    expect(existsSync(join(out, "index.js"))).toBe(true);
    expect(existsSync(join(out, "schema.graphql"))).toBe(false);
    expect(existsSync(join(out, "graphql-map.js"))).toBe(false);
    expect(result.warnings.join("\n")).toContain("n.v1.Tri.null is left out of the GraphQL enum Tri: it is not a GraphQL enum value name");
    expect(result.warnings.join("\n")).toContain("schema.graphql: no GraphQL schema: graphql-js finds it invalid: Enum type Tri must define one or more values.");
  }, 60_000);
});
