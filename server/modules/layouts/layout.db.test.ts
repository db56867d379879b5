import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../../contracts/common';
import type { GridFeature, GridWriteResult, SplitResult } from '../../contracts/grid';
import type { Layout, LayoutCollection } from '../../contracts/layout';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, countRows, lattice, newDivisions, newGrid, newLayout, rect } from '../../test/factories';

let t: TestApp;
const W = 113.6, S = 34.75, E = 113.604, N = 34.753;

beforeAll(async () => {
  t = await createTestApp();
  await newDivisions(t.tdb.db);
});
afterAll(async () => t.close());
beforeEach(async () => {
  await sql`DELETE FROM grids`.execute(t.tdb.db);
  await sql`DELETE FROM layouts`.execute(t.tdb.db);
});

interface PublishAnswer {
  layout: Layout;
  archivedLayoutId: number | null;
  assigned: Array<{ id: number; code: string }>;
}

async function createDraft(body: Record<string, unknown> = {}): Promise<Layout> {
  const res = await t.inject({ method: 'POST', url: `/api/v1/communities/${COMMUNITY}/layouts`, payload: body });
  expect(res.statusCode).toBe(201);
  return res.json<Layout>();
}

async function addLattice(layoutId: number, cols = 3, rows = 2): Promise<number[]> {
  const ids: number[] = [];
  for (const cell of lattice(W, S, E, N, cols, rows)) ids.push(await newGrid(t.tdb.db, layoutId, cell));
  return ids;
}

async function publish(id: number, body: Record<string, unknown> = {}): Promise<{ status: number; body: unknown }> {
  const res = await t.inject({ method: 'POST', url: `/api/v1/layouts/${id}/publish`, payload: body });
  return { status: res.statusCode, body: res.json<unknown>() };
}

async function layoutCollection(id: number): Promise<LayoutCollection> {
  return (await t.inject(`/api/v1/layouts/${id}`)).json<LayoutCollection>();
}

describe('drafts', () => {
  it('creates an empty draft, lists it, deletes it', async () => {
    const draft = await createDraft({ from: 'empty', name: '2026 调整' });
    expect(draft).toMatchObject({ communityCode: COMMUNITY, status: 'draft', name: '2026 调整', gridCount: 0, effectiveFrom: null });
    const list = (await t.inject(`/api/v1/communities/${COMMUNITY}/layouts`)).json<{ layouts: Layout[] }>();
    expect(list.layouts.map((l) => l.id)).toEqual([draft.id]);
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/layouts/${draft.id}` })).statusCode).toBe(204);
    expect(await countRows(t.tdb.db, 'layouts')).toBe(0);
  });

  it('refuses a draft name of spaces or nothing (drafts are told apart by name); nothing is created', async () => {
    for (const name of ['   ', '', '\u3000']) {
      const res = await t.inject({ method: 'POST', url: `/api/v1/communities/${COMMUNITY}/layouts`, payload: { from: 'empty', name } });
      expect(res.statusCode, JSON.stringify(name)).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: { in: 'body', field: 'name' } } });
    }
    expect(await countRows(t.tdb.db, 'layouts')).toBe(0);
  });

  it('copies the published layout into a new draft, keeping codes and the source link', async () => {
    const first = await createDraft({ from: 'empty' });
    await addLattice(first.id);
    expect((await publish(first.id)).status).toBe(200);
    const copy = await createDraft();
    expect(copy.basedOnLayoutId).toBe(first.id);
    expect(copy.gridCount).toBe(6);
    const [a, b] = [await layoutCollection(first.id), await layoutCollection(copy.id)];
    expect(b.features.map((f) => f.properties.code)).toEqual(a.features.map((f) => f.properties.code));
    expect(b.features.map((f) => f.geometry)).toEqual(a.features.map((f) => f.geometry));
  });

  it('refuses layouts for unknown communities and for divisions that are not communities', async () => {
    const unknown = await t.inject({ method: 'POST', url: '/api/v1/communities/410105001999/layouts', payload: {} });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json<ErrorResponse>().error.code).toBe('DIVISION_NOT_FOUND');
    const malformed = await t.inject({ method: 'POST', url: '/api/v1/communities/4101/layouts', payload: {} });
    expect(malformed.statusCode).toBe(400);
    expect(await countRows(t.tdb.db, 'layouts')).toBe(0);
  });
});

describe('codes', () => {
  it('numbers a first layout in reading order at publish: north row west→east, then the south row', async () => {
    const draft = await createDraft({ from: 'empty' });
    const ids = await addLattice(draft.id, 3, 2); // lattice() yields the south row first
    const res = await publish(draft.id);
    expect(res.status).toBe(200);
    const codeOf = new Map((res.body as PublishAnswer).assigned.map((a) => [a.id, a.code]));
    const [s1, s2, s3, n1, n2, n3] = ids;
    expect([n1, n2, n3, s1, s2, s3].map((id) => codeOf.get(id ?? 0))).toEqual(['001', '002', '003', '004', '005', '006'].map((q) => COMMUNITY + q));
  });

  it('keeps codes across a redraw and a split (larger part), gives new grids the next free number', async () => {
    const draft = await createDraft({ from: 'empty' });
    await addLattice(draft.id, 2, 1);
    await publish(draft.id);
    const next = await createDraft();
    const [west, east] = (await layoutCollection(next.id)).features;
    if (!west || !east) throw new Error('expected two grids');
    // redraw the west grid slightly
    const redraw = await t.inject({
      method: 'PUT',
      url: `/api/v1/grids/${west.id}`,
      headers: { 'if-match': String(west.properties.version) },
      payload: { type: 'Feature', geometry: rect(W, S, 113.6021, N), properties: { name: 'west' } },
    });
    expect(redraw.json<GridWriteResult>().grid.properties.code).toBe(west.properties.code);
    // split the east grid into a large and a small part
    const split = await t.inject({
      method: 'POST',
      url: `/api/v1/grids/${east.id}/split`,
      payload: { line: { type: 'LineString', coordinates: [[113.6035, S - 0.001], [113.6035, N + 0.001]] } },
    });
    const { kept, created } = split.json<SplitResult>();
    expect(kept.properties.code).toBe(east.properties.code);
    // the redraw made the two overlap by a strip; trim the east grid back first
    await t.inject({ method: 'PUT', url: `/api/v1/grids/${kept.id}`, headers: { 'if-match': String(kept.properties.version) }, payload: { type: 'Feature', geometry: rect(113.6021, S, 113.6035, N) } });
    await t.inject({ method: 'PUT', url: `/api/v1/grids/${west.id}`, headers: { 'if-match': '2' }, payload: { type: 'Feature', geometry: rect(W, S, 113.6021, N) } });
    const res = await publish(next.id);
    expect(res.status).toBe(200);
    expect((res.body as PublishAnswer).assigned).toEqual([{ id: created[0]?.id, code: `${COMMUNITY}003` }]);
  });

  it('never reuses a number that an archived layout used', async () => {
    const draft = await createDraft({ from: 'empty' });
    await addLattice(draft.id, 2, 1); // codes 001, 002
    await publish(draft.id);
    const next = await createDraft({ from: 'empty' });
    await newGrid(t.tdb.db, next.id, rect(W, S, E, N));
    const res = await publish(next.id);
    expect((res.body as PublishAnswer).assigned.map((a) => a.code)).toEqual([`${COMMUNITY}003`]);
  });
});

describe('publishing', () => {
  it('archives the previous layout at the same instant and keeps history queryable', async () => {
    const first = await createDraft({ from: 'empty' });
    await addLattice(first.id, 1, 1);
    const p1 = (await publish(first.id)).body as PublishAnswer;
    const second = await createDraft();
    const p2 = (await publish(second.id)).body as PublishAnswer;
    expect(p2.archivedLayoutId).toBe(first.id);
    const layouts = (await t.inject(`/api/v1/communities/${COMMUNITY}/layouts`)).json<{ layouts: Layout[] }>().layouts;
    const old = layouts.find((l) => l.id === first.id);
    expect(old?.status).toBe('archived');
    expect(old?.effectiveTo).toBe(p2.layout.effectiveFrom);
    expect(old?.effectiveFrom).toBe(p1.layout.effectiveFrom);
    expect(layouts.filter((l) => l.status === 'published').map((l) => l.id)).toEqual([second.id]);
    // which grid covered the point just before the second publish: the first layout's
    const justBefore = new Date(new Date(p2.layout.effectiveFrom ?? '').getTime() - 1).toISOString();
    const then = (await t.inject(`/api/v1/grids/at?lon=113.602&lat=34.7515&at=${justBefore}`)).json<{ grid: GridFeature }>();
    expect(then.grid.properties.layoutId).toBe(first.id);
    const now = (await t.inject('/api/v1/grids/at?lon=113.602&lat=34.7515')).json<{ grid: GridFeature }>();
    expect(now.grid.properties.layoutId).toBe(second.id);
  });

  it('refuses overlaps and parts outside the boundary, and changes nothing', async () => {
    const draft = await createDraft({ from: 'empty' });
    await newGrid(t.tdb.db, draft.id, rect(W, S, 113.6022, N));
    await newGrid(t.tdb.db, draft.id, rect(113.602, S, E, N)); // 2 × 0.0002° overlap strip
    const res = await publish(draft.id);
    expect(res.status).toBe(422);
    expect((res.body as ErrorResponse).error.code).toBe('GRID_OVERLAP');
    const after = await layoutCollection(draft.id);
    expect(after.layout.status).toBe('draft');
    expect(after.features.every((f) => f.properties.code === null)).toBe(true);

    const outside = await createDraft({ from: 'empty' });
    await newGrid(t.tdb.db, outside.id, rect(W, S, E + 0.001, N));
    const res2 = await publish(outside.id);
    expect(res2.status).toBe(422);
    expect((res2.body as ErrorResponse).error.code).toBe('GRID_OUTSIDE_BOUNDARY');
  });

  it('publishes with a gap (warning) unless strict', async () => {
    const draft = await createDraft({ from: 'empty' });
    await newGrid(t.tdb.db, draft.id, rect(W, S, 113.603, N)); // leaves the east quarter uncovered
    const strict = await publish(draft.id, { strict: true });
    expect(strict.status).toBe(422);
    expect((strict.body as ErrorResponse).error.code).toBe('LAYOUT_INVALID');
    expect((await publish(draft.id)).status).toBe(200);
  });

  it('refuses to publish twice, to delete or edit history, and to publish an empty layout', async () => {
    const empty = await createDraft({ from: 'empty' });
    expect((await publish(empty.id)).status).toBe(422);
    const draft = await createDraft({ from: 'empty' });
    await addLattice(draft.id, 1, 1);
    expect((await publish(draft.id)).status).toBe(200);
    const again = await publish(draft.id);
    expect(again.status).toBe(409);
    expect((again.body as ErrorResponse).error.code).toBe('LAYOUT_NOT_DRAFT');
    const del = await t.inject({ method: 'DELETE', url: `/api/v1/layouts/${draft.id}` });
    expect(del.statusCode).toBe(409);
    expect(del.json<ErrorResponse>().error.code).toBe('LAYOUT_PUBLISHED');
  });

  it('serialises concurrent publishes of one community: one published layout at the end', async () => {
    const base = await createDraft({ from: 'empty' });
    await addLattice(base.id, 2, 2);
    await publish(base.id);
    const drafts = [await createDraft(), await createDraft(), await createDraft()];
    const results = await Promise.all([...drafts.map((d) => publish(d.id)), publish(drafts[0]?.id ?? 0)]);
    // every distinct draft publishes in turn; the duplicate request for the first draft loses
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 409]);
    const { rows } = await sql<{ status: string; n: number }>`SELECT status, count(*)::int AS n FROM layouts GROUP BY status ORDER BY status`.execute(t.tdb.db);
    expect(rows).toEqual([{ status: 'archived', n: 3 }, { status: 'published', n: 1 }]);
    // the archived periods chain without overlap: the exclusion constraint would have refused otherwise
    const { rows: periods } = await sql<{ ok: boolean }>`
      SELECT bool_and(a.effective_to <= b.effective_from OR b.effective_to <= a.effective_from) AS ok
      FROM layouts a JOIN layouts b ON a.id < b.id`.execute(t.tdb.db);
    expect(periods[0]?.ok).toBe(true);
  });
});

describe('GeoJSON import and export', () => {
  it('round-trips a layout: export → import as a new draft keeps geometry, names and attributes', async () => {
    const draft = await createDraft({ from: 'empty' });
    const cells = lattice(W, S, E, N, 2, 2);
    for (const [i, cell] of cells.entries()) {
      await t.inject({ method: 'POST', url: `/api/v1/layouts/${draft.id}/grids`, payload: { type: 'Feature', geometry: cell, properties: { name: `网格${i + 1}`, kind: i === 3 ? 'dedicated' : 'general', 楼栋数: i * 3 } } });
    }
    const exported = await t.inject(`/api/v1/layouts/${draft.id}?download=true`);
    expect(exported.headers['content-disposition']).toMatch(/attachment; filename="layout-410105001001-\d+\.geojson"/);
    expect(exported.headers['content-type']).toMatch(/application\/geo\+json/);
    const fc = exported.json<LayoutCollection>();
    const imported = await t.inject({ method: 'POST', url: `/api/v1/communities/${COMMUNITY}/layouts/import`, payload: { type: 'FeatureCollection', name: 'reimport', features: fc.features } });
    expect(imported.statusCode).toBe(201);
    const back = imported.json<LayoutCollection>();
    expect(back.layout.id).not.toBe(draft.id);
    const strip = (f: GridFeature): unknown => ({ geometry: f.geometry, name: f.properties.name, kind: f.properties.kind, 楼栋数: (f.properties as Record<string, unknown>)['楼栋数'], area: f.properties.areaM2 });
    expect(back.features.map(strip)).toEqual(fc.features.map(strip));
  });

  it('imports all or nothing, listing every bad feature by index', async () => {
    const good = rect(W, S, 113.601, N);
    const bowtie = { type: 'Polygon', coordinates: [[[W, S], [113.601, N], [113.601, S], [W, N], [W, S]]] };
    const res = await t.inject({
      method: 'POST',
      url: `/api/v1/communities/${COMMUNITY}/layouts/import`,
      payload: { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: good, properties: {} }, { type: 'Feature', geometry: bowtie, properties: {} }, { type: 'Feature', geometry: good, properties: { code: '999999999999001' } }] },
    });
    expect(res.statusCode).toBe(422);
    const err = res.json<ErrorResponse>().error;
    expect(err.code).toBe('IMPORT_FAILED');
    expect((err.details as { errors: Array<{ featureIndex: number; code: string }> }).errors.map((e) => [e.featureIndex, e.code])).toEqual([
      [1, 'GEOMETRY_INVALID'],
      [2, 'VALIDATION_FAILED'],
    ]);
    expect(await countRows(t.tdb.db, 'layouts')).toBe(0);
    expect(await countRows(t.tdb.db, 'grids')).toBe(0);
  });
});

describe('published layouts in the database', () => {
  it('cannot hold two published layouts of one community, even bypassing the API', async () => {
    await newLayout(t.tdb.db, { status: 'published' });
    await expect(newLayout(t.tdb.db, { status: 'published' })).rejects.toThrow(/layouts_one_published|layouts_one_at_a_time/);
  });
});

describe('scope: planners change only the communities inside their scope', () => {
  it('refuses drafts, grid edits and publishes outside the scope, allows them inside, and keeps published grids public', async () => {
    const outsider = await t.userWith({ roles: ['planner'], scope: ['410105002'] }); // another street
    const insider = await t.userWith({ roles: ['planner'], scope: ['410105001'] }); // this street
    const as = (u: { token: string }) => ({ as: { token: u.token } }) as const;

    const refused = await t.inject({ method: 'POST', url: `/api/v1/communities/${COMMUNITY}/layouts`, payload: { from: 'empty' }, ...as(outsider) });
    expect(refused.statusCode).toBe(403);
    expect(refused.json<ErrorResponse>().error.details).toMatchObject({ reason: 'OUT_OF_SCOPE' });

    const draftRes = await t.inject({ method: 'POST', url: `/api/v1/communities/${COMMUNITY}/layouts`, payload: { from: 'empty' }, ...as(insider) });
    expect(draftRes.statusCode).toBe(201);
    const draft = draftRes.json<Layout>();
    const cell = rect(W, S, E, N);
    const add = (u: { token: string }) => t.inject({ method: 'POST', url: `/api/v1/layouts/${draft.id}/grids`, payload: { type: 'Feature', geometry: cell, properties: {} }, ...as(u) });
    expect((await add(outsider)).statusCode).toBe(403);
    const added = await add(insider);
    expect(added.statusCode).toBe(201);
    const gridId = added.json<GridWriteResult>().grid.id;

    expect((await t.inject({ url: `/api/v1/layouts/${draft.id}`, ...as(outsider) })).statusCode).toBe(403);
    expect((await t.inject({ url: `/api/v1/grids/${gridId}`, ...as(outsider) })).statusCode).toBe(403);
    expect((await t.inject({ method: 'POST', url: `/api/v1/grids/${gridId}/clip`, payload: {}, ...as(outsider) })).statusCode).toBe(403);
    expect((await t.inject({ method: 'POST', url: `/api/v1/layouts/${draft.id}/publish`, payload: {}, ...as(outsider) })).statusCode).toBe(403);
    expect(await countRows(t.tdb.db, 'grids')).toBe(1);

    expect((await t.inject({ method: 'POST', url: `/api/v1/layouts/${draft.id}/publish`, payload: {}, ...as(insider) })).statusCode).toBe(200);
    // once published the grids are public map data
    expect((await t.inject({ url: `/api/v1/layouts/${draft.id}`, ...as(outsider) })).statusCode).toBe(200);
    expect((await t.inject({ url: '/api/v1/grids', as: 'anonymous' })).json<{ features: unknown[] }>().features).toHaveLength(1);
  });
});
