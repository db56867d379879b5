/**
 * Which statements on layouts and grids announce `wangge_data_changed` 'grids' and bump its data
 * version (migrations/0028_quiet_draft_edits.sql): none of a planner's edits of a draft, through the
 * API; a publish once; any change of a published or archived layout or of its grids; and a draft grid
 * written while its layout is being published is announced, in either order of the two transactions.
 */
import type pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GridWriteResult, SplitResult } from '../../contracts/grid';
import type { Layout, LayoutCollection } from '../../contracts/layout';
import { NotificationHub } from '../../db/notifications';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, lattice, newDivisions, newGrid, newLayout, rect } from '../../test/factories';

const W = 113.6, S = 34.75, E = 113.604, N = 34.753;
const MARKER_CHANNEL = 'wangge_test_marker';

let t: TestApp;
let hub: NotificationHub;
/** Payloads of `wangge_data_changed` heard so far, and the markers. */
const heard: string[] = [];
const markers: string[] = [];
let markerCount = 0;

beforeAll(async () => {
  t = await createTestApp();
  await newDivisions(t.tdb.db);
  const published = await newLayout(t.tdb.db, { status: 'published' });
  for (const [i, cell] of lattice(W, S, E, N, 2, 1).entries()) await newGrid(t.tdb.db, published, cell, { code: `${COMMUNITY}00${i + 1}`, name: `第${i + 1}网格` });
  hub = new NotificationHub(t.tdb.pool);
  hub.on('wangge_data_changed', (payload) => heard.push(payload));
  hub.on(MARKER_CHANNEL, (payload) => markers.push(payload));
  await hub.start();
});
afterAll(async () => {
  await hub?.close();
  await t?.close();
});

async function gridsVersion(): Promise<number> {
  const { rows } = await sql<{ version: number }>`SELECT version FROM data_versions WHERE layer = 'grids'`.execute(t.tdb.db);
  return rows[0]!.version;
}

/**
 * What a change announced: 'grids' announcements heard and data-version bumps. Every announcement of
 * it has arrived once a marker sent after it has (a listener hears notifications in commit order).
 */
async function announcedBy(change: () => Promise<unknown>): Promise<{ announced: number; bumps: number }> {
  const version = await gridsVersion();
  heard.length = 0;
  await change();
  const marker = String(++markerCount);
  await sql`SELECT pg_notify(${MARKER_CHANNEL}, ${marker})`.execute(t.tdb.db);
  await expect.poll(() => markers.includes(marker), { timeout: 5_000, interval: 10 }).toBe(true);
  return { announced: heard.filter((p) => p === 'grids').length, bumps: (await gridsVersion()) - version };
}

const QUIET = { announced: 0, bumps: 0 };

async function inject<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, headers?: Record<string, string>): Promise<T> {
  const res = await t.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }), ...(headers ? { headers } : {}) });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
  return (res.body ? res.json<T>() : undefined) as T;
}

/** A new draft, a copy of the community's published layout. */
async function newDraft(): Promise<Layout> {
  return inject<Layout>('POST', `/api/v1/communities/${COMMUNITY}/layouts`, {});
}

/** A transaction of its own on a connection of its own (to interleave two). */
async function openTransaction(): Promise<pg.PoolClient> {
  const client = await t.tdb.pool.connect();
  await client.query('BEGIN');
  return client;
}

/** Whether a promise is still pending after `ms` (it waits for a lock). */
async function stillPending(p: Promise<unknown>, ms = 300): Promise<boolean> {
  return Promise.race([p.then(() => false, () => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms))]);
}

/** Publish layout `id` of the community, by SQL, as layout.repository's switchPublishedLayout does. */
const PUBLISH_SQL = `
  WITH archived AS (UPDATE layouts SET status = 'archived', effective_to = now() WHERE community_code = $1 AND status = 'published' RETURNING id)
  UPDATE layouts SET status = 'published', effective_from = now(), published_at = now() WHERE id = $2 AND EXISTS (SELECT 1 FROM archived)`;

describe("a planner's draft", () => {
  it('announces nothing while it is made and edited through the API, and its publish announces once', async () => {
    let draft: Layout | undefined;
    expect(await announcedBy(async () => (draft = await newDraft()))).toEqual(QUIET);
    const id = draft!.id;
    const [west, east] = (await inject<LayoutCollection>('GET', `/api/v1/layouts/${id}`)).features;
    if (!west || !east) throw new Error('expected two grids');
    // A vertex dragged twice, saved each time.
    let version = west.properties.version;
    for (const edge of [113.6019, 113.602]) {
      expect(
        await announcedBy(async () => {
          const res = await inject<GridWriteResult>('PUT', `/api/v1/grids/${west.id}`, { type: 'Feature', geometry: rect(W, S, edge, N), properties: { name: '西网格' } }, { 'if-match': String(version) });
          version = res.grid.properties.version;
        }),
      ).toEqual(QUIET);
    }
    // Split, merged back, a grid added and deleted, codes assigned.
    let split: SplitResult | undefined;
    expect(await announcedBy(async () => (split = await inject<SplitResult>('POST', `/api/v1/grids/${east.id}/split`, { line: { type: 'LineString', coordinates: [[113.603, S - 0.001], [113.603, N + 0.001]] } })))).toEqual(QUIET);
    expect(await announcedBy(() => inject('POST', '/api/v1/grids/merge', { ids: [split!.kept.id, ...split!.created.map((g) => g.id)] }))).toEqual(QUIET);
    let added: GridWriteResult | undefined;
    expect(await announcedBy(async () => (added = await inject<GridWriteResult>('POST', `/api/v1/layouts/${id}/grids`, { type: 'Feature', geometry: rect(W, N, E, N + 0.001) })))).toEqual(QUIET);
    expect(await announcedBy(() => inject('DELETE', `/api/v1/grids/${added!.grid.id}`))).toEqual(QUIET);
    expect(await announcedBy(() => inject('POST', `/api/v1/layouts/${id}/codes`, {}))).toEqual(QUIET);
    // Publishing archives the published layout and publishes this one: one announcement.
    const published = await announcedBy(() => inject('POST', `/api/v1/layouts/${id}/publish`, {}));
    expect(published.announced).toBe(1);
    expect(published.bumps).toBeGreaterThan(0);
  });
});

describe('what is served', () => {
  it('is announced on any change: a grid of the published or of an archived layout, or the layouts themselves', async () => {
    await newDraft();
    const { rows } = await sql<{ id: number; status: string }>`SELECT id, status FROM layouts WHERE status IN ('published', 'archived') ORDER BY id`.execute(t.tdb.db);
    const publishedId = rows.find((r) => r.status === 'published')!.id;
    const archivedId = rows.find((r) => r.status === 'archived')!.id;
    const changes = [
      sql`UPDATE grids SET name = '改名' WHERE id = (SELECT min(id) FROM grids WHERE layout_id = ${publishedId})`,
      sql`UPDATE grids SET kind = 'dedicated' WHERE id = (SELECT min(id) FROM grids WHERE layout_id = ${publishedId})`,
      sql`UPDATE grids SET geom = ST_Translate(geom, 0.00001, 0) WHERE id = (SELECT max(id) FROM grids WHERE layout_id = ${publishedId})`,
      sql`UPDATE grids SET name = '旧名' WHERE id = (SELECT min(id) FROM grids WHERE layout_id = ${archivedId})`,
      sql`UPDATE layouts SET name = '现行' WHERE id = ${publishedId}`,
      sql`UPDATE layouts SET effective_from = effective_from - interval '1 day' WHERE id = ${archivedId}`,
      // A draft's grid and a published one in one statement.
      sql`UPDATE grids SET properties = '{"x":1}' WHERE id IN (SELECT min(id) FROM grids GROUP BY layout_id)`,
    ];
    for (const change of changes) {
      const did = await announcedBy(() => change.execute(t.tdb.db));
      expect(did.announced, change.compile(t.tdb.db).sql).toBe(1);
      expect(did.bumps, change.compile(t.tdb.db).sql).toBe(1);
    }
  });

  it('is not announced by statements that change no row, nor by SQL on drafts only', async () => {
    const draft = await newDraft();
    expect(await announcedBy(() => sql`UPDATE grids SET name = 'x' WHERE false`.execute(t.tdb.db))).toEqual(QUIET);
    expect(await announcedBy(() => sql`UPDATE layouts SET name = 'x' WHERE false`.execute(t.tdb.db))).toEqual(QUIET);
    expect(await announcedBy(() => sql`UPDATE grids SET name = '草稿' WHERE layout_id = ${draft.id}`.execute(t.tdb.db))).toEqual(QUIET);
    expect(await announcedBy(() => sql`UPDATE layouts SET name = '草稿' WHERE id = ${draft.id}`.execute(t.tdb.db))).toEqual(QUIET);
    expect(await announcedBy(() => sql`DELETE FROM grids WHERE id = (SELECT max(id) FROM grids WHERE layout_id = ${draft.id})`.execute(t.tdb.db))).toEqual(QUIET);
  });
});

describe('a draft grid written while its layout is published', () => {
  it('written first: the publish waits for its commit (and announces after it)', async () => {
    const draft = await newDraft();
    const writer = await openTransaction();
    const publisher = await openTransaction();
    try {
      const did = await announcedBy(async () => {
        await writer.query(`UPDATE grids SET name = '先写' WHERE layout_id = $1`, [draft.id]);
        const publish = publisher.query(PUBLISH_SQL, [COMMUNITY, draft.id]);
        expect(await stillPending(publish)).toBe(true);
        await writer.query('COMMIT');
        expect((await publish).rowCount).toBe(1);
        await publisher.query('COMMIT');
      });
      expect(did.announced).toBe(1);
    } finally {
      writer.release();
      publisher.release();
    }
  });

  it('written second: the write waits for the publish, then finds its layout published and announces', async () => {
    const draft = await newDraft();
    const writer = await openTransaction();
    const publisher = await openTransaction();
    try {
      const did = await announcedBy(async () => {
        expect((await publisher.query(PUBLISH_SQL, [COMMUNITY, draft.id])).rowCount).toBe(1);
        const write = writer.query(`UPDATE grids SET name = '后写' WHERE layout_id = $1`, [draft.id]);
        expect(await stillPending(write)).toBe(true);
        await publisher.query('COMMIT');
        await write;
        await writer.query('COMMIT');
      });
      // The publish's announcement, and the write's after its own commit.
      expect(did.announced).toBe(2);
    } finally {
      writer.release();
      publisher.release();
    }
  });
});
