/** What the codegen benchmark measured for one API. */
export interface CodegenCase {
  readonly name: string;
  /** Wall time of the whole `protogate generate` (buf and the plugins included). */
  readonly generateSeconds: number;
  /** Peak RSS of generate and its children together; undefined where /proc is missing. */
  readonly generatePeakBytes: number | undefined;
  /** `serve` with an empty $TMPDIR, from spawn to the first answered request. */
  readonly coldServeSeconds: number;
  /** CPU seconds (user + system) the cold serve and its children used until then: not inflated by a busy machine. */
  readonly coldServeCpuSeconds: number | undefined;
  /** The same with the $TMPDIR of a previous start (tsx's compile cache of protogate's own src warm). */
  readonly warmServeSeconds: number;
}

/** The targets of issue 11, for the largest API (Compute v1). */
export const CODEGEN_TARGETS = { generateSeconds: 60, generatePeakBytes: 1024 * 1024 * 1024, coldServeSeconds: 3 } as const;

export interface CodegenVerdict {
  readonly metric: string;
  readonly value: number | undefined;
  readonly limit: number;
  readonly unit: string;
  /** undefined when the value could not be measured. */
  readonly met: boolean | undefined;
}

/** The measured case against each target. */
export function judgeCodegen(measured: CodegenCase): CodegenVerdict[] {
  const mb = (bytes: number | undefined) => (bytes === undefined ? undefined : bytes / (1024 * 1024));
  const verdict = (metric: string, value: number | undefined, limit: number, unit: string): CodegenVerdict => ({ metric, value, limit, unit, met: value === undefined ? undefined : value <= limit });
  return [
    verdict("generate wall time", measured.generateSeconds, CODEGEN_TARGETS.generateSeconds, "s"),
    verdict("generate peak memory (process tree)", mb(measured.generatePeakBytes), mb(CODEGEN_TARGETS.generatePeakBytes) ?? 0, "MB"),
    verdict("cold serve start to first answer", measured.coldServeSeconds, CODEGEN_TARGETS.coldServeSeconds, "s"),
  ];
}

/** A table of every case, the largest against the baseline (the first case), and the verdicts. */
export function formatCodegen(cases: readonly CodegenCase[], target: CodegenCase): string {
  const mb = (bytes: number | undefined) => (bytes === undefined ? "n/a" : `${(bytes / (1024 * 1024)).toFixed(0)} MB`);
  const lines = [
    "codegen (generate and serve start; serve runs with an empty $TMPDIR, warm = tsx cache of protogate's src kept)",
    `  ${"api".padEnd(14)} ${"generate".padStart(9)} ${"peak mem".padStart(9)} ${"cold serve".padStart(11)} ${"(its CPU)".padStart(10)} ${"warm serve".padStart(11)}`,
    ...cases.map(
      (c) =>
        `  ${c.name.padEnd(14)} ${`${c.generateSeconds.toFixed(1)} s`.padStart(9)} ${mb(c.generatePeakBytes).padStart(9)} ${`${c.coldServeSeconds.toFixed(2)} s`.padStart(11)} ${(c.coldServeCpuSeconds === undefined ? "n/a" : `${c.coldServeCpuSeconds.toFixed(2)} s`).padStart(10)} ${`${c.warmServeSeconds.toFixed(2)} s`.padStart(11)}`,
    ),
  ];
  const baseline = cases[0];
  if (baseline !== undefined && baseline !== target) {
    const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? "n/a" : `${(a / b).toFixed(1)}x`);
    lines.push(
      `  ${target.name} / ${baseline.name}: generate ${ratio(target.generateSeconds, baseline.generateSeconds)}, peak memory ${ratio(target.generatePeakBytes, baseline.generatePeakBytes)}, cold serve ${ratio(target.coldServeSeconds, baseline.coldServeSeconds)}`,
    );
  }
  for (const v of judgeCodegen(target)) {
    const shown = v.value === undefined ? "n/a" : `${v.value.toFixed(v.unit === "MB" ? 0 : 2)} ${v.unit}`;
    const mark = v.met === undefined ? "NOT MEASURED" : v.met ? "ok" : "MISSED";
    lines.push(`  ${target.name} ${v.metric}: ${shown} (target <= ${v.limit} ${v.unit}) ${mark}`);
  }
  return lines.join("\n");
}
