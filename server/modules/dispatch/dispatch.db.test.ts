/**
 * Dispatch on a small hand-made community: each fallback step, `at` across a layout change and a
 * shift change, CRS input, nearest grid and outside answers, batch order and limits, bad input, and a
 * publish seen by the live index within 1 s.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DispatchResult } from '../../contracts/dispatch';
import { PROJECT_ROOT } from '../../config';
import { bd09ToWgs84, gcj02ToWgs84, wgs84ToBd09, wgs84ToGcj02 } from '../../geo/china-crs';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, lattice, M_LAT, M_LON, newDivisions, newGrid, newLayout, rect, STREET } from '../../test/factories';
import { onDutyAt } from '../registry/roster.service';
import { metresPerDegree } from './dispatch-geometry';
import { DispatchService } from './dispatch.service';

let t: TestApp;
// Community 113.600–113.604 × 34.750–34.753, two grids side by side sharing the edge lon = 113.602.
const G1 = `${COMMUNITY}001`;
const G2 = `${COMMUNITY}002`;
const IN_G1: [number, number] = [113.601, 34.7515];
const IN_G2: [number, number] = [113.603, 34.7515];
// 2025-06-02 is a Monday. Grid G1's worker: Mon 09:00–17:00 local; community officer Mon 17:00–22:00;
// street officer Mon 22:00–24:00; nobody 00:00–09:00 except the grid leader (no shift).
const MON = (hhmm: string): string => `2025-06-02T${hhmm}:00+08:00`;
const LAYOUT_FROM = '2025-01-01T00:00:00+08:00';

async function lookup(q: string): Promise<{ status: number; body: DispatchResult & { error?: { code: string; details?: { reason?: string } } } }> {
  const res = await t.inject(`/api/v1/dispatch/lookup?${q}`);
  return { status: res.statusCode, body: res.json() };
}

beforeAll(async () => {
  t = await createTestApp();
  const db = t.tdb.db;
  await newDivisions(db);
  const layout = await newLayout(db, { status: 'published', effectiveFrom: LAYOUT_FROM });
  const [a, b] = lattice(113.6, 34.75, 113.604, 34.753, 2, 1);
  await newGrid(db, layout, a!, { code: G1, name: '一网格' });
  await newGrid(db, layout, b!, { code: G2, name: '二网格' });
  await sql`
    INSERT INTO staff (code, name, phone, role, unit_code) VALUES
      ('W1', '王网格', '13800000001', 'full_time_worker', ${G1}),
      ('L1', '李组长', '13800000002', 'grid_leader', ${G1}),
      ('C1', '陈社区', '13800000003', 'community_duty_officer', ${COMMUNITY}),
      ('S1', '孙街道', '13800000004', 'street_duty_officer', ${STREET})`.execute(db);
  await sql`
    INSERT INTO staff_assignments (staff_id, grid_code, role, from_date)
    SELECT id, ${G1}, CASE code WHEN 'W1' THEN 'full_time_worker' ELSE 'grid_leader' END, '2025-01-01' FROM staff WHERE code IN ('W1', 'L1')`.execute(db);
  await sql`
    INSERT INTO roster_shifts (staff_id, scope_code, weekday, start_time, end_time)
    SELECT id, s.scope, 1, s.st::time, s.en::time FROM staff JOIN (VALUES ('W1', ${G1}, '09:00', '17:00'), ('C1', ${COMMUNITY}, '17:00', '22:00'), ('S1', ${STREET}, '22:00', '24:00'))
      AS s(code, scope, st, en) ON s.code = staff.code`.execute(db);
  await t.app.ready();
});

afterAll(async () => {
  await t?.close();
});

describe('point lookup', () => {
  it('answers grid, divisions, staff with phones, who is on duty and the chain', async () => {
    const { status, body } = await lookup(`lon=${IN_G1[0]}&lat=${IN_G1[1]}&at=${encodeURIComponent(MON('10:00'))}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'in_grid',
      district: { code: '410105', name: '金水区' },
      street: { code: STREET, name: '花园路街道' },
      community: { code: COMMUNITY, name: '示范社区' },
      grid: { code: G1, name: '一网格', kind: 'general', match: 'covers', distanceM: 0 },
      ambiguous: false,
      responder: { staffCode: 'W1', phone: '13800000001', step: 'grid_on_duty' },
      fallback: [{ step: 'grid_on_duty', outcome: 'used' }],
      source: 'memory',
    });
    expect(body.staff.map((s) => [s.staffCode, s.role, s.phone])).toEqual([['W1', 'full_time_worker', '13800000001'], ['L1', 'grid_leader', '13800000002']]);
  });

  it('walks the chain: grid leader, community and street duty officers, then the registered contact', async () => {
    const step = async (hhmm: string) => (await lookup(`lon=${IN_G1[0]}&lat=${IN_G1[1]}&at=${encodeURIComponent(MON(hhmm))}`)).body;
    const early = await step('08:00');
    expect(early.responder).toMatchObject({ staffCode: 'L1', step: 'grid_leader' });
    expect(early.fallback.map((f) => [f.step, f.outcome])).toEqual([['grid_on_duty', 'none'], ['grid_leader', 'used']]);
    expect(early.fallback[0]?.reason).toMatch(/nobody is on duty in grid/);

    // In grid G2 there is no worker and no leader: community officer in the evening, street officer at night.
    const at = (hhmm: string) => lookup(`lon=${IN_G2[0]}&lat=${IN_G2[1]}&at=${encodeURIComponent(MON(hhmm))}`).then((r) => r.body);
    const evening = await at('18:00');
    expect(evening.responder).toMatchObject({ staffCode: 'C1', step: 'community_duty_officer' });
    expect(evening.fallback.map((f) => f.outcome)).toEqual(['none', 'none', 'used']);
    const night = await at('23:00');
    expect(night.responder).toMatchObject({ staffCode: 'S1', step: 'street_duty_officer' });
    const dawn = await at('05:00');
    expect(dawn.responder).toMatchObject({ staffCode: 'C1', step: 'community_contact' });
    expect(dawn.fallback.map((f) => f.step)).toEqual(['grid_on_duty', 'grid_leader', 'community_duty_officer', 'street_duty_officer', 'community_contact']);
  });

  it('follows a shift change to the minute, leave and holidays, as the registry rule does', async () => {
    const before = await lookup(`lon=${IN_G1[0]}&lat=${IN_G1[1]}&at=${encodeURIComponent(MON('08:59'))}`);
    const start = await lookup(`lon=${IN_G1[0]}&lat=${IN_G1[1]}&at=${encodeURIComponent(MON('09:00'))}`);
    const end = await lookup(`lon=${IN_G1[0]}&lat=${IN_G1[1]}&at=${encodeURIComponent(MON('17:00'))}`);
    expect(before.body.responder?.staffCode).toBe('L1');
    expect(start.body.responder?.staffCode).toBe('W1');
    // 17:00: the worker's shift has ended; the grid leader comes before the community officer.
    expect(end.body.responder).toMatchObject({ staffCode: 'L1', step: 'grid_leader' });
    // The SQL rule agrees at each instant.
    for (const hhmm of ['08:59', '09:00', '17:00', '21:59', '22:00', '23:59']) {
      const sqlAnswer = await onDutyAt(t.tdb.db, G1, new Date(MON(hhmm)));
      const mine = (await lookup(`lon=${IN_G1[0]}&lat=${IN_G1[1]}&at=${encodeURIComponent(MON(hhmm))}`)).body.onDuty[0];
      expect(mine?.staffCode ?? null, hhmm).toBe(sqlAnswer?.staffCode ?? null);
    }
    // A holiday cancels the grid worker's weekly shift; leave takes the leader out too.
    await sql`INSERT INTO roster_exceptions (kind, scope_code, starts_at, ends_at, reason) VALUES ('holiday', ${COMMUNITY}, ${MON('00:00')}, ${MON('12:00')}, '端午')`.execute(t.tdb.db);
    await sql`INSERT INTO roster_exceptions (kind, staff_id, starts_at, ends_at) SELECT 'leave', id, ${MON('00:00')}, ${MON('12:00')} FROM staff WHERE code = 'L1'`.execute(t.tdb.db);
    await waitFor(async () => (await lookup(`lon=${IN_G1[0]}&lat=${IN_G1[1]}&at=${encodeURIComponent(MON('10:00'))}`)).body.responder?.staffCode === 'C1');
    const holiday = await lookup(`lon=${IN_G1[0]}&lat=${IN_G1[1]}&at=${encodeURIComponent(MON('10:00'))}`);
    expect(holiday.body.responder).toMatchObject({ staffCode: 'C1', step: 'community_contact' });
    expect(holiday.body.onDuty[0]?.staffCode ?? null).toBe((await onDutyAt(t.tdb.db, G1, new Date(MON('10:00'))))?.staffCode ?? null);
    await sql`DELETE FROM roster_exceptions`.execute(t.tdb.db);
  });

  it('tells apart instants of one minute when a shift or leave starts inside it (answers are shared within a minute only when nothing changes in it)', async () => {
    const at = (hhmmss: string): string => `2025-06-02T${hhmmss}+08:00`;
    const responderAt = async (point: [number, number], hhmmss: string): Promise<string | null> =>
      (await lookup(`lon=${point[0]}&lat=${point[1]}&at=${encodeURIComponent(at(hhmmss))}`)).body.responder?.staffCode ?? null;
    // A worker for grid G2 from 09:00:30; the leader of G1 on leave from 10:00:20; the G1 worker on leave from 11:00:40.
    await sql`INSERT INTO staff (code, name, phone, role, unit_code) VALUES ('W2', '吴网格', '13800000005', 'full_time_worker', ${G2})`.execute(t.tdb.db);
    await sql`INSERT INTO staff_assignments (staff_id, grid_code, role, from_date) SELECT id, ${G2}, 'full_time_worker', '2025-01-01' FROM staff WHERE code = 'W2'`.execute(t.tdb.db);
    await sql`INSERT INTO roster_shifts (staff_id, scope_code, weekday, start_time, end_time) SELECT id, ${G2}, 1, '09:00:30', '17:00' FROM staff WHERE code = 'W2'`.execute(t.tdb.db);
    await sql`INSERT INTO roster_exceptions (kind, staff_id, starts_at, ends_at) SELECT 'leave', id, ${at('11:00:40')}, ${at('12:00:00')} FROM staff WHERE code = 'W1'`.execute(t.tdb.db);
    // Each insert is announced on its own: wait until the index holds the last of them too.
    await waitFor(async () => (await responderAt(IN_G2, '09:00:40')) === 'W2' && (await responderAt(IN_G1, '11:00:50')) === 'L1');
    try {
      // Each pair lies in one minute; asking the earlier instant first, then the later, then the earlier again.
      for (const [point, early, late, before, after] of [
        [IN_G2, '09:00:10', '09:00:40', 'C1', 'W2'],
        [IN_G1, '11:00:20', '11:00:50', 'W1', 'L1'],
      ] as const) {
        expect(await responderAt(point, early)).toBe(before);
        expect(await responderAt(point, late)).toBe(after);
        expect(await responderAt(point, early)).toBe(before);
        for (const hhmmss of [early, late]) {
          const sqlAnswer = await onDutyAt(t.tdb.db, point === IN_G1 ? G1 : G2, new Date(at(hhmmss)));
          const mine = (await lookup(`lon=${point[0]}&lat=${point[1]}&at=${encodeURIComponent(at(hhmmss))}`)).body.onDuty[0];
          expect(mine?.staffCode ?? null, hhmmss).toBe(sqlAnswer?.staffCode ?? null);
        }
      }
      // A minute with no change in it: every instant gets the same answer.
      expect(await responderAt(IN_G1, '10:30:01')).toBe('W1');
      expect(await responderAt(IN_G1, '10:30:59')).toBe('W1');
    } finally {
      await sql`DELETE FROM roster_exceptions`.execute(t.tdb.db);
      await sql`DELETE FROM staff WHERE code = 'W2'`.execute(t.tdb.db);
    }
  });

  it('picks the lowest code on a shared edge or vertex and names the other grid', async () => {
    for (const lat of [34.75, 34.7515, 34.753]) {
      const { body } = await lookup(`lon=113.602&lat=${lat}`);
      expect(body).toMatchObject({ status: 'in_grid', ambiguous: true, grid: { code: G1 }, candidates: [{ code: G2 }] });
      expect(body.message).toMatch(/shared boundary/);
    }
  });

  it('takes the nearest grid within 100 m with its distance, then the community, then says it is outside', async () => {
    const db = t.tdb.db;
    const k = metresPerDegree(34.7515);
    const near: [number, number] = [113.6 - 60 / k.kx, 34.7515];
    const { body } = await lookup(`lon=${near[0]}&lat=${near[1]}`);
    expect(body).toMatchObject({ status: 'nearest_grid', grid: { code: G1, match: 'nearest' }, community: { code: COMMUNITY } });
    const { rows } = await sql<{ d: number }>`SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(${near[0]}, ${near[1]}), 4326)::geography) AS d FROM grids WHERE code = ${G1}`.execute(db);
    expect(Math.abs((body.grid?.distanceM ?? 0) - (rows[0]?.d ?? NaN))).toBeLessThan(0.5);
    expect(body.grid?.distanceM).toBeCloseTo(60, 0);

    const far = await lookup(`lon=${113.6 - 300 * M_LON}&lat=34.7515`);
    expect(far.body).toMatchObject({ status: 'outside', grid: null, community: null, responder: null });
    expect(far.body.message).toMatch(/Outside every community/);
  });

  it('answers a community without grids through its duty officers (属地兜底)', async () => {
    const other = '410105001002';
    await newDivisions(t.tdb.db, { community: other, communityBoundary: rect(113.61, 34.75, 113.614, 34.753) });
    await sql`INSERT INTO staff (code, name, phone, role, unit_code) VALUES ('C2', '周值班', '13800000005', 'community_duty_officer', ${other})`.execute(t.tdb.db);
    // Two changes (the division, then the staff row) each rebuild the snapshot: wait for both.
    await waitFor(async () => (await lookup(`lon=113.612&lat=34.7515&at=${encodeURIComponent(MON('05:00'))}`)).body.responder?.staffCode === 'C2');
    const { body } = await lookup(`lon=113.612&lat=34.7515&at=${encodeURIComponent(MON('05:00'))}`);
    expect(body).toMatchObject({ status: 'community_only', grid: null, community: { code: other }, responder: { staffCode: 'C2', step: 'community_contact' } });
    expect(body.fallback.slice(0, 2).map((f) => f.outcome)).toEqual(['skipped', 'skipped']);
  });

  it('accepts GCJ-02 and BD-09 positions', async () => {
    const gcj = wgs84ToGcj02(...IN_G1);
    const bd = wgs84ToBd09(...IN_G1);
    for (const [crs, p] of [['gcj02', gcj], ['bd09', bd]] as const) {
      const { body } = await lookup(`lon=${p[0]}&lat=${p[1]}&crs=${crs}`);
      expect(body.grid?.code).toBe(G1);
      expect(body.position.crs).toBe(crs);
      expect(Math.abs(body.position.lon - IN_G1[0])).toBeLessThan(1e-8);
      expect(Math.abs(body.position.lat - IN_G1[1])).toBeLessThan(1e-8);
    }
    // The same place given as GCJ-02 lands 500 m away from where it would as WGS 84: not in G1 any more.
    const raw = await lookup(`lon=${gcj[0]}&lat=${gcj[1]}`);
    expect(raw.body.grid?.code ?? null).not.toBe(G1);
  });

  it('converts real GCJ-02 vertices to the published WGS-84 ones within 1 m, and bus stops from BD-09', (ctx) => {
    const dir = path.join(PROJECT_ROOT, '../shared/data/real');
    const gcjFile = path.join(dir, 'zhengzhou_districts_datav_gcj02.geojson');
    const wgsFile = path.join(dir, 'zhengzhou_districts_datav_wgs84.geojson');
    const stopsFile = path.join(dir, 'zhengzhou_bus_stops_2013.geojson');
    if (!existsSync(gcjFile) || !existsSync(wgsFile) || !existsSync(stopsFile)) {
      ctx.skip('../shared/data/real (Zhengzhou districts GCJ-02/WGS-84 pair, bus stops) is absent: real-data CRS check skipped');
      return;
    }
    type Fc = { features: Array<{ geometry: { coordinates: number[][][][] } }> };
    const gcj = JSON.parse(readFileSync(gcjFile, 'utf8')) as Fc;
    const wgs = JSON.parse(readFileSync(wgsFile, 'utf8')) as Fc;
    let checked = 0;
    let worst = 0;
    gcj.features.forEach((f, fi) => {
      const ring = f.geometry.coordinates[0]?.[0] ?? [];
      const other = wgs.features[fi]?.geometry.coordinates[0]?.[0] ?? [];
      for (let i = 0; i < ring.length; i += 25) {
        const [lon, lat] = gcj02ToWgs84(ring[i]![0]!, ring[i]![1]!);
        const k = metresPerDegree(lat);
        const d = Math.hypot((lon - other[i]![0]!) * k.kx, (lat - other[i]![1]!) * k.ky);
        worst = Math.max(worst, d);
        checked += 1;
      }
    });
    expect(checked).toBeGreaterThan(50);
    expect(worst).toBeLessThan(1);
    const stops = JSON.parse(readFileSync(stopsFile, 'utf8')) as { features: Array<{ properties: { lng_bd09: number; lat_bd09: number }; geometry: { coordinates: [number, number] } }> };
    let worstStop = 0;
    for (const s of stops.features.slice(0, 500)) {
      const [lon, lat] = bd09ToWgs84(s.properties.lng_bd09, s.properties.lat_bd09);
      const k = metresPerDegree(lat);
      worstStop = Math.max(worstStop, Math.hypot((lon - s.geometry.coordinates[0]) * k.kx, (lat - s.geometry.coordinates[1]) * k.ky));
    }
    expect(worstStop).toBeLessThan(1);
  });
});

describe('batch', () => {
  it('answers up to 10,000 points in order, refuses 10,001', async () => {
    const points = Array.from({ length: 10_000 }, (_, i) => (i % 3 === 0 ? { lon: IN_G1[0], lat: IN_G1[1] } : i % 3 === 1 ? { lon: IN_G2[0], lat: IN_G2[1] } : { lon: 100, lat: 30 }));
    const res = await t.inject({ method: 'POST', url: '/api/v1/dispatch/lookup', payload: { points } });
    expect(res.statusCode).toBe(200);
    const results = res.json<{ results: DispatchResult[] }>().results;
    expect(results).toHaveLength(10_000);
    results.forEach((r, i) => expect(r.grid?.code ?? 'none').toBe(i % 3 === 0 ? G1 : i % 3 === 1 ? G2 : 'none'));
    const single = await lookup(`lon=${IN_G2[0]}&lat=${IN_G2[1]}&at=${encodeURIComponent(MON('18:00'))}`);
    const batchOne = await t.inject({ method: 'POST', url: '/api/v1/dispatch/lookup', payload: { points: [{ lon: IN_G2[0], lat: IN_G2[1] }], at: MON('18:00') } });
    expect(batchOne.json<{ results: DispatchResult[] }>().results[0]).toEqual(single.body);

    const tooMany = await t.inject({ method: 'POST', url: '/api/v1/dispatch/lookup', payload: { points: [...points, { lon: 1, lat: 1 }] } });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });
});

describe('bad input', () => {
  it.each([
    ['lat=34.75', 'VALIDATION_FAILED'],
    ['lon=113.6', 'VALIDATION_FAILED'],
    ['', 'VALIDATION_FAILED'],
    ['lon=NaN&lat=34.75', 'VALIDATION_FAILED'],
    ['lon=abc&lat=34.75', 'VALIDATION_FAILED'],
    ['lon=200&lat=34.75', 'VALIDATION_FAILED'],
    ['lon=113.6&lat=-91', 'VALIDATION_FAILED'],
    ['lon=113.6&lat=Infinity', 'VALIDATION_FAILED'],
    ['lon=113.6&lat=34.75&crs=epsg3857', 'VALIDATION_FAILED'],
    ['lon=113.6&lat=34.75&at=yesterday', 'VALIDATION_FAILED'],
    ['address=', 'VALIDATION_FAILED'],
    ['address=  ', 'VALIDATION_FAILED'],
    ['address=建设路&lon=113.6&lat=34.75', 'VALIDATION_FAILED'],
  ])('%s → 400 %s', async (q, code) => {
    const res = await t.inject(`/api/v1/dispatch/lookup?${encodeURI(q)}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code } });
  });

  it('refuses a malformed batch body', async () => {
    for (const payload of [{}, { points: [] }, { points: [{ lon: 'x', lat: 1 }] }, { points: [{ lon: 1 }] }, { points: [{ lon: 1, lat: 1 }], crs: 'wgs' }]) {
      const res = await t.inject({ method: 'POST', url: '/api/v1/dispatch/lookup', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
  });

  it('needs the dispatch permission', async () => {
    expect((await t.inject({ url: `/api/v1/dispatch/lookup?lon=${IN_G1[0]}&lat=${IN_G1[1]}`, as: 'anonymous' })).statusCode).toBe(401);
    expect((await t.inject({ url: `/api/v1/dispatch/lookup?lon=${IN_G1[0]}&lat=${IN_G1[1]}`, as: 'dispatcher' })).statusCode).toBe(200);
  });
});

describe('layout changes', () => {
  it('serves a new layout within 1 s of publishing, and the old one for instants before it', async () => {
    const db = t.tdb.db;
    // Another process (its own service, its own LISTEN-less snapshot) must also see the change.
    const before = await lookup(`lon=${IN_G2[0]}&lat=${IN_G2[1]}`);
    expect(before.body.grid?.code).toBe(G2);
    const switchAt = new Date(Date.now() - 60_000).toISOString();
    const published = Date.now();
    await db.transaction().execute(async (trx) => {
      await sql`UPDATE layouts SET status = 'archived', effective_to = ${switchAt} WHERE status = 'published' AND community_code = ${COMMUNITY}`.execute(trx);
      const { rows } = await sql<{ id: number }>`INSERT INTO layouts (community_code, status, effective_from, published_at) VALUES (${COMMUNITY}, 'published', ${switchAt}, now()) RETURNING id`.execute(trx);
      await sql`INSERT INTO grids (layout_id, code, name, geom) VALUES (${rows[0]!.id}, ${`${COMMUNITY}003`}, '合并网格', ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(rect(113.6, 34.75, 113.604, 34.753))}), 4326))`.execute(trx);
    });
    await waitFor(async () => (await lookup(`lon=${IN_G2[0]}&lat=${IN_G2[1]}`)).body.grid?.code === `${COMMUNITY}003`, 1_000);
    const elapsed = Date.now() - published;
    expect(elapsed).toBeLessThan(1_000);

    const now = await lookup(`lon=${IN_G2[0]}&lat=${IN_G2[1]}`);
    expect(now.body).toMatchObject({ grid: { code: `${COMMUNITY}003`, layoutEffectiveFrom: switchAt }, ambiguous: false, source: 'memory' });
    const past = await lookup(`lon=${IN_G2[0]}&lat=${IN_G2[1]}&at=${encodeURIComponent(MON('10:00'))}`);
    expect(past.body).toMatchObject({ grid: { code: G2 }, source: 'postgis' });
    const pastEdge = await lookup(`lon=113.602&lat=34.7515&at=${encodeURIComponent(MON('10:00'))}`);
    expect(pastEdge.body).toMatchObject({ grid: { code: G1 }, ambiguous: true, candidates: [{ code: G2 }] });
    const pastNear = await lookup(`lon=${113.6 - 60 * M_LON}&lat=34.7515&at=${encodeURIComponent(MON('10:00'))}`);
    expect(pastNear.body).toMatchObject({ status: 'nearest_grid', grid: { code: G1 } });
    expect(Math.abs((pastNear.body.grid?.distanceM ?? 0) - 60 * (M_LON * metresPerDegree(34.7515).kx))).toBeLessThan(0.5);

    // A second service on the same database without notifications reloads within its 1 s trust window.
    const second = new DispatchService(db);
    expect((await second.lookupPoint({ lon: IN_G2[0], lat: IN_G2[1] })).grid?.code).toBe(`${COMMUNITY}003`);
    expect(M_LAT).toBeGreaterThan(0);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
