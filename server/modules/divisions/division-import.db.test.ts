import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../../contracts/common';
import type { DivisionDetail, DivisionList, ImportProblem, ImportResult } from '../../contracts/division';
import { PROJECT_ROOT } from '../../config';
import { createTestApp, type TestApp } from '../../test/app';

const REAL_CSV = path.resolve(PROJECT_ROOT, '../shared/data/real/zhengzhou_townships_streets_list_areacity.csv');
const REAL_BOUNDARIES = path.resolve(PROJECT_ROOT, '../shared/data/real/zhengzhou_districts_datav_wgs84.geojson');

function square(minLng: number, minLat: number, size: number): { type: 'Polygon'; coordinates: number[][][] } {
  return {
    type: 'Polygon',
    coordinates: [[[minLng, minLat], [minLng + size, minLat], [minLng + size, minLat + size], [minLng, minLat + size], [minLng, minLat]]],
  };
}

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const snapshot = async (): Promise<unknown[]> =>
  (await sql`SELECT code, name, level, parent_code, ST_AsEWKT(geom) AS geom, updated_at FROM divisions ORDER BY code`.execute(t.tdb.db)).rows;
const importBody = (body: object) => t.inject({ method: 'POST', url: '/api/v1/divisions/import', payload: body });
const get = (url: string) => t.inject({ method: 'GET', url });
const clear = async (): Promise<void> => {
  await sql`DELETE FROM divisions WHERE level = 'community'`.execute(t.tdb.db);
  await sql`DELETE FROM divisions WHERE level = 'street'`.execute(t.tdb.db);
  await sql`DELETE FROM divisions`.execute(t.tdb.db);
};

// Children before parents, mixed-case header, quoted fields with commas, quotes and a line break.
const CSV = [
  'Code,NAME,Level,Parent_Code',
  '410102001001,"桐柏路社区, 一区",community,410102001',
  '410102001,林山寨街道,street,410102',
  '410102002,"建设路""街道""",STREET,',
  '410102,中原区,district,',
  '410103,"二七\n区",区,',
].join('\r\n');

describe('CSV import', () => {
  beforeAll(clear);

  it('imports rows in any order, parsing quoted fields', async () => {
    const res = await importBody({ format: 'csv', content: CSV });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<ImportResult>()).toEqual({ created: 5, updated: 0, unchanged: 0, skipped: 0, errors: [], notes: [] });
    const community = (await get('/api/v1/divisions/410102001001')).json<DivisionDetail>();
    expect(community.name).toBe('桐柏路社区, 一区');
    expect(community.ancestors.map((a) => a.name)).toEqual(['中原区', '林山寨街道']);
    // Empty parent_code: implied by the code.
    expect((await get('/api/v1/divisions/410102002')).json<DivisionDetail>()).toMatchObject({ name: '建设路"街道"', parentCode: '410102' });
    expect((await get('/api/v1/divisions/410103')).json<DivisionDetail>().name).toBe('二七\n区');
  });

  it('changes nothing when the same file comes again', async () => {
    const before = await snapshot();
    const res = await importBody({ format: 'csv', content: CSV });
    expect(res.json<ImportResult>()).toMatchObject({ created: 0, updated: 0, unchanged: 5, skipped: 0 });
    expect(await snapshot()).toEqual(before);
  });

  it('updates a renamed row and only that one', async () => {
    const res = await importBody({ format: 'csv', content: CSV.replace('林山寨街道', '林山寨街道办事处') });
    expect(res.json<ImportResult>()).toMatchObject({ created: 0, updated: 1, unchanged: 4 });
    expect((await get('/api/v1/divisions/410102001')).json<DivisionDetail>().name).toBe('林山寨街道办事处');
    await importBody({ format: 'csv', content: CSV });
  });

  const BAD = [
    'code,name,level,parent_code',
    '410104,管城回族区,district,',
    '410104001,北下街街道,street,410104',
    '41010500,金水区,district,', // line 4: code format
    '410105001,经八路街道,street,410105', // line 5: parent rejected above
    '410104002,"西大街街道",street,410102', // line 6: not under its parent
    '410104003,,street,410104', // line 7: empty name
    '410104004,x,town hall,410104', // line 8: unknown level
    '410104001,北下街街道,street,410104', // line 9: duplicate
    '410104005,only,two', // line 10: field count
  ].join('\n');

  it('all-or-nothing: one bad row rolls everything back and every problem is listed', async () => {
    const before = await snapshot();
    const res = await importBody({ format: 'csv', content: BAD });
    expect(res.statusCode).toBe(422);
    const err = res.json<ErrorResponse>().error;
    expect(err.code).toBe('IMPORT_FAILED');
    const errors = (err.details as { errors: ImportProblem[] }).errors;
    expect(errors.map((e) => [e.line, e.reason]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [4, 'CODE_FORMAT'],
      [5, 'PARENT_NOT_FOUND'],
      [6, 'CODE_NOT_UNDER_PARENT'],
      [7, 'NAME_EMPTY'],
      [8, 'LEVEL_UNKNOWN'],
      [9, 'DUPLICATE_CODE'],
      [10, 'FIELD_COUNT'],
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it('skip-bad-rows: imports the good rows and reports the bad', async () => {
    const res = await importBody({ format: 'csv', content: BAD, mode: 'skip-bad-rows' });
    expect(res.statusCode).toBe(200);
    const result = res.json<ImportResult>();
    expect(result).toMatchObject({ created: 2, updated: 0, unchanged: 0, skipped: 7 });
    expect(result.errors).toHaveLength(7);
    const list = (await get('/api/v1/divisions?parent=410104')).json<DivisionList>();
    expect(list.items.map((d) => d.code)).toEqual(['410104001']);
    expect((await get('/api/v1/divisions/410105')).statusCode).toBe(404);
  });

  it('refuses a file it cannot read at all, whatever the mode', async () => {
    const before = await snapshot();
    for (const content of ['', 'id,label\n1,x', 'code,name\n410106,"open']) {
      const res = await importBody({ format: 'csv', content, mode: 'skip-bad-rows' });
      expect(res.statusCode, content).toBe(422);
      expect(res.json<ErrorResponse>().error.code).toBe('IMPORT_FAILED');
    }
    expect((await importBody({ format: 'xlsx', content: '' })).statusCode).toBe(400);
    expect(await snapshot()).toEqual(before);
  });
});

describe('GeoJSON boundary import', () => {
  beforeAll(async () => {
    await clear();
    const res = await importBody({ format: 'csv', content: CSV });
    expect(res.statusCode).toBe(200);
  });

  const collection = {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', properties: { code: '410102001' }, geometry: square(113.6, 34.7, 0.01) },
      { type: 'Feature', properties: { code: 410102002 }, geometry: square(113.61, 34.7, 0.01) },
      // Creates a missing community from its properties.
      { type: 'Feature', properties: { code: '410102002001', name: '新社区', level: 'community', parent_code: '410102002' }, geometry: square(113.61, 34.7, 0.005) },
    ],
  };

  it('sets boundaries by code and creates a missing division from its properties', async () => {
    const res = await importBody({ format: 'geojson', content: collection });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<ImportResult>()).toMatchObject({ created: 1, updated: 2, unchanged: 0, errors: [] });
    const district = (await get('/api/v1/divisions/410102')).json<DivisionDetail>();
    expect(district.boundarySource).toBe('derived');
    const { rows } = await sql<{ a: number }>`SELECT ST_Area(ST_Union(geom)::geography) AS a FROM divisions WHERE parent_code = '410102'`.execute(t.tdb.db);
    expect(district.areaM2).toBeCloseTo(rows[0]?.a ?? NaN, 0);
  });

  it('changes nothing when the same collection comes again', async () => {
    const before = await snapshot();
    const res = await importBody({ format: 'geojson', content: collection });
    expect(res.json<ImportResult>()).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
    expect(await snapshot()).toEqual(before);
  });

  it('reports bad features by index, with the location of an invalid geometry', async () => {
    const before = await snapshot();
    const bad = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { code: '410103' }, geometry: square(113.5, 34.6, 0.05) },
        { type: 'Feature', properties: { code: '410102001' }, geometry: { type: 'Polygon', coordinates: [[[113.6, 34.7], [113.62, 34.72], [113.62, 34.7], [113.6, 34.72], [113.6, 34.7]]] } },
        { type: 'Feature', properties: { name: 'no code' }, geometry: square(113.5, 34.6, 0.05) },
        { type: 'Feature', properties: { code: '410199001' }, geometry: square(113.5, 34.6, 0.05) },
        { type: 'Feature', properties: { code: '410102003' }, geometry: square(113.5, 34.6, 0.05) },
        { type: 'Feature', properties: { code: '410102' }, geometry: { type: 'Point', coordinates: [113, 34] } },
        { type: 'Polygon', coordinates: [] },
      ],
    };
    const res = await importBody({ format: 'geojson', content: bad });
    expect(res.statusCode).toBe(422);
    const errors = (res.json<ErrorResponse>().error.details as { errors: ImportProblem[] }).errors;
    const byIndex = new Map(errors.map((e) => [e.featureIndex, e]));
    expect(byIndex.get(1)).toMatchObject({ reason: 'GEOMETRY_INVALID', location: [expect.closeTo(113.61, 9) as unknown, expect.closeTo(34.71, 9) as unknown] });
    expect(byIndex.get(2)?.reason).toBe('CODE_MISSING');
    expect(byIndex.get(3)?.reason).toBe('PARENT_NOT_FOUND');
    expect(byIndex.get(4)?.reason).toBe('NAME_REQUIRED');
    expect(byIndex.get(5)?.reason).toBe('GEOMETRY_SHAPE');
    expect(byIndex.get(6)?.reason).toBe('NOT_A_FEATURE');
    expect(byIndex.has(0)).toBe(false);
    expect(await snapshot()).toEqual(before);

    const skipping = await importBody({ format: 'geojson', content: bad, mode: 'skip-bad-rows' });
    expect(skipping.json<ImportResult>()).toMatchObject({ created: 0, updated: 1, skipped: 6 });
    expect((await get('/api/v1/divisions/410103')).json<DivisionDetail>().boundarySource).toBe('stored');
  });
});

describe.skipIf(!existsSync(REAL_CSV))(`the real Zhengzhou street list (skipped: ${REAL_CSV} is absent)`, () => {
  // Expected counts from the file itself (it has no quoted fields, so a plain split is exact).
  const rows = existsSync(REAL_CSV) ? readFileSync(REAL_CSV, 'utf8').trim().split(/\r?\n/).slice(1).map((l) => l.split(',')) : [];
  const districts = rows.filter((r) => r[2] === '2');
  const streets = rows.filter((r) => r[2] === '3');
  const streetsUnder = (id: string): number => streets.filter((r) => r[1] === id).length;

  beforeAll(clear);

  it('has the counts the data README promises', () => {
    expect(districts).toHaveLength(12);
    expect(streets).toHaveLength(181);
  });

  it('imports 12 districts and 181 streets, skipping the city with a note', async () => {
    const res = await importBody({ format: 'csv', content: readFileSync(REAL_CSV, 'utf8') });
    expect(res.statusCode, res.body).toBe(200);
    const result = res.json<ImportResult>();
    expect(result).toMatchObject({ created: districts.length + streets.length, updated: 0, unchanged: 0, skipped: 1, errors: [] });
    expect(result.notes).toEqual([expect.objectContaining({ line: 2, reason: 'LEVEL_NOT_MANAGED' })]);

    const { rows: counts } = await sql<{ level: string; n: number }>`SELECT level, count(*)::int AS n FROM divisions GROUP BY level ORDER BY level`.execute(t.tdb.db);
    expect(counts).toEqual([
      { level: 'district', n: 12 },
      { level: 'street', n: 181 },
    ]);

    const top = (await get('/api/v1/divisions')).json<DivisionList>();
    expect(top.items).toHaveLength(12);
    const zhongyuan = top.items.find((d) => d.code === '410102');
    expect(zhongyuan).toMatchObject({ name: '中原区', childCount: streetsUnder('410102'), hasBoundary: false });

    const linshanzhai = (await get('/api/v1/divisions/410102001')).json<DivisionDetail>();
    expect(linshanzhai).toMatchObject({ name: '林山寨街道', level: 'street', parentCode: '410102', boundarySource: 'none' });
    expect(linshanzhai.ancestors).toEqual([{ code: '410102', name: '中原区', level: 'district' }]);
    for (const d of districts) {
      const list = (await get(`/api/v1/divisions?parent=${d[0] ?? ''}`)).json<DivisionList>();
      expect(list.items.length, d[4]).toBe(streetsUnder(d[0] ?? ''));
    }
  });

  it('changes nothing on a second import', async () => {
    const before = await snapshot();
    const res = await importBody({ format: 'csv', content: readFileSync(REAL_CSV, 'utf8') });
    expect(res.json<ImportResult>()).toMatchObject({ created: 0, updated: 0, unchanged: 193, skipped: 1, errors: [] });
    expect(await snapshot()).toEqual(before);
  });

  it.skipIf(!existsSync(REAL_BOUNDARIES))('takes the DataV district boundaries (adcode) and derives nothing where stored', async () => {
    const content = JSON.parse(readFileSync(REAL_BOUNDARIES, 'utf8')) as { type: 'FeatureCollection'; features: unknown[] };
    const res = await importBody({ format: 'geojson', content });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<ImportResult>()).toMatchObject({ created: 0, updated: 12, errors: [] });
    const d = (await get('/api/v1/divisions/410102')).json<DivisionDetail>();
    expect(d.boundarySource).toBe('stored');
    // 中原区 is about 193 km².
    expect(d.areaM2).toBeGreaterThan(150e6);
    expect(d.areaM2).toBeLessThan(250e6);
    const again = await importBody({ format: 'geojson', content });
    expect(again.json<ImportResult>()).toMatchObject({ updated: 0, unchanged: 12 });
  });
});
