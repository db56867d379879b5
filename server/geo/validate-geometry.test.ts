// Table-driven over data/fixtures/geojson/{valid,invalid} (the layout of turf-boolean-valid's
// test/true|false folders). Invalid fixtures name their expected reason in a top-level foreign member
// `expect`, optionally with `expectPath` and `expectLocation`. The same files feed the PostGIS-side tests.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { booleanClockwise, kinks } from '@turf/turf';
import type { MultiPolygon, Polygon, Position } from 'geojson';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_VERTICES, GEOMETRY_REJECTIONS, type GeometryRejection, normaliseWinding, validatePolygonGeometry } from './validate-geometry';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtureDir = path.join(projectRoot, 'data/fixtures/geojson');

interface Fixture {
  file: string;
  json: Record<string, unknown>;
}

function loadFixtures(kind: 'valid' | 'invalid'): Fixture[] {
  const dir = path.join(fixtureDir, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.geojson'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown> }));
}

const validFixtures = loadFixtures('valid');
const invalidFixtures = loadFixtures('invalid');

function polygonsOf(g: Polygon | MultiPolygon): Position[][][] {
  return g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
}

function expectRightHandRule(g: Polygon | MultiPolygon): void {
  for (const polygon of polygonsOf(g)) {
    polygon.forEach((ring, i) => {
      // booleanClockwise: true = clockwise. Exterior must be counter-clockwise, holes clockwise.
      expect(booleanClockwise(ring), `ring ${i}`).toBe(i > 0);
    });
  }
}

function squareRing(x0: number, y0: number, side: number): Position[] {
  return [
    [x0, y0],
    [x0 + side, y0],
    [x0 + side, y0 + side],
    [x0, y0 + side],
    [x0, y0],
  ];
}

describe('fixtures', () => {
  it('has enough cases in each folder', () => {
    expect(validFixtures.length).toBeGreaterThanOrEqual(6);
    expect(invalidFixtures.length).toBeGreaterThanOrEqual(12);
  });

  describe.each(validFixtures)('valid/$file', ({ json }) => {
    it('is accepted, 2D, without repeats, and wound by the right-hand rule', () => {
      const result = validatePolygonGeometry(json);
      if (!result.valid) expect.fail(`${result.reason}: ${result.message} at ${result.path ?? '?'}`);
      const { geometry } = result;
      expect(Object.keys(geometry).sort()).toEqual(['coordinates', 'type']);
      expectRightHandRule(geometry);
      for (const polygon of polygonsOf(geometry)) {
        for (const ring of polygon) {
          for (let i = 0; i < ring.length; i++) {
            expect(ring[i]).toHaveLength(2);
            if (i > 0) expect(ring[i]).not.toEqual(ring[i - 1]);
          }
        }
      }
    });

    it('has no kinks according to turf', () => {
      const result = validatePolygonGeometry(json);
      if (!result.valid) return expect.fail(result.message);
      // turf.kinks also reports single-point touches between different rings, which OGC (and we)
      // allow, so compare ring by ring.
      for (const polygon of polygonsOf(result.geometry)) {
        for (const ring of polygon) {
          expect(kinks({ type: 'Polygon', coordinates: [ring] }).features).toHaveLength(0);
        }
      }
    });
  });

  describe.each(invalidFixtures)('invalid/$file', ({ file, json }) => {
    const expected = json.expect as GeometryRejection;

    it('names a known reason and what PostGIS does with it', () => {
      expect(GEOMETRY_REJECTIONS).toContain(expected);
      expect(typeof json.postgis).toBe('string');
    });

    it(`is rejected with ${String(json.expect)}`, () => {
      const result = validatePolygonGeometry(json);
      if (result.valid) return expect.fail(`${file} was accepted`);
      expect(result.reason).toBe(expected);
      expect(result.message.length).toBeGreaterThan(10);
      if (typeof json.expectPath === 'string') expect(result.path).toBe(json.expectPath);
      if (Array.isArray(json.expectLocation)) {
        const [lng, lat] = json.expectLocation as [number, number];
        expect(result.location?.[0]).toBeCloseTo(lng, 9);
        expect(result.location?.[1]).toBeCloseTo(lat, 9);
      }
    });
  });

  it('agrees with turf.kinks on the bowtie crossing', () => {
    const bowtie = invalidFixtures.find((f) => f.file === 'bowtie.geojson');
    if (!bowtie) return expect.fail('bowtie fixture missing');
    const turfKink = kinks(bowtie.json as unknown as Polygon).features[0]?.geometry.coordinates;
    const result = validatePolygonGeometry(bowtie.json);
    expect(result.valid).toBe(false);
    if (result.valid || !turfKink) return expect.fail('expected a kink');
    expect(result.location?.[0]).toBeCloseTo(turfKink[0] as number, 9);
    expect(result.location?.[1]).toBeCloseTo(turfKink[1] as number, 9);
  });
});

describe('validatePolygonGeometry', () => {
  it('checks an outline of long edges stacked north to south (every edge overlaps every other in x), and finds the one crossing', () => {
    // 4,000 vertices: strokes from a west and an east column joined in a ring, each west and east
    // vertex nudged in and out, so no edge crosses another although all of them overlap in x.
    const west: Position[] = [];
    const east: Position[] = [];
    for (let i = 0; i < 2000; i++) {
      const y = 34.75 + i * 1e-5;
      west.push([113.6 + (i % 2) * 1e-4, y]);
      east.push([113.61 - (i % 2) * 1e-4, y]);
    }
    const ring = [...west, ...east.reverse()];
    ring.push(ring[0] as Position);
    const valid = validatePolygonGeometry({ type: 'Polygon', coordinates: [ring] });
    if (!valid.valid) return expect.fail(valid.message);
    expect(kinks({ type: 'Polygon', coordinates: [ring] }).features).toHaveLength(0);
    // Pull one west vertex past the east column: its two edges now cross the east column's edges.
    const crossed = ring.map((p) => [...p]);
    crossed[1000] = [113.62, crossed[1000]?.[1] as number];
    const result = validatePolygonGeometry({ type: 'Polygon', coordinates: [crossed] });
    expect(result).toMatchObject({ valid: false, reason: 'SELF_INTERSECTION' });
    expect(kinks({ type: 'Polygon', coordinates: [crossed] }).features.length).toBeGreaterThan(0);
  });

  it('returns a rewound copy of a clockwise polygon and leaves the input alone', () => {
    const input = { type: 'Polygon', coordinates: [squareRing(113.6, 34.75, 0.004).reverse()] };
    const before = JSON.stringify(input);
    const result = validatePolygonGeometry(input);
    expect(JSON.stringify(input)).toBe(before);
    if (!result.valid) return expect.fail(result.message);
    expect(result.geometry.coordinates).toEqual([squareRing(113.6, 34.75, 0.004)]);
  });

  it('rejects NaN and Infinity, which JS callers (not JSON) can pass', () => {
    const nan = validatePolygonGeometry({ type: 'Polygon', coordinates: [[[113.6, 34.75], [Number.NaN, 34.75], [113.605, 34.754], [113.6, 34.75]]] });
    expect(nan).toMatchObject({ valid: false, reason: 'COORDINATE_NOT_FINITE', path: 'coordinates[0][1][0]' });
    const inf = validatePolygonGeometry({ type: 'Polygon', coordinates: [[[113.6, 34.75], [113.605, Infinity], [113.605, 34.754], [113.6, 34.75]]] });
    expect(inf).toMatchObject({ valid: false, reason: 'COORDINATE_NOT_FINITE', path: 'coordinates[0][1][1]' });
  });

  it.each([
    ['null', null],
    ['a string of JSON', '{"type":"Polygon"}'],
    ['an array', [[113.6, 34.75]]],
    ['a number', 42],
    ['an object without type', { coordinates: [] }],
  ])('rejects %s as NOT_GEOJSON', (_label, input) => {
    expect(validatePolygonGeometry(input)).toMatchObject({ valid: false, reason: 'NOT_GEOJSON' });
  });

  it('prefixes paths with geometry. for a Feature', () => {
    const result = validatePolygonGeometry({ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[113.6, 34.75], [113.605, 34.75], [113.605, 34.754], [113.6, 34.754]]] } });
    expect(result).toMatchObject({ valid: false, reason: 'RING_NOT_CLOSED', path: 'geometry.coordinates[0][3]' });
  });

  it('rejects more vertices than the limit, fast, with the default and a custom limit', () => {
    const ringOf = (n: number): Position[] => {
      // A regular n-gon of radius ~500 m around Zhengzhou: valid apart from its size.
      const ring: Position[] = [];
      for (let i = 0; i < n; i++) {
        const angle = (2 * Math.PI * i) / n;
        ring.push([113.6 + 0.005 * Math.cos(angle), 34.75 + 0.004 * Math.sin(angle)]);
      }
      ring.push(ring[0] as Position);
      return ring;
    };
    const huge = { type: 'Polygon', coordinates: [ringOf(DEFAULT_MAX_VERTICES)] }; // + closing point = limit + 1
    const started = performance.now();
    expect(validatePolygonGeometry(huge)).toMatchObject({ valid: false, reason: 'TOO_MANY_VERTICES', path: 'coordinates[0]' });
    expect(performance.now() - started).toBeLessThan(50);

    const small = { type: 'Polygon', coordinates: [ringOf(99)] }; // exactly 100 positions
    expect(validatePolygonGeometry(small, { maxVertices: 100 }).valid).toBe(true);
    expect(validatePolygonGeometry(small, { maxVertices: 99 })).toMatchObject({ valid: false, reason: 'TOO_MANY_VERTICES' });
  });

  it('counts vertices over all parts of a multipolygon', () => {
    const parts = Array.from({ length: 30 }, (_, i) => [squareRing(113.6 + i * 0.01, 34.75, 0.005)]);
    expect(validatePolygonGeometry({ type: 'MultiPolygon', coordinates: parts }, { maxVertices: 149 })).toMatchObject({
      valid: false,
      reason: 'TOO_MANY_VERTICES',
      path: 'coordinates[29][0]',
    });
    expect(validatePolygonGeometry({ type: 'MultiPolygon', coordinates: parts }, { maxVertices: 150 }).valid).toBe(true);
  });

  it('accepts a large valid polygon near the limit in reasonable time (no O(n²) kink search)', () => {
    const n = DEFAULT_MAX_VERTICES - 1;
    const ring: Position[] = [];
    for (let i = 0; i < n; i++) {
      const angle = (2 * Math.PI * i) / n;
      ring.push([113.6 + 0.05 * Math.cos(angle), 34.75 + 0.04 * Math.sin(angle)]);
    }
    ring.push(ring[0] as Position);
    const started = performance.now();
    const result = validatePolygonGeometry({ type: 'Polygon', coordinates: [ring] });
    const elapsedMs = performance.now() - started;
    expect(result.valid).toBe(true);
    expect(elapsedMs).toBeLessThan(2000);
  });

  it('survives hostile nesting without recursion (100,000 levels deep)', () => {
    let deep: unknown = [113.6, 34.75];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const result = validatePolygonGeometry({ type: 'Polygon', coordinates: deep });
    expect(result).toMatchObject({ valid: false, reason: 'NESTING_TOO_DEEP', path: 'coordinates[0][0]' });
  });

  it('survives a huge sparse array without walking it', () => {
    const sparse: unknown[] = [];
    sparse.length = 2 ** 31;
    const started = performance.now();
    expect(validatePolygonGeometry({ type: 'Polygon', coordinates: [sparse] })).toMatchObject({ valid: false, reason: 'TOO_MANY_VERTICES' });
    expect(validatePolygonGeometry({ type: 'Polygon', coordinates: sparse })).toMatchObject({ valid: false, reason: 'NESTING_TOO_SHALLOW' });
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('rejects a 4-element position and drops a 3rd (altitude) value', () => {
    const ring4 = squareRing(113.6, 34.75, 0.004).map(([x, y]) => [x as number, y as number, 0, 0]);
    expect(validatePolygonGeometry({ type: 'Polygon', coordinates: [ring4] })).toMatchObject({ valid: false, reason: 'POSITION_WRONG_LENGTH' });
  });

  it('rejects a hole crossing the shell exactly along an edge (shared edge)', () => {
    const shell = squareRing(113.6, 34.75, 0.004);
    const hole = [
      [113.6, 34.751],
      [113.6, 34.753],
      [113.602, 34.753],
      [113.602, 34.751],
      [113.6, 34.751],
    ];
    expect(validatePolygonGeometry({ type: 'Polygon', coordinates: [shell, hole] })).toMatchObject({ valid: false, reason: 'RINGS_INTERSECT' });
  });
});

describe('normaliseWinding', () => {
  it('makes exteriors counter-clockwise and holes clockwise, in every part', () => {
    const cwShell = squareRing(113.6, 34.75, 0.01).reverse();
    const ccwHole = squareRing(113.603, 34.753, 0.002);
    const multi: MultiPolygon = { type: 'MultiPolygon', coordinates: [[cwShell, ccwHole], [squareRing(113.62, 34.75, 0.01)]] };
    const wound = normaliseWinding(multi);
    expectRightHandRule(wound);
    expect(multi.coordinates[0]?.[0]).toEqual(cwShell); // input untouched
  });

  it('keeps already-correct rings as they are', () => {
    const polygon: Polygon = { type: 'Polygon', coordinates: [squareRing(113.6, 34.75, 0.01), squareRing(113.603, 34.753, 0.002).reverse()] };
    expect(normaliseWinding(polygon)).toEqual(polygon);
  });
});
