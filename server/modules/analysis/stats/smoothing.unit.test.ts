import { describe, expect, it } from 'vitest';
import { empiricalBayesRates } from './smoothing';

describe('empiricalBayesRates (Marshall 1991 global EB)', () => {
  it('reproduces PySAL’s published Empirical_Bayes example', () => {
    // PySAL user guide, "Spatial Smoothing" (esda smoothing module), Empirical Bayes smoothers:
    //   e = [10, 8, 1, 4, 3, 5, 4, 3, 2, 1, 5, 3], b = [100, 90, 15, 30, 25, 20, 30, 20, 80, 80, 90, 60]
    //   e, b = sm.sum_by_n(e, np.ones(12), 6), sm.sum_by_n(b, np.ones(12), 6)   # pairs summed
    //   sm.Empirical_Bayes(e, b).r
    //   → [0.09080775, 0.09252352, 0.12332267, 0.10753624, 0.03301368, 0.05934766]
    const e = [18, 5, 8, 7, 3, 8];
    const b = [190, 45, 45, 50, 160, 150];
    const expected = [0.09080775, 0.09252352, 0.12332267, 0.10753624, 0.03301368, 0.05934766];
    empiricalBayesRates(e, b).forEach((r, i) => expect(r).toBeCloseTo(expected[i]!, 8));
  });

  it('keeps large populations near their own rate and pulls small ones to the overall rate', () => {
    // Overall rate 110 / 10,020; the unit of 20 people with 10 events (500 per 1,000) is shrunk hard.
    const [big, small] = empiricalBayesRates([100, 10], [10_000, 20]);
    expect(big!).toBeCloseTo(0.01, 3);
    expect(small!).toBeLessThan(0.5);
    expect(small!).toBeGreaterThan(110 / 10_020);
  });

  it('gives null to units without population and the overall rate when variation is only noise', () => {
    expect(empiricalBayesRates([1, 2, 0], [100, 0, 100])).toEqual([0.005, null, 0.005]);
    expect(empiricalBayesRates([0, 0], [0, 0])).toEqual([null, null]);
  });
});
