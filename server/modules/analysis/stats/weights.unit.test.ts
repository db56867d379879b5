import type { Polygon } from 'geojson';
import { describe, expect, it } from 'vitest';
import { contiguityNeighbours } from './contiguity';
import { parseGal } from './gal';
import { cardinalities, distanceBandNeighbours, isSymmetric, knnNeighbours, linkCount, neighboursOf, spatialWeights, type Neighbours } from './weights';
import { describeWithReference, numberProp, readReference, readReferenceGeoJson } from './reference-data.fixture';

function rows(nb: Neighbours): number[][] {
  return Array.from({ length: nb.n }, (_, i) => Array.from(neighboursOf(nb, i)));
}

/** Deterministic pseudo-random points (LCG) so failures reproduce. */
function randomPoints(count: number, seed: number, extent: number): [number, number][] {
  let s = seed;
  const next = (): number => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
  return Array.from({ length: count }, () => [next() * extent, next() * extent]);
}

/** Unit squares of a rows × cols lattice, row-major from the bottom-left (as libpysal lat2W). */
function lattice(rowsCount: number, cols: number): Polygon[] {
  const cells: Polygon[] = [];
  for (let r = 0; r < rowsCount; r++) {
    for (let c = 0; c < cols; c++) {
      cells.push({ type: 'Polygon', coordinates: [[[c, r], [c + 1, r], [c + 1, r + 1], [c, r + 1], [c, r]]] });
    }
  }
  return cells;
}

describe('distanceBandNeighbours', () => {
  it('matches a brute-force O(n²) scan (grid index correctness)', () => {
    const pts = randomPoints(400, 7, 1000);
    for (const d of [25, 80, 333]) {
      const expected = pts.map(([x, y], i) =>
        pts.flatMap(([u, v], j) => (j !== i && (u - x) ** 2 + (v - y) ** 2 <= d * d ? [j] : [])),
      );
      expect(rows(distanceBandNeighbours(pts, d))).toEqual(expected);
    }
  });

  it('excludes coincident points and includes the exact threshold distance', () => {
    const nb = distanceBandNeighbours([[0, 0], [0, 0], [30, 0], [61, 0]], 30);
    expect(rows(nb)).toEqual([[2], [2], [0, 1], []]);
    expect(isSymmetric(nb)).toBe(true);
  });

  it('builds 50,000 hexagon-cell centres quickly', () => {
    // Pointy-top hex lattice of spacing 100 m: 6 neighbours within 101 m for interior cells.
    const pts: [number, number][] = [];
    for (let r = 0; r < 200; r++) for (let c = 0; c < 250; c++) pts.push([c * 100 + (r % 2) * 50, r * 50 * Math.sqrt(3)]);
    const t0 = performance.now();
    const nb = distanceBandNeighbours(pts, 101);
    const elapsed = performance.now() - t0;
    expect(nb.n).toBe(50_000);
    expect(Math.max(...cardinalities(nb))).toBe(6);
    expect(isSymmetric(nb)).toBe(true);
    expect(elapsed).toBeLessThan(5_000);
  });
});

describe('knnNeighbours', () => {
  it('matches brute force, ties broken by lower index', () => {
    const pts = randomPoints(300, 11, 500);
    for (const k of [1, 4, 9]) {
      const expected = pts.map(([x, y], i) =>
        pts
          .map(([u, v], j) => ({ j, d: (u - x) ** 2 + (v - y) ** 2 }))
          .filter((c) => c.j !== i)
          .sort((a, b) => a.d - b.d || a.j - b.j)
          .slice(0, k)
          .map((c) => c.j)
          .sort((a, b) => a - b),
      );
      expect(rows(knnNeighbours(pts, k))).toEqual(expected);
    }
  });

  it('handles a clustered layout far from the grid cell size', () => {
    // 50 points in a unit square plus a pair 1,000 units away: the far pair must still find the cluster.
    const pts: [number, number][] = [...randomPoints(50, 3, 1), [1000, 1000], [1001, 1000]];
    const brute = pts.map(([x, y], i) =>
      pts
        .map(([u, v], j) => ({ j, d: (u - x) ** 2 + (v - y) ** 2 }))
        .filter((c) => c.j !== i)
        .sort((a, b) => a.d - b.d || a.j - b.j)
        .slice(0, 3)
        .map((c) => c.j)
        .sort((a, b) => a - b),
    );
    expect(rows(knnNeighbours(pts, 3))).toEqual(brute);
  });
});

describe('contiguityNeighbours on a lattice', () => {
  // libpysal lat2W(3, 3) (rook) has 24 directed links; queen adds the 8 diagonal pairs.
  it('rook = shared edge, queen = shared vertex', () => {
    const cells = lattice(3, 3);
    const rook = contiguityNeighbours(cells, 'rook');
    const queen = contiguityNeighbours(cells, 'queen');
    expect(linkCount(rook)).toBe(24);
    expect(linkCount(queen)).toBe(40);
    expect(Array.from(neighboursOf(rook, 4))).toEqual([1, 3, 5, 7]);
    expect(Array.from(neighboursOf(queen, 0))).toEqual([1, 3, 4]);
  });

  it('reads MultiPolygons and reports islands', () => {
    const [a, b] = lattice(1, 2);
    const far: Polygon = { type: 'Polygon', coordinates: [[[10, 10], [11, 10], [11, 11], [10, 10]]] };
    const multi = { type: 'MultiPolygon' as const, coordinates: [a!.coordinates, far.coordinates] };
    const nb = contiguityNeighbours([multi, b!, { type: 'Polygon', coordinates: [[[20, 20], [21, 20], [21, 21], [20, 20]]] }], 'rook');
    expect(rows(nb)).toEqual([[1], [0], []]);
    expect(spatialWeights(nb).islands).toEqual([2]);
  });
});

describe('parseGal', () => {
  it('reads one- and four-token headers and maps ids through an order', () => {
    const plain = parseGal('3\n1 1\n2\n2 2\n1 3\n3 1\n2\n');
    expect(plain.ids).toEqual(['1', '2', '3']);
    expect(rows(plain.neighbours)).toEqual([[1], [0, 2], [1]]);
    const geoda = parseGal('0 3 layer POLY_ID\nc 1\nb\nb 2\na c\na 1\nb\n', ['a', 'b', 'c']);
    expect(rows(geoda.neighbours)).toEqual([[1], [0, 2], [1]]);
  });

  it('accepts a missing neighbour line for k = 0 and rejects count mismatches', () => {
    expect(rows(parseGal('2\n1 0\n2 0\n').neighbours)).toEqual([[], []]);
    expect(() => parseGal('3\n1 0\n2 0\n')).toThrow(/header says 3/);
    expect(() => parseGal('2\n1 1\n9\n2 0\n')).toThrow(/unknown id 9/);
  });
});

describe('spatialWeights', () => {
  it('row-standardises, optionally including self', () => {
    const nb = contiguityNeighbours(lattice(1, 3), 'rook');
    const r = spatialWeights(nb, { transform: 'R' });
    expect(Array.from(r.weights)).toEqual([1, 0.5, 0.5, 1]);
    const star = spatialWeights(nb, { transform: 'R', includeSelf: true });
    expect(Array.from(star.indices)).toEqual([0, 1, 0, 1, 2, 1, 2]);
    expect(Array.from(star.weights)).toEqual([0.5, 0.5, 1 / 3, 1 / 3, 1 / 3, 0.5, 0.5]);
    expect(star.selfIncluded).toBe(true);
  });
});

describeWithReference('contiguity from published polygons', () => {
  it('Columbus queen from polygons = columbus.gal (236 directed links)', () => {
    // columbus.gal is libpysal's exact queen file (236 links, per the shared data README and
    // spdep: poly2nb(columbus) "Number of nonzero links: 236" in R. Bivand's "R: Interoperability"
    // course notes, 5 Sep 2019).
    const features = readReferenceGeoJson<Polygon>('columbus.geojson');
    const queen = contiguityNeighbours(features.map((f) => f.geometry), 'queen');
    const gal = parseGal(readReference('columbus.gal'), features.map((f) => String(numberProp(f, 'POLYID'))));
    expect(linkCount(queen)).toBe(236);
    expect(rows(queen)).toEqual(rows(gal.neighbours));
    // libpysal Queen.from_dataframe(columbus).cardinalities, printed in the same notes.
    expect(Array.from(cardinalities(queen))).toEqual([
      2, 3, 4, 4, 8, 2, 4, 6, 8, 4, 5, 6, 4, 6, 6, 8, 3, 4, 3, 10, 3, 6, 3, 7, 8, 6, 4, 9, 7, 5, 3, 4, 4, 4, 7, 5, 6, 6, 3, 5, 3, 2, 6, 5, 4,
      2, 2, 4, 3,
    ]);
  });

  it('St Louis rook from polygons = stl.gal (398 directed links)', () => {
    const features = readReferenceGeoJson<Polygon>('stl_hom.geojson');
    const rook = contiguityNeighbours(features.map((f) => f.geometry), 'rook');
    const gal = parseGal(readReference('stl.gal'), features.map((f) => String(numberProp(f, 'POLY_ID_OG'))));
    expect(linkCount(gal.neighbours)).toBe(398);
    expect(linkCount(rook)).toBe(398);
    expect(rows(rook)).toEqual(rows(gal.neighbours));
  });
});
