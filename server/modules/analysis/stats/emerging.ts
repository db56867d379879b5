// Emerging hot spot classification of a location from its per-time-step Gi* results, after
// ArcGIS Pro "How Emerging Hot Spot Analysis works" (Space Time Pattern Mining toolbox).

import type { ConfidenceBin, GetisOrdResult } from './getis-ord';
import { mannKendall, type MannKendallResult } from './mann-kendall';

export type EmergingPattern =
  | 'no_pattern'
  | 'new_hot_spot'
  | 'consecutive_hot_spot'
  | 'intensifying_hot_spot'
  | 'persistent_hot_spot'
  | 'diminishing_hot_spot'
  | 'sporadic_hot_spot'
  | 'oscillating_hot_spot'
  | 'historical_hot_spot'
  | 'new_cold_spot'
  | 'consecutive_cold_spot'
  | 'intensifying_cold_spot'
  | 'persistent_cold_spot'
  | 'diminishing_cold_spot'
  | 'sporadic_cold_spot'
  | 'oscillating_cold_spot'
  | 'historical_cold_spot';

/** One time step of one location: its Gi* z-score and confidence bin (null z: no data). */
export interface EmergingSlice {
  readonly z: number | null;
  readonly bin: ConfidenceBin;
}

export interface EmergingOptions {
  /** Smallest |bin| that counts as a significant hot / cold spot: 1 (90 %, ArcGIS), 2 (95 %), 3 (99 %). */
  readonly minConfidence?: 1 | 2 | 3;
  /** Significance level of the Mann–Kendall trend in the z-scores. Default 0.05. */
  readonly trendAlpha?: number;
}

export interface EmergingResult {
  readonly pattern: EmergingPattern;
  /** Mann–Kendall test on the z-score series (null with fewer than 3 non-null steps). */
  readonly trend: MannKendallResult | null;
  readonly hotSteps: number;
  readonly coldSteps: number;
}

type Side = 'hot' | 'cold';

/**
 * Classifies one location's time series, oldest step first. "Significant" means |bin| ≥
 * `minConfidence` with the sign of the spot; "90 %" means at least 0.9 · n of the n steps.
 * ArcGIS's definitions, for hot spots (cold spots mirror them, with "intensifying" a
 * significant *downward* trend in z):
 *
 * - new: hot in the final step, never significant before.
 * - consecutive: a single uninterrupted run of ≥ 2 hot steps ending in the final step, never
 *   significant before that run, and < 90 % of steps hot.
 * - intensifying / diminishing: hot in ≥ 90 % of steps including the final one, and a
 *   significant upward / downward Mann–Kendall trend in the z-scores.
 * - persistent: hot in ≥ 90 % of steps, including the final one, with no significant trend.
 * - sporadic: hot in the final step, on-and-off hot before, < 90 % hot, never cold.
 * - oscillating: hot in the final step, cold in some earlier step, < 90 % hot.
 * - historical: not hot in the final step, but hot in ≥ 90 % of steps.
 *
 * ArcGIS leaves overlaps implicit; where two definitions could both apply (a final hot step
 * after earlier cold ones satisfies both "new" and "oscillating") the history of the opposite
 * kind wins, as in sfdep's `classify_hotspot`, which requires no earlier significant step of
 * either kind for new and consecutive.
 */
export function classifyEmergingHotSpot(slices: readonly EmergingSlice[], options: EmergingOptions = {}): EmergingResult {
  const minConfidence = options.minConfidence ?? 1;
  const trendAlpha = options.trendAlpha ?? 0.05;
  const n = slices.length;
  const hot = slices.map((s) => s.bin >= minConfidence);
  const cold = slices.map((s) => s.bin <= -minConfidence);
  const hotSteps = hot.filter(Boolean).length;
  const coldSteps = cold.filter(Boolean).length;
  const trend = mannKendall(slices.map((s) => s.z));
  const result = (pattern: EmergingPattern): EmergingResult => ({ pattern, trend, hotSteps, coldSteps });
  if (n === 0) return result('no_pattern');

  const trendSign = trend !== null && trend.p <= trendAlpha ? Math.sign(trend.z) : 0;
  const classify = (side: Side): EmergingPattern => {
    const same = side === 'hot' ? hot : cold;
    const count = side === 'hot' ? hotSteps : coldSteps;
    const opposite = side === 'hot' ? coldSteps : hotSteps;
    // "Intensifying" means z moving away from 0 in the spot's own direction.
    const towards = side === 'hot' ? 1 : -1;
    if (count * 10 >= 9 * n) {
      if (trendSign === towards) return `intensifying_${side}_spot`;
      if (trendSign === -towards) return `diminishing_${side}_spot`;
      return `persistent_${side}_spot`;
    }
    if (opposite > 0) return `oscillating_${side}_spot`;
    if (count === 1) return `new_${side}_spot`;
    let run = 0;
    while (run < n && same[n - 1 - run]) run++;
    return run >= 2 && run === count ? `consecutive_${side}_spot` : `sporadic_${side}_spot`;
  };
  if (hot[n - 1]) return result(classify('hot'));
  if (cold[n - 1]) return result(classify('cold'));
  if (hotSteps * 10 >= 9 * n) return result('historical_hot_spot');
  if (coldSteps * 10 >= 9 * n) return result('historical_cold_spot');
  return result('no_pattern');
}

/**
 * Classifies every location from a sequence of Gi* results, one per time step (oldest first),
 * all computed on the same units.
 */
export function classifyEmergingHotSpots(steps: readonly GetisOrdResult[], options: EmergingOptions = {}): EmergingResult[] {
  const first = steps[0];
  if (!first) return [];
  const n = first.z.length;
  if (steps.some((s) => s.z.length !== n)) throw new RangeError('all time steps must cover the same units');
  return Array.from({ length: n }, (_, i) =>
    classifyEmergingHotSpot(
      steps.map((s) => ({ z: s.z[i] ?? null, bin: s.bin[i] ?? 0 })),
      options,
    ),
  );
}
