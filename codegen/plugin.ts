import { clone, create, createFileRegistry, fromBinary, toBinary, type DescFile } from "@bufbuild/protobuf";
import {
  CodeGeneratorRequestSchema,
  CodeGeneratorResponse_Feature,
  CodeGeneratorResponseSchema,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type CodeGeneratorRequest,
  type CodeGeneratorResponse,
} from "@bufbuild/protobuf/wkt";
import { collectBindings } from "./bindings.js";
import { compare, emitIndexFile, emitRoutesFile, generatedHeader, routesModule } from "./emit-routes.js";
import { findHttpExtension } from "./http-rule/read-http-rule.js";
import type { CodegenBinding } from "./model.js";
import { buildOpenApiDocument, renderOpenApi } from "./openapi/index.js";

/** One output file of the plugin. */
export interface GeneratedFile {
  readonly name: string;
  readonly content: string;
}

/**
 * The protoc/buf plugin: from a CodeGeneratorRequest, the route table of every proto file to
 * generate, `index.ts`, the descriptor set the runtime's JSON codec needs, and `openapi.json`.
 * Throws `CodegenError` listing every invalid rule as `file:line: reason`.
 */
export function generate(request: CodeGeneratorRequest): GeneratedFile[] {
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: request.protoFile }));
  const targets: DescFile[] = request.fileToGenerate.map((name) => {
    const file = registry.getFile(name.replace(/\.proto$/, "")) ?? registry.getFile(name);
    if (!file) throw new CodegenError([`${name}: missing from the CodeGeneratorRequest`]);
    return file;
  });
  const { bindings, problems, skipped } = collectBindings(targets, findHttpExtension(registry));
  for (const warning of skipped) process.stderr.write(`warning: ${warning.source}: ${warning.message}\n`);
  if (problems.length > 0) {
    throw new CodegenError(problems.map((p) => `${p.source}: ${p.message}`).sort(compare));
  }

  const byFile = new Map<DescFile, CodegenBinding[]>();
  for (const binding of bindings) {
    const list = byFile.get(binding.rpc.parent.file) ?? [];
    list.push(binding);
    byFile.set(binding.rpc.parent.file, list);
  }
  const routeFiles = [...byFile.keys()];
  if (routeFiles.some((f) => routesModule(f) === "index")) throw new CodegenError(["index.proto at the root would collide with the generated index.ts"]);

  const files: GeneratedFile[] = routeFiles.map((file) => ({
    name: `${routesModule(file)}.ts`,
    content: emitRoutesFile(file, byFile.get(file) ?? []),
  }));
  files.push({ name: "index.ts", content: emitIndexFile(routeFiles) });
  files.push({ name: "protogate.descriptors.ts", content: emitDescriptorSet(request) });
  files.push({ name: "openapi.json", content: renderOpenApi(buildOpenApiDocument(bindings, { title: "Protogate API", version: "1.0.0" })) });
  return files.sort((a, b) => compare(a.name, b.name));
}

/** Every proto file of the request (imports included), without source info, as base64. */
function emitDescriptorSet(request: CodeGeneratorRequest): string {
  const files = request.protoFile.map((file) => {
    const copy = clone(FileDescriptorProtoSchema, file);
    copy.sourceCodeInfo = undefined;
    return copy;
  });
  const bytes = toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: files }));
  const base64 = Buffer.from(bytes).toString("base64");
  const lines = base64.match(/.{1,100}/g) ?? [];
  return [
    generatedHeader("all files"),
    "/** google.protobuf.FileDescriptorSet of every generated proto file and its imports, base64. */",
    "export const descriptorSetBase64 =",
    lines.map((line) => `  ${JSON.stringify(line)}`).join(" +\n") + ";",
    "",
  ].join("\n");
}

/** Invalid HTTP rules: one line per problem, each `file:line: reason`. */
export class CodegenError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "CodegenError";
  }
}

/** Runs the plugin over a CodeGeneratorRequest on `input`, writing the response to `output`. */
export async function runPlugin(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  const request = fromBinary(CodeGeneratorRequestSchema, Buffer.concat(chunks));
  let response: CodeGeneratorResponse;
  try {
    response = create(CodeGeneratorResponseSchema, {
      supportedFeatures: BigInt(CodeGeneratorResponse_Feature.PROTO3_OPTIONAL),
      file: generate(request).map((f) => ({ name: f.name, content: f.content })),
    });
  } catch (error) {
    if (!(error instanceof CodegenError)) throw error;
    response = create(CodeGeneratorResponseSchema, { error: error.message });
  }
  await new Promise<void>((resolve, reject) => {
    output.write(toBinary(CodeGeneratorResponseSchema, response), (err) => (err ? reject(err) : resolve()));
  });
}
