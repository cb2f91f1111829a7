import type { DescEnum, DescMessage } from "@bufbuild/protobuf";

/** The name ts-proto gives a message or enum: nested names joined with "_" (`Order_Item`). */
export function tsProtoName(desc: DescMessage | DescEnum): string {
  const names: string[] = [];
  for (let d: DescMessage | DescEnum | undefined = desc; d; d = d.parent) names.unshift(d.name);
  return names.join("_");
}

/** A collision-free local alias for an imported type: its full name with dots as underscores. */
export function importAlias(desc: DescMessage | DescEnum): string {
  return desc.typeName.replace(/\./g, "_");
}

/** The module ts-proto writes for a proto file (`demo/v1/user.proto` -> `demo/v1/user`). */
export function tsProtoModule(protoFileName: string): string {
  return protoFileName.replace(/\.proto$/, "");
}

/** Relative ESM import specifier from one generated module to another (both without extension). */
export function relativeImport(fromModule: string, toModule: string): string {
  const from = fromModule.split("/").slice(0, -1);
  const to = toModule.split("/");
  let common = 0;
  while (common < from.length && common < to.length - 1 && from[common] === to[common]) common++;
  const up = from.length - common;
  const rest = to.slice(common).join("/");
  return `${up === 0 ? "./" : "../".repeat(up)}${rest}.js`;
}
