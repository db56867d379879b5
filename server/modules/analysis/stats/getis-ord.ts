// Local Getis-Ord Gi and Gi* (Getis & Ord 1992; Ord & Getis 1995, Geographical Analysis 27,
// 286–306), as standard normal deviates for general (binary or row-standardised) weights.

import { benjaminiHochberg } from './fdr';
import { twoSidedP } from './normal';
import { rowMoments, spatialLag, type SpatialWeights } from './weights';

/** ArcGIS Gi_Bin: ±3, ±2, ±1 for hot (+) / cold (−) spots at 99, 95 and 90 % confidence; 0 otherwise. */
export type ConfidenceBin = -3 | -2 | -1 | 0 | 1 | 2 | 3;

/**
 * ArcGIS-style confidence bin from a z-score and its (two-sided) p-value: |bin| = 3 for
 * p ≤ 0.01, 2 for p ≤ 0.05, 1 for p ≤ 0.10, with the sign of z. Pass an FDR-adjusted p to get
 * ArcGIS's FDR-corrected bins. Null inputs give 0 (not significant).
 */
export function confidenceBin(z: number | null, p: number | null): ConfidenceBin {
  if (z === null || p === null || z === 0) return 0;
  const level = p <= 0.01 ? 3 : p <= 0.05 ? 2 : p <= 0.1 ? 1 : 0;
  if (level === 0) return 0; // never -0
  return (z > 0 ? level : -level) as ConfidenceBin;
}

export interface GetisOrdOptions {
  /** Bin on Benjamini–Hochberg adjusted p-values instead of raw ones (ArcGIS "FDR correction"). */
  readonly fdr?: boolean;
}

export interface GetisOrdResult {
  /** True for Gi* (weights include i itself), false for Gi. */
  readonly star: boolean;
  /** The ratio statistic G_i = Σ_j w_ij x_j / Σ_j x_j (sums over j ≠ i for Gi). */
  readonly g: (number | null)[];
  /** Standardised G_i: the "Gi z-score" of ArcGIS, spdep `localG`, esda `G_Local.Zs`. */
  readonly z: (number | null)[];
  /** Two-sided normal p-value of z. */
  readonly p: (number | null)[];
  /** Benjamini–Hochberg adjusted p (over all non-null units). */
  readonly pFdr: (number | null)[];
  /** Confidence bin from `p`, or from `pFdr` when `options.fdr`. */
  readonly bin: ConfidenceBin[];
}

/**
 * Local Getis-Ord statistic; Gi* when the weights include self (`spatialWeights(nb, {
 * includeSelf: true })`), Gi otherwise, as spdep `localG` decides by `include.self`.
 *
 * With W_i = Σ_j w_ij and S1_i = Σ_j w_ij² (Ord & Getis 1995, eqs. 8–9 and 14–15):
 *
 * - Gi*: z_i = (Σ_j w_ij x_j − W_i x̄) / ( s · √[(n S1_i − W_i²) / (n − 1)] ), with
 *   x̄ and s² = Σ_j (x_j − x̄)² / n over all n values.
 * - Gi:  the same with every sum taken over the n − 1 values j ≠ i: x̄_(i), s²_(i) (divisor
 *   n − 1) and √[((n − 1) S1_i − W_i²) / (n − 2)].
 *
 * This is the general-weights form used by spdep `localG` and ArcGIS; for binary weights it
 * equals esda `G_Local` (esda's row-standardised variance differs: it substitutes W_i for S1_i).
 * The z-score is invariant to rescaling a row of weights, so 'B' and 'R' give the same z.
 *
 * Islands (no neighbour other than i), constant data and n too small give null, never NaN.
 * Leave-one-out moments use SS_(i) = SS − (x_i − x̄)² · n / (n − 1) on centred values, which
 * avoids the cancellation of Σx² − n x̄² on large counts.
 */
export function getisOrd(x: ArrayLike<number>, w: SpatialWeights, options: GetisOrdOptions = {}): GetisOrdResult {
  const n = w.n;
  if (x.length !== n) throw new RangeError(`x has ${x.length} values for ${n} units`);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    if (!Number.isFinite(v)) throw new RangeError(`x[${i}] is not a finite number`);
    total += v;
  }
  const mean = total / n;
  const centred = new Float64Array(n);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    centred[i] = x[i]! - mean;
    ss += centred[i]! * centred[i]!;
  }
  const star = w.selfIncluded;
  const { sum: wSum, sumSq: wSumSq } = rowMoments(w);
  const lagCentred = spatialLag(w, centred);
  const isIsland = new Uint8Array(n);
  for (const i of w.islands) isIsland[i] = 1;

  const g: (number | null)[] = new Array<number | null>(n).fill(null);
  const z: (number | null)[] = new Array<number | null>(n).fill(null);
  for (let i = 0; i < n; i++) {
    if (isIsland[i]) continue;
    const wi = wSum[i]!;
    const s1 = wSumSq[i]!;
    let numerator: number;
    let variance: number;
    let denominatorTotal: number;
    if (star) {
      // Σ_j w_ij (x_j − x̄) = Σ_j w_ij x_j − W_i x̄
      numerator = lagCentred[i]!;
      variance = n > 1 ? (ss / n) * ((n * s1 - wi * wi) / (n - 1)) : Number.NaN;
      denominatorTotal = total;
    } else {
      const m = n - 1;
      // x̄_(i) − x̄ = (x̄ − x_i) / (n − 1); Σ_j w_ij (x_j − x̄_(i)) = lag − W_i (x̄_(i) − x̄)
      const meanShift = -centred[i]! / m;
      numerator = lagCentred[i]! - wi * meanShift;
      const ssLoo = ss - (centred[i]! * centred[i]! * n) / m;
      variance = n > 2 ? (Math.max(ssLoo, 0) / m) * ((m * s1 - wi * wi) / (n - 2)) : Number.NaN;
      denominatorTotal = total - x[i]!;
    }
    // Σ_j w_ij x_j = Σ_j w_ij (x_j − x̄) + W_i x̄ (j ranges over i itself only for Gi*)
    g[i] = denominatorTotal !== 0 ? (lagCentred[i]! + wi * mean) / denominatorTotal : null;
    if (variance > 0 && Number.isFinite(variance)) z[i] = numerator / Math.sqrt(variance);
  }
  const p = z.map((v) => (v === null ? null : twoSidedP(v)));
  const pFdr = benjaminiHochberg(p);
  const binP = options.fdr ? pFdr : p;
  const bin = z.map((v, i) => confidenceBin(v, binP[i] ?? null));
  return { star, g, z, p, pFdr, bin };
}
