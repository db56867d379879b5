/**
 * Buildings over HTTP: the write flow they share with organisations (placed-record.service.ts) — scope,
 * If-Match, re-placing on edit with the grid carried to households, soft delete that households block.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { residentIdCheckDigit } from './resident-id';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, newDivisions, newGrid, newLayout, rect } from '../../test/factories';

let t: TestApp;
const G1 = `${COMMUNITY}001`;
const G2 = `${COMMUNITY}002`;
const MID = 113.602;

const json = (res: { body: string }): Record<string, unknown> => JSON.parse(res.body) as Record<string, unknown>;
const errorOf = (res: { body: string }): { code: string; message: string; details?: unknown } => (json(res) as { error: { code: string; message: string; details?: unknown } }).error;

beforeAll(async () => {
  t = await createTestApp();
  await newDivisions(t.tdb.db);
  const layoutId = await newLayout(t.tdb.db, { status: 'published' });
  await newGrid(t.tdb.db, layoutId, rect(113.6, 34.75, MID, 34.753), { code: G1 });
  await newGrid(t.tdb.db, layoutId, rect(MID, 34.75, 113.604, 34.753), { code: G2 });
});
afterAll(async () => t.close());

describe('buildings', () => {
  it('places a new building in its community and grid, numbers it, and finds it by text and box', async () => {
    const created = await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { name: '100%_楼', address: '幸福路1号', geometry: rect(113.6005, 34.7505, 113.6008, 34.7508) } });
    expect(created.statusCode).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    const b = json(created);
    expect(b).toMatchObject({ code: '00001', gridCode: G1, communityCode: COMMUNITY, version: 1, deletedAt: null });
    expect(created.headers.location).toBe(`/api/v1/buildings/${b.id as number}`);
    expect(json(await t.inject(`/api/v1/buildings?q=${encodeURIComponent('100%_')}`)).items).toHaveLength(1);
    expect(json(await t.inject(`/api/v1/buildings?q=${encodeURIComponent('10_%')}`)).items).toHaveLength(0);
    expect(json(await t.inject(`/api/v1/buildings?grid=${G2}`)).items).toHaveLength(0);
    expect(json(await t.inject('/api/v1/buildings?bbox=113.6,34.75,113.601,34.751')).items).toHaveLength(1);
    expect(json(await t.inject('/api/v1/buildings?bbox=113.61,34.75,113.62,34.751')).items).toHaveLength(0);
    const bad = await t.inject('/api/v1/buildings?bbox=113.62,34.75,113.61,34.751');
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad).code).toBe('VALIDATION_FAILED');
    const outside = await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { geometry: rect(113.6025, 34.7505, 113.6028, 34.7508) }, as: await t.userWith({ roles: ['community_manager'], scope: [G1] }) });
    expect(outside.statusCode).toBe(403);
    const second = json(await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { geometry: rect(113.6025, 34.7505, 113.6028, 34.7508) } }));
    expect(second).toMatchObject({ code: '00002', gridCode: G2 });
  });

  it('re-places an edited building under If-Match and carries its new grid to its households', async () => {
    const b = json(await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { name: '搬家楼', geometry: rect(113.6010, 34.7510, 113.6013, 34.7513) } }));
    const id = b.id as number;
    const h = json(await t.inject({ method: 'POST', url: '/api/v1/households', payload: { buildingId: id, unit: '1', room: '101' } }));
    const body = { name: '搬家楼', geometry: rect(113.6030, 34.7510, 113.6033, 34.7513) };
    expect((await t.inject({ method: 'PUT', url: `/api/v1/buildings/${id}`, payload: body })).statusCode).toBe(428);
    const stale = await t.inject({ method: 'PUT', url: `/api/v1/buildings/${id}`, headers: { 'if-match': '"7"' }, payload: body });
    expect(stale.statusCode).toBe(412);
    expect(errorOf(stale)).toMatchObject({ code: 'VERSION_CONFLICT', details: { current: 1 } });
    const moved = await t.inject({ method: 'PUT', url: `/api/v1/buildings/${id}`, headers: { 'if-match': '"1"' }, payload: body });
    expect(moved.statusCode).toBe(200);
    expect(moved.headers.etag).toBe('"2"');
    expect(json(moved)).toMatchObject({ gridCode: G2, communityCode: COMMUNITY, code: b.code, version: 2 });
    const { rows } = await sql<{ grid_code: string }>`SELECT grid_code FROM households WHERE id = ${h.id}`.execute(t.tdb.db);
    expect(rows[0]?.grid_code).toBe(G2);
    const missing = await t.inject({ method: 'PUT', url: '/api/v1/buildings/999999', headers: { 'if-match': '"1"' }, payload: body });
    expect(missing.statusCode).toBe(404);
    expect(errorOf(missing)).toMatchObject({ code: 'NOT_FOUND', details: { buildingId: 999999 } });
  });

  it('records the move of its residents to the new grid in their history, so the monthly report by grid follows them', async () => {
    const b = json(await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { name: '换格楼', geometry: rect(113.6014, 34.7510, 113.6017, 34.7513) } }));
    const h = json(await t.inject({ method: 'POST', url: '/api/v1/households', payload: { buildingId: b.id, unit: '1', room: '101' } }));
    const first17 = '41010519800101001';
    const r = await t.inject({ method: 'POST', url: '/api/v1/residents', payload: { householdId: h.id, name: '住户', gender: 'M', birthDate: '1980-01-01', idNumber: first17 + residentIdCheckDigit(first17), registration: 'registered' } });
    expect(r.statusCode, r.body).toBe(201);
    const month = new Date().toISOString().slice(0, 7);
    const residentsIn = async (grid: string): Promise<number> => json(await t.inject(`/api/v1/registry/monthly?month=${month}&scope=${grid}`)).residents as number;
    const [g1, g2] = [await residentsIn(G1), await residentsIn(G2)];
    const moved = await t.inject({ method: 'PUT', url: `/api/v1/buildings/${String(b.id)}`, headers: { 'if-match': '"1"' }, payload: { name: '换格楼', geometry: rect(113.6034, 34.7510, 113.6037, 34.7513) } });
    expect(json(moved)).toMatchObject({ gridCode: G2 });
    expect(json(await t.inject(`/api/v1/residents/${String(json(r).id)}`))).toMatchObject({ gridCode: G2 });
    expect([await residentsIn(G1), await residentsIn(G2)]).toEqual([g1 - 1, g2 + 1]);
    const { rows } = await sql<{ change: string; grid_code: string }>`SELECT change, grid_code FROM resident_history WHERE resident_id = ${json(r).id} ORDER BY id`.execute(t.tdb.db);
    expect(rows).toEqual([{ change: 'registered', grid_code: G1 }, { change: 'regrid', grid_code: G2 }]);
  });

  it('takes If-Match: * and lists of ETags (RFC 9110 §13.1.1) on edit and delete', async () => {
    const b = json(await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { name: '通配楼', geometry: rect(113.6010, 34.7520, 113.6013, 34.7523) } }));
    const id = b.id as number;
    const put = (etag: string) => t.inject({ method: 'PUT', url: `/api/v1/buildings/${id}`, headers: { 'if-match': etag }, payload: { name: `通配楼 ${etag}`, geometry: rect(113.6010, 34.7520, 113.6013, 34.7523) } });
    const any = await put('*');
    expect(any.statusCode, any.body).toBe(200);
    expect(any.headers.etag).toBe('"2"');
    const listed = await put('"1", "2"');
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.headers.etag).toBe('"3"');
    const stale = await put('"1", "2"');
    expect(stale.statusCode).toBe(412);
    expect(errorOf(stale)).toMatchObject({ code: 'VERSION_CONFLICT', details: { current: 3 } });
    expect((await t.inject({ method: 'PUT', url: '/api/v1/buildings/999999', headers: { 'if-match': '*' }, payload: { geometry: rect(113.6010, 34.7520, 113.6013, 34.7523) } })).statusCode).toBe(404);
    const del = (etag: string) => t.inject({ method: 'DELETE', url: `/api/v1/buildings/${id}`, headers: { 'if-match': etag }, payload: { reason: '测试' } });
    expect((await del('"1", "2"')).statusCode).toBe(412);
    expect((await del('W/"9", "3"')).statusCode).toBe(204);
  });

  it('a grid worker cannot move a building of their grid into another grid (its households would leave with it)', async () => {
    const b = json(await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { name: '越界楼', geometry: rect(113.6004, 34.7526, 113.6006, 34.7528) } }));
    expect(b.gridCode).toBe(G1);
    const worker = await t.userWith({ roles: ['grid_worker'], scope: [G1] });
    const moved = await t.inject({ method: 'PUT', url: `/api/v1/buildings/${b.id as number}`, headers: { 'if-match': '"1"' }, payload: { name: '越界楼', geometry: rect(113.6034, 34.7526, 113.6036, 34.7528) }, as: worker });
    expect(moved.statusCode, moved.body).toBe(403);
    expect(errorOf(moved)).toMatchObject({ code: 'FORBIDDEN', details: { in: 'body', field: 'geometry', gridCode: G2 } });
    expect(json(await t.inject(`/api/v1/buildings/${b.id as number}`))).toMatchObject({ gridCode: G1, version: 1 });
    // Within the grid it may still be redrawn.
    const redrawn = await t.inject({ method: 'PUT', url: `/api/v1/buildings/${b.id as number}`, headers: { 'if-match': '"1"' }, payload: { name: '越界楼', geometry: rect(113.6004, 34.7526, 113.6007, 34.7528) }, as: worker });
    expect(redrawn.statusCode, redrawn.body).toBe(200);
  });

  it('soft-deletes only an empty building in scope at the stated version, once', async () => {
    const b = json(await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { name: '拆迁楼', geometry: rect(113.6026, 34.7520, 113.6029, 34.7523) } }));
    const id = b.id as number;
    const h = json(await t.inject({ method: 'POST', url: '/api/v1/households', payload: { buildingId: id, unit: '2', room: '202' } }));
    const del = (over: Record<string, unknown> = {}) => t.inject({ method: 'DELETE', url: `/api/v1/buildings/${id}`, payload: { reason: '拆除重建' }, ...over });
    const occupied = await del();
    expect(occupied.statusCode).toBe(409);
    expect(errorOf(occupied)).toMatchObject({ code: 'CONFLICT', details: { buildingId: id } });
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/households/${h.id as number}`, payload: { reason: '整户迁出' } })).statusCode).toBe(204);
    expect((await del({ as: await t.userWith({ roles: ['community_manager'], scope: [G1] }) })).statusCode).toBe(403);
    const stale = await del({ headers: { 'if-match': '"3"' } });
    expect(stale.statusCode).toBe(412);
    expect(errorOf(stale)).toMatchObject({ code: 'VERSION_CONFLICT', details: { current: 1 } });
    expect((await del({ headers: { 'if-match': '"1"' } })).statusCode).toBe(204);
    expect((await del()).statusCode).toBe(204);
    const gone = json(await t.inject(`/api/v1/buildings/${id}`));
    expect(gone).toMatchObject({ version: 2 });
    expect(gone.deletedAt).toEqual(expect.any(String));
    // A deleted building is not edited (as organisations): 409, nothing changes.
    const edit = await t.inject({ method: 'PUT', url: `/api/v1/buildings/${id}`, headers: { 'if-match': '*' }, payload: { name: '改建楼', geometry: rect(113.6006, 34.7520, 113.6009, 34.7523) } });
    expect(edit.statusCode).toBe(409);
    expect(errorOf(edit)).toMatchObject({ code: 'CONFLICT', details: { in: 'params', field: 'id', buildingId: id } });
    expect(json(await t.inject(`/api/v1/buildings/${id}`))).toMatchObject({ name: '拆迁楼', gridCode: G2, version: 2 });
    const { rows } = await sql<{ deleted_reason: string }>`SELECT deleted_reason FROM buildings WHERE id = ${id}`.execute(t.tdb.db);
    expect(rows[0]?.deleted_reason).toBe('拆除重建');
    expect((json(await t.inject(`/api/v1/buildings?grid=${G2}`)).items as { id: number }[]).map((x) => x.id)).not.toContain(id);
    expect((json(await t.inject(`/api/v1/buildings?grid=${G2}&includeDeleted=true`)).items as { id: number }[]).map((x) => x.id)).toContain(id);
  });
});

describe('malformed input (found by server/http/bad-input.db.test.ts)', () => {
  const count = async (table: 'buildings' | 'organisations' | 'households' | 'data_versions'): Promise<number> =>
    (await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(t.tdb.db)).rows[0]?.n ?? 0;

  it('refuses an unclosed ring with where it is, for a Polygon and a MultiPolygon (was a 500)', async () => {
    const before = await count('buildings');
    const ring = [[113.6005, 34.7505], [113.6008, 34.7505], [113.6008, 34.7508], [113.6005, 34.7508]];
    for (const geometry of [{ type: 'Polygon', coordinates: [ring] }, { type: 'MultiPolygon', coordinates: [[ring]] }]) {
      const res = await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { name: '未闭合', geometry } });
      expect(res.statusCode, geometry.type).toBe(422);
      expect(errorOf(res)).toMatchObject({ code: 'GEOMETRY_INVALID', details: { in: 'body', field: 'geometry', reason: 'RING_NOT_CLOSED' } });
    }
    const org = await t.inject({ method: 'POST', url: '/api/v1/organisations', payload: { name: '未闭合', kind: 'shop', geometry: { type: 'MultiPolygon', coordinates: [[ring]] } } });
    expect(org.statusCode).toBe(422);
    expect(errorOf(org).code).toBe('GEOMETRY_INVALID');
    expect(await count('buildings')).toBe(before);
  });

  it('takes positions with an altitude (GeoJSON allows them) and stores the footprint in 2D (were 500s)', async () => {
    const z = (ring: number[][]) => ring.map(([x, y]) => [x, y, 12.5]);
    const ring = [[113.6015, 34.7525], [113.6018, 34.7525], [113.6018, 34.7528], [113.6015, 34.7528], [113.6015, 34.7525]];
    const building = await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { name: '高程楼', geometry: { type: 'Polygon', coordinates: [z(ring)] } } });
    expect(building.statusCode, building.body).toBe(201);
    expect(json(building).geometry).toEqual({ type: 'Polygon', coordinates: [ring] });
    const moved = await t.inject({ method: 'PUT', url: `/api/v1/buildings/${json(building).id as number}`, headers: { 'if-match': '"1"' }, payload: { name: '高程楼', geometry: { type: 'Point', coordinates: [113.6016, 34.7526, 3] } } });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(json(moved).geometry).toEqual({ type: 'Point', coordinates: [113.6016, 34.7526] });
    const org = await t.inject({ method: 'POST', url: '/api/v1/organisations', payload: { name: '高程店', kind: 'shop', geometry: { type: 'Point', coordinates: [113.6016, 34.7526, 3] } } });
    expect(org.statusCode, org.body).toBe(201);
    expect(json(org).geometry).toEqual({ type: 'Point', coordinates: [113.6016, 34.7526] });
    const edited = await t.inject({ method: 'PUT', url: `/api/v1/organisations/${json(org).id as number}`, headers: { 'if-match': '"1"' }, payload: { name: '高程店', kind: 'shop', geometry: { type: 'MultiPolygon', coordinates: [[z(ring)]] } } });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(json(edited).geometry).toEqual({ type: 'MultiPolygon', coordinates: [[ring]] });
  });

  it('refuses impossible dates (2026-02-30, month 13) that match the YYYY-MM-DD pattern (were 500s)', async () => {
    const before = await count('organisations');
    for (const openedOn of ['2026-02-30', '2026-13-01']) {
      const res = await t.inject({ method: 'POST', url: '/api/v1/organisations', payload: { name: '日期', kind: 'shop', openedOn, geometry: { type: 'Point', coordinates: [113.6005, 34.7505] } } });
      expect(res.statusCode, openedOn).toBe(400);
      expect(errorOf(res)).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'body' } });
    }
    expect(await count('organisations')).toBe(before);
    const members = await t.inject('/api/v1/grids/1/members?on=2026-02-30');
    expect([members.statusCode, errorOf(members).code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('refuses ids and cursors past the id columns (Infinity, 1e30, 2^63 were 500s)', async () => {
    for (const url of ['/api/v1/buildings?after=Infinity', '/api/v1/buildings?gridId=1000000000000000000000000000000', '/api/v1/households?building=Infinity', '/api/v1/grids/1/members/9223372036854775808', '/api/v1/grids/1/roster/exceptions/Infinity']) {
      const res = await t.inject({ method: url.includes('/members/') || url.includes('/exceptions/') ? 'DELETE' : 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(errorOf(res).code, url).toBe('VALIDATION_FAILED');
    }
    const huge = await t.inject({ method: 'POST', url: '/api/v1/households', payload: { buildingId: 9e16, unit: '1', room: '1' } });
    expect(huge.statusCode).toBe(400);
  });

  it('refuses text with NUL (PostgreSQL cannot store it; was a 500, or silently dropped on an update)', async () => {
    const res = await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { name: 'a\u0000b', geometry: rect(113.6005, 34.7505, 113.6008, 34.7508) } });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'body', problems: [{ path: '/name', keyword: 'nul' }] } });
    const search = await t.inject('/api/v1/buildings?q=a%00b');
    expect(search.statusCode).toBe(400);
    expect(errorOf(search)).toMatchObject({ details: { in: 'querystring', problems: [{ path: '/q' }] } });
  });

  it('refuses an empty import file and a collection whose "features" is no array (were 200s that bumped data versions)', async () => {
    const versions = await sql<{ v: string }>`SELECT md5(string_agg(d::text, '|' ORDER BY d::text)) AS v FROM data_versions d`.execute(t.tdb.db);
    const empty = await t.inject({ method: 'POST', url: '/api/v1/registry/import?entity=buildings', headers: { 'content-type': 'text/csv' }, payload: '' });
    expect(empty.statusCode).toBe(422);
    expect(errorOf(empty)).toMatchObject({ code: 'IMPORT_FAILED', details: { in: 'body', rows: 0 } });
    const noArray = await t.inject({ method: 'POST', url: '/api/v1/registry/import?entity=buildings', headers: { 'content-type': 'application/geo+json' }, payload: '{"type":"FeatureCollection","features":"no"}' });
    expect(noArray.statusCode).toBe(422);
    expect(errorOf(noArray).code).toBe('IMPORT_FAILED');
    const after = await sql<{ v: string }>`SELECT md5(string_agg(d::text, '|' ORDER BY d::text)) AS v FROM data_versions d`.execute(t.tdb.db);
    expect(after.rows[0]?.v).toBe(versions.rows[0]?.v);
  });
});
