/**
 * Daily and monthly reports and KPIs on a hand-computed fixture (times in UTC; the report day is
 * Asia/Shanghai, so 2025-03-03 runs 03-02T16:00Z → 03-03T16:00Z).
 *
 * grid A (…001)                                            grid B (…002)
 *  A1 reported 03-03 01:00, due 03-05 01:00, closed 03-04 01:00 (24 h, on time)     B1 reported 03-03 01:00, due 03-04 01:00, closed 03-03 07:00 (6 h, on time)
 *  A2 reported 03-03 02:00, due 03-04 02:00, closed 03-05 02:00 (48 h, late), extended   B2 reported 03-06 01:00, due 04-30, still reported
 *  A3 reported 03-04 01:00, due 03-10 01:00, closed 03-04 05:00, reopened 07:00, closed again 13:00 (12 h, on time)
 *  A4 reported 03-05 01:00, due 03-06 01:00, closed 03-05 05:00, reopened 08:00: open (dispatched)
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DailyReport, KpiReport, MonthlyEventsReport } from '../../contracts/events';
import { COMMUNITY } from '../../test/factories';
import { createTestApp, type TestApp } from '../../test/app';

const A = `${COMMUNITY}001`;
const B = `${COMMUNITY}002`;
let t: TestApp;

interface Fixture {
  key: string;
  grid: string;
  category: string;
  state: string;
  reported: string;
  due: string;
  closed: string | null;
  reopen: number;
  ext: number;
  steps: Array<[string, string, string]>;
}

const FIXTURE: Fixture[] = [
  { key: 'A1', grid: A, category: 'dispute.neighbour', state: 'closed', reported: '03-03T01:00', due: '03-05T01:00', closed: '03-04T01:00', reopen: 0, ext: 0, steps: [['accept', 'accepted', '03-03T03:00'], ['close', 'closed', '03-04T01:00']] },
  { key: 'A2', grid: A, category: 'environment.garbage', state: 'closed', reported: '03-03T02:00', due: '03-04T02:00', closed: '03-05T02:00', reopen: 0, ext: 1, steps: [['close', 'closed', '03-05T02:00']] },
  { key: 'A3', grid: A, category: 'environment.garbage', state: 'closed', reported: '03-04T01:00', due: '03-10T01:00', closed: '03-04T13:00', reopen: 1, ext: 0, steps: [['close', 'closed', '03-04T05:00'], ['reopen', 'dispatched', '03-04T07:00'], ['close', 'closed', '03-04T13:00']] },
  { key: 'A4', grid: A, category: 'facility.manhole', state: 'dispatched', reported: '03-05T01:00', due: '03-06T01:00', closed: null, reopen: 1, ext: 0, steps: [['close', 'closed', '03-05T05:00'], ['reopen', 'dispatched', '03-05T08:00']] },
  { key: 'B1', grid: B, category: 'dispute.neighbour', state: 'closed', reported: '03-03T01:00', due: '03-04T01:00', closed: '03-03T07:00', reopen: 0, ext: 0, steps: [['close', 'closed', '03-03T07:00']] },
  { key: 'B2', grid: B, category: 'other.other', state: 'reported', reported: '03-06T01:00', due: '04-30T01:00', closed: null, reopen: 0, ext: 0, steps: [] },
];
const ts = (s: string): string => `2025-${s}:00Z`;

beforeAll(async () => {
  t = await createTestApp();
  const db = t.tdb.db;
  for (const f of FIXTURE) {
    const { rows } = await sql<{ id: number }>`
      INSERT INTO events (taxonomy_version, category_code, description, channel, occurred_at, reported_at, geom, grid_code, grid_name, community_code, street_code,
                          state, due_at, closed_at, reopen_count, extension_count)
      VALUES (1, ${f.category}, ${f.key}, 'patrol', ${ts(f.reported)}, ${ts(f.reported)}, ST_SetSRID(ST_MakePoint(113.601, 34.751), 4326), ${f.grid}, ${`网格${f.grid.slice(-1)}`},
              ${COMMUNITY}, ${COMMUNITY.slice(0, 9)}, ${f.state}, ${ts(f.due)}, ${f.closed ? ts(f.closed) : null}, ${f.reopen}, ${f.ext})
      RETURNING id`.execute(db);
    const id = rows[0]!.id;
    let from = 'reported';
    await sql`INSERT INTO event_transitions (event_id, action, from_state, to_state, at) VALUES (${id}, 'report', NULL, 'reported', ${ts(f.reported)})`.execute(db);
    for (const [action, to, at] of f.steps) {
      await sql`INSERT INTO event_transitions (event_id, action, from_state, to_state, at) VALUES (${id}, ${action}, ${from}, ${to}, ${ts(at)})`.execute(db);
      from = to;
    }
  }
});
afterAll(async () => t?.close());

const zero = { reported: 0, reportedByCategory: {}, accepted: 0, resolved: 0, closed: 0, rejected: 0, openAtEnd: 0, overdueAtEnd: 0 };

describe('daily report', () => {
  it.each([
    ['2025-03-03', [
      { unitCode: A, unitName: '网格1', ...zero, reported: 2, reportedByCategory: { dispute: 1, environment: 1 }, accepted: 1, openAtEnd: 2 },
      { unitCode: B, unitName: '网格2', ...zero, reported: 1, reportedByCategory: { dispute: 1 }, closed: 1 },
    ]],
    ['2025-03-05', [
      { unitCode: A, unitName: '网格1', ...zero, reported: 1, reportedByCategory: { facility: 1 }, closed: 2, openAtEnd: 1 },
    ]],
    ['2025-03-06', [
      { unitCode: A, unitName: '网格1', ...zero, openAtEnd: 1, overdueAtEnd: 1 },
      { unitCode: B, unitName: '网格2', ...zero, reported: 1, reportedByCategory: { other: 1 }, openAtEnd: 1 },
    ]],
  ])('per grid on %s', async (date, rows) => {
    const res = await t.inject(`/api/v1/events/reports/daily?date=${date}&level=grid`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<DailyReport>().rows).toEqual(rows);
  });

  it('refuses a day that does not exist (2026-02-30 was a report of nothing, month 13 a 500)', async () => {
    for (const date of ['2026-02-30', '2026-13-45']) {
      const res = await t.inject(`/api/v1/events/reports/daily?date=${date}`);
      expect(res.statusCode, date).toBe(400);
      expect(res.json<{ error: { code: string; details: { in: string } } }>().error).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'querystring' } });
    }
  });

  it('refuses a day or month whose China-time bounds no instant can hold (were 500s), and answers the edges', async () => {
    // 0001-01-01 starts 0000-12-31T16:00Z (PostgreSQL has no year 0).
    for (const url of ['/api/v1/events/reports/daily?date=0000-01-01', '/api/v1/events/reports/daily?date=0001-01-01',
      '/api/v1/events/reports/monthly?month=0000-01', '/api/v1/events/reports/monthly?month=0001-01']) {
      const res = await t.inject(url);
      expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
      expect(res.json<{ error: { code: string; details: { in: string; field: string } } }>().error).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'querystring' } });
    }
    // 9999-12 ends at 10000-01-01 China time, still 9999 in UTC (it was a 500: that text is no date to JavaScript).
    for (const url of ['/api/v1/events/reports/daily?date=0001-01-02', '/api/v1/events/reports/daily?date=9999-12-31',
      '/api/v1/events/reports/monthly?month=0001-02', '/api/v1/events/reports/monthly?month=9999-12']) {
      const res = await t.inject(url);
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    }
    // December rolls over into the next year's January.
    const dec = (await t.inject('/api/v1/events/reports/monthly?month=2024-12')).json<MonthlyEventsReport>();
    expect(dec.events.reported).toBe(0);
  });

  it('per community adds the grids up, and downloads as CSV', async () => {
    const r = (await t.inject('/api/v1/events/reports/daily?date=2025-03-03&level=community')).json<DailyReport>();
    expect(r.rows).toEqual([{ unitCode: COMMUNITY, unitName: null, ...zero, reported: 3, reportedByCategory: { dispute: 2, environment: 1 }, accepted: 1, closed: 1, openAtEnd: 2 }]);
    expect(r.totals).toMatchObject({ reported: 3, closed: 1, openAtEnd: 2 });
    const csv = await t.inject('/api/v1/events/reports/daily?date=2025-03-03&level=grid&format=csv');
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toBe('date,level,unit_code,unit_name,reported,reported_dispute,reported_environment,accepted,resolved,closed,rejected,open_at_end,overdue_at_end');
    expect(lines[1]).toBe(`2025-03-03,grid,${A},网格1,2,1,1,1,0,0,0,2,0`);
  });
});

describe('monthly report', () => {
  it('counts the month\'s events and takes the registry part from the registry', async () => {
    const r = (await t.inject(`/api/v1/events/reports/monthly?month=2025-03&scope=${COMMUNITY}`)).json<MonthlyEventsReport>();
    expect(r.events).toEqual({
      reported: 6, reportedByCategory: { dispute: 2, environment: 2, facility: 1, other: 1 },
      resolved: 0, closed: 6, closedOnTime: 5, rejected: 0, reopened: 2, openAtEnd: 2, overdueAtEnd: 1,
    });
    expect(r.registry).toMatchObject({ births: 0, deaths: 0, floating: 0, lowIncome: 0, shopEmployees: 0, note: null });
    const noRegistry = (await t.inject({ url: '/api/v1/events/reports/monthly?month=2025-03', as: 'dispatcher' })).json<MonthlyEventsReport>();
    expect(noRegistry.registry).toMatchObject({ births: null, lowIncome: null, note: expect.stringContaining('registry:read') as string });
    const csv = (await t.inject('/api/v1/events/reports/monthly?month=2025-03&format=csv')).body;
    expect(csv).toContain('2025-03,,events,reported,6');
  });
});

describe('KPIs', () => {
  const kpis = async (q: string): Promise<KpiReport> => {
    const res = await t.inject(`/api/v1/events/kpis?from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z&${q}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<KpiReport>();
  };

  it('per grid: closure, on-time, mean and p90 time to close, rework and extension rates', async () => {
    const r = await kpis('by=grid&minEvents=3');
    expect(r.rows).toEqual([
      // A: 4 events, closed A1 A2 A3 (A4 reopened after its close: counts against it), on time A1 A3;
      // hours 24, 48, 12 → mean 28, p90 = 24 + 0.8 × (48 − 24) = 43.2; reworked A3 A4; extended A2.
      { key: A, name: '网格1', events: 4, closed: 3, closedOnTime: 2, closureRate: 0.75, onTimeClosureRate: 0.5, meanHoursToClose: 28, p90HoursToClose: 43.2, reopened: 2, reworkRate: 0.5, extended: 1, extensionRate: 0.25, rank: 1 },
      // B: 2 events < 3: no rank.
      { key: B, name: '网格2', events: 2, closed: 1, closedOnTime: 1, closureRate: 0.5, onTimeClosureRate: 0.5, meanHoursToClose: 6, p90HoursToClose: 6, reopened: 0, reworkRate: 0, extended: 0, extensionRate: 0, rank: null },
    ]);
  });

  it('ranks by on-time rate, then closure rate, once both reach minEvents', async () => {
    const r = await kpis('by=grid&minEvents=2');
    expect(r.rows.map((x) => [x.key, x.rank])).toEqual([[A, 1], [B, 2]]);
    expect((await kpis('by=grid')).rows.every((x) => x.rank === null)).toBe(true);
    const csv = (await t.inject('/api/v1/events/kpis?from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z&minEvents=3&format=csv')).body;
    expect(csv.split('\r\n')[1]).toBe(`1,${A},网格1,4,3,2,0.75,0.5,28,43.2,2,0.5,1,0.25`);
  });

  it('analysts read grid KPIs, reports and the taxonomy (aggregates), but neither events nor per-staff KPIs', async () => {
    const q = 'from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z&minEvents=3';
    const admin = (await t.inject(`/api/v1/events/kpis?${q}&by=grid`)).json<KpiReport>();
    const asAnalyst = await t.inject({ url: `/api/v1/events/kpis?${q}&by=grid`, as: 'analyst' });
    expect(asAnalyst.statusCode, asAnalyst.body).toBe(200);
    expect(asAnalyst.json<KpiReport>().rows).toEqual(admin.rows);
    const byStaff = await t.inject({ url: `/api/v1/events/kpis?${q}&by=staff`, as: 'analyst' });
    expect(byStaff.statusCode).toBe(403);
    expect(byStaff.json<{ error: { code: string; details: { field: string } } }>().error).toMatchObject({ code: 'FORBIDDEN', details: { field: 'by' } });
    expect((await t.inject({ url: `/api/v1/events/kpis?${q}&by=staff`, as: 'dispatcher' })).statusCode).toBe(200);
    expect((await t.inject({ url: '/api/v1/events/reports/daily?date=2025-03-03&level=grid', as: 'analyst' })).statusCode).toBe(200);
    expect((await t.inject({ url: '/api/v1/event-categories', as: 'analyst' })).statusCode).toBe(200);
    expect((await t.inject({ url: '/api/v1/events', as: 'analyst' })).statusCode).toBe(403);
  });
});
