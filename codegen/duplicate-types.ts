import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";

/**
 * Fully qualified top-level types (messages, enums, services) that more than one file defines,
 * with those files. It happens when a folder is copied without its `google/...` layout: the
 * team's `service.proto` and google-proto-files' `google/cloud/run/v2/service.proto` then both
 * define `google.cloud.run.v2.Service`, and imports silently pick the shipped copy.
 */
export function findDuplicateTypes(files: readonly FileDescriptorProto[]): Array<{ typeName: string; files: string[] }> {
  const definedBy = new Map<string, string[]>();
  for (const file of files) {
    const prefix = file.package === "" ? "" : `${file.package}.`;
    const names = [...file.messageType, ...file.enumType, ...file.service].map((d) => `${prefix}${d.name}`);
    for (const name of names) {
      const list = definedBy.get(name) ?? [];
      if (!list.includes(file.name)) list.push(file.name);
      definedBy.set(name, list);
    }
  }
  return [...definedBy.entries()]
    .filter(([, list]) => list.length > 1)
    .map(([typeName, list]) => ({ typeName, files: [...list].sort() }))
    .sort((a, b) => (a.typeName < b.typeName ? -1 : a.typeName > b.typeName ? 1 : 0));
}
