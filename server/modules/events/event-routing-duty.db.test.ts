/**
 * Who an event is assigned to is who the dispatch lookup names for that place at that instant (one
 * rule: grid on duty → grid leader not on leave → community, then street duty officer on duty →
 * the community's, then the street's registered duty officer), by either routing path: HTTP intake
 * (memory while dispatch is live) and the PostGIS chain (routeEventLocation without dispatch).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DispatchResult } from '../../contracts/dispatch';
import type { Event } from '../../contracts/events';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, lattice, newDivisions, newGrid, newLayout, rect } from '../../test/factories';
import { routeEventLocation } from './event-routing';

let t: TestApp;
// Community 1 (113.600–113.604): grid G1 with leader L1; community duty officer C1 on duty all week.
// Community 2 (113.605–113.609): grid G3 with leader L3 on leave now and worker W3 without shifts;
// community duty officer C3 registered, without shifts. Nobody is on duty in community 2.
// Community 3 (113.610–113.614): one grid without a code in its west corner (113.610–113.611), the rest
// a gap in the layout; duty officer C5 on duty all week. Community 4 (113.615–113.619): no grids, no
// duty officers of its own. The street (113.600–113.630, its boundary drawn) has duty officer S1,
// registered, without shifts. East of 113.620 the street has no community.
const COMMUNITY2 = `${COMMUNITY.slice(0, 9)}002`;
const COMMUNITY3 = `${COMMUNITY.slice(0, 9)}003`;
const COMMUNITY4 = `${COMMUNITY.slice(0, 9)}004`;
const G1 = `${COMMUNITY}001`;
const G3 = `${COMMUNITY2}001`;
const IN_G1: [number, number] = [113.602, 34.7515];
const IN_G3: [number, number] = [113.607, 34.7515];
const IN_UNCODED_GRID: [number, number] = [113.6105, 34.7515];
const IN_LAYOUT_GAP: [number, number] = [113.6135, 34.7515];
const IN_COMMUNITY4: [number, number] = [113.617, 34.7515];
const STREET_ONLY: [number, number] = [113.625, 34.7515];

beforeAll(async () => {
  t = await createTestApp();
  const db = t.tdb.db;
  await newDivisions(db);
  await newDivisions(db, { community: COMMUNITY2, communityBoundary: rect(113.605, 34.75, 113.609, 34.753) });
  const layout1 = await newLayout(db, { status: 'published', effectiveFrom: '2020-01-01T00:00:00Z' });
  const layout2 = await newLayout(db, { community: COMMUNITY2, status: 'published', effectiveFrom: '2020-01-01T00:00:00Z' });
  await newGrid(db, layout1, lattice(113.6, 34.75, 113.604, 34.753, 1, 1)[0]!, { code: G1, name: '一网格' });
  await newGrid(db, layout2, lattice(113.605, 34.75, 113.609, 34.753, 1, 1)[0]!, { code: G3, name: '三网格' });
  await newDivisions(db, { community: COMMUNITY3, communityBoundary: rect(113.61, 34.75, 113.614, 34.753) });
  await newDivisions(db, { community: COMMUNITY4, communityBoundary: rect(113.615, 34.75, 113.619, 34.753) });
  const layout3 = await newLayout(db, { community: COMMUNITY3, status: 'published', effectiveFrom: '2020-01-01T00:00:00Z' });
  await newGrid(db, layout3, rect(113.61, 34.75, 113.611, 34.753), { code: null, name: '未编码网格' });
  await sql`UPDATE divisions SET geom = ST_Multi(ST_MakeEnvelope(113.6, 34.75, 113.63, 34.753, 4326)) WHERE code = ${COMMUNITY.slice(0, 9)}`.execute(db);
  await sql`
    INSERT INTO staff (code, name, phone, role, unit_code) VALUES
      ('L1', '李组长', NULL, 'grid_leader', ${G1}),
      ('C1', '陈社区', NULL, 'community_duty_officer', ${COMMUNITY}),
      ('L3', '刘组长', NULL, 'grid_leader', ${G3}),
      ('W3', '吴网格', NULL, 'full_time_worker', ${G3}),
      ('C3', '曹社区', NULL, 'community_duty_officer', ${COMMUNITY2}),
      ('C5', '钟社区', NULL, 'community_duty_officer', ${COMMUNITY3}),
      ('S1', '孙街道', NULL, 'street_duty_officer', ${COMMUNITY.slice(0, 9)})`.execute(db);
  await sql`
    INSERT INTO staff_assignments (staff_id, grid_code, role, from_date)
    SELECT id, CASE code WHEN 'L1' THEN ${G1} ELSE ${G3} END, CASE code WHEN 'W3' THEN 'full_time_worker' ELSE 'grid_leader' END, '2020-01-01'
    FROM staff WHERE code IN ('L1', 'L3', 'W3')`.execute(db);
  await sql`
    INSERT INTO roster_shifts (staff_id, scope_code, weekday, start_time, end_time)
    SELECT id, CASE code WHEN 'C1' THEN ${COMMUNITY} ELSE ${COMMUNITY3} END, d, '00:00', '24:00' FROM staff, generate_series(1, 7) d WHERE code IN ('C1', 'C5')`.execute(db);
  await sql`
    INSERT INTO roster_exceptions (kind, staff_id, starts_at, ends_at, reason)
    SELECT 'leave', id, now() - interval '1 day', now() + interval '1 day', '年假' FROM staff WHERE code = 'L3'`.execute(db);
  await t.app.ready();
});

afterAll(async () => {
  await t?.close();
});

async function dispatchAnswer(p: [number, number], at: Date): Promise<DispatchResult> {
  const res = await t.inject(`/api/v1/dispatch/lookup?lon=${p[0]}&lat=${p[1]}&at=${encodeURIComponent(at.toISOString())}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<DispatchResult>();
}

async function dispatchResponder(p: [number, number], at: Date): Promise<DispatchResult['responder']> {
  return (await dispatchAnswer(p, at)).responder;
}

async function staffId(code: string): Promise<number> {
  const { rows } = await sql<{ id: number }>`SELECT id FROM staff WHERE code = ${code}`.execute(t.tdb.db);
  return rows[0]!.id;
}

async function intake(p: [number, number]): Promise<Event> {
  const res = await t.inject({ method: 'POST', url: '/api/v1/events', payload: { category: 'dispute.neighbour', description: '楼道堆物，邻里争执', channel: 'patrol', location: { type: 'Point', coordinates: p } } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<Event>();
}

describe('event routing names whom dispatch names', () => {
  it('nobody on duty in the grid: its grid leader before the community duty officer on duty', async () => {
    const expected = await dispatchResponder(IN_G1, new Date());
    expect(expected).toMatchObject({ staffCode: 'L1', step: 'grid_leader' });
    const event = await intake(IN_G1);
    expect(event.routing.responsibleStaff?.id).toBe(await staffId('L1'));
    const viaPostgis = await routeEventLocation(t.tdb.db, { point: IN_G1 }, new Date());
    expect(viaPostgis.routing.responsibleStaff).toMatchObject({ id: await staffId('L1'), role: 'grid_leader' });
  });

  it('the grid leader on leave and nobody on duty: the community’s registered duty officer, not the leader', async () => {
    const expected = await dispatchResponder(IN_G3, new Date());
    expect(expected).toMatchObject({ staffCode: 'C3', step: 'community_contact' });
    const event = await intake(IN_G3);
    expect(event.routing.responsibleStaff).toMatchObject({ id: await staffId('C3'), role: 'community_duty_officer' });
    const viaPostgis = await routeEventLocation(t.tdb.db, { point: IN_G3 }, new Date());
    expect(viaPostgis.routing.responsibleStaff).toMatchObject({ id: await staffId('C3'), role: 'community_duty_officer' });
  });

  // The lookup's grid-less places: it skips the grid steps and walks the community's chain; an event
  // filed there used to store nobody. Both routing paths must name the lookup's responder.
  it.each([
    ['in a community, in a gap of its layout (no grid within 100 m): its duty officer on duty', IN_LAYOUT_GAP, 'community_only', 'C5', 'community_duty_officer'],
    ['in a grid without a code: the community’s chain, as the lookup walks it', IN_UNCODED_GRID, 'in_grid', 'C5', 'community_duty_officer'],
    ['in a community without grids or duty officers: the street’s registered duty officer', IN_COMMUNITY4, 'community_only', 'S1', 'street_contact'],
  ] as const)('%s', async (_name, place, status, code, step) => {
    const answer = await dispatchAnswer(place, new Date());
    expect(answer.status).toBe(status);
    expect(answer.responder).toMatchObject({ staffCode: code, step });
    const id = await staffId(code);
    const event = await intake(place);
    expect(event.routing.gridCode).toBeNull();
    expect(event.routing.responsibleStaff).toMatchObject({ id, role: answer.responder!.role });
    const viaPostgis = await routeEventLocation(t.tdb.db, { point: place }, new Date());
    expect(viaPostgis.routing).toMatchObject({ communityCode: answer.community!.code, responsibleStaff: { id, role: answer.responder!.role } });
  });

  it('outside every community (inside the street’s boundary): the lookup names nobody, and neither does routing', async () => {
    const answer = await dispatchAnswer(STREET_ONLY, new Date());
    expect(answer).toMatchObject({ status: 'outside', responder: null });
    const event = await intake(STREET_ONLY);
    expect(event.routing).toMatchObject({ via: 'unrouted', communityCode: null, responsibleStaff: null });
    const viaPostgis = await routeEventLocation(t.tdb.db, { point: STREET_ONLY }, new Date());
    expect(viaPostgis.routing).toMatchObject({ via: 'unrouted', responsibleStaff: null });
  });
});
