import { create } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { findDuplicateTypes } from "../../codegen/duplicate-types.js";

const file = (name: string, pkg: string, types: { messages?: string[]; enums?: string[]; services?: string[] }): FileDescriptorProto =>
  create(FileDescriptorProtoSchema, {
    name,
    package: pkg,
    messageType: (types.messages ?? []).map((n) => ({ name: n })),
    enumType: (types.enums ?? []).map((n) => ({ name: n })),
    service: (types.services ?? []).map((n) => ({ name: n })),
  });

describe("findDuplicateTypes", () => {
  it("finds messages, enums and services of the same package defined by two files, sorted", () => {
    const files = [
      file("service.proto", "google.cloud.run.v2", { messages: ["Service", "Only"], services: ["Services"], enums: ["Kind"] }),
      file("google/cloud/run/v2/service.proto", "google.cloud.run.v2", { messages: ["Service"], services: ["Services"], enums: ["Kind"] }),
      file("other.proto", "other.v1", { messages: ["Service"] }), // same name, another package
      file("nopkg.proto", "", { messages: ["A"] }),
      file("nopkg2.proto", "", { messages: ["A"] }),
    ];
    expect(findDuplicateTypes(files)).toEqual([
      { typeName: "A", files: ["nopkg.proto", "nopkg2.proto"] },
      { typeName: "google.cloud.run.v2.Kind", files: ["google/cloud/run/v2/service.proto", "service.proto"] },
      { typeName: "google.cloud.run.v2.Service", files: ["google/cloud/run/v2/service.proto", "service.proto"] },
      { typeName: "google.cloud.run.v2.Services", files: ["google/cloud/run/v2/service.proto", "service.proto"] },
    ]);
  });

  it("finds nothing in a consistent set", () => {
    expect(findDuplicateTypes([file("a.proto", "p", { messages: ["A"] }), file("b.proto", "p", { messages: ["B"] })])).toEqual([]);
  });
});
