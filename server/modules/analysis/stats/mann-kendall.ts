// Mann–Kendall test for a monotonic trend in a time series (Mann 1945; Kendall 1975), the
// trend test ArcGIS Emerging Hot Spot Analysis applies to each location's Gi* z-scores.

import { twoSidedP } from './normal';

export interface MannKendallResult {
  /** Number of (non-null) observations used. */
  readonly n: number;
  /** S = Σ_{i<j} sign(x_j − x_i). */
  readonly s: number;
  /** Var(S) under H0 with the tie correction. */
  readonly variance: number;
  /** Continuity-corrected standard deviate: (S − 1)/σ for S > 0, (S + 1)/σ for S < 0, 0 for S = 0. */
  readonly z: number;
  /** Two-sided normal p-value of z. */
  readonly p: number;
}

/**
 * Mann–Kendall trend test with the normal approximation:
 *
 * Var(S) = [n(n − 1)(2n + 5) − Σ_g t_g(t_g − 1)(2t_g + 5)] / 18, over groups g of t_g tied
 * values (Kendall 1975; Hirsch, Slack & Smith 1982). The series is in time order; null entries
 * (missing time steps) are skipped. Returns null for fewer than 3 observations, where the
 * normal approximation means nothing. A series of ties only (Var = 0) gives z = 0, p = 1.
 *
 * O(n²) in the series length, which is the number of time steps (small).
 */
export function mannKendall(series: ReadonlyArray<number | null>): MannKendallResult | null {
  const x = series.filter((v): v is number => v !== null);
  if (x.some((v) => !Number.isFinite(v))) throw new RangeError('series values must be finite or null');
  const n = x.length;
  if (n < 3) return null;
  let s = 0;
  for (let i = 0; i < n - 1; i++) {
    for (let j = i + 1; j < n; j++) s += Math.sign(x[j]! - x[i]!);
  }
  const sorted = [...x].sort((a, b) => a - b);
  let ties = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && sorted[end] === sorted[start]) end++;
    const t = end - start;
    ties += t * (t - 1) * (2 * t + 5);
    start = end;
  }
  const variance = (n * (n - 1) * (2 * n + 5) - ties) / 18;
  if (!(variance > 0)) return { n, s, variance, z: 0, p: 1 };
  const z = s > 0 ? (s - 1) / Math.sqrt(variance) : s < 0 ? (s + 1) / Math.sqrt(variance) : 0;
  return { n, s, variance, z, p: twoSidedP(z) };
}
