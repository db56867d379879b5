import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED, generateDemoCity } from '../../../scripts/generate/demo-city';
import { generateDemoEvents } from '../../../scripts/generate/events';
import type { EventHotspotsResponse } from '../../contracts/analysis-events';
import type { Event, EventList, Timeline } from '../../contracts/events';
import { createTestApp, type TestApp } from '../../test/app';
import { createTestDatabase, type TestDatabase } from '../../test/database';
import { testConfig } from '../../config';
import { registryCipherFromConfig } from '../registry/registry-crypto';
import { validateLayout } from '../layouts/layout-validation.service';
import { loadDemoIfEmpty } from './demo.service';

describe('the demo city loaded on first start', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(async () => tdb.drop());

  it('loads into an empty database once, with one published layout per community that validates clean', async () => {
    const first = await loadDemoIfEmpty(tdb.db);
    expect(first.loaded).toBe(true);
    expect(first.summary.communities).toBeGreaterThanOrEqual(3);
    const again = await loadDemoIfEmpty(tdb.db);
    expect(again.loaded).toBe(false);

    const { rows } = await sql<{ community_code: string; id: number; grids: number }>`
      SELECT l.community_code, l.id, (SELECT count(*) FROM grids g WHERE g.layout_id = l.id)::int AS grids
      FROM layouts l WHERE l.status = 'published' ORDER BY l.community_code`.execute(tdb.db);
    expect(rows).toHaveLength(first.summary.communities ?? -1);
    expect(rows.reduce((s, r) => s + r.grids, 0)).toBe(first.summary.grids);
    for (const layout of rows) {
      const report = await validateLayout(tdb.db, layout.id);
      expect(report.summary.overlaps).toBe(0);
      expect(report.summary.gaps).toBe(0);
      expect(report.summary.outside).toBe(0);
      expect(report.summary.publishable).toBe(true);
    }
  });
});

describe("the demo city's events", () => {
  let t: TestApp;
  let summary: Record<string, number>;
  const anchor = new Date();
  beforeAll(async () => {
    t = await createTestApp();
    summary = (await loadDemoIfEmpty(t.tdb.db, 'small', registryCipherFromConfig(testConfig()), anchor)).summary;
  });
  afterAll(async () => t.close());

  it('are the generated ones, routed to grids, in the 60 days before the load, in several states and categories', async () => {
    const expected = generateDemoEvents({ seed: DEFAULT_SEED, anchor, buildings: [...generateDemoCity({ size: 'small' }).buildings] });
    expect(summary.events).toBe(expected.length);
    const events: Event[] = [];
    let after: number | null = null;
    do {
      const res = await t.inject(`/api/v1/events?limit=200${after === null ? '' : `&after=${after}`}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<EventList>();
      events.push(...page.items);
      after = page.next;
    } while (after !== null);
    expect(events).toHaveLength(expected.length);
    const since = anchor.getTime() - 60 * 86_400_000;
    for (const e of events) {
      expect(Date.parse(e.reportedAt)).toBeGreaterThanOrEqual(since);
      expect(Date.parse(e.reportedAt)).toBeLessThan(anchor.getTime());
      expect(e.routing.gridCode).not.toBeNull();
      expect(e.reporter).toBeNull();
    }
    const count = (state: string) => events.filter((e) => e.state === state).length;
    expect(count('closed')).toBeGreaterThan(events.length / 2);
    for (const state of ['reported', 'accepted', 'dispatched', 'in_progress', 'resolved', 'rejected']) expect(count(state), state).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.category.parentCode)).size).toBeGreaterThanOrEqual(5);
    expect(events.filter((e) => e.overdue).length).toBeGreaterThan(0);

    // A closed one's case file: every step from the report on, deadlines of the stage it is in.
    const closed = events.find((e) => e.state === 'closed');
    const timeline = (await t.inject(`/api/v1/events/${closed?.id ?? 0}/timeline`)).json<Timeline>();
    expect(timeline.transitions.map((x) => x.action)).toEqual(['report', 'accept', 'dispatch', 'start', 'resolve', 'verify', 'close']);
    expect(closed).toMatchObject({ stage: null, stageDueAt: null, overdue: false });
    expect(closed?.closedAt).toBe(timeline.transitions.at(-1)?.at);
    const open = events.find((e) => e.state === 'in_progress');
    expect(open?.stage).toBe('handle');
    expect(open?.assignee.staffId ?? open?.assignee.department).toBeTruthy();
  });

  it('give the hot spot analysis (its default time range) at least one hot spot', async () => {
    const res = await t.inject({ url: '/api/v1/analysis/hotspots', as: 'analyst' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<EventHotspotsResponse>();
    expect(body.features.filter((f) => f.properties.bin >= 2).length).toBeGreaterThanOrEqual(1);
  });
});
