import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePluginParameters } from "../../codegen/plugin-parameters.js";
import { createSelection, decodePatterns, encodePatterns, isFilePattern, type MethodNames } from "../../codegen/selection.js";
import { fuzzRuns } from "../support/fuzz.js";

const read: MethodNames = {
  file: "google/cloud/bigquery/storage/v1/storage.proto",
  package: "google.cloud.bigquery.storage.v1",
  service: "google.cloud.bigquery.storage.v1.BigQueryRead",
  method: "google.cloud.bigquery.storage.v1.BigQueryRead.ReadRows",
};
const shop: MethodNames = { file: "shop/v1/shop.proto", package: "shop.v1", service: "shop.v1.ShelfService", method: "shop.v1.ShelfService.GetShelf" };
const bare: MethodNames = { file: "bare.proto", package: "", service: "Bare", method: "Bare.Ping" };

describe("selection patterns", () => {
  it.each<[string, { include?: string[]; exclude?: string[] }, MethodNames, boolean]>([
    ["no patterns select everything", {}, read, true],
    ["a service by full name", { exclude: ["google.cloud.bigquery.storage.v1.BigQueryRead"] }, read, false],
    ["a method by full name", { exclude: ["google.cloud.bigquery.storage.v1.BigQueryRead.ReadRows"] }, read, false],
    ["another method of the service stays", { exclude: ["google.cloud.bigquery.storage.v1.BigQueryRead.SplitReadStream"] }, read, true],
    ["a package", { exclude: ["google.cloud.bigquery.storage.v1"] }, read, false],
    ["a leading dot is allowed", { exclude: [".shop.v1.ShelfService"] }, shop, false],
    ["* is one dotted part", { exclude: ["google.cloud.*.storage.v1.BigQueryRead"] }, read, false],
    ["* does not cross dots", { exclude: ["google.*.BigQueryRead"] }, read, true],
    ["** crosses dots", { exclude: ["**.ReadRows"] }, read, false],
    ["** prefix of a package", { exclude: ["google.cloud.**"] }, read, false],
    ["a service glob", { exclude: ["shop.v1.*Service"] }, shop, false],
    ["a file by import path", { exclude: ["shop/v1/shop.proto"] }, shop, false],
    ["a file glob", { exclude: ["google/cloud/**/*.proto"] }, read, false],
    ["a file glob that misses", { exclude: ["google/cloud/*.proto"] }, read, true],
    ["./ before a file pattern", { exclude: ["./bare.proto"] }, bare, false],
    ["a name without a package", { exclude: ["Bare.Ping"] }, bare, false],
    ["include keeps only matches", { include: ["shop.v1.**"] }, read, false],
    ["include keeps matches", { include: ["shop.v1.**"] }, shop, true],
    ["exclude wins over include", { include: ["shop.v1.**"], exclude: ["**.GetShelf"] }, shop, false],
    ["a file include", { include: ["shop/**"] }, shop, true],
  ])("%s", (_name, patterns, names, expected) => {
    expect(createSelection({ include: patterns.include ?? [], exclude: patterns.exclude ?? [] }).selects(names)).toBe(expected);
  });

  it("names the patterns that matched nothing, in order, after every method was seen", () => {
    const selection = createSelection({ include: ["shop.**", "nope.**"], exclude: ["**.GetShelf", "typo.Service", "other/*.proto"] });
    for (const names of [read, shop, bare]) selection.selects(names);
    expect(selection.unmatched()).toEqual(["--include nope.**", "--exclude typo.Service", "--exclude other/*.proto"]);
  });

  it("tells file patterns from name patterns", () => {
    expect(["a/b.proto", "x.proto", "a/**", "**/*.proto"].every(isFilePattern)).toBe(true);
    expect(["a.B", "**.X", "pkg.v1"].some(isFilePattern)).toBe(false);
  });

  it("round-trips through the plugin parameter, which must not contain commas", () => {
    fc.assert(
      fc.property(fc.array(fc.string()), fc.array(fc.string()), (include, exclude) => {
        const encoded = encodePatterns({ include, exclude });
        expect(encoded).not.toMatch(/[,=]/);
        expect(parsePluginParameters(`report=r.json,selection=${encoded}`)).toMatchObject({ report: "r.json", selection: { include, exclude } });
      }),
      fuzzRuns(200),
    );
  });

  it("rejects unknown plugin options and malformed selections", () => {
    expect(() => parsePluginParameters("paths=source_relative")).toThrow('unknown protoc-gen-protogate option "paths"');
    expect(() => decodePatterns(Buffer.from('{"include":[1],"exclude":[]}').toString("base64url"))).toThrow('"include" is not a list of strings');
    expect(parsePluginParameters("")).toEqual({ report: undefined, selection: { include: [], exclude: [] }, operations: { mode: "auto", configs: [] }, openapi: {} });
  });
});
