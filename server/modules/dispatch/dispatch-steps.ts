/**
 * Builds that yield to the event loop (issue #6: a rebuild of the dispatch index must not stall every
 * request arriving meanwhile). A build is a generator that `yield`s after each small, bounded piece of
 * work (a grid parsed, a grid rasterised, a few hundred roster rows); `runSliced` runs such steps for at
 * most `sliceMs` at a time and then lets the event loop run (setImmediate: pending I/O — requests —
 * is handled before the next slice). `runAll` runs them in one go, for tests and one-off tools.
 *
 * Nothing a build produces is visible before it returns, so the index it replaces keeps serving until the
 * caller swaps the finished one in with a single assignment.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** A build in steps: each `next()` does a bounded piece of work; the return value is the result. */
export type Steps<T> = Generator<void, T, undefined>;

/** How a sliced build went: slices run, and the longest and total synchronous time (ms). */
export interface SliceStats {
  slices: number;
  longestSliceMs: number;
  busyMs: number;
}

/** Default synchronous time per slice (ms): a request arriving during a rebuild waits at most about this long. */
export const SLICE_MS = 2;

export function newSliceStats(): SliceStats {
  return { slices: 0, longestSliceMs: 0, busyMs: 0 };
}

/**
 * Run the steps in slices of about `sliceMs` (at least one step each; 0 = one step per slice), yielding
 * to the event loop between slices. Stats, when given, are added to.
 */
export async function runSliced<T>(steps: Steps<T>, sliceMs = SLICE_MS, stats?: SliceStats): Promise<T> {
  for (;;) {
    const start = performance.now();
    let step = steps.next();
    while (!step.done && performance.now() - start < sliceMs) step = steps.next();
    if (stats) {
      const took = performance.now() - start;
      stats.slices += 1;
      stats.busyMs += took;
      if (took > stats.longestSliceMs) stats.longestSliceMs = took;
    }
    if (step.done) return step.value;
    await nextTurn();
  }
}

/** Run the steps synchronously to the end. */
export function runAll<T>(steps: Steps<T>): T {
  let step = steps.next();
  while (!step.done) step = steps.next();
  return step.value;
}
