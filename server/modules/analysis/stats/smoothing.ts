// Rate smoothing for risk adjustment: raw rates e_i / b_i of units with small populations b_i are
// unstable (one event among 20 residents is a "rate" of 50 per 1,000), so hot-spot statistics on raw
// rates chase the smallest units, while statistics on counts chase the most populous ones.

/**
 * Global (a-spatial) Empirical Bayes smoothed rates (Marshall 1991, "Mapping disease and mortality
 * rates using empirical Bayes estimators", Applied Statistics 40, 283–294), as PySAL esda
 * `Empirical_Bayes` and GeoDa's "EB rate" compute them:
 *
 *   m = Σe / Σb,  s² = Σ b_i (r_i − m)² / Σb,  v = s² − m / b̄  (b̄ the mean population, v ≥ 0),
 *   w_i = v / (v + m / b_i),  EB_i = m + w_i (r_i − m).
 *
 * A unit with a large population keeps (nearly) its own rate; a small one is pulled towards m.
 * When v ≤ 0 (no more variation than Poisson noise) every rate becomes m (esda leaves a negative v
 * in, which can make w_i negative; Marshall sets it to 0, as done here).
 *
 * Units with b_i ≤ 0 have no rate: they get null and are left out of m, s² and b̄.
 */
export function empiricalBayesRates(events: ArrayLike<number>, population: ArrayLike<number>): (number | null)[] {
  const n = events.length;
  if (population.length !== n) throw new RangeError('events and population must have the same length');
  let eSum = 0;
  let bSum = 0;
  let units = 0;
  for (let i = 0; i < n; i++) {
    const b = population[i]!;
    if (!(b > 0)) continue;
    eSum += events[i]!;
    bSum += b;
    units++;
  }
  if (units === 0) return Array.from({ length: n }, () => null);
  const m = eSum / bSum;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const b = population[i]!;
    if (!(b > 0)) continue;
    const d = events[i]! / b - m;
    ss += b * d * d;
  }
  const v = Math.max(ss / bSum - m / (bSum / units), 0);
  return Array.from({ length: n }, (_, i) => {
    const b = population[i]!;
    if (!(b > 0)) return null;
    const r = events[i]! / b;
    const denominator = v + m / b;
    const w = denominator > 0 ? v / denominator : 0;
    return m + w * (r - m);
  });
}
