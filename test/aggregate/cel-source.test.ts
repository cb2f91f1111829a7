import { create } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import { celEnvironment, compileCel, type CelScope, type CelVariables, type CompiledCel } from "../../src/aggregate/cel-source.js";
import { jsonToCel } from "../../src/aggregate/compile-aggregate.js";
import { createCodecRegistry, type CodecRegistry } from "../../src/transcode/json/codec-registry.js";
import { demoGenerated } from "../e2e/support/gateway-harness.js";

let codecs: CodecRegistry;
let scope: CelScope;

beforeAll(async () => {
  const folder = await demoGenerated();
  codecs = createCodecRegistry(folder.files ?? folder.descriptorSet, { ignoreUnknownFields: false });
  scope = { registry: codecs.files, calls: new Map([["user", codecs.plan("demo.v1.User").desc]]) };
});

function compiled(source: string, self = "other"): CompiledCel {
  const result = compileCel(source, scope, celEnvironment(scope), self);
  if (typeof result === "string") throw new Error(result);
  return result;
}

function variables(user: Record<string, unknown> = {}, claims: Record<string, unknown> = {}): CelVariables {
  const message = create(codecs.plan("demo.v1.User").desc, user);
  return {
    path: new Map([["userId", "u-1"]]),
    query: new Map([["limit", "3"]]),
    claims: new Map(Object.entries(claims).map(([key, value]) => [key, jsonToCel(value)])),
    calls: { get: (name: string) => (name === "user" ? message : undefined) },
  };
}

describe("CEL sources", () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>, unknown]>([
    ["'users/' + path.userId", {}, {}, "users/u-1"],
    ["int(query.limit) * 2", {}, {}, 6],
    ["user.region == '' ? 'global' : user.region", { region: "eu-west" }, {}, "eu-west"],
    ["user.tags.exists(t, t == 'math') ? 'math' : 'other'", { tags: ["math"] }, {}, "math"],
    ["user.balance_cents + 1", { balanceCents: 9007199254740993n }, {}, "9007199254740994"],
    ["user.tags.map(t, t + '!')", { tags: ["a", "b"] }, {}, ["a!", "b!"]],
    ["claims.tenant.region", {}, { tenant: { region: "eu" } }, "eu"],
    ["b'hi'", {}, {}, "aGk="],
    ["{'a': 1}", {}, {}, { a: 1 }],
    ["user.create_time", { createTime: { seconds: 0n, nanos: 0 } }, {}, "1970-01-01T00:00:00Z"],
  ])("%s", (source, user, claims, expected) => {
    expect(compiled(source).evaluate(variables(user, claims))).toEqual(expected);
  });

  it("names the calls an expression reads (its dependencies), not the fixed variables or comprehension variables", () => {
    expect(compiled("'users/' + path.userId").callRefs).toEqual([]);
    expect(compiled("user.tags.exists(user2, user2 == 'x') || user.region == ''").callRefs).toEqual(["user"]);
  });

  it("a runtime error says so (not a crash)", () => {
    expect(() => compiled("int(query.limit) / 0").evaluate(variables())).toThrow(/CEL evaluation: .*divi/i);
  });

  it.each([
    ["'a' +", /CEL syntax/],
    ["nobody.x", /unknown name "nobody"/],
    ["user.nope", /user\.nope: demo\.v1\.User has no field "nope"/],
    ["user.profile.city", undefined],
  ])("%s at start: %s", (source, problem) => {
    const result = compileCel(source, scope, celEnvironment(scope), "other");
    if (problem === undefined) expect(typeof result).not.toBe("string");
    else expect(result).toMatch(problem);
  });

  it("a call cannot read itself", () => {
    expect(compileCel("user.region", scope, celEnvironment(scope), "user")).toMatch(/cannot read its own response/);
  });
});
