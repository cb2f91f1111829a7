import { describe, expect, it } from "vitest";
import { AggregateConfigError } from "../../src/aggregate/compile-aggregate.js";
import { ConfigError } from "../../src/config/load-config.js";
import { DASHBOARD_AGGREGATE } from "../../src/demo/dashboard-aggregate.js";
import { createPipelineHarness } from "../gateway/support/pipeline-harness.js";

type Json = Record<string, unknown>;

const getUser = (extra: Json = {}): Json => ({ rpc: "demo.v1.UserService.GetUser", request: { user_id: { path: "userId" } }, ...extra });
const recommend = (request: Json, extra: Json = {}): Json => ({ rpc: "demo.v1.RecommendationService.ListRecommendations", request, ...extra });
const aggregate = (calls: Json, extra: Json = {}): Json => ({ name: "dash", path: "/api/dash/{userId}", calls, ...extra });

/** The error building the pipeline with these aggregates throws (or undefined when it builds). */
async function startError(aggregates: readonly Json[]): Promise<Error | undefined> {
  try {
    const harness = await createPipelineHarness({ aggregates });
    await harness.close();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

describe("aggregate config errors at start, each naming the aggregate, the call and the field", () => {
  it.each<[string, Json, RegExp]>([
    ["an unknown RPC", aggregate({ user: getUser({ rpc: "demo.v1.UserService.Nope" }) }), /aggregate "dash": call "user": unknown RPC demo\.v1\.UserService\.Nope/],
    ["a streaming RPC", aggregate({ feed: { rpc: "demo.v1.ChatService.Subscribe" } }), /call "feed", rpc demo\.v1\.ChatService\.Subscribe: a streaming method cannot be part of an aggregate/],
    ["an unknown request field", aggregate({ user: getUser({ request: { nope: { const: 1 } } }) }), /call "user", field "nope": demo\.v1\.GetUserRequest has no field "nope"/],
    ["a constant of the wrong type", aggregate({ r: recommend({ user_id: { path: "userId" }, page_size: { const: "many" } }) }), /call "r", field "page_size": the constant does not fit field "page_size" \(demo\.v1\.ListRecommendationsRequest\.page_size: int32\)/],
    [
      "a reference of the wrong type",
      aggregate({ user: getUser(), r: recommend({ user_id: { path: "userId" }, page_size: { from: "user.region" } }) }),
      /call "r", field "page_size": \{from: user\.region\}: type mismatch: demo\.v1\.User\.region: string cannot be set on demo\.v1\.ListRecommendationsRequest\.page_size: int32/,
    ],
    ["a repeated field into a singular one", aggregate({ user: getUser(), r: recommend({ region: { from: "user.tags" } }) }), /field "region": \{from: user\.tags\}: type mismatch: demo\.v1\.User\.tags: repeated string cannot be set/],
    ["a reference to no call", aggregate({ r: recommend({ region: { from: "nobody.region" } }) }), /call "r", field "region": \{from: nobody\.region\}: no call named "nobody"/],
    ["a reference to no field", aggregate({ user: getUser(), r: recommend({ region: { from: "user.nope" } }) }), /field "region": \{from: user\.nope\}: demo\.v1\.User has no field "nope"/],
    ["a path variable the path does not have", aggregate({ user: getUser({ request: { user_id: { path: "id" } } }) }), /call "user", field "user_id": \{path: id\}: the aggregate's path has no variable \{id\}/],
    ["a path variable into a message field", aggregate({ r: { rpc: "demo.v1.UserService.CreateUser", request: { user: { path: "userId" } } } }), /field "user": a path variable is one piece of text/],
    ["bad CEL syntax", aggregate({ r: recommend({ region: { cel: "'a' +" } }) }), /call "r", field "region": \{cel: "'a' \+"\}: CEL syntax/],
    ["an unknown name in CEL", aggregate({ r: recommend({ region: { cel: "profile.region" } }) }), /field "region": .*CEL: unknown name "profile"/],
    ["a field a call's response lacks, in CEL", aggregate({ user: getUser(), r: recommend({ region: { cel: "user.nope + 'x'" } }) }), /field "region": .*CEL: user\.nope: demo\.v1\.User has no field "nope" \(CEL uses proto field names\)/],
    ["a call reading itself", aggregate({ user: getUser({ request: { user_id: { from: "user.user_id" } } }) }), /call "user", field "user_id": \{from: user\.user_id\}: a call cannot use its own response/],
    ["a cycle of three", aggregate({ a: getUser({ request: { user_id: { from: "c.user_id" } } }), b: getUser({ request: { user_id: { from: "a.user_id" } } }), c: getUser({ request: { user_id: { from: "b.user_id" } } }) }), /calls "a" -> "c" -> "b" -> "a" depend on each other in a cycle/],
    [
      "a cycle through CEL",
      aggregate({ a: getUser({ request: { user_id: { from: "b.region" } } }), b: recommend({ region: { cel: "a.region" }, user_id: { from: "c.user_id" } }), c: getUser({ request: { user_id: { from: "a.user_id" } } }) }),
      /aggregate "dash": calls "a" -> "b" -> "a" depend on each other in a cycle/,
    ],
    ["an unknown selected field", aggregate({ user: getUser({ select: ["userId", "nope"] }) }), /call "user", select "nope": demo\.v1\.User has no field "nope"/],
    ["a rename of a path not selected", aggregate({ user: getUser({ select: ["userId"], rename: { displayName: "name" } }) }), /call "user", rename "displayName": not one of the selected paths/],
    ["a default that is not a response", aggregate({ user: getUser({ onError: { default: { nope: 1 } } }) }), /call "user", onError default: not a demo\.v1\.User in proto3 JSON/],
    ["a hidden partial call", aggregate({ user: getUser({ onError: "partial", hidden: true }) }), /call "user", a hidden call cannot be partial/],
    ["a path variable that is a field path", aggregate({ user: getUser() }, { path: "/api/{a.b}" }), /path "\/api\/\{a\.b\}": variable \{a\.b\} must be a plain name/],
  ])("%s", async (_name, config, message) => {
    const error = await startError([config]);
    expect(error).toBeInstanceOf(AggregateConfigError);
    expect(error?.message).toMatch(message);
  });

  it("lists every problem of every aggregate at once", async () => {
    const error = await startError([aggregate({ user: getUser({ rpc: "demo.v1.UserService.Nope" }) }), aggregate({ user: getUser({ select: ["nope"] }) }, { name: "other", path: "/api/other/{userId}" })]);
    expect((error as AggregateConfigError).problems).toEqual([
      'aggregate "dash": call "user": unknown RPC demo.v1.UserService.Nope (an aggregate calls unary methods that have an HTTP rule in the generated route table)',
      'aggregate "other": call "user", select "nope": demo.v1.User has no field "nope"',
    ]);
  });

  it.each<[string, Json[], RegExp]>([
    ["a call named errors", [aggregate({ errors: getUser() })], /a call cannot be named errors, path, query, claims/],
    ["an aggregate declared twice", [aggregate({ user: getUser() }), aggregate({ user: getUser() }, { path: "/api/x/{userId}" })], /aggregate "dash" is declared twice/],
    ["two sources for one field", [aggregate({ user: getUser({ request: { user_id: { path: "userId", const: "u-1" } } }) })], /expected one of \{path: VAR\}/],
    ["an unknown policy", [aggregate({ user: getUser({ onError: "ignore" }) })], /expected fail, partial or \{default: VALUE\}/],
    ["no calls", [aggregate({})], /an aggregate needs at least one call/],
    ["a method other than GET", [aggregate({ user: getUser() }, { method: "POST" })], /aggregates\.0\.method/],
    ["a public aggregate with scopes", [aggregate({ user: getUser() }, { auth: { public: true, scopes: ["a"] } })], /a public aggregate cannot require scopes/],
  ])("the schema refuses %s", async (_name, aggregates, message) => {
    const error = await startError(aggregates);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).not.toBeInstanceOf(AggregateConfigError);
    expect(error?.message).toMatch(message);
  });

  it.each<[string, Json[], RegExp]>([
    [
      "a generated route's path (another variable name, same shape)",
      [aggregate({ user: getUser() }, { path: "/v1/users/{userId}" })],
      /aggregate "dash": path GET \/v1\/users\/\{userId\} clashes with the route of demo\.v1\.UserService\.GetUser \(demo\/v1\/user\.proto[^)]*\): GET \/v1\/users\/\{user_id\}; give the aggregate another path/,
    ],
    ["a generated literal route's path", [aggregate({ user: getUser({ request: { user_id: { const: "u-1" } } }) }, { path: "/v1/users" })], /aggregate "dash": path GET \/v1\/users clashes with the route of demo\.v1\.UserService\.ListUsers/],
    [
      "another aggregate's path",
      [aggregate({ user: getUser() }, { path: "/api/a/{userId}" }), aggregate({ user: getUser() }, { name: "other", path: "/api/a/{userId}" })],
      /aggregate "other": path GET \/api\/a\/\{userId\} clashes with aggregate "dash"'s path \/api\/a\/\{userId\}/,
    ],
  ])("an aggregate on %s is refused at start, naming both", async (_name, configs, message) => {
    const error = await startError(configs);
    expect(error).toBeInstanceOf(AggregateConfigError);
    expect(error?.message).toMatch(message);
  });

  it("a POST route on the same path is no clash (aggregates are GET)", async () => {
    expect(await startError([aggregate({ user: getUser({ request: { user_id: { const: "u-1" } } }) }, { path: "/v1/payments" })])).toBeUndefined();
  });

  it.each<[string, Json]>([
    ["the demo's dashboard", DASHBOARD_AGGREGATE as unknown as Json],
    ["CEL with a comprehension's own variable", aggregate({ user: getUser(), r: recommend({ region: { cel: "user.tags.exists(t, t == 'eu') ? 'eu-west' : user.region" } }) })],
    ["a claim, a query parameter and a hidden input", aggregate({ user: getUser({ hidden: true }), r: recommend({ user_id: { claim: "sub" }, region: { from: "user.region" }, page_size: { query: "limit" } }) })],
  ])("accepts %s", async (_name, config) => {
    expect(await startError([config])).toBeUndefined();
  });
});
