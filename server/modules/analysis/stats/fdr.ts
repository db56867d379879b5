// False discovery rate control for the many simultaneous tests of a local statistic
// (one per cell), as ArcGIS Hot Spot Analysis' "Apply False Discovery Rate (FDR) Correction".

/**
 * Benjamini–Hochberg adjusted p-values (Benjamini & Hochberg 1995; R `p.adjust(p, "BH")`):
 * with the m non-null p-values sorted ascending, p̃_(k) = min_{j ≥ k} min(1, m · p_(j) / j).
 * Rejecting where p̃ ≤ α is the BH step-up procedure at FDR level α.
 *
 * Nulls (islands, undefined statistics) are passed through and not counted in m.
 */
export function benjaminiHochberg(p: ReadonlyArray<number | null>): (number | null)[] {
  const order: number[] = [];
  p.forEach((v, i) => {
    if (v !== null) {
      if (!(v >= 0 && v <= 1)) throw new RangeError(`p-value ${v} at ${i} is not in [0, 1]`);
      order.push(i);
    }
  });
  order.sort((a, b) => p[a]! - p[b]! || a - b);
  const m = order.length;
  const adjusted: (number | null)[] = p.map(() => null);
  let running = 1;
  for (let k = m - 1; k >= 0; k--) {
    const i = order[k]!;
    running = Math.min(running, (m * p[i]!) / (k + 1));
    adjusted[i] = running;
  }
  return adjusted;
}
