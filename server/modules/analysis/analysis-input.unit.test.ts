import { describe, expect, it } from 'vitest';
import type { AnalysisFeature } from '../../contracts/analysis';
import { AppError } from '../../http/errors';
import { readInput } from './analysis-input';
import { localProjection } from './local-projection';

const pt = (x: number, y: number, id?: string | number, properties: Record<string, unknown> | null = null): AnalysisFeature =>
  ({ type: 'Feature', ...(id === undefined ? {} : { id }), geometry: { type: 'Point', coordinates: [x, y] }, properties });
const square: AnalysisFeature = { type: 'Feature', properties: null, geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]] } };

function rejection(fn: () => unknown): { reason: unknown; details: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    const details = (err as AppError).details as Record<string, unknown>;
    return { reason: details.reason, details };
  }
  throw new Error('expected a rejection');
}

describe('readInput on points', () => {
  it('projects lon/lat points around the centre of their bounding box, in input order, with default ids', () => {
    const positions: [number, number][] = [
      [113.6, 34.7],
      [113.7, 34.8],
      [113.65, 34.72],
    ];
    const features = positions.map(([x, y]) => pt(x, y));
    const input = readInput(features, 'EPSG:4326');
    const p = localProjection([113.65, 34.75]);
    expect(input.kind).toBe('point');
    expect(input.ids).toEqual([0, 1, 2]);
    expect(Array.from(input.xy)).toEqual(positions.flatMap(([x, y]) => p.forward(x, y)));
    expect(input.polygons).toEqual([[], [], []]);
    expect(input.warnings).toEqual([
      { code: 'few_features', params: { n: 3, limit: 30 }, message: 'fewer than 30 features (3): z-scores and p-values rest on a normal approximation that is unreliable here' },
    ]);
  });

  it('takes ids from feature ids or from a property', () => {
    expect(readInput([pt(0, 0, 'a'), pt(1, 1, 7)], 'none').ids).toEqual(['a', 7]);
    expect(readInput([pt(0, 0, undefined, { code: 'x' }), pt(1, 1, undefined, { code: 'y' })], 'none', { idProperty: 'code' }).ids).toEqual(['x', 'y']);
  });

  it('still rejects bad point input with the same reason and details', () => {
    expect(rejection(() => readInput([pt(0, 0, 'a'), pt(1, 1), pt(2, 2, 'a')], 'none'))).toMatchObject({ reason: 'DUPLICATE_ID', details: { id: 'a', indices: [0, 2] } });
    // An explicit id equal to another feature's default index.
    expect(rejection(() => readInput([pt(0, 0), pt(1, 1, 0)], 'none'))).toMatchObject({ reason: 'DUPLICATE_ID', details: { indices: [0, 1] } });
    expect(rejection(() => readInput([pt(0, 0, undefined, { code: 'x' }), pt(1, 1, undefined, { code: 'x' })], 'none', { idProperty: 'code' }))).toMatchObject({ reason: 'DUPLICATE_ID' });
    expect(rejection(() => readInput([pt(0, 0, undefined, { code: 'x' }), pt(1, 1, undefined, {})], 'none', { idProperty: 'code' }))).toMatchObject({ reason: 'VALUE_MISSING', details: { index: 1 } });
    expect(rejection(() => readInput([pt(113, 34), pt(113, 34.1), pt(200, 34)], 'EPSG:4326'))).toMatchObject({ reason: 'COORDINATE_OUT_OF_RANGE', details: { index: 2, position: [200, 34] } });
    expect(rejection(() => readInput([pt(0, 0), pt(1, 1), square], 'none'))).toMatchObject({ reason: 'MIXED_GEOMETRY_TYPES', details: { index: 2 } });
    expect(rejection(() => readInput([square, pt(0, 0)], 'none'))).toMatchObject({ reason: 'MIXED_GEOMETRY_TYPES', details: { index: 1 } });
  });
});

describe('readInput on polygons with a broken outline (found by server/http/bad-input.db.test.ts: they were analysed)', () => {
  const poly = (ring: number[][]): AnalysisFeature => ({ type: 'Feature', properties: null, geometry: { type: 'Polygon', coordinates: [ring] } });
  it.each([
    ['a self-intersecting ring', [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]], 'SELF_INTERSECTION'],
    ['an unclosed ring', [[0, 0], [1, 0], [1, 1], [0, 1]], 'RING_NOT_CLOSED'],
  ])('refuses %s, in projected (crs none) and lon/lat data alike', (_name, ring, reason) => {
    const planar = ring.map(([x = 0, y = 0]) => [500_000 + x * 1000, 3_800_000 + y * 1000]);
    const r1 = rejection(() => readInput([square, poly(planar)], 'none'));
    expect(r1.reason).toBe('GEOMETRY_INVALID');
    expect(r1.details).toMatchObject({ in: 'body', index: 1, geometryReason: reason });
    const lonLat = ring.map(([x = 0, y = 0]) => [113.6 + x * 0.001, 34.75 + y * 0.001]);
    expect(rejection(() => readInput([poly(lonLat)], 'EPSG:4326')).details).toMatchObject({ index: 0, geometryReason: reason });
  });

  it('still takes valid polygons far from lon/lat ranges (crs none)', () => {
    const big = poly([[500_000, 3_800_000], [501_000, 3_800_000], [501_000, 3_801_000], [500_000, 3_801_000], [500_000, 3_800_000]]);
    expect(readInput([square, big], 'none').kind).toBe('polygon');
  });
});
