import { describe, expect, it } from 'vitest';
import { ringsOf, snapPosition } from './snap';

// A projection of 10 px per degree keeps the arithmetic readable.
const project = (lng: number, lat: number): { x: number; y: number } => ({ x: lng * 10, y: -lat * 10 });
const square = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]];

describe('snapPosition', () => {
  it('snaps to a vertex within the tolerance, preferring it over a closer edge', () => {
    // 3 px from vertex (10,10) and 2 px from the edge x = 10: the vertex wins
    expect(snapPosition({ x: 102, y: -97 }, [square], project, 5)).toEqual([10, 10]);
  });

  it('snaps onto an edge at the foot of the perpendicular', () => {
    const p = snapPosition({ x: 103, y: -50 }, [square], project, 5);
    expect(p?.[0]).toBeCloseTo(10, 9);
    expect(p?.[1]).toBeCloseTo(5, 9);
  });

  it('leaves the pointer alone beyond the tolerance', () => {
    expect(snapPosition({ x: 50, y: -50 }, [square], project, 5)).toBeUndefined();
  });

  it('collects the rings of polygons and multipolygons', () => {
    const rings = ringsOf([
      { type: 'Polygon', coordinates: [square] },
      { type: 'MultiPolygon', coordinates: [[square], [square]] },
      { type: 'Point', coordinates: [1, 1] },
    ]);
    expect(rings).toHaveLength(3);
  });
});
