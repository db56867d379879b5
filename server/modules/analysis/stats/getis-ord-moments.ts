// Expectation and variance of the Getis-Ord ratio statistic G_i itself (not only its z-score), for
// reporting "statistic, expectation, variance, z" per unit as spdep's `localG(…, return_internals)`
// and ArcGIS do.

import { rowMoments, type SpatialWeights } from './weights';

export interface GetisOrdMoments {
  /** E[G_i]: W_i / n for Gi*, W_i / (n − 1) for Gi. */
  readonly expectation: (number | null)[];
  /** Var[G_i] under the permutation hypothesis (Ord & Getis 1995, eqs. 9 and 15). */
  readonly variance: (number | null)[];
}

/**
 * Moments of G_i = Σ_j w_ij x_j / Σ_j x_j (sums over j ≠ i for Gi), consistent with
 * {@link getisOrd}: z_i = (G_i − E[G_i]) / √Var[G_i] whenever both are defined.
 *
 * - Gi*: E = W_i / n, Var = s² (n S1_i − W_i²) / (n − 1) / (n x̄)², s² = Σ (x − x̄)² / n
 * - Gi:  E = W_i / (n − 1), Var = s_(i)² ((n − 1) S1_i − W_i²) / (n − 2) / ((n − 1) x̄_(i))²
 *
 * Islands and a zero denominator (Σ x = 0) give null.
 */
export function getisOrdMoments(x: ArrayLike<number>, w: SpatialWeights): GetisOrdMoments {
  const n = w.n;
  let total = 0;
  for (let i = 0; i < n; i++) total += x[i]!;
  const mean = total / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (x[i]! - mean) ** 2;
  const { sum, sumSq } = rowMoments(w);
  const island = new Uint8Array(n);
  for (const i of w.islands) island[i] = 1;
  const expectation: (number | null)[] = new Array<number | null>(n).fill(null);
  const variance: (number | null)[] = new Array<number | null>(n).fill(null);
  for (let i = 0; i < n; i++) {
    if (island[i]) continue;
    const wi = sum[i]!;
    const s1 = sumSq[i]!;
    if (w.selfIncluded) {
      if (total === 0 || n < 2) continue;
      expectation[i] = wi / n;
      variance[i] = ((ss / n) * ((n * s1 - wi * wi) / (n - 1))) / (total * total);
    } else {
      const m = n - 1;
      const rest = total - x[i]!;
      if (rest === 0 || n < 3) continue;
      const d = x[i]! - mean;
      const ssLoo = Math.max(ss - (d * d * n) / m, 0);
      expectation[i] = wi / m;
      variance[i] = ((ssLoo / m) * ((m * s1 - wi * wi) / (n - 2))) / (rest * rest);
    }
  }
  return { expectation, variance };
}
