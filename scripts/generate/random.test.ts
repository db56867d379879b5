import { describe, expect, it } from 'vitest';
import { hashString, Rng, rngFor } from './random';

describe('Rng', () => {
  it('is reproducible and seed-sensitive', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, (() => { const rng = new Rng(seed); return () => rng.uint32(); })());
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
  });

  it('keeps int() within bounds and reaches both ends', () => {
    const rng = new Rng(3);
    const seen = new Set<number>();
    for (let k = 0; k < 2000; k++) seen.add(rng.int(-2, 2));
    expect([...seen].sort()).toEqual([-1, -2, 0, 1, 2].sort());
  });

  it('derives independent streams from labels', () => {
    expect(rngFor(1, 'a', 'b').uint32()).toBe(rngFor(1, 'a', 'b').uint32());
    expect(rngFor(1, 'a', 'b').uint32()).not.toBe(rngFor(1, 'ab').uint32());
    expect(hashString('x', 1)).not.toBe(hashString('x', 2));
  });
});
