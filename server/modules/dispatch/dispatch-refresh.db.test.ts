/**
 * How the dispatch index follows changes (issue #6): a roster change rebuilds the roster only, a
 * change of the published grids the grids only (a publish once), a division edit the divisions only,
 * and an edit of a draft nothing, without reading the published grids; lookups during a rebuild are
 * answered whole from the index being replaced, and after it by the new data; and answers after a
 * series of partial rebuilds equal those of a service built from scratch. Data: the generated medium
 * demo district, changed through SQL or the layout service as the app changes it (the triggers
 * announce each change).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DispatchResult } from '../../contracts/dispatch';
import { generateDemoCity } from '../../../scripts/generate/demo-city';
import { NotificationHub } from '../../db/notifications';
import { createTestDatabase, type TestDatabase } from '../../test/database';
import { seededRandom } from '../../test/seeded-random';
import { insertDemoDispatchData } from '../demo/demo.service';
import { createDraft, publishLayout } from '../layouts/layout.service';
import { listDivisions, listPublishedGrids, readRoster } from './dispatch.repository';
import { DispatchService, type DispatchPart, type RebuildReport } from './dispatch.service';


let tdb: TestDatabase;
let hub: NotificationHub;
let service: DispatchService;
let points: Array<[number, number]>;
/** Instants answered from memory (after the layouts took effect): a weekday morning, an evening, a Sunday night. */
const INSTANTS = ['2025-06-02T10:00:00+08:00', '2025-06-04T19:30:00+08:00', '2025-06-08T23:15:00+08:00'];

beforeAll(async () => {
  tdb = await createTestDatabase();
  const city = generateDemoCity({ size: 'medium' });
  await insertDemoDispatchData(tdb.db, city, '2025-01-01T00:00:00+08:00');
  service = new DispatchService(tdb.db);
  hub = new NotificationHub(tdb.pool);
  service.attach(hub);
  await hub.start();
  const snap = await service.refresh();
  const random = seededRandom(61);
  const [w, s, e, n] = snap.spatial.grids.reduce((b, g) => [Math.min(b[0], g.geom.bbox[0]), Math.min(b[1], g.geom.bbox[1]), Math.max(b[2], g.geom.bbox[2]), Math.max(b[3], g.geom.bbox[3])], [Infinity, Infinity, -Infinity, -Infinity]);
  points = Array.from({ length: 600 }, () => [w - 0.002 + random() * (e - w + 0.004), s - 0.002 + random() * (n - s + 0.004)]);
}, 120_000);

afterAll(async () => {
  await hub?.close();
  await tdb?.drop();
});

const EVERYWHERE = { all: true, prefixes: [] };

interface Rebuilds {
  /** Parts read again, found unchanged by their data version, rebuilt: by any of the rebuilds. */
  read: DispatchPart[];
  unchanged: DispatchPart[];
  rebuilt: DispatchPart[];
  /** Every rebuild's report, in order. */
  reports: RebuildReport[];
}

/**
 * Make a change and wait until the service has rebuilt after it (every announcement of it included):
 * what the rebuilds meanwhile did.
 */
async function afterRebuild(change: () => Promise<unknown>): Promise<Rebuilds> {
  const reports: RebuildReport[] = [];
  service.onRebuild = (report) => reports.push(report);
  const rebuilt = new Promise<void>((resolve) => {
    service.onRefresh = () => {
      service.onRefresh = undefined;
      resolve();
    };
  });
  try {
    await change();
    await rebuilt;
    // A statement can announce on several channels: let every announcement's rebuild finish.
    for (let quiet = 0; quiet < 3; ) {
      await new Promise((r) => setTimeout(r, 50));
      quiet = service.live ? quiet + 1 : 0;
    }
  } finally {
    service.onRebuild = undefined;
  }
  const union = (pick: (r: RebuildReport) => DispatchPart[]): DispatchPart[] => (['grids', 'divisions', 'roster'] as const).filter((p) => reports.some((r) => pick(r).includes(p)));
  return { read: union((r) => r.read), unchanged: union((r) => r.unchanged), rebuilt: union((r) => r.rebuilt), reports };
}

/** What the rebuilds did, without the reports. */
function parts({ read, unchanged, rebuilt }: Rebuilds): Omit<Rebuilds, 'reports'> {
  return { read, unchanged, rebuilt };
}

/**
 * Make a change that may announce nothing to dispatch, then a roster change, and wait until the service
 * has rebuilt after both: the roster change is announced after any announcement of the change (a
 * listener hears them in commit order), so what the rebuilds did besides the roster is the change's.
 */
async function afterRosterMarker(change: () => Promise<unknown>): Promise<Rebuilds> {
  return afterRebuild(async () => {
    await change();
    await sql`UPDATE staff SET phone = phone WHERE id = (SELECT min(id) FROM staff)`.execute(tdb.db);
  });
}

/** A probe point inside exactly one grid of the current index (outside community `not`), and that grid. */
async function pointInOneGrid(not?: string): Promise<{ inside: [number, number]; grid: { id: number; code: string; communityCode: string; layoutId: number } }> {
  const snap = await service.current();
  for (const p of points) {
    const covering = snap.spatial.gridsCovering(...p);
    if (covering.length === 1 && covering[0]!.communityCode !== not) return { inside: p, grid: covering[0]! };
  }
  throw new Error('no probe point inside exactly one grid');
}

async function answers(of: DispatchService): Promise<DispatchResult[]> {
  const out: DispatchResult[] = [];
  for (const at of INSTANTS) for (const [lon, lat] of points) out.push(await of.lookupPoint({ lon, lat, at }));
  return out;
}

describe('what a change rebuilds', () => {
  it('a roster change rebuilds the roster only; lookups follow it', async () => {
    const before = await service.current();
    const { inside } = await pointInOneGrid();
    const at = INSTANTS[0]!;
    const staffBefore = (await service.lookupPoint({ lon: inside[0], lat: inside[1], at })).staff;
    expect(staffBefore.length).toBeGreaterThan(0);
    expect(parts(await afterRebuild(() => sql`UPDATE staff SET phone = '13900000000' WHERE id = ${staffBefore[0]!.staffId}`.execute(tdb.db)))).toEqual({ read: ['roster'], unchanged: [], rebuilt: ['roster'] });
    const after = await service.current();
    expect(after.spatial).toBe(before.spatial);
    expect(after.roster).not.toBe(before.roster);
    expect((await service.lookupPoint({ lon: inside[0], lat: inside[1], at })).staff[0]).toMatchObject({ staffId: staffBefore[0]!.staffId, phone: '13900000000' });
  });

  it('a change of a published grid (a rename by SQL) rebuilds the grids only (the divisions and the roster are kept); lookups follow it', async () => {
    const before = await service.current();
    const { inside, grid } = await pointInOneGrid();
    const did = await afterRebuild(() => sql`UPDATE grids SET name = '改名网格' WHERE id = ${grid.id}`.execute(tdb.db));
    expect(parts(did)).toEqual({ read: ['grids'], unchanged: [], rebuilt: ['grids'] });
    const after = await service.current();
    expect(after.spatial).not.toBe(before.spatial);
    expect(after.spatial.gridLayer).not.toBe(before.spatial.gridLayer);
    expect(after.spatial.divisionLayer).toBe(before.spatial.divisionLayer);
    expect(after.roster).toBe(before.roster);
    expect((await service.lookupPoint({ lon: inside[0], lat: inside[1] })).grid).toMatchObject({ code: grid.code, name: '改名网格' });
  });

  it('a draft made and edited does not read the published grids again, and its publish reads and rebuilds them once', async () => {
    const before = await service.current();
    // Not the community the rebuild test below merges.
    const { inside, grid } = await pointInOneGrid(before.spatial.grids[0]!.communityCode);
    let draftId = 0;
    const edited = await afterRosterMarker(async () => {
      // A copy of the published layout, its grids saved as a planner saves them (a vertex drag each).
      draftId = (await createDraft(tdb.db, grid.communityCode, {}, EVERYWHERE)).id;
      for (let i = 0; i < 5; i++) {
        await sql`UPDATE grids SET geom = geom, name = ${`草稿${i}`}, version = version + 1 WHERE layout_id = ${draftId} AND code = ${grid.code}`.execute(tdb.db);
      }
    });
    expect(parts(edited)).toEqual({ read: ['roster'], unchanged: [], rebuilt: ['roster'] });
    expect((await service.current()).spatial).toBe(before.spatial);

    const published = await afterRebuild(() => publishLayout(tdb.db, draftId, { scope: EVERYWHERE }));
    expect(published.reports.filter((r) => r.read.includes('grids'))).toHaveLength(1);
    expect(published.rebuilt).toContain('grids');
    const answer = await service.lookupPoint({ lon: inside[0], lat: inside[1] });
    expect(answer.grid).toMatchObject({ code: grid.code, name: '草稿4', layoutId: draftId });

    // Effective since 2025-03 instead of now, so the instants the other tests ask about are answered from memory again.
    const moved = await afterRebuild(() =>
      tdb.db.transaction().execute(async (trx) => {
        await sql`UPDATE layouts SET effective_to = '2025-03-01T00:00:00+08:00' WHERE id = ${grid.layoutId}`.execute(trx);
        await sql`UPDATE layouts SET effective_from = '2025-03-01T00:00:00+08:00' WHERE id = ${draftId}`.execute(trx);
      }),
    );
    expect(parts(moved)).toEqual({ read: ['grids'], unchanged: [], rebuilt: ['grids'] });
    expect((await service.lookupPoint({ lon: inside[0], lat: inside[1], at: INSTANTS[0] })).source).toBe('memory');
  });

  it('a division edit rebuilds the divisions only (the grid geometry, flatbush and raster are kept)', async () => {
    const before = await service.current();
    const { inside, grid } = await pointInOneGrid();
    expect(parts(await afterRebuild(() => sql`UPDATE divisions SET name = '新名社区' WHERE code = ${grid.communityCode}`.execute(tdb.db)))).toEqual({ read: ['divisions'], unchanged: [], rebuilt: ['divisions'] });
    const after = await service.current();
    expect(after.spatial.gridLayer).toBe(before.spatial.gridLayer);
    expect(after.spatial.divisionLayer).not.toBe(before.spatial.divisionLayer);
    expect(after.roster).toBe(before.roster);
    expect((await service.lookupPoint({ lon: inside[0], lat: inside[1] })).community).toEqual({ code: grid.communityCode, name: '新名社区' });
  });

  it('a part whose rebuild failed is read again by the next refresh, whatever that one was for', async () => {
    const own = new DispatchService(tdb.db);
    await own.refresh();
    await sql`ALTER TABLE roster_exceptions RENAME TO roster_exceptions_away`.execute(tdb.db);
    try {
      await expect(own.refresh(['roster'])).rejects.toThrow(/roster_exceptions/);
    } finally {
      await sql`ALTER TABLE roster_exceptions_away RENAME TO roster_exceptions`.execute(tdb.db);
    }
    await own.refresh(['grids']);
    expect(own.lastRebuild).toMatchObject({ read: ['roster'], unchanged: ['grids'], rebuilt: ['roster'] });
  });

  it('a failed rebuild is tried again on its own, without waiting for another announcement', async () => {
    const own = new DispatchService(tdb.db, { retryFirstMs: 50 });
    await own.refresh();
    await sql`ALTER TABLE roster_exceptions RENAME TO roster_exceptions_away`.execute(tdb.db);
    try {
      await expect(own.refresh(['roster'])).rejects.toThrow(/roster_exceptions/);
      expect(own.lastError).toBeDefined();
      // Still failing: the retries keep failing, and keep the roster stale.
      await new Promise((r) => setTimeout(r, 200));
      expect(own.lastError).toBeDefined();
    } finally {
      await sql`ALTER TABLE roster_exceptions_away RENAME TO roster_exceptions`.execute(tdb.db);
    }
    // No refresh is called here: the retry (backed off to at most 30 s; here from 50 ms) reads it.
    await expect.poll(() => own.lastError, { timeout: 5_000, interval: 50 }).toBeUndefined();
    expect(own.lastRebuild).toMatchObject({ read: ['roster'], rebuilt: ['roster'] });
  });

  it('answers after these partial rebuilds equal those of a service built from scratch', async () => {
    const scratch = new DispatchService(tdb.db);
    await scratch.refresh();
    expect(await answers(service)).toEqual(await answers(scratch));
  });
});

describe('reading the snapshot page by page', () => {
  it('gives the rows of one query, in its order, whatever the page size (a last page full, partial or empty)', async () => {
    const whole = {
      grids: (await sql`SELECT g.id FROM grids g JOIN layouts l ON l.id = g.layout_id WHERE l.status = 'published' ORDER BY g.code NULLS LAST, g.id`.execute(tdb.db)).rows,
      divisions: (await sql`SELECT code FROM divisions ORDER BY code`.execute(tdb.db)).rows,
      staff: (await sql`SELECT code FROM staff ORDER BY code`.execute(tdb.db)).rows,
      shifts: Number((await sql<{ n: string }>`SELECT count(*) AS n FROM roster_shifts`.execute(tdb.db)).rows[0]?.n),
    };
    expect(whole.grids.length).toBeGreaterThan(20);
    const { grids } = await listPublishedGrids(tdb.db);
    const divisions = await listDivisions(tdb.db);
    const roster = await readRoster(tdb.db);
    expect(grids.map((g) => ({ id: g.id }))).toEqual(whole.grids);
    expect(divisions.map((d) => ({ code: d.code }))).toEqual(whole.divisions);
    expect(roster.staff.map((r) => ({ code: r.code }))).toEqual(whole.staff);
    expect(roster.shifts).toHaveLength(whole.shifts);
    for (const pageRows of [1, 7, whole.grids.length, whole.grids.length + 1]) {
      expect((await listPublishedGrids(tdb.db, pageRows)).grids).toEqual(grids);
      expect(await listDivisions(tdb.db, pageRows)).toEqual(divisions);
    }
    for (const pageRows of [13, whole.staff.length, 500]) expect(await readRoster(tdb.db, pageRows)).toEqual(roster);
  });
});

describe('during a rebuild', () => {
  it('lookups are answered whole from the index being replaced, and by the new layout once it is swapped in', async () => {
    // Another server process, its rebuild sliced as finely as possible (a step per slice), so that many
    // turns of its event loop fall inside the rebuild.
    const own = new DispatchService(tdb.db, { sliceMs: 0 });
    const ownHub = new NotificationHub(tdb.pool);
    own.attach(ownHub);
    await ownHub.start();
    const at = INSTANTS[0]!;
    const probe = points.slice(0, 100);
    const lookupAll = (on: readonly [number, number][]): string => JSON.stringify(on.map(([lon, lat]) => own.lookupPointNow({ lon, lat, at })));
    const snap = await own.refresh();
    const oldAnswers = lookupAll(probe);
    expect(oldAnswers).not.toMatch(/"then"/);
    const community = snap.spatial.grids[0]!.communityCode;
    const mergedCode = `${community}900`;
    const reports: RebuildReport[] = [];
    own.onRebuild = (report) => reports.push(report);
    let done = false;
    const rebuilt = new Promise<void>((resolve) => {
      own.onRefresh = () => {
        done = true;
        resolve();
      };
    });
    try {
      // A publish merging one community's grids into one covering the community.
      await tdb.db.transaction().execute(async (trx) => {
        await sql`UPDATE layouts SET status = 'archived', effective_to = '2025-05-01T00:00:00+08:00' WHERE status = 'published' AND community_code = ${community}`.execute(trx);
        const { rows } = await sql<{ id: number }>`INSERT INTO layouts (community_code, status, effective_from, published_at) VALUES (${community}, 'published', '2025-05-01T00:00:00+08:00', now()) RETURNING id`.execute(trx);
        await sql`INSERT INTO grids (layout_id, code, name, geom) SELECT ${rows[0]!.id}, ${mergedCode}, '合并网格', geom FROM divisions WHERE code = ${community}`.execute(trx);
      });
      // Every turn of the event loop until the rebuild (and any rebuild coalesced after it) is done.
      let turns = 0;
      const seen: string[] = [];
      while (!done) {
        const answers = lookupAll(probe);
        if (seen[seen.length - 1] !== answers) seen.push(answers);
        turns += 1;
        await new Promise((r) => setImmediate(r));
      }
      await rebuilt;
      // One read and rebuild of the grids (the publish's `wangge_data_changed` 'grids').
      expect(reports.filter((r) => r.read.includes('grids'))).toHaveLength(1);
      const gridRebuilds = reports.filter((r) => r.rebuilt.length > 0);
      expect(gridRebuilds.map((r) => r.rebuilt)).toEqual([['grids']]);
      // It yielded after every step, and each time the lookups above ran (its two sliced stages — the
      // grid layer, the join — each start with a slice in the turn where the one before ended).
      const slices = gridRebuilds[0]!.slices;
      expect(slices).toBeGreaterThan(2 * snap.spatial.grids.length);
      expect(turns).toBeGreaterThanOrEqual(slices - 2);
      // Swapped in: the new layout answers, exactly as a service built from scratch does.
      const newAnswers = lookupAll(points);
      expect(newAnswers).toContain(`"code":"${mergedCode}"`);
      const scratch = new DispatchService(tdb.db);
      await scratch.refresh();
      expect(newAnswers).toBe(JSON.stringify(points.map(([lon, lat]) => scratch.lookupPointNow({ lon, lat, at }))));
      // Meanwhile the answers were the old ones, then the new ones: never a mix, never back.
      const newProbe = lookupAll(probe);
      expect(newProbe).not.toBe(oldAnswers);
      expect(seen[0]).toBe(oldAnswers);
      expect(seen.slice(1)).toEqual(seen.length > 1 ? [newProbe] : []);
    } finally {
      await ownHub.close();
      await afterRebuild(async () => {
        await sql`DELETE FROM grids WHERE code = ${mergedCode}`.execute(tdb.db);
        await sql`DELETE FROM layouts WHERE community_code = ${community} AND status = 'published'`.execute(tdb.db);
        await sql`UPDATE layouts SET status = 'published', effective_to = NULL WHERE community_code = ${community} AND status = 'archived'`.execute(tdb.db);
      });
    }
  });
});

describe('after the notification connection comes back', () => {
  it('every part is read again whole: a change that was never announced is served', async () => {
    const listening = async (): Promise<number[]> =>
      (await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`.execute(tdb.db)).rows.map((r) => r.pid);
    const others = await listening();
    const own = new DispatchService(tdb.db);
    const ownHub = new NotificationHub(tdb.pool);
    own.attach(ownHub);
    await ownHub.start();
    await own.refresh();
    const { inside, grid } = await pointInOneGrid();
    const lookup = async () => (await own.lookupPoint({ lon: inside[0], lat: inside[1] })).grid;
    const name = (await lookup())?.name;
    const reports: RebuildReport[] = [];
    try {
      // Renamed with its trigger off: neither announced nor counted in the data version (as if the
      // announcement was missed while disconnected, and the version check could not tell).
      await tdb.db.transaction().execute(async (trx) => {
        await sql`ALTER TABLE grids DISABLE TRIGGER grids_updated_announce`.execute(trx);
        await sql`UPDATE grids SET name = '未通知改名' WHERE id = ${grid.id}`.execute(trx);
        await sql`ALTER TABLE grids ENABLE TRIGGER grids_updated_announce`.execute(trx);
      });
      await new Promise((r) => setTimeout(r, 100));
      expect((await lookup())?.name).toBe(name);
      own.onRebuild = (report) => reports.push(report);
      // Its LISTEN connection dropped.
      const ownPids = (await listening()).filter((pid) => !others.includes(pid));
      expect(ownPids).toHaveLength(1);
      await sql`SELECT pg_terminate_backend(${ownPids[0]!})`.execute(tdb.db);
      await expect.poll(async () => (await lookup())?.name, { timeout: 5_000, interval: 50 }).toBe('未通知改名');
      expect(reports.some((r) => r.read.includes('grids'))).toBe(true);
    } finally {
      own.onRebuild = undefined;
      await ownHub.close();
      await afterRebuild(() => sql`UPDATE grids SET name = ${name ?? ''} WHERE id = ${grid.id}`.execute(tdb.db));
    }
  });
});
