/** Small statistics over latency samples; nearest-rank percentiles, as load tools report them. */

export function percentile(values: number[], p: number): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Median of the finite values (a run with no completed request has NaN CPU per request). */
export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  const a = sorted[mid] ?? Number.NaN;
  const b = sorted[mid - 1] ?? a;
  return sorted.length % 2 ? a : (a + b) / 2;
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Compare two semver versions (numbers, then prerelease: none sorts after any). */
export function compareVersions(a: string, b: string): number {
  const [ca = "", pa] = a.split(/-(.*)/s);
  const [cb = "", pb] = b.split(/-(.*)/s);
  const na = ca.split(".").map(Number);
  const nb = cb.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (na[i] ?? 0) - (nb[i] ?? 0);
    if (d !== 0) return d;
  }
  if (pa === pb) return 0;
  if (pa === undefined) return 1;
  if (pb === undefined) return -1;
  return pa < pb ? -1 : 1;
}
