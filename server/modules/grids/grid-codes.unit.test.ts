import { describe, expect, it } from 'vitest';
import { assignGridCodes, formatGridCode, readingOrder, type CodableGrid } from './grid-codes';

const C = '410105001001';

/** A grid as a box `[w, s, e, n]` with its centre as the representative point. */
function box(id: number, w: number, s: number, e: number, n: number, code: string | null = null): CodableGrid {
  return { id, code, point: [(w + e) / 2, (s + n) / 2], bbox: [w, s, e, n] };
}

describe('grid code order: rows north→south, west→east within a row', () => {
  it('numbers a regular 3×2 lattice in reading order', () => {
    // ids deliberately scrambled relative to position
    const grids = [
      box(6, 2, 0, 3, 1), box(1, 0, 1, 1, 2), box(5, 1, 0, 2, 1),
      box(3, 2, 1, 3, 2), box(2, 1, 1, 2, 2), box(4, 0, 0, 1, 1),
    ];
    const codes = assignGridCodes(C, grids, 0);
    // north row: ids 1,2,3 (west→east); south row: 4,5,6
    expect([1, 2, 3, 4, 5, 6].map((id) => codes.get(id))).toEqual(['001', '002', '003', '004', '005', '006'].map((s) => C + s));
  });

  it('keeps a slightly lower grid in the same row when its point is within the first grid\'s span', () => {
    const grids = [box(1, 0, 1.0, 1, 2.0), box(2, 1, 0.8, 2, 1.9), box(3, 0, 0, 1, 0.9)];
    expect(readingOrder(grids).map((g) => g.id)).toEqual([1, 2, 3]);
  });

  it('gives new grids the next free numbers after the highest ever used, leaving coded grids alone', () => {
    const grids = [box(1, 0, 0, 1, 1, C + '002'), box(2, 1, 0, 2, 1), box(3, -1, 0, 0, 1)];
    const codes = assignGridCodes(C, grids, 7);
    expect(codes.has(1)).toBe(false);
    expect(codes.get(3)).toBe(C + '008'); // west first
    expect(codes.get(2)).toBe(C + '009');
  });

  it('is stable: the same input gives the same codes whatever the input order', () => {
    const grids = [box(1, 0, 0, 1, 1), box(2, 1, 0, 2, 1), box(3, 0, 1, 1, 2), box(4, 1, 1, 2, 2)];
    const a = assignGridCodes(C, grids, 0);
    const b = assignGridCodes(C, [...grids].reverse(), 0);
    expect([...a.entries()].sort()).toEqual([...b.entries()].sort());
  });

  it('refuses sequences beyond 999 and malformed community codes', () => {
    expect(() => formatGridCode(C, 1000)).toThrow(RangeError);
    expect(() => formatGridCode('4101', 1)).toThrow(/12 digits/);
  });
});
