import { area as turfArea } from '@turf/turf';
import type { Polygon } from 'geojson';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EditResult, GridAtResult, GridFeature, GridWriteResult, MergeResult, SplitResult } from '../../contracts/grid';
import type { ErrorResponse } from '../../contracts/common';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, M_LON, countRows, lattice, newDivisions, newGrid, newLayout, rect } from '../../test/factories';

let t: TestApp;
let layoutId: number;

beforeAll(async () => {
  t = await createTestApp({ maxVertices: 200 });
  await newDivisions(t.tdb.db);
});
afterAll(async () => t.close());
beforeEach(async () => {
  await sql`DELETE FROM layouts`.execute(t.tdb.db);
  layoutId = await newLayout(t.tdb.db);
});

const feature = (geometry: unknown, properties: Record<string, unknown> = {}): Record<string, unknown> => ({ type: 'Feature', geometry, properties });
const errorCode = (body: unknown): string => (body as ErrorResponse).error.code;

async function post(url: string, payload: unknown): Promise<{ status: number; body: unknown; headers: Record<string, unknown> }> {
  const res = await t.inject({ method: 'POST', url, payload: payload as object });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

describe('creating grids', () => {
  it('stores a grid, computes its area in m² and flattens free attributes beside its own fields', async () => {
    const square = rect(113.6, 34.75, 113.601, 34.751);
    const res = await post(`/api/v1/layouts/${layoutId}/grids`, feature(square, { name: '第1网格', kind: 'general', 负责人: '张三', floors: 6 }));
    expect(res.status).toBe(201);
    const { grid } = res.body as GridWriteResult;
    expect(res.headers.etag).toBe('"1"');
    expect(grid.properties).toMatchObject({ name: '第1网格', kind: 'general', code: null, version: 1, layoutId, 负责人: '张三', floors: 6 });
    // PostGIS geography area vs turf's spherical area: same square, within 0.5 %.
    expect(grid.properties.areaM2).toBeCloseTo(turfArea(square), -1);
    expect(Math.abs(grid.properties.areaM2 - turfArea(square)) / turfArea(square)).toBeLessThan(0.005);
  });

  it('normalises a clockwise exterior ring to counter-clockwise (RFC 7946)', async () => {
    const cw: Polygon = { type: 'Polygon', coordinates: [[[113.6, 34.75], [113.6, 34.751], [113.601, 34.751], [113.601, 34.75], [113.6, 34.75]]] };
    const res = await post(`/api/v1/layouts/${layoutId}/grids`, feature(cw));
    const ring = ((res.body as GridWriteResult).grid.geometry.coordinates as number[][][])[0] ?? [];
    const signedArea = ring.slice(0, -1).reduce((s, p, i) => s + ((p[0] ?? 0) * ((ring[i + 1]?.[1] ?? 0)) - (ring[i + 1]?.[0] ?? 0) * (p[1] ?? 0)), 0);
    expect(signedArea).toBeGreaterThan(0);
  });

  it.each([
    ['a bow-tie', { type: 'Polygon', coordinates: [[[113.6, 34.75], [113.601, 34.751], [113.601, 34.75], [113.6, 34.751], [113.6, 34.75]]] }, 422, 'GEOMETRY_INVALID', /cross/i],
    ['an unclosed ring', { type: 'Polygon', coordinates: [[[113.6, 34.75], [113.601, 34.75], [113.601, 34.751], [113.6, 34.751]]] }, 422, 'GEOMETRY_INVALID', /close|first/i],
    ['a longitude of 181', rect(180.5, 34.75, 181, 34.751), 400, 'VALIDATION_FAILED', /Invalid body/],
    ['a point', { type: 'Point', coordinates: [113.6, 34.75] }, 400, 'VALIDATION_FAILED', /Invalid body/],
    ['a ring of three positions', { type: 'Polygon', coordinates: [[[113.6, 34.75], [113.601, 34.75], [113.6, 34.75]]] }, 400, 'VALIDATION_FAILED', /Invalid body/],
    ['a string coordinate', { type: 'Polygon', coordinates: [[['113.6', 34.75], [113.601, 34.75], [113.601, 34.751], ['113.6', 34.75]]] }, 400, 'VALIDATION_FAILED', /Invalid body/],
  ])('refuses %s with a clear code and changes nothing', async (_name, geometry, status, code, message) => {
    const res = await post(`/api/v1/layouts/${layoutId}/grids`, feature(geometry));
    expect(res.status).toBe(status);
    expect(errorCode(res.body)).toBe(code);
    expect((res.body as ErrorResponse).error.message).toMatch(message);
    expect(await countRows(t.tdb.db, 'grids')).toBe(0);
  });

  it('gives the location of a self-intersection', async () => {
    const bowtie = { type: 'Polygon', coordinates: [[[113.6, 34.75], [113.601, 34.751], [113.601, 34.75], [113.6, 34.751], [113.6, 34.75]]] };
    const res = await post(`/api/v1/layouts/${layoutId}/grids`, feature(bowtie));
    const details = (res.body as ErrorResponse).error.details as { reason: string; location: [number, number] };
    expect(details.reason).toBe('SELF_INTERSECTION');
    expect(details.location[0]).toBeCloseTo(113.6005, 6);
    expect(details.location[1]).toBeCloseTo(34.7505, 6);
  });

  it('repairs with fix=true and says what changed', async () => {
    const bowtie = { type: 'Polygon', coordinates: [[[113.6, 34.75], [113.601, 34.751], [113.601, 34.75], [113.6, 34.751], [113.6, 34.75]]] };
    const res = await post(`/api/v1/layouts/${layoutId}/grids?fix=true`, feature(bowtie));
    expect(res.status).toBe(201);
    const result = res.body as GridWriteResult;
    expect(result.repair).toMatchObject({ repaired: true, reason: expect.stringMatching(/Self-intersection/) as unknown, partsBefore: 1, partsAfter: 2 });
    expect(result.grid.geometry.type).toBe('MultiPolygon');
  });

  it('refuses more vertices than configured', async () => {
    const n = 300;
    const ring = Array.from({ length: n }, (_, i) => [113.6 + 0.001 * Math.cos((2 * Math.PI * i) / n), 34.75 + 0.001 * Math.sin((2 * Math.PI * i) / n)]);
    ring.push(ring[0] ?? []);
    const res = await post(`/api/v1/layouts/${layoutId}/grids`, feature({ type: 'Polygon', coordinates: [ring] }));
    expect(res.status).toBe(422);
    expect((res.body as ErrorResponse).error.details).toMatchObject({ reason: 'TOO_MANY_VERTICES' });
    expect((res.body as ErrorResponse).error.message).toMatch(/200/);
  });

  it('refuses a code of another community', async () => {
    const res = await post(`/api/v1/layouts/${layoutId}/grids`, feature(rect(113.6, 34.75, 113.601, 34.751), { code: '999999999999001' }));
    expect(res.status).toBe(422);
    expect(await countRows(t.tdb.db, 'grids')).toBe(0);
  });
});

describe('replacing grids with optimistic concurrency', () => {
  it('needs If-Match (428), refuses a stale version (412 with the current grid) and bumps the version', async () => {
    const id = await newGrid(t.tdb.db, layoutId, rect(113.6, 34.75, 113.601, 34.751), { code: `${COMMUNITY}001` });
    const body = feature(rect(113.6, 34.75, 113.6012, 34.751), { name: 'redrawn' });
    const missing = await t.inject({ method: 'PUT', url: `/api/v1/grids/${id}`, payload: body });
    expect(missing.statusCode).toBe(428);
    expect(errorCode(missing.json())).toBe('PRECONDITION_REQUIRED');

    const ok = await t.inject({ method: 'PUT', url: `/api/v1/grids/${id}`, payload: body, headers: { 'if-match': '"1"' } });
    expect(ok.statusCode).toBe(200);
    const grid = ok.json<GridWriteResult>().grid;
    expect(grid.properties).toMatchObject({ version: 2, name: 'redrawn', code: `${COMMUNITY}001` }); // a redraw keeps the code
    expect(ok.headers.etag).toBe('"2"');

    const stale = await t.inject({ method: 'PUT', url: `/api/v1/grids/${id}`, payload: feature(rect(113.6, 34.75, 113.6015, 34.751)), headers: { 'if-match': '"1"' } });
    expect(stale.statusCode).toBe(412);
    const err = stale.json<ErrorResponse>().error;
    expect(err.code).toBe('VERSION_CONFLICT');
    expect(err.details).toMatchObject({ currentVersion: 2, current: { properties: { name: 'redrawn' } } });
  });

  it('of two concurrent writers with the same version exactly one wins', async () => {
    const id = await newGrid(t.tdb.db, layoutId, rect(113.6, 34.75, 113.601, 34.751));
    const attempts = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        t.inject({ method: 'PUT', url: `/api/v1/grids/${id}`, payload: feature(rect(113.6, 34.75, 113.601 + i * 0.0001, 34.751), { name: `w${i}` }), headers: { 'if-match': '1' } }),
      ),
    );
    const statuses = attempts.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, 412, 412, 412]);
    const winner = attempts.find((r) => r.statusCode === 200)?.json<GridWriteResult>().grid.properties.name;
    const stored = (await t.inject(`/api/v1/grids/${id}`)).json<GridFeature>();
    expect(stored.properties).toMatchObject({ version: 2, name: winner });
  });

  it('deletes with a matching version, refuses a stale one', async () => {
    const id = await newGrid(t.tdb.db, layoutId, rect(113.6, 34.75, 113.601, 34.751));
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/grids/${id}`, headers: { 'if-match': '"7"' } })).statusCode).toBe(412);
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/grids/${id}`, headers: { 'if-match': '"1"' } })).statusCode).toBe(204);
    expect((await t.inject(`/api/v1/grids/${id}`)).statusCode).toBe(404);
  });

  it('takes If-Match: * and lists of ETags', async () => {
    const id = await newGrid(t.tdb.db, layoutId, rect(113.6, 34.75, 113.601, 34.751));
    const put = (etag: string) => t.inject({ method: 'PUT', url: `/api/v1/grids/${id}`, payload: feature(rect(113.6, 34.75, 113.6012, 34.751), { name: etag }), headers: { 'if-match': etag } });
    const any = await put('*');
    expect(any.statusCode, any.body).toBe(200);
    expect(any.headers.etag).toBe('"2"');
    expect((await put('"1", "2"')).statusCode).toBe(200);
    expect((await put('"1", "2"')).statusCode).toBe(412);
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/grids/${id}`, headers: { 'if-match': '"2", "3"' } })).statusCode).toBe(204);
  });
});

describe('editing operations', () => {
  it('splits by a line: the larger part keeps id and code, the smaller is new and uncoded, area is conserved', async () => {
    const id = await newGrid(t.tdb.db, layoutId, rect(113.6, 34.75, 113.604, 34.751), { code: `${COMMUNITY}004`, name: '甲' });
    const before = (await t.inject(`/api/v1/grids/${id}`)).json<GridFeature>().properties.areaM2;
    // a north–south cut at 30 % from the west
    const line = { type: 'LineString', coordinates: [[113.6012, 34.7495], [113.6012, 34.7515]] };
    const res = await post(`/api/v1/grids/${id}/split`, { line });
    expect(res.status).toBe(200);
    const { kept, created } = res.body as SplitResult;
    expect(kept.id).toBe(id);
    expect(kept.properties.code).toBe(`${COMMUNITY}004`);
    expect(kept.properties.version).toBe(2);
    expect(created).toHaveLength(1);
    expect(created[0]?.properties.code).toBeNull();
    expect(kept.properties.areaM2).toBeGreaterThan(created[0]?.properties.areaM2 ?? Infinity);
    expect(kept.properties.areaM2 + (created[0]?.properties.areaM2 ?? 0)).toBeCloseTo(before, 0);
  });

  it('refuses a line that does not cross the grid and leaves it as it was', async () => {
    const id = await newGrid(t.tdb.db, layoutId, rect(113.6, 34.75, 113.601, 34.751));
    const res = await post(`/api/v1/grids/${id}/split`, { line: { type: 'LineString', coordinates: [[113.6005, 34.7505], [113.6006, 34.7506]] } });
    expect(res.status).toBe(422);
    expect(errorCode(res.body)).toBe('SPLIT_FAILED');
    expect((await t.inject(`/api/v1/grids/${id}`)).json<GridFeature>().properties.version).toBe(1);
  });

  it('merges adjacent grids into one polygon kept by the largest, and refuses non-adjacent ones', async () => {
    const big = await newGrid(t.tdb.db, layoutId, rect(113.6, 34.75, 113.602, 34.751), { code: `${COMMUNITY}001` });
    const small = await newGrid(t.tdb.db, layoutId, rect(113.602, 34.75, 113.603, 34.751), { code: `${COMMUNITY}002` });
    const far = await newGrid(t.tdb.db, layoutId, rect(113.6035, 34.75, 113.604, 34.751));
    const refused = await post('/api/v1/grids/merge', { ids: [big, far] });
    expect(refused.status).toBe(422);
    expect(errorCode(refused.body)).toBe('GRIDS_NOT_ADJACENT');

    const res = await post('/api/v1/grids/merge', { ids: [small, big] });
    expect(res.status).toBe(200);
    const merged = res.body as MergeResult;
    expect(merged.grid.id).toBe(big);
    expect(merged.grid.properties.code).toBe(`${COMMUNITY}001`);
    expect(merged.grid.geometry.type).toBe('Polygon');
    expect(merged.removedIds).toEqual([small]);
    expect((await t.inject(`/api/v1/grids/${small}`)).statusCode).toBe(404);
  });

  it('snaps a vertex 0.5 m off the neighbour onto the neighbour\'s vertex exactly', async () => {
    const left = rect(113.6, 34.75, 113.601, 34.751);
    await newGrid(t.tdb.db, layoutId, left);
    const off = 0.5 * M_LON;
    const right: Polygon = { type: 'Polygon', coordinates: [[[113.601 + off, 34.75], [113.602, 34.75], [113.602, 34.751], [113.601 + off, 34.751], [113.601 + off, 34.75]]] };
    const id = await newGrid(t.tdb.db, layoutId, right);
    const res = await post(`/api/v1/grids/${id}/snap`, { toleranceM: 1 });
    expect(res.status).toBe(200);
    const result = res.body as EditResult;
    expect(result.changed).toBe(true);
    const xs = ((result.grid.geometry.coordinates as number[][][])[0] ?? []).map((p) => p[0]);
    expect(xs.filter((x) => x === 113.601)).toHaveLength(3); // two corners + closing position
    // and now the pair neither overlaps nor leaves a sliver
    const { rows } = await sql<{ a: number }>`SELECT ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS a FROM grids a, grids b WHERE a.id < b.id`.execute(t.tdb.db);
    expect(rows[0]?.a ?? 0).toBeLessThan(0.01);
  });

  it('clips a grid to the community boundary', async () => {
    const id = await newGrid(t.tdb.db, layoutId, rect(113.603, 34.752, 113.605, 34.754)); // sticks out to the north-east
    const res = await post(`/api/v1/grids/${id}/clip`, {});
    expect(res.status).toBe(200);
    const result = res.body as EditResult;
    expect(result.areaAfterM2).toBeLessThan(result.areaBeforeM2 / 3);
    const { rows } = await sql<{ inside: boolean }>`SELECT ST_CoveredBy(g.geom, d.geom) AS inside FROM grids g, divisions d WHERE g.id = ${id} AND d.code = ${COMMUNITY}`.execute(t.tdb.db);
    expect(rows[0]?.inside).toBe(true);
  });

  it('fills a gap into the neighbour sharing the longest edge', async () => {
    // [A][gap][B]: the gap is as tall as B but A covers only its upper half, so B shares the longer edge
    const a = await newGrid(t.tdb.db, layoutId, rect(113.6, 34.7505, 113.601, 34.751));
    const b = await newGrid(t.tdb.db, layoutId, rect(113.6012, 34.75, 113.602, 34.751));
    const gap = rect(113.601, 34.75, 113.6012, 34.751);
    const res = await post(`/api/v1/layouts/${layoutId}/fill-gap`, { gap });
    expect(res.status).toBe(200);
    const result = res.body as EditResult;
    expect(result.grid.id).toBe(b);
    expect(result.areaAfterM2).toBeGreaterThan(result.areaBeforeM2);
    expect(result.grid.geometry.type).toBe('Polygon');
    expect((await t.inject(`/api/v1/grids/${a}`)).json<GridFeature>().properties.version).toBe(1);
    // the same area again is no gap any more
    const again = await post(`/api/v1/layouts/${layoutId}/fill-gap`, { gap });
    expect(errorCode(again.body)).toBe('GAP_NOT_FOUND');
  });

  it('refuses a self-intersecting gap with where it crosses, before GEOS fails on it (was a 500)', async () => {
    const b = await newGrid(t.tdb.db, layoutId, rect(113.6012, 34.75, 113.602, 34.751));
    const bowTie = { type: 'Polygon', coordinates: [[[113.601, 34.75], [113.6012, 34.751], [113.6012, 34.75], [113.601, 34.751], [113.601, 34.75]]] };
    const res = await post(`/api/v1/layouts/${layoutId}/fill-gap`, { gap: bowTie, gridId: b });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { code: 'GEOMETRY_INVALID', details: { in: 'body', field: 'gap', reason: 'SELF_INTERSECTION' } } });
    expect((await t.inject(`/api/v1/grids/${b}`)).json<GridFeature>().properties.version).toBe(1);
    // a grid id past the column's range is a schema failure, not a database error
    const huge = await post(`/api/v1/layouts/${layoutId}/fill-gap`, { gap: rect(113.601, 34.75, 113.6012, 34.751), gridId: 9e16 });
    expect([huge.status, errorCode(huge.body)]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('refuses a layout filter past the id range (Infinity and 1e30 were 500s)', async () => {
    for (const layout of ['Infinity', '1000000000000000000000000000000']) {
      const res = await t.inject(`/api/v1/grids?layout=${layout}`);
      expect([res.statusCode, errorCode(res.json())], layout).toEqual([400, 'VALIDATION_FAILED']);
    }
  });
});

describe('published layouts are read-only', () => {
  it('refuses every write to a grid of a published layout with LAYOUT_PUBLISHED', async () => {
    const published = await newLayout(t.tdb.db, { status: 'published' });
    const id = await newGrid(t.tdb.db, published, rect(113.6, 34.75, 113.601, 34.751));
    const attempts = [
      await post(`/api/v1/layouts/${published}/grids`, feature(rect(113.602, 34.75, 113.603, 34.751))),
      await t.inject({ method: 'PUT', url: `/api/v1/grids/${id}`, payload: feature(rect(113.6, 34.75, 113.6011, 34.751)), headers: { 'if-match': '1' } }).then((r) => ({ status: r.statusCode, body: r.json<unknown>() })),
      await t.inject({ method: 'DELETE', url: `/api/v1/grids/${id}` }).then((r) => ({ status: r.statusCode, body: r.json<unknown>() })),
      await post(`/api/v1/grids/${id}/clip`, {}),
      await post(`/api/v1/grids/${id}/split`, { line: { type: 'LineString', coordinates: [[113.6005, 34.7], [113.6005, 34.8]] } }),
    ];
    for (const attempt of attempts) {
      expect(attempt.status).toBe(409);
      expect(errorCode(attempt.body)).toBe('LAYOUT_PUBLISHED');
    }
    expect((await t.inject(`/api/v1/grids/${id}`)).json<GridFeature>().properties.version).toBe(1);
  });
});

describe('which grid covered a point at an instant', () => {
  it('answers from the layout in force then, and flags shared edges as ambiguous with a deterministic pick', async () => {
    const old = await newLayout(t.tdb.db, { status: 'published', effectiveFrom: '2025-01-01T00:00:00Z' });
    await sql`UPDATE layouts SET status = 'archived', effective_to = '2026-01-01T00:00:00Z' WHERE id = ${old}`.execute(t.tdb.db);
    const current = await newLayout(t.tdb.db, { status: 'published', effectiveFrom: '2026-01-01T00:00:00Z' });
    await newGrid(t.tdb.db, old, rect(113.6, 34.75, 113.604, 34.753), { code: `${COMMUNITY}001` });
    const [w, e] = lattice(113.6, 34.75, 113.604, 34.753, 2, 1);
    await newGrid(t.tdb.db, current, w ?? rect(0, 0, 1, 1), { code: `${COMMUNITY}002` });
    await newGrid(t.tdb.db, current, e ?? rect(0, 0, 1, 1), { code: `${COMMUNITY}003` });

    const then = (await t.inject('/api/v1/grids/at?lon=113.603&lat=34.751&at=2025-06-01T00:00:00Z')).json<GridAtResult>();
    expect(then.grid?.properties.code).toBe(`${COMMUNITY}001`);
    const now = (await t.inject('/api/v1/grids/at?lon=113.603&lat=34.751')).json<GridAtResult>();
    expect(now.grid?.properties.code).toBe(`${COMMUNITY}003`);
    expect(now.ambiguous).toBe(false);
    const onEdge = (await t.inject('/api/v1/grids/at?lon=113.602&lat=34.751')).json<GridAtResult>();
    expect(onEdge.ambiguous).toBe(true);
    expect(onEdge.grid?.properties.code).toBe(`${COMMUNITY}002`);
    expect(onEdge.candidates.map((c) => c.code)).toEqual([`${COMMUNITY}002`, `${COMMUNITY}003`]);
    const before = (await t.inject('/api/v1/grids/at?lon=113.603&lat=34.751&at=2020-01-01T00:00:00Z')).json<GridAtResult>();
    expect(before.grid).toBeNull();
  });
});

describe('listing grids', () => {
  it('returns the published grids within a bbox as GeoJSON, and refuses a malformed bbox', async () => {
    const published = await newLayout(t.tdb.db, { status: 'published' });
    const [a, b] = lattice(113.6, 34.75, 113.604, 34.753, 2, 1);
    await newGrid(t.tdb.db, published, a ?? rect(0, 0, 1, 1), { code: `${COMMUNITY}001` });
    await newGrid(t.tdb.db, published, b ?? rect(0, 0, 1, 1), { code: `${COMMUNITY}002` });
    await newGrid(t.tdb.db, layoutId, rect(113.6, 34.75, 113.601, 34.751)); // a draft grid: not listed by default
    const all = (await t.inject('/api/v1/grids')).json<{ features: GridFeature[]; truncated: boolean }>();
    expect(all.features.map((f) => f.properties.code)).toEqual([`${COMMUNITY}001`, `${COMMUNITY}002`]);
    const west = (await t.inject('/api/v1/grids?bbox=113.5999,34.7505,113.6005,34.751')).json<{ features: GridFeature[] }>();
    expect(west.features.map((f) => f.properties.code)).toEqual([`${COMMUNITY}001`]);
    const draft = (await t.inject(`/api/v1/grids?layout=${layoutId}`)).json<{ features: GridFeature[] }>();
    expect(draft.features).toHaveLength(1);
    const limited = (await t.inject('/api/v1/grids?limit=1')).json<{ features: GridFeature[]; truncated: boolean }>();
    expect(limited.truncated).toBe(true);
    for (const bad of ['1,2,3', '113.7,34.75,113.6,34.76', '200,0,201,1', 'a,b,c,d']) {
      expect((await t.inject(`/api/v1/grids?bbox=${bad}`)).statusCode).toBe(400);
    }
  });
});
