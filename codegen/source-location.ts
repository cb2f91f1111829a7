import type { DescFile } from "@bufbuild/protobuf";

/**
 * `file.proto:LINE` for the element at `path` (a SourceCodeInfo path), falling back to the
 * closest enclosing element that has a location. Lines are 1-based, as editors show them.
 */
export function sourceLine(file: DescFile, path: readonly number[]): string {
  const name = file.proto.name;
  const locations = file.proto.sourceCodeInfo?.location ?? [];
  let best: { length: number; line: number } | undefined;
  for (const location of locations) {
    const candidate = location.path;
    if (candidate.length > path.length || (best && candidate.length <= best.length)) continue;
    if (candidate.every((value, i) => value === path[i])) {
      best = { length: candidate.length, line: location.span[0] + 1 };
    }
  }
  return best ? `${name}:${best.line}` : name;
}

/** SourceCodeInfo path of a method: FileDescriptorProto.service (6), ServiceDescriptorProto.method (2). */
export function methodPath(serviceIndex: number, methodIndex: number): number[] {
  return [6, serviceIndex, 2, methodIndex];
}

/** SourceCodeInfo path of a service: FileDescriptorProto.service (6). */
export function servicePath(serviceIndex: number): number[] {
  return [6, serviceIndex];
}
