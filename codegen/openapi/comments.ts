import type { DescEnum, DescEnumValue, DescField, DescFile, DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";

/** Descriptors whose proto comments the OpenAPI document shows. */
export type CommentedDesc = DescService | DescMethod | DescMessage | DescEnum | DescField | DescEnumValue;

// `@bufbuild/protoplugin`'s getComments is not a dependency; this reads SourceCodeInfo directly.
const commentIndex = new WeakMap<DescFile, Map<string, string>>();

/**
 * The proto comment of a descriptor (leading, else trailing), cleaned up: the space protoc keeps
 * after `//` removed, trailing spaces and surrounding blank lines dropped. Undefined when the
 * descriptor set has no source info or the element has no comment.
 */
export function commentOf(desc: CommentedDesc): string | undefined {
  const file = fileOf(desc);
  const path = sourcePath(desc);
  if (path === undefined) return undefined;
  return indexFor(file).get(path.join("."));
}

/** The comment at a SourceCodeInfo path of `file` (elements `commentOf` does not cover, such as oneofs). */
export function commentAt(file: DescFile, path: readonly number[]): string | undefined {
  return indexFor(file).get(path.join("."));
}

/** Splits a comment into an OpenAPI `summary` (its first paragraph) and `description` (the rest). */
export function summaryAndDescription(comment: string | undefined): { summary?: string; description?: string } {
  if (comment === undefined) return {};
  const paragraphs = comment.split(/\n[ \t]*\n/);
  const summary = paragraphs[0].split("\n").map((line) => line.trim()).join(" ");
  const rest = paragraphs.slice(1).join("\n\n").trim();
  return rest === "" ? { summary } : { summary, description: rest };
}

function indexFor(file: DescFile): Map<string, string> {
  let index = commentIndex.get(file);
  if (index) return index;
  index = new Map();
  for (const location of file.proto.sourceCodeInfo?.location ?? []) {
    const text = clean(location.leadingComments) ?? clean(location.trailingComments);
    const key = location.path.join(".");
    if (text !== undefined && !index.has(key)) index.set(key, text);
  }
  commentIndex.set(file, index);
  return index;
}

function clean(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const lines = raw.split("\n").map((line) => (line.startsWith(" ") ? line.slice(1) : line).trimEnd());
  while (lines.length > 0 && lines[0] === "") lines.shift();
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.length === 0 ? undefined : lines.join("\n");
}

function fileOf(desc: CommentedDesc): DescFile {
  switch (desc.kind) {
    case "service":
    case "message":
    case "enum":
      return desc.file;
    case "rpc":
      return desc.parent.file;
    case "field":
      return desc.parent.file;
    case "enum_value":
      return desc.parent.file;
  }
}

// SourceCodeInfo paths are field numbers of the descriptor protos interleaved with indexes:
// FileDescriptorProto message_type 4, enum_type 5, service 6; DescriptorProto field 2,
// nested_type 3, enum_type 4; EnumDescriptorProto value 2; ServiceDescriptorProto method 2.
export function sourcePath(desc: CommentedDesc): number[] | undefined {
  switch (desc.kind) {
    case "service":
      return indexed([6], desc.file.proto.service.indexOf(desc.proto));
    case "rpc": {
      const service = sourcePath(desc.parent);
      return service && indexed([...service, 2], desc.parent.proto.method.indexOf(desc.proto));
    }
    case "message": {
      if (!desc.parent) return indexed([4], desc.file.proto.messageType.indexOf(desc.proto));
      const parent = sourcePath(desc.parent);
      return parent && indexed([...parent, 3], desc.parent.proto.nestedType.indexOf(desc.proto));
    }
    case "enum": {
      if (!desc.parent) return indexed([5], desc.file.proto.enumType.indexOf(desc.proto));
      const parent = sourcePath(desc.parent);
      return parent && indexed([...parent, 4], desc.parent.proto.enumType.indexOf(desc.proto));
    }
    case "field": {
      const parent = sourcePath(desc.parent);
      return parent && indexed([...parent, 2], desc.parent.proto.field.indexOf(desc.proto));
    }
    case "enum_value": {
      const parent = sourcePath(desc.parent);
      return parent && indexed([...parent, 2], desc.parent.proto.value.indexOf(desc.proto));
    }
  }
}

function indexed(prefix: number[], index: number): number[] | undefined {
  return index < 0 ? undefined : [...prefix, index];
}
