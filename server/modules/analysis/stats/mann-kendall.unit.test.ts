import { describe, expect, it } from 'vitest';
import { mannKendall } from './mann-kendall';

describe('mannKendall', () => {
  it('strictly increasing 1..5 (hand computed)', () => {
    // S = C(5,2) = 10; Var = 5·4·15/18 = 50/3; z = (10 − 1)/√(50/3) = 2.2045407685048604;
    // p = erfc(z/√2) = 0.027486336111510353 (R Kendall::MannKendall(1:5) prints 2-sided p 0.027486).
    const r = mannKendall([1, 2, 3, 4, 5])!;
    expect(r.s).toBe(10);
    expect(r.variance).toBeCloseTo(50 / 3, 13);
    expect(r.z).toBeCloseTo(2.2045407685048604, 13);
    expect(r.p).toBeCloseTo(0.027486336111510353, 14);
  });

  it('applies the tie correction (hand computed)', () => {
    // [1, 2, 2, 3]: signs of the 6 pairs are +, +, +, 0, +, + → S = 5. One tie group t = 2:
    // Var = (4·3·13 − 2·1·9)/18 = 138/18 = 23/3; z = (5 − 1)/√(23/3) = 1.4446302370292303, p = 0.1485617748918687.
    const r = mannKendall([1, 2, 2, 3])!;
    expect(r.s).toBe(5);
    expect(r.variance).toBeCloseTo(23 / 3, 13);
    expect(r.z).toBeCloseTo(1.4446302370292303, 13);
    expect(r.p).toBeCloseTo(0.1485617748918687, 13);
  });

  it('is antisymmetric for a decreasing series and skips missing steps', () => {
    const down = mannKendall([5, 4, null, 3, 2, 1])!;
    expect(down.n).toBe(5);
    expect(down.s).toBe(-10);
    expect(down.z).toBeCloseTo(-2.2045407685048604, 13);
  });

  it('gives z = 0, p = 1 for ties only, and null below 3 observations', () => {
    expect(mannKendall([1, 1, 1, 1])).toMatchObject({ s: 0, variance: 0, z: 0, p: 1 });
    expect(mannKendall([1, 2])).toBeNull();
    expect(mannKendall([1, null, null])).toBeNull();
  });
});
