import { describe, expect, it } from 'vitest';
import type { Polygon } from 'geojson';
import { labelPoint } from './label-point';

/** Ray casting, for the test's own check. */
function inside(p: [number, number], g: Polygon): boolean {
  let hit = false;
  for (const ring of g.coordinates) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [x1, y1] = ring[j]! as [number, number];
      const [x2, y2] = ring[i]! as [number, number];
      if ((y1 > p[1]) !== (y2 > p[1]) && p[0] < x1 + ((p[1] - y1) * (x2 - x1)) / (y2 - y1)) hit = !hit;
    }
  }
  return hit;
}

describe('labelPoint', () => {
  it('lies inside a U-shaped grid, where the centroid would not', () => {
    const u: Polygon = { type: 'Polygon', coordinates: [[[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3], [0, 0]]] };
    const p = labelPoint(u)!;
    expect(inside(p, u)).toBe(true);
    expect(inside([1.5, 1.6], u)).toBe(false); // near the centroid: the notch
  });

  it('avoids a hole, and takes the largest part of a multipolygon', () => {
    const holed: Polygon = { type: 'Polygon', coordinates: [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]] };
    expect(inside(labelPoint(holed)!, holed)).toBe(true);
    const p = labelPoint({ type: 'MultiPolygon', coordinates: [[[[10, 10], [10.1, 10], [10.1, 10.1], [10, 10.1], [10, 10]]], [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]] })!;
    expect(p[0]).toBeGreaterThan(0);
    expect(p[0]).toBeLessThan(2);
  });

  it('handles a line through a vertex (a diamond) and refuses a degenerate ring', () => {
    const diamond: Polygon = { type: 'Polygon', coordinates: [[[0, 1], [1, 0], [2, 1], [1, 2], [0, 1]]] };
    expect(inside(labelPoint(diamond)!, diamond)).toBe(true);
    expect(labelPoint({ type: 'Polygon', coordinates: [[[0, 0], [1, 1], [0, 0]]] })).toBeNull();
  });
});
