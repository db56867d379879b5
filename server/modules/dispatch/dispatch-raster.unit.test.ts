import { describe, expect, it } from 'vitest';
import { generateDemoCity } from '../../../scripts/generate/demo-city';
import { coversPoint, type FlatGeometry } from './dispatch-geometry';
import { CoverageRaster, EXACT, NONE } from './dispatch-raster';
import { seededRandom } from '../../test/seeded-random';

function flat(polygons: number[][][][]): FlatGeometry {
  const bbox: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  const out = polygons.map((rings) =>
    rings.map((ring) => {
      for (const [x, y] of ring) {
        bbox[0] = Math.min(bbox[0], x!);
        bbox[1] = Math.min(bbox[1], y!);
        bbox[2] = Math.max(bbox[2], x!);
        bbox[3] = Math.max(bbox[3], y!);
      }
      return Float64Array.from(ring.flat());
    }),
  );
  return { polygons: out, bbox };
}

/** Random points over the extent, every vertex, edge midpoints and points along edges. */
function probePoints(geoms: FlatGeometry[], random: () => number, n: number): Array<[number, number]> {
  const [x0, y0, x1, y1] = geoms.reduce((b, g) => [Math.min(b[0], g.bbox[0]), Math.min(b[1], g.bbox[1]), Math.max(b[2], g.bbox[2]), Math.max(b[3], g.bbox[3])], [Infinity, Infinity, -Infinity, -Infinity]);
  const points: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) points.push([x0 + random() * (x1 - x0), y0 + random() * (y1 - y0)]);
  for (const g of geoms) {
    for (const ring of g.polygons.flat()) {
      for (let i = 0; i + 3 < ring.length; i += 2) {
        const [ax, ay, bx, by] = [ring[i]!, ring[i + 1]!, ring[i + 2]!, ring[i + 3]!];
        const t = random();
        points.push([ax, ay], [(ax + bx) / 2, (ay + by) / 2], [ax + t * (bx - ax), ay + t * (by - ay)]);
      }
    }
  }
  return points;
}

/** Every point the raster decides is decided as the exact test does; returns the share it decided. */
function checkAgainstExact(geoms: FlatGeometry[], points: Array<[number, number]>): number {
  const raster = new CoverageRaster(geoms);
  let decided = 0;
  const wrong: string[] = [];
  for (const [x, y] of points) {
    const cell = raster.at(x, y);
    if (cell === EXACT) continue;
    decided++;
    const covering = geoms.flatMap((g, i) => (coversPoint(g, x, y) ? [i] : []));
    const expected = cell === NONE ? [] : [cell];
    if (covering.join() !== expected.join()) wrong.push(`(${x}, ${y}): raster ${expected.join() || 'none'}, exact ${covering.join() || 'none'}`);
  }
  expect(wrong.slice(0, 5)).toEqual([]);
  return decided / points.length;
}

describe('coverage raster', () => {
  it('agrees with the exact test on shared edges, vertices, a hole and a multipolygon', () => {
    const geoms = [
      // Two squares sharing an edge and a vertex with a third.
      flat([[[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]]),
      flat([[[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]]),
      flat([[[[0, 1], [1, 1], [1, 2], [0, 2], [0, 1]]]]),
      // A square with a hole, and a multipolygon whose second part sits in that hole.
      flat([[[[2, 1], [4, 1], [4, 3], [2, 3], [2, 1]], [[2.5, 1.5], [3.5, 1.5], [3.5, 2.5], [2.5, 2.5], [2.5, 1.5]]]]),
      flat([[[[4, 0], [5, 0], [5, 1], [4, 1], [4, 0]]], [[[2.75, 1.75], [3.25, 1.75], [3.2, 2.25], [2.75, 1.75]]]]),
      // A thin diagonal sliver.
      flat([[[[0, 2.5], [4, 3.2], [4, 3.21], [0, 2.5]]]]),
    ];
    const share = checkAgainstExact(geoms, probePoints(geoms, seededRandom(1), 50_000));
    // Most random points fall in cells no edge comes near: the shortcut is taken.
    expect(share).toBeGreaterThan(0.6);
  });

  it('agrees with the exact test over a generated district (shared edges between many grids)', () => {
    const city = generateDemoCity({ size: 'medium' });
    const geoms = city.grids.map((g) => flat([g.geom.coordinates]));
    expect(geoms.length).toBeGreaterThan(50);
    const share = checkAgainstExact(geoms, probePoints(geoms, seededRandom(2), 50_000));
    expect(share).toBeGreaterThan(0.6);
  });

  it('sends every point to the exact test when several grids contain the same cells', () => {
    const square = flat([[[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]]);
    const raster = new CoverageRaster([square, flat([[[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]])]);
    expect(raster.at(0.5, 0.5)).toBe(EXACT);
    expect(raster.at(0.25, 0.75)).toBe(EXACT);
  });

  it('leaves points outside the grids\u2019 extent, NaN and an empty index to the exact test', () => {
    const raster = new CoverageRaster([flat([[[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]])]);
    expect(raster.at(0.5, 0.5)).toBe(0);
    expect(raster.at(2, 0.5)).toBe(EXACT);
    expect(raster.at(Number.NaN, 0.5)).toBe(EXACT);
    expect(new CoverageRaster([]).at(0, 0)).toBe(EXACT);
  });
});
