/**
 * The JSON number for a float32 field: the shortest decimal that reads back as the same float32
 * (0.1f prints as 0.1, not 0.10000000149011612). Non-finite values are the caller's business.
 */
export function shortestFloat32(value: number): number {
  const f = Math.fround(value);
  if (f === 0 || !Number.isFinite(f)) return f;
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return Number(f.toPrecision(9));
}
