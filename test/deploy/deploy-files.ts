import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";

/** The repository's root (this file is test/deploy/deploy-files.ts). */
export const ROOT = join(import.meta.dirname, "..", "..");
export const KUBERNETES_DIR = join(ROOT, "deploy", "kubernetes");

/** One Dockerfile instruction: `EXPOSE 8080 9901` is `{ keyword: "EXPOSE", rest: "8080 9901" }`. */
export interface DockerInstruction {
  readonly keyword: string;
  readonly rest: string;
}

/**
 * The instructions of a Dockerfile, enough to check it: comments and blank lines dropped,
 * backslash-continued lines joined. No variable substitution (the checked lines use none).
 */
export function parseDockerfile(text: string): DockerInstruction[] {
  const instructions: DockerInstruction[] = [];
  let pending = "";
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (pending === "" && (trimmed === "" || trimmed.startsWith("#"))) continue;
    if (trimmed.endsWith("\\")) {
      pending += `${trimmed.slice(0, -1).trim()} `;
      continue;
    }
    const whole = (pending + trimmed).trim();
    pending = "";
    const space = whole.search(/\s/);
    instructions.push({ keyword: whole.slice(0, space).toUpperCase(), rest: whole.slice(space + 1).trim() });
  }
  return instructions;
}

/** The arguments of an exec-form (JSON array) instruction such as `CMD ["serve", "--config", ...]`. */
export function execForm(rest: string): string[] {
  const parsed: unknown = JSON.parse(rest);
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === "string")) throw new Error(`not an exec form: ${rest}`);
  return parsed;
}

/** The one instruction with this keyword in the final stage (the image that runs). */
export function finalStageInstruction(instructions: readonly DockerInstruction[], keyword: string): DockerInstruction {
  const lastFrom = instructions.map((instruction) => instruction.keyword).lastIndexOf("FROM");
  const found = instructions.slice(lastFrom).filter((instruction) => instruction.keyword === keyword);
  if (found.length !== 1) throw new Error(`expected one ${keyword} in the Dockerfile's final stage, found ${found.length}`);
  return found[0];
}

/** The value after `flag` in an argument list (`--config FILE`). */
export function flagValue(args: readonly string[], flag: string): string {
  const at = args.indexOf(flag);
  if (at < 0 || at + 1 >= args.length) throw new Error(`no ${flag} VALUE in ${JSON.stringify(args)}`);
  return args[at + 1];
}

/** A Kubernetes object as far as these tests read it. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

/** A YAML file under deploy/kubernetes/ with its parsed documents. */
export interface ManifestFile {
  /** Relative to deploy/kubernetes/. */
  readonly path: string;
  readonly documents: readonly unknown[];
  readonly errors: readonly string[];
}

/** Every .yaml/.yml file under deploy/kubernetes/, parsed (errors kept for the test to report). */
export function readManifestFiles(): ManifestFile[] {
  return readdirSync(KUBERNETES_DIR, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort()
    .map((file) => {
      const documents = parseAllDocuments(readFileSync(file, "utf8"));
      if (!Array.isArray(documents)) throw new Error(`${file}: empty stream`);
      return {
        path: relative(KUBERNETES_DIR, file),
        documents: documents.map((document) => document.toJS() as unknown),
        errors: documents.flatMap((document) => [...document.errors, ...document.warnings].map((error) => error.message)),
      };
    });
}

/** The one object of this kind and name among the files. */
export function findObject<T extends KubeObject>(files: readonly ManifestFile[], kind: string, name: string): T {
  const found = files.flatMap((file) => file.documents).filter((document): document is T => isKubeObject(document) && document.kind === kind && document.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name} under deploy/kubernetes, found ${found.length}`);
  return found[0];
}

export function isKubeObject(document: unknown): document is KubeObject {
  if (typeof document !== "object" || document === null) return false;
  const object = document as Partial<KubeObject>;
  return typeof object.apiVersion === "string" && typeof object.kind === "string" && typeof object.metadata?.name === "string";
}

/** A Kubernetes CPU quantity ("500m", "1", "1.5") in millicores. */
export function cpuMillis(value: string | number): number {
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(String(value));
  if (match === null) throw new Error(`unsupported CPU quantity ${value}`);
  return match[2] === "m" ? Number(match[1]) : Number(match[1]) * 1000;
}

/** A Kubernetes memory quantity ("256Mi", "1Gi", "1000000") in bytes. */
export function memoryBytes(value: string | number): number {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(String(value));
  if (match === null) throw new Error(`unsupported memory quantity ${value}`);
  const scale: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
  return Number(match[1]) * (match[2] === undefined ? 1 : scale[match[2]]);
}
