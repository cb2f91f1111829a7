import picomatch from "picomatch";

/** `--include` / `--exclude` patterns (CLI and protogate.yaml), as the user wrote them. */
export interface SelectionPatterns {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/** Names of one RPC, as selection patterns see it. */
export interface MethodNames {
  /** Import path of its proto file: `google/pubsub/v1/pubsub.proto`. */
  readonly file: string;
  /** `google.pubsub.v1` (empty without a package). */
  readonly package: string;
  /** `google.pubsub.v1.Publisher`. */
  readonly service: string;
  /** `google.pubsub.v1.Publisher.CreateTopic`. */
  readonly method: string;
}

/** Which RPCs get routes: `selects` is true unless an exclude matches or includes exist and none matches. */
export interface Selection {
  selects(names: MethodNames): boolean;
  /**
   * Whether an exclude matches: for routes the generator adds by itself (long-running operations),
   * which an `--include` of the API must not drop but an `--exclude` may.
   */
  excludes(names: MethodNames): boolean;
  /** The patterns that matched no file, package, service or method so far (`--exclude x.Y`), in the order given. */
  unmatched(): string[];
}

export const EMPTY_PATTERNS: SelectionPatterns = { include: [], exclude: [] };

interface CompiledPattern {
  readonly flag: "--include" | "--exclude";
  readonly text: string;
  readonly matches: (names: MethodNames) => boolean;
  used: boolean;
}

/**
 * A pattern with a `/` or ending in `.proto` is a file pattern, matched against import paths
 * (`google/cloud/**\/*.proto`); any other is a name pattern, matched against the package, the
 * service and the method's full names, with `*` standing for one dotted part and `**` for any
 * number (`google.cloud.*.v1.**`, `**.ReadRows`). Globs are picomatch's, on names with `.` turned
 * into `/`, so both kinds share one glob dialect.
 */
export function createSelection(patterns: SelectionPatterns): Selection {
  const compile = (flag: CompiledPattern["flag"]) => (text: string): CompiledPattern => ({ flag, text, matches: compilePattern(text), used: false });
  const include = patterns.include.map(compile("--include"));
  const exclude = patterns.exclude.map(compile("--exclude"));
  // Every pattern is tried (no short-circuit), so `unmatched` is exact.
  const any = (list: CompiledPattern[], names: MethodNames): boolean => {
    let hit = false;
    for (const pattern of list) {
      if (pattern.matches(names)) {
        pattern.used = true;
        hit = true;
      }
    }
    return hit;
  };
  return {
    selects(names) {
      const included = any(include, names) || include.length === 0;
      const excluded = any(exclude, names);
      return included && !excluded;
    },
    excludes: (names) => any(exclude, names),
    unmatched: () => [...include, ...exclude].filter((p) => !p.used).map((p) => `${p.flag} ${p.text}`),
  };
}

/** Whether a pattern names files (import paths) rather than packages, services or methods. */
export function isFilePattern(pattern: string): boolean {
  return pattern.includes("/") || pattern.endsWith(".proto");
}

function compilePattern(text: string): (names: MethodNames) => boolean {
  if (isFilePattern(text)) {
    const matcher = picomatch(text.replace(/^\.\//, ""), { dot: true });
    return (names) => matcher(names.file);
  }
  const matcher = picomatch(toSlashes(text.replace(/^\./, "")), { dot: true });
  return (names) => (names.package !== "" && matcher(toSlashes(names.package))) || matcher(toSlashes(names.service)) || matcher(toSlashes(names.method));
}

function toSlashes(name: string): string {
  return name.split(".").join("/");
}

/** The patterns as one plugin parameter value (base64url JSON: no commas, which separate parameters). */
export function encodePatterns(patterns: SelectionPatterns): string {
  return Buffer.from(JSON.stringify({ include: patterns.include, exclude: patterns.exclude }), "utf8").toString("base64url");
}

/** The inverse of `encodePatterns`; throws on anything else. */
export function decodePatterns(value: string): SelectionPatterns {
  const parsed: unknown = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
  const list = (key: "include" | "exclude"): string[] => {
    const raw = (parsed as Record<string, unknown> | null)?.[key];
    if (!Array.isArray(raw) || !raw.every((p): p is string => typeof p === "string")) throw new Error(`selection parameter: "${key}" is not a list of strings`);
    return raw;
  };
  return { include: list("include"), exclude: list("exclude") };
}
