import { describe, expect, it } from 'vitest';
import { binLonLat, binPoints, fillHexLattice, hexCell, hexCentre, hexRing, latticeNeighbours, quarticDensity, squareCell } from './aggregation';
import { localProjection, maxScaleError } from './local-projection';
import { getisOrd, distanceBandNeighbours, spatialWeights } from './stats';
import { getisOrdMoments } from './stats/getis-ord-moments';

describe('hexagon binning on the ST_HexagonGrid lattice', () => {
  // PostGIS 3.3: SELECT i, j, ST_AsText(geom) FROM ST_HexagonGrid(10, ST_MakeEnvelope(0, 0, 20, 20))
  // gives (1, 0) = POLYGON((5 8.66…, 10 0, 20 0, 25 8.66…, 20 17.32…, 10 17.32…, 5 8.66…)), i.e. the
  // centre (15, 8.66…); (0, 1) is centred at (0, 17.32…).
  it('puts every hexagon centre (and points near it) in its own cell', () => {
    for (let i = -4; i <= 4; i++) {
      for (let j = -4; j <= 4; j++) {
        const [cx, cy] = hexCentre(i, j, 10);
        for (const [dx, dy] of [[0, 0], [8.9, 0], [-8.9, 0], [4, 7.5], [-4, -7.5], [0, 8.6]]) {
          expect(hexCell(cx + dx!, cy + dy!, 10)).toEqual({ i, j });
        }
      }
    }
    expect(hexCentre(1, 0, 10)).toEqual([15, 5 * Math.sqrt(3)]);
    expect(hexRing(1, 0, 10)[1]).toEqual([10, 0]);
  });

  it('squares follow floor(x / size) as ST_SquareGrid', () => {
    expect(squareCell(-0.1, 99.9, 100)).toEqual({ i: -1, j: 0 });
    expect(squareCell(100, 0, 100)).toEqual({ i: 1, j: 0 });
  });

  it('counts, sums weights, and fills the empty lattice cells with zeros', () => {
    const xy = Float64Array.from([0, 0, 1, 1, 30, 0]);
    const cells = binPoints(xy, 'hex', 10);
    expect(Array.from(cells.value)).toEqual([2, 1]);
    expect(Array.from(binPoints(xy, 'hex', 10, [2, 3, 5]).value)).toEqual([5, 5]);
    const filled = fillHexLattice(cells);
    expect(filled.value.length).toBe(3); // i = 0..2, j = 0
    expect(Array.from(filled.value)).toEqual([2, 0, 1]);
  });
});

describe('binLonLat: lon/lat points to lattice cells in local metres', () => {
  const projection = localProjection([113.65, 34.75]);
  let s = 7;
  const rnd = (): number => (s = (s * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const lng = Float64Array.from({ length: 2000 }, () => 113.65 + (rnd() - 0.5) * 0.02);
  const lat = Float64Array.from({ length: 2000 }, () => 34.75 + (rnd() - 0.5) * 0.02);

  it('finds the cells of hexCell / squareCell (away from edges), counted and ordered by (i, j)', () => {
    for (const [shape, locate] of [['hex', hexCell], ['square', squareCell]] as const) {
      const expected = new Map<string, number>();
      for (let k = 0; k < lng.length; k++) {
        const [x, y] = projection.forward(lng[k]!, lat[k]!);
        const { i, j } = locate(x, y, 40);
        expected.set(`${i},${j}`, (expected.get(`${i},${j}`) ?? 0) + 1);
      }
      const cells = binLonLat(lng, lat, projection, shape, 40);
      const got = Array.from(cells.i, (i, k) => [`${i},${cells.j[k]}`, cells.value[k]]);
      expect(new Map(got as [string, number][])).toEqual(expected);
      const order = Array.from(cells.i, (i, k) => [i, cells.j[k]!] as const);
      expect(order).toEqual([...order].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
      expect(cells.value.reduce((a, b) => a + b, 0)).toBe(lng.length);
    }
  });

  it('counts the same in a Map when the points span a huge lattice rectangle', () => {
    // 1 m squares over ~2 km × 2 km plus one point 50 km away: 100M cells in the rectangle, so the
    // sparse branch; each point's own cell (one point: the dense branch) must agree.
    const far = Float64Array.from([...lng.slice(0, 300), 114.2, ...lng.slice(0, 5)]);
    const farLat = Float64Array.from([...lat.slice(0, 300), 35.2, ...lat.slice(0, 5)]);
    const cells = binLonLat(far, farLat, projection, 'square', 1);
    const expected = new Map<string, number>();
    for (let k = 0; k < far.length; k++) {
      const one = binLonLat(far.subarray(k, k + 1), farLat.subarray(k, k + 1), projection, 'square', 1);
      const key = `${one.i[0]},${one.j[0]}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    expect(new Map(Array.from(cells.i, (i, k) => [`${i},${cells.j[k]}`, cells.value[k]!]))).toEqual(expected);
    expect(expected.get(`${cells.i[0]},${cells.j[0]}`)).toBe(cells.value[0]);
    expect(Math.max(...cells.value)).toBe(2); // the five repeated points
    expect(binLonLat(new Float64Array(0), new Float64Array(0), projection, 'hex', 10).i.length).toBe(0);
  });
});

describe('quartic kernel density', () => {
  it('one point: 3/(π r²) at its node, 0 at distance r and beyond; Σ ≈ 1 / cell²', () => {
    const r = 10;
    const grid = quarticDensity(Float64Array.from([0, 0]), r, 1);
    const at = (i: number, j: number): number => {
      for (let k = 0; k < grid.i.length; k++) if (grid.i[k] === i && grid.j[k] === j) return grid.density[k]!;
      return 0;
    };
    expect(at(0, 0)).toBe(3 / (Math.PI * r * r));
    expect(at(5, 0)).toBeCloseTo((3 / (Math.PI * 100)) * 0.75 ** 2, 15); // d/r = 0.5 → (1 − 0.25)²
    expect(at(10, 0)).toBe(0);
    expect(grid.density.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 2);
  });

  it('refuses a grid larger than the cell limit', () => {
    expect(() => quarticDensity(Float64Array.from([0, 0, 1e5, 1e5]), 1, 1, undefined, 1000)).toThrow(/TOO_MANY_CELLS/);
  });
});

describe('local equirectangular projection', () => {
  it('is true to scale at the origin (WGS 84 radii of curvature) and inverts exactly', () => {
    // Equator: N = a, M = a(1 − e²); 1° = a·π/180 = 111 319.4908 m east, 110 574.2758 m north.
    const p = localProjection([0, 0]);
    expect(p.kx).toBeCloseTo(111_319.4908, 4);
    expect(p.ky).toBeCloseTo(110_574.2758, 4);
    // Zhengzhou (34.75° N): a parallel's degree is N cos φ · π/180 = 91 564.9 m (N = a / √(1 − e² sin² φ)).
    const q = localProjection([113.65, 34.75]);
    expect(q.forward(113.651, 34.75)[0]).toBeCloseTo(91.5649, 3);
    const [lng, lat] = q.inverse(...q.forward(113.7, 34.8));
    expect(lng).toBeCloseTo(113.7, 12);
    expect(lat).toBeCloseTo(34.8, 12);
  });

  it('bounds its east–west scale error: 0.11 % at 10 km from a 35° N origin', () => {
    expect(maxScaleError(35, 35 - 0.09, 35 + 0.09)).toBeCloseTo(0.0011, 4);
  });
});

describe('Getis-Ord moments of G_i', () => {
  it('are consistent with the z-scores: z = (G − E[G]) / √Var[G] (esda six points, Gi and Gi*)', () => {
    const points = [[10, 10], [20, 10], [40, 10], [15, 20], [30, 20], [30, 30]];
    const y = [2, 3, 3.2, 5, 8, 7];
    for (const includeSelf of [false, true]) {
      const w = spatialWeights(distanceBandNeighbours(points, 15), { transform: 'B', includeSelf });
      const r = getisOrd(y, w);
      const m = getisOrdMoments(y, w);
      r.z.forEach((z, i) => expect((r.g[i]! - m.expectation[i]!) / Math.sqrt(m.variance[i]!)).toBeCloseTo(z!, 12));
      // E[Gi*] = W_i / n, E[Gi] = W_i / (n − 1) with binary weights.
      expect(m.expectation[0]).toBeCloseTo(includeSelf ? 3 / 6 : 2 / 5, 15);
    }
  });
});

describe('latticeNeighbours', () => {
  // A deterministic pseudo-random subset of a lattice block, with negative indices and gaps.
  const subset = (keepEvery: number): { i: Int32Array; j: Int32Array } => {
    const is: number[] = [];
    const js: number[] = [];
    let seed = 7;
    for (let i = -6; i <= 7; i++) {
      for (let j = -5; j <= 6; j++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        if (seed % keepEvery !== 0) {
          is.push(i);
          js.push(j);
        }
      }
    }
    return { i: Int32Array.from(is), j: Int32Array.from(js) };
  };

  for (const shape of ['hex', 'square'] as const) {
    for (const keepEvery of [1000, 3]) {
      it(`${shape}: the same neighbours as the distance band just above the spacing (${keepEvery === 1000 ? 'full block' : 'with gaps'})`, () => {
        const size = 100;
        const { i, j } = subset(keepEvery);
        const xy = new Float64Array(2 * i.length);
        for (let k = 0; k < i.length; k++) {
          const [x, y] = shape === 'hex' ? hexCentre(i[k]!, j[k]!, size) : [(i[k]! + 0.5) * size, (j[k]! + 0.5) * size];
          xy[2 * k] = x;
          xy[2 * k + 1] = y;
        }
        const band = (shape === 'hex' ? Math.sqrt(3) : Math.SQRT2) * size * 1.01;
        const expected = distanceBandNeighbours(xy, band);
        const got = latticeNeighbours(i, j, shape);
        expect(Array.from(got.offsets)).toEqual(Array.from(expected.offsets));
        expect(Array.from(got.indices)).toEqual(Array.from(expected.indices));
        if (keepEvery === 1000) {
          // An interior cell of a full block has all its neighbours: 6 hexagons, 8 squares.
          const k = i.findIndex((v, m) => v === 0 && j[m] === 0);
          expect(got.offsets[k + 1]! - got.offsets[k]!).toBe(shape === 'hex' ? 6 : 8);
        }
      });
    }
  }

  it('finds the same neighbours when the cells are far apart (sparse index)', () => {
    const i = Int32Array.from([0, 0, 1, 1, 3_000_000, 3_000_000, 3_000_001]);
    const j = Int32Array.from([0, 1, 0, -1, 5, 6, 5]);
    for (const shape of ['hex', 'square'] as const) {
      const xy = new Float64Array(2 * i.length);
      for (let k = 0; k < i.length; k++) {
        const [x, y] = shape === 'hex' ? hexCentre(i[k]!, j[k]!, 10) : [(i[k]! + 0.5) * 10, (j[k]! + 0.5) * 10];
        xy[2 * k] = x;
        xy[2 * k + 1] = y;
      }
      const expected = distanceBandNeighbours(xy, (shape === 'hex' ? Math.sqrt(3) : Math.SQRT2) * 10 * 1.01);
      const got = latticeNeighbours(i, j, shape);
      expect(Array.from(got.indices)).toEqual(Array.from(expected.indices));
      expect(Array.from(got.offsets)).toEqual(Array.from(expected.offsets));
    }
  });
});
