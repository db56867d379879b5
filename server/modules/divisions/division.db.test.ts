import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DivisionDetail, DivisionList } from '../../contracts/division';
import type { ErrorResponse } from '../../contracts/common';
import { createTestApp, type TestApp } from '../../test/app';

/** An axis-aligned square near Zhengzhou, exterior ring clockwise unless `ccw`. */
function square(minLng: number, minLat: number, size: number, ccw = false): { type: 'Polygon'; coordinates: number[][][] } {
  const ring = [
    [minLng, minLat],
    [minLng, minLat + size],
    [minLng + size, minLat + size],
    [minLng + size, minLat],
    [minLng, minLat],
  ];
  return { type: 'Polygon', coordinates: [ccw ? ring.reverse() : ring] };
}

describe('divisions API', () => {
  let t: TestApp;

  /** Everything stored, including timestamps: "unchanged" means this is identical. */
  const snapshot = async (): Promise<unknown[]> =>
    (
      await sql`SELECT code, name, level, parent_code, ST_AsEWKT(geom) AS geom, updated_at FROM divisions ORDER BY code`.execute(t.tdb.db)
    ).rows;

  const post = (body: unknown) => t.inject({ method: 'POST', url: '/api/v1/divisions', payload: body as object });
  const get = (url: string) => t.inject({ method: 'GET', url });
  const patch = (code: string, body: unknown) => t.inject({ method: 'PATCH', url: `/api/v1/divisions/${code}`, payload: body as object });

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('documents its routes in OpenAPI under the divisions tag', async () => {
    const doc = (await get('/openapi.json')).json<{ paths: Record<string, Record<string, { tags?: string[] }>> }>();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/api/v1/divisions')).sort()).toEqual(['/api/v1/divisions', '/api/v1/divisions/import', '/api/v1/divisions/{code}', '/api/v1/divisions/{code}/export']);
    expect(doc.paths['/api/v1/divisions/{code}']?.patch?.tags).toEqual(['divisions']);
  });

  describe('create, read, list, update', () => {
    it('creates a district without a boundary', async () => {
      const res = await post({ code: '410102', name: '中原区', level: 'district' });
      expect(res.statusCode).toBe(201);
      expect(res.headers.location).toBe('/api/v1/divisions/410102');
      const d = res.json<DivisionDetail>();
      expect(d).toMatchObject({ code: '410102', name: '中原区', level: 'district', parentCode: null, boundary: null, boundarySource: 'none', hasBoundary: false, childCount: 0, ancestors: [] });
    });

    it('creates a street with a Polygon boundary, stored as a counter-clockwise MultiPolygon', async () => {
      const res = await post({ code: '410102001', name: '林山寨街道', level: 'street', parentCode: '410102', boundary: square(113.6, 34.7, 0.01) });
      expect(res.statusCode).toBe(201);
      const d = res.json<DivisionDetail>();
      expect(d.boundarySource).toBe('stored');
      expect(d.boundary?.type).toBe('MultiPolygon');
      expect(d.ancestors).toEqual([{ code: '410102', name: '中原区', level: 'district' }]);
      const { rows } = await sql<{ type: string; ccw: boolean }>`
        SELECT GeometryType(geom) AS type, ST_IsPolygonCCW(geom) AS ccw FROM divisions WHERE code = '410102001'`.execute(t.tdb.db);
      expect(rows[0]).toEqual({ type: 'MULTIPOLYGON', ccw: true });
    });

    it('creates a community and answers its ancestors district → street', async () => {
      const res = await post({ code: '410102001001', name: '桐柏路社区', level: 'community', parentCode: '410102001', boundary: square(113.6, 34.7, 0.005, true) });
      expect(res.statusCode).toBe(201);
      const got = await get('/api/v1/divisions/410102001001');
      expect(got.statusCode).toBe(200);
      expect(got.json<DivisionDetail>().ancestors.map((a) => a.code)).toEqual(['410102', '410102001']);
    });

    it('lists the districts, the children of a parent, and one level', async () => {
      const top = await get('/api/v1/divisions');
      expect(top.statusCode).toBe(200);
      expect(top.json<DivisionList>()).toEqual({
        parentCode: null,
        items: [{ code: '410102', name: '中原区', level: 'district', parentCode: null, hasBoundary: true, childCount: 1 }],
      });
      const children = await get('/api/v1/divisions?parent=410102');
      expect(children.json<DivisionList>().items).toEqual([{ code: '410102001', name: '林山寨街道', level: 'street', parentCode: '410102', hasBoundary: true, childCount: 1 }]);
      const communities = await get('/api/v1/divisions?level=community');
      expect(communities.json<DivisionList>().items.map((d) => d.code)).toEqual(['410102001001']);
      const unknown = await get('/api/v1/divisions?parent=410199');
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json<ErrorResponse>().error.code).toBe('DIVISION_NOT_FOUND');
      expect((await get('/api/v1/divisions?parent=abc')).statusCode).toBe(400);
    });

    it('answers 404 for an unknown code and 400 for a malformed one', async () => {
      const missing = await get('/api/v1/divisions/410199');
      expect(missing.statusCode).toBe(404);
      expect(missing.json<ErrorResponse>().error.code).toBe('DIVISION_NOT_FOUND');
      expect((await get('/api/v1/divisions/4101')).statusCode).toBe(400);
    });

    it('renames, sets and clears a boundary', async () => {
      const renamed = await patch('410102001001', { name: '  桐柏路社区居委会 ' });
      expect(renamed.statusCode).toBe(200);
      expect(renamed.json<DivisionDetail>().name).toBe('桐柏路社区居委会');

      const cleared = await patch('410102001', { boundary: null });
      expect(cleared.statusCode).toBe(200);
      // The street now shows its community's boundary.
      expect(cleared.json<DivisionDetail>()).toMatchObject({ boundarySource: 'derived', hasBoundary: true });

      const set = await patch('410102001', { boundary: square(113.6, 34.7, 0.01) });
      expect(set.json<DivisionDetail>().boundarySource).toBe('stored');

      const unknown = await patch('410102999', { name: 'x' });
      expect(unknown.statusCode).toBe(404);
      expect((await patch('410102001', {})).statusCode).toBe(400);
      const blank = await patch('410102001', { name: '   ' });
      expect(blank.statusCode).toBe(422);
      expect(blank.json<ErrorResponse>().error.code).toBe('DIVISION_INVALID');
    });
  });

  describe('every refusal is a 4xx that changes nothing', () => {
    const cases: Array<{ name: string; body: unknown; status: number; code: string; reason?: string }> = [
      { name: 'district code with 5 digits', body: { code: '41010', name: 'x', level: 'district' }, status: 422, code: 'DIVISION_INVALID', reason: 'CODE_FORMAT' },
      { name: 'street code with 6 digits', body: { code: '410102', name: 'x', level: 'street', parentCode: '410102' }, status: 422, code: 'DIVISION_INVALID', reason: 'CODE_FORMAT' },
      { name: 'code with letters', body: { code: '41010A', name: 'x', level: 'district' }, status: 422, code: 'DIVISION_INVALID', reason: 'CODE_FORMAT' },
      { name: 'street whose parent is a street', body: { code: '410102002', name: 'x', level: 'street', parentCode: '410102001' }, status: 422, code: 'DIVISION_INVALID', reason: 'PARENT_LEVEL' },
      { name: 'community whose parent is a district', body: { code: '410102001002', name: 'x', level: 'community', parentCode: '410102' }, status: 422, code: 'DIVISION_INVALID', reason: 'PARENT_LEVEL' },
      { name: 'street code not under its parent', body: { code: '410103001', name: 'x', level: 'street', parentCode: '410102' }, status: 422, code: 'DIVISION_INVALID', reason: 'CODE_NOT_UNDER_PARENT' },
      { name: 'unknown parent', body: { code: '410103001', name: 'x', level: 'street', parentCode: '410103' }, status: 422, code: 'DIVISION_INVALID', reason: 'PARENT_NOT_FOUND' },
      { name: 'street without parent', body: { code: '410102002', name: 'x', level: 'street' }, status: 422, code: 'DIVISION_INVALID', reason: 'PARENT_REQUIRED' },
      { name: 'district with a parent', body: { code: '410103', name: 'x', level: 'district', parentCode: '410102' }, status: 422, code: 'DIVISION_INVALID', reason: 'PARENT_NOT_ALLOWED' },
      { name: 'blank name', body: { code: '410103', name: '   ', level: 'district' }, status: 422, code: 'DIVISION_INVALID', reason: 'NAME_EMPTY' },
      { name: 'duplicate code', body: { code: '410102', name: '中原区', level: 'district' }, status: 409, code: 'DIVISION_EXISTS' },
      { name: 'unknown level', body: { code: '410103', name: 'x', level: 'city' }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'unknown property', body: { code: '410103', name: 'x', level: 'district', population: 1 }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'boundary that is a point', body: { code: '410103', name: 'x', level: 'district', boundary: { type: 'Point', coordinates: [113, 34] } }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'longitude out of range', body: { code: '410103', name: 'x', level: 'district', boundary: square(180, 34, 1) }, status: 400, code: 'VALIDATION_FAILED' },
    ];
    for (const c of cases) {
      it(`refuses a ${c.name}`, async () => {
        const before = await snapshot();
        const res = await post(c.body);
        expect(res.statusCode).toBe(c.status);
        const err = res.json<ErrorResponse>().error;
        expect(err.code).toBe(c.code);
        if (c.reason) expect((err.details as { problems: Array<{ reason: string }> }).problems.map((p) => p.reason)).toContain(c.reason);
        expect(await snapshot()).toEqual(before);
      });
    }

    it('refuses a bow-tie boundary with GEOS reason and the crossing point', async () => {
      const before = await snapshot();
      const bowtie = { type: 'Polygon', coordinates: [[[113.6, 34.7], [113.62, 34.72], [113.62, 34.7], [113.6, 34.72], [113.6, 34.7]]] };
      const res = await post({ code: '410103', name: '二七区', level: 'district', boundary: bowtie });
      expect(res.statusCode).toBe(422);
      const err = res.json<ErrorResponse>().error;
      expect(err.code).toBe('GEOMETRY_INVALID');
      const details = err.details as { reason: string; location: [number, number] };
      expect(details.reason).toBe('Self-intersection');
      expect(details.location[0]).toBeCloseTo(113.61, 9);
      expect(details.location[1]).toBeCloseTo(34.71, 9);
      expect(await snapshot()).toEqual(before);

      const viaPatch = await patch('410102001', { boundary: bowtie });
      expect(viaPatch.statusCode).toBe(422);
      expect(viaPatch.json<ErrorResponse>().error.code).toBe('GEOMETRY_INVALID');
      expect(await snapshot()).toEqual(before);
    });

    it('refuses an unclosed ring with a readable reason', async () => {
      const before = await snapshot();
      const open = { type: 'Polygon', coordinates: [[[113.6, 34.7], [113.62, 34.72], [113.62, 34.7], [113.6, 34.71]]] };
      const res = await post({ code: '410103', name: '二七区', level: 'district', boundary: open });
      expect(res.statusCode).toBe(422);
      expect(res.json<ErrorResponse>().error).toMatchObject({ code: 'GEOMETRY_INVALID', message: expect.stringContaining('does not end where it starts') as unknown });
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('derived boundaries', () => {
    beforeAll(async () => {
      // 410104: 管城 — street 001 has its own boundary; street 002 has none, but two communities do.
      for (const body of [
        { code: '410104', name: '管城回族区', level: 'district' },
        { code: '410104001', name: '北下街街道', level: 'street', parentCode: '410104', boundary: square(113.7, 34.7, 0.02) },
        { code: '410104002', name: '西大街街道', level: 'street', parentCode: '410104' },
        // Overlapping communities: the union counts the overlap once.
        { code: '410104002001', name: '甲社区', level: 'community', parentCode: '410104002', boundary: square(113.72, 34.7, 0.01) },
        { code: '410104002002', name: '乙社区', level: 'community', parentCode: '410104002', boundary: square(113.725, 34.7, 0.01) },
        // A community under a stored street: hidden by its street's own boundary.
        { code: '410104001001', name: '丙社区', level: 'community', parentCode: '410104001', boundary: square(113.9, 34.9, 0.01) },
        { code: '410104003', name: '空街道', level: 'street', parentCode: '410104' },
      ]) {
        const res = await post(body);
        expect(res.statusCode, JSON.stringify(res.json())).toBe(201);
      }
    });

    const area = async (expr: ReturnType<typeof sql>): Promise<number> => {
      const { rows } = await sql<{ a: number }>`SELECT ST_Area((${expr})::geography) AS a`.execute(t.tdb.db);
      return rows[0]?.a ?? NaN;
    };

    it('derives a street from its communities', async () => {
      const d = (await get('/api/v1/divisions/410104002')).json<DivisionDetail>();
      expect(d.boundarySource).toBe('derived');
      expect(d.boundary?.type).toBe('MultiPolygon');
      const expected = await area(sql`SELECT ST_Union(geom) FROM divisions WHERE parent_code = '410104002'`);
      expect(d.areaM2).toBeCloseTo(expected, 0);
      // The derived shape is the union itself, not just of the same area.
      const { rows } = await sql<{ same: boolean }>`
        SELECT ST_Equals(ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(d.boundary)}), 4326),
                         (SELECT ST_Union(geom) FROM divisions WHERE parent_code = '410104002')) AS same`.execute(t.tdb.db);
      expect(rows[0]?.same).toBe(true);
    });

    it('derives a district recursively: stored streets as they are, the others from their communities', async () => {
      const d = (await get('/api/v1/divisions/410104')).json<DivisionDetail>();
      expect(d.boundarySource).toBe('derived');
      const expected = await area(sql`
        SELECT ST_Union(geom) FROM divisions WHERE code = '410104001' OR parent_code = '410104002'`);
      expect(d.areaM2).toBeCloseTo(expected, 0);
      // 丙社区 lies outside its stored street and is not part of the district's derived boundary.
      const withHidden = await area(sql`SELECT ST_Union(geom) FROM divisions WHERE code IN ('410104001', '410104001001') OR parent_code = '410104002'`);
      expect(withHidden).toBeGreaterThan(expected + 1000);
    });

    it('reports none and hasBoundary false where nothing can be derived', async () => {
      const d = (await get('/api/v1/divisions/410104003')).json<DivisionDetail>();
      expect(d).toMatchObject({ boundarySource: 'none', boundary: null, areaM2: null, hasBoundary: false });
      const list = (await get('/api/v1/divisions?parent=410104')).json<DivisionList>();
      expect(list.items.map((i) => [i.code, i.hasBoundary, i.childCount])).toEqual([
        ['410104001', true, 1],
        ['410104002', true, 2],
        ['410104003', false, 0],
      ]);
    });

    it('follows a cleared boundary down to the children', async () => {
      expect((await patch('410104001', { boundary: null })).statusCode).toBe(200);
      const d = (await get('/api/v1/divisions/410104001')).json<DivisionDetail>();
      expect(d.boundarySource).toBe('derived');
      expect(d.areaM2).toBeCloseTo(await area(sql`SELECT geom FROM divisions WHERE code = '410104001001'`), 0);
    });
  });
});
