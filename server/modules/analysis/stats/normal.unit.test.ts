import { describe, expect, it } from 'vitest';
import { normalCdf, normalSf, twoSidedP } from './normal';

// Reference values: 0.5·erfc(−x/√2) from glibc's erfc via Python's math.erfc (an independent
// implementation); they agree with R's pnorm to the digits R prints (e.g. pnorm(-1.96) =
// 0.0249979, pnorm(-5) = 2.866516e-07, pnorm(-10) = 7.619853e-24). The reference itself carries
// the rounding of x/√2, amplified by ~x² in the tail, hence the looser bound far out.
const lowerTail: ReadonlyArray<readonly [number, number, number]> = [
  [-1.96, 0.024997895148220435, 1e-14],
  [-3, 0.0013498980316300957, 1e-14],
  [-0.7, 0.24196365222307306, 1e-14],
  [-0.66, 0.25462691467133614, 1e-14],
  [0.3, 0.6179114221889526, 1e-15],
  [0.5, 0.6914624612740131, 1e-15],
  [1, 0.8413447460685429, 1e-15],
  [-5, 2.866515718791946e-7, 1e-14],
  [-8, 6.220960574271819e-16, 1e-13],
  [-10, 7.619853024160593e-24, 1e-13],
  [-20, 2.7536241186063314e-89, 1e-12],
  [-37, 5.725571222525139e-300, 1e-12],
];

describe('normalCdf / normalSf', () => {
  it.each(lowerTail)('Φ(%d) matches the reference to relative %d', (x, expected, rel) => {
    expect(Math.abs(normalCdf(x) - expected) / expected).toBeLessThan(rel);
    // The upper tail at −x is the same probability, computed without cancellation.
    expect(Math.abs(normalSf(-x) - expected) / expected).toBeLessThan(rel);
  });

  it('keeps small upper tails (where 1 − Φ would cancel)', () => {
    expect(Math.abs(normalSf(5.6) - 1.0717590258310968e-8) / 1.0717590258310968e-8).toBeLessThan(1e-14);
    expect(Math.abs(normalSf(8) - 6.220960574271819e-16) / 6.220960574271819e-16).toBeLessThan(1e-13);
  });

  it('is symmetric and bounded', () => {
    expect(normalCdf(0)).toBe(0.5);
    for (const x of [0.1, 0.66291, 0.7, 2.5, 5.65, 5.66, 12]) expect(normalCdf(x) + normalCdf(-x)).toBeCloseTo(1, 15);
    expect(normalCdf(-40)).toBe(0);
    expect(normalCdf(40)).toBe(1);
    expect(Number.isNaN(normalCdf(Number.NaN))).toBe(true);
  });

  it('gives two-sided p-values', () => {
    // 2·(1 − Φ(1.959963984540054)) = 0.05 (qnorm(0.975) = 1.959963984540054)
    expect(twoSidedP(1.959963984540054)).toBeCloseTo(0.05, 14);
    expect(twoSidedP(-1.959963984540054)).toBeCloseTo(0.05, 14);
    expect(twoSidedP(0)).toBe(1);
  });
});
