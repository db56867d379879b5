import { describe, expect, it } from 'vitest';
import { classifyEmergingHotSpot, classifyEmergingHotSpots, type EmergingPattern, type EmergingSlice } from './emerging';
import type { ConfidenceBin, GetisOrdResult } from './getis-ord';

/** Slices from bins, with z = bin (enough for the pattern rules) unless z is given. */
function series(bins: readonly ConfidenceBin[], z?: readonly number[]): EmergingSlice[] {
  return bins.map((bin, t) => ({ bin, z: z?.[t] ?? bin }));
}

const negate = (bins: readonly ConfidenceBin[]): ConfidenceBin[] => bins.map((b) => (b === 0 ? 0 : -b) as ConfidenceBin);

// Hand-built 10-step series, one per ArcGIS pattern ("How Emerging Hot Spot Analysis works",
// ArcGIS Pro Space Time Pattern Mining documentation). z-scores rise/fall monotonically where a
// trend is wanted (Mann–Kendall S = ±45, p ≈ 1e-4) and zig-zag where none is.
const rising = [2.0, 2.2, 2.4, 2.6, 2.8, 3.0, 3.2, 3.4, 3.6, 3.8];
const falling = [...rising].reverse();
const flat = [2.5, 2.1, 2.6, 2.0, 2.4, 2.2, 2.7, 2.3, 2.5, 2.4];
const hotCases: ReadonlyArray<readonly [string, ConfidenceBin[], number[] | undefined]> = [
  // final step hot, never significant before
  ['new', [0, 0, 0, 0, 0, 0, 0, 0, 0, 2], undefined],
  // single final run of ≥ 2 hot steps, nothing significant before it, < 90 % hot
  ['consecutive', [0, 0, 0, 0, 0, 0, 0, 1, 3, 2], undefined],
  // ≥ 90 % hot including the final step, significant upward trend
  ['intensifying', [2, 2, 2, 2, 2, 3, 3, 3, 3, 3], rising],
  // ≥ 90 % hot, no significant trend
  ['persistent', [2, 2, 2, 2, 2, 2, 2, 2, 2, 2], flat],
  // ≥ 90 % hot including the final step, significant downward trend
  ['diminishing', [3, 3, 3, 3, 3, 2, 2, 2, 2, 2], falling],
  // final step hot, on-and-off before, < 90 % hot, never cold
  ['sporadic', [2, 0, 0, 2, 0, 2, 0, 0, 2, 2], undefined],
  // final step hot, cold at some earlier step, < 90 % hot
  ['oscillating', [-2, 0, 0, 2, 0, -1, 0, 0, 0, 2], undefined],
  // not hot at the final step, but hot in ≥ 90 % of steps
  ['historical', [2, 2, 2, 2, 2, 2, 2, 2, 2, 0], undefined],
];

describe('classifyEmergingHotSpot', () => {
  it.each(hotCases)('%s hot spot', (name, bins, z) => {
    expect(classifyEmergingHotSpot(series(bins, z)).pattern).toBe(`${name}_hot_spot` as EmergingPattern);
  });

  it.each(hotCases)('%s cold spot (mirror image: negated bins and z)', (name, bins, z) => {
    const zCold = (z ?? bins).map((v) => -v);
    expect(classifyEmergingHotSpot(series(negate(bins), zCold)).pattern).toBe(`${name}_cold_spot` as EmergingPattern);
  });

  it('checks the trends the cases rely on', () => {
    expect(classifyEmergingHotSpot(series([2, 2, 2, 2, 2, 3, 3, 3, 3, 3], rising)).trend).toMatchObject({ s: 45 });
    expect(classifyEmergingHotSpot(series([2, 2, 2, 2, 2, 2, 2, 2, 2, 2], flat)).trend!.p).toBeGreaterThan(0.05);
  });

  it('no pattern when the final step is not significant and < 90 % were', () => {
    expect(classifyEmergingHotSpot(series([0, 2, 2, 0, 0, 0, 0, 0, 0, 0])).pattern).toBe('no_pattern');
    expect(classifyEmergingHotSpot(series([])).pattern).toBe('no_pattern');
  });

  it('counts 90 % with the boundary included: 9 of 10 hot steps with the final one is not "consecutive"', () => {
    expect(classifyEmergingHotSpot(series([0, 2, 2, 2, 2, 2, 2, 2, 2, 2], flat)).pattern).toBe('persistent_hot_spot');
    expect(classifyEmergingHotSpot(series([0, 0, 2, 2, 2, 2, 2, 2, 2, 2])).pattern).toBe('consecutive_hot_spot');
  });

  it('lets an earlier cold step turn "new" and "consecutive" into oscillating', () => {
    expect(classifyEmergingHotSpot(series([-1, 0, 0, 0, 0, 0, 0, 0, 0, 2])).pattern).toBe('oscillating_hot_spot');
    expect(classifyEmergingHotSpot(series([-1, 0, 0, 0, 0, 0, 0, 0, 2, 2])).pattern).toBe('oscillating_hot_spot');
  });

  it('honours minConfidence: 90 % bins do not count at 95 %', () => {
    const bins: ConfidenceBin[] = [0, 0, 0, 0, 0, 0, 0, 1, 1, 2];
    expect(classifyEmergingHotSpot(series(bins)).pattern).toBe('consecutive_hot_spot');
    expect(classifyEmergingHotSpot(series(bins), { minConfidence: 2 }).pattern).toBe('new_hot_spot');
  });

  it('classifies every unit from per-step Gi* results', () => {
    const step = (z: number[], bin: ConfidenceBin[]): GetisOrdResult => ({ star: true, g: z, z, p: z.map(() => null), pFdr: z.map(() => null), bin });
    const steps = [step([0, 3], [0, 3]), step([0, 3], [0, 3]), step([2, 3], [2, 3])];
    expect(classifyEmergingHotSpots(steps).map((r) => r.pattern)).toEqual(['new_hot_spot', 'persistent_hot_spot']);
  });
});
