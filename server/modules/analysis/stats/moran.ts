// Global Moran's I (Moran 1950; moments of Cliff & Ord 1981) and local Moran's I (Anselin
// 1995) with the conditional-randomisation moments of Sokal, Oden & Thomson (1998), matching
// R spdep `moran.test` and `localmoran` (spdep ≥ 1.1-7 defaults).

import { twoSidedP } from './normal';
import { findLink, rowMoments, spatialLag, type SpatialWeights } from './weights';

function checkInput(x: ArrayLike<number>, w: SpatialWeights, what: string): void {
  if (x.length !== w.n) throw new RangeError(`x has ${x.length} values for ${w.n} units`);
  if (w.selfIncluded) throw new RangeError(`${what} needs weights without self-links (w_ii = 0)`);
  for (let i = 0; i < w.n; i++) if (!Number.isFinite(x[i]!)) throw new RangeError(`x[${i}] is not a finite number`);
}

function centre(x: ArrayLike<number>): { z: Float64Array; ss: number; ss4: number } {
  const n = x.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += x[i]!;
  const mean = total / n;
  const z = new Float64Array(n);
  let ss = 0;
  let ss4 = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - mean;
    z[i] = d;
    ss += d * d;
    ss4 += d * d * d * d;
  }
  return { z, ss, ss4 };
}

export interface GlobalMoranResult {
  /** Moran's I = (n / S0) · Σ_i z_i (Wz)_i / Σ_i z_i². */
  readonly i: number;
  /** E[I] = −1 / (n − 1). */
  readonly expected: number;
  /** Var[I] under the normality assumption. */
  readonly varianceNormal: number;
  /** Var[I] under randomisation (spdep `moran.test` default, esda `VI_rand`). */
  readonly varianceRandomisation: number;
  readonly zNormal: number | null;
  readonly zRandomisation: number | null;
  /** Two-sided p-values (spdep's default alternative is "greater": use `normalSf(z)` for it). */
  readonly pNormal: number | null;
  readonly pRandomisation: number | null;
  /** Units counted in n (islands excluded, as spdep `adjust.n = TRUE`). */
  readonly n: number;
}

/**
 * Global Moran's I with its analytical moments (Cliff & Ord 1981, pp. 21, 46):
 *
 * - S0 = Σ_ij w_ij, S1 = ½ Σ_ij (w_ij + w_ji)², S2 = Σ_i (w_i· + w_·i)²
 * - Var_N = (n² S1 − n S2 + 3 S0²) / (S0² (n² − 1)) − E[I]²
 * - Var_R = [n((n² − 3n + 3) S1 − n S2 + 3 S0²) − b2((n² − n) S1 − 2n S2 + 6 S0²)]
 *           / ((n − 1)(n − 2)(n − 3) S0²) − E[I]²,  b2 = n Σ z⁴ / (Σ z²)²
 *
 * As spdep `moran.test`, islands are dropped from n (`adjust.n`) but their values stay in the
 * mean and in Σ z². Undefined z-scores (zero variance) are null.
 */
export function globalMoran(x: ArrayLike<number>, w: SpatialWeights): GlobalMoranResult {
  checkInput(x, w, "Moran's I");
  const { z, ss, ss4 } = centre(x);
  const n = w.n - w.islands.length;
  const lag = spatialLag(w, z);
  let cross = 0;
  for (let i = 0; i < w.n; i++) cross += z[i]! * lag[i]!;
  const { sum: rowSum } = rowMoments(w);
  const colSum = new Float64Array(w.n);
  let s0 = 0;
  let s1Twice = 0;
  for (let i = 0; i < w.n; i++) {
    for (let k = w.offsets[i]!; k < w.offsets[i + 1]!; k++) {
      const j = w.indices[k]!;
      const wij = w.weights[k]!;
      s0 += wij;
      colSum[j] = colSum[j]! + wij;
      const back = findLink(w, j, i);
      // A pair linked both ways is visited from both ends; a one-way link only once, so it
      // adds the (i, j) and (j, i) terms of Σ_ij (w_ij + w_ji)² together.
      s1Twice += back >= 0 ? (wij + w.weights[back]!) ** 2 : 2 * wij * wij;
    }
  }
  const s1 = s1Twice / 2;
  let s2 = 0;
  for (let i = 0; i < w.n; i++) s2 += (rowSum[i]! + colSum[i]!) ** 2;
  const s02 = s0 * s0;
  const nn = n * n;
  const moranI = (n / s0) * (cross / ss);
  const expected = -1 / (n - 1);
  const varianceNormal = (nn * s1 - n * s2 + 3 * s02) / (s02 * (nn - 1)) - expected * expected;
  const b2 = (w.n * ss4) / (ss * ss);
  const varianceRandomisation =
    (n * (s1 * (nn - 3 * n + 3) - n * s2 + 3 * s02) - b2 * (s1 * (nn - n) - 2 * n * s2 + 6 * s02)) / ((n - 1) * (n - 2) * (n - 3) * s02) - expected * expected;
  const deviate = (v: number): number | null => (v > 0 && Number.isFinite(moranI) ? (moranI - expected) / Math.sqrt(v) : null);
  const zNormal = deviate(varianceNormal);
  const zRandomisation = deviate(varianceRandomisation);
  return {
    i: moranI,
    expected,
    varianceNormal,
    varianceRandomisation,
    zNormal,
    zRandomisation,
    pNormal: zNormal === null ? null : twoSidedP(zNormal),
    pRandomisation: zRandomisation === null ? null : twoSidedP(zRandomisation),
    n,
  };
}

/** Moran scatterplot quadrant: first letter the unit (z_i > 0 ⇒ H), second its spatial lag of z. */
export type MoranQuadrant = 'HH' | 'LL' | 'HL' | 'LH';

export interface LocalMoranOptions {
  /**
   * Scale I_i by m2 = Σ z² / n (true, spdep's default `mlvar = TRUE`) or by the sample
   * variance Σ z² / (n − 1). The moments always use m2, as in spdep.
   */
  readonly mlvar?: boolean;
}

export interface LocalMoranResult {
  /** I_i = (z_i / s²) Σ_j w_ij z_j (spdep `Ii`). */
  readonly ii: (number | null)[];
  /** E[I_i] (spdep `E.Ii`). */
  readonly expected: (number | null)[];
  /** Var[I_i] (spdep `Var.Ii`). */
  readonly variance: (number | null)[];
  /** (I_i − E[I_i]) / √Var[I_i] (spdep `Z.Ii`). */
  readonly z: (number | null)[];
  /** Two-sided normal p-value, spdep `Pr(z != E(Ii))`. */
  readonly p: (number | null)[];
  /** HH / LL (clusters), HL / LH (outliers), from the signs of z_i and (Wz)_i. */
  readonly quadrant: (MoranQuadrant | null)[];
}

/**
 * Local Moran's I (Anselin 1995, eq. 12 scaling) with moments under conditional randomisation
 * (x_i held fixed, the other n − 1 values permuted; Sokal et al. 1998, eqs. A7–A8), exactly as R
 * spdep `localmoran(x, listw)` with its defaults `conditional = TRUE`, `mlvar = TRUE`:
 *
 * - z_i = x_i − x̄, m2 = Σ_j z_j² / n, W_i = Σ_j w_ij, W_i(2) = Σ_j w_ij²
 * - I_i = (z_i / m2) Σ_j w_ij z_j
 * - E[I_i] = −z_i² W_i / ((n − 1) m2)
 * - Var[I_i] = (z_i / m2)² · n / (n − 2) · (W_i(2) − W_i² / (n − 1)) · (m2 − z_i² / (n − 1))
 *
 * This conditional variance replaced the total-randomisation form of Anselin (1995) in spdep
 * 1.1-7 (code by Sauer & Wolf; Sauer et al. 2021, Geographical Analysis). Islands, and units
 * with z_i = 0 (zero variance), give null z and p.
 */
export function localMoran(x: ArrayLike<number>, w: SpatialWeights, options: LocalMoranOptions = {}): LocalMoranResult {
  checkInput(x, w, "Local Moran's I");
  const n = w.n;
  const { z, ss } = centre(x);
  const m2 = ss / n;
  const scale = (options.mlvar ?? true) ? m2 : ss / (n - 1);
  const lag = spatialLag(w, z);
  const { sum: wSum, sumSq: wSumSq } = rowMoments(w);
  const isIsland = new Uint8Array(n);
  for (const i of w.islands) isIsland[i] = 1;
  const ii: (number | null)[] = new Array<number | null>(n).fill(null);
  const expected: (number | null)[] = new Array<number | null>(n).fill(null);
  const variance: (number | null)[] = new Array<number | null>(n).fill(null);
  const zScore: (number | null)[] = new Array<number | null>(n).fill(null);
  const quadrant: (MoranQuadrant | null)[] = new Array<MoranQuadrant | null>(n).fill(null);
  if (!(m2 > 0) || n < 3) return { ii, expected, variance, z: zScore, p: zScore.slice(), quadrant };
  for (let i = 0; i < n; i++) {
    if (isIsland[i]) continue;
    const zi = z[i]!;
    const wi = wSum[i]!;
    const zi2 = zi * zi;
    const value = (zi / scale) * lag[i]!;
    const e = -(zi2 * wi) / ((n - 1) * m2);
    const v = (zi / m2) ** 2 * (n / (n - 2)) * (wSumSq[i]! - (wi * wi) / (n - 1)) * (m2 - zi2 / (n - 1));
    ii[i] = value;
    expected[i] = e;
    variance[i] = v;
    if (v > 0) zScore[i] = (value - e) / Math.sqrt(v);
    // spdep's "pysal" quadrant: cut at 0, so a value exactly at the mean counts as Low.
    quadrant[i] = `${zi > 0 ? 'H' : 'L'}${lag[i]! > 0 ? 'H' : 'L'}` as MoranQuadrant;
  }
  const p = zScore.map((v) => (v === null ? null : twoSidedP(v)));
  return { ii, expected, variance, z: zScore, p, quadrant };
}
