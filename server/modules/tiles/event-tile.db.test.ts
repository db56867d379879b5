/**
 * The events tile layer on real PostGIS: individual events with public attributes only at z ≥ 15,
 * counts per cell below, filters, scope, permissions, and cache invalidation on intake and transition.
 */
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../contracts/events';
import { createTestApp, type TestApp, type TestUser } from '../../test/app';
import { COMMUNITY, lattice, newDivisions, newGrid, newLayout } from '../../test/factories';
import { EVENT_POINT_MINZOOM } from './event-tiles';
import { tileOf } from '../../test/tiles';

const G1 = `${COMMUNITY}001`;
const G2 = `${COMMUNITY}002`;
const IN_G1: [number, number] = [113.6012, 34.7512];
const IN_G2: [number, number] = [113.6032, 34.7518];

interface Decoded {
  /** The MVT feature id. */
  id: number | undefined;
  properties: Record<string, unknown>;
  type: number;
}

function decode(buf: Buffer, layer: string): Decoded[] {
  if (buf.length === 0) return [];
  const l = new VectorTile(new PbfReader(buf)).layers[layer];
  if (!l) return [];
  return Array.from({ length: l.length }, (_, i) => ({ id: l.feature(i).id, properties: l.feature(i).properties, type: l.feature(i).type }));
}

let t: TestApp;
let worker: TestUser;
const events: Event[] = [];

async function report(at: [number, number], category = 'dispute.neighbour'): Promise<Event> {
  const res = await t.inject({
    method: 'POST',
    url: '/api/v1/events',
    payload: { category, description: '张三（电话13912345678）家楼上漏水', channel: 'resident', location: { type: 'Point', coordinates: at }, reporter: { name: '张三', phone: '13912345678' } },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<Event>();
}

const Z = EVENT_POINT_MINZOOM;
const [X, Y] = tileOf(113.602, 34.7515, Z);
const pointUrl = `/tiles/events/${Z}/${X}/${Y}.mvt`;
const [X12, Y12] = tileOf(113.602, 34.7515, 12);
const cellUrl = `/tiles/events/12/${X12}/${Y12}.mvt`;

beforeAll(async () => {
  t = await createTestApp();
  await newDivisions(t.tdb.db);
  const layoutId = await newLayout(t.tdb.db, { status: 'published', effectiveFrom: '2020-01-01T00:00:00Z' });
  const [a, b] = lattice(113.6, 34.75, 113.604, 34.753, 2, 1);
  await newGrid(t.tdb.db, layoutId, a!, { code: G1, name: '一网格' });
  await newGrid(t.tdb.db, layoutId, b!, { code: G2, name: '二网格' });
  await t.app.ready();
  // The test premise: both points lie in the one z15 tile and the one z12 tile used below.
  expect(tileOf(...IN_G1, Z)).toEqual([X, Y]);
  expect(tileOf(...IN_G2, Z)).toEqual([X, Y]);
  events.push(await report(IN_G1), await report(IN_G1, 'facility.manhole'), await report(IN_G2));
  worker = await t.userWith({ roles: ['grid_worker'], scope: [G1] });
});
afterAll(async () => t.close());

describe('event tiles', () => {
  it(`carry each event from z${Z}: its id as the feature id, category, state, reported time and overdue only`, async () => {
    const res = await t.inject(pointUrl);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.mapbox-vector-tile');
    expect(res.headers['cache-control']).toMatch(/^private/);
    const features = decode(res.rawPayload, 'events');
    expect(features.map((f) => f.id).sort()).toEqual(events.map((e) => e.id).sort());
    for (const f of features) {
      expect(f.type).toBe(1); // Point
      expect(Object.keys(f.properties).sort()).toEqual(['category', 'overdue', 'reported_at', 'state']);
      expect(JSON.stringify(f.properties)).not.toMatch(/张|139/);
    }
    const first = features.find((f) => f.id === events[0]!.id)!.properties;
    expect(first).toMatchObject({ category: 'dispute.neighbour', state: 'reported', overdue: false });
    // Unix seconds (an integer), the reported time truncated to the second.
    expect(first.reported_at).toBe(Math.floor(new Date(events[0]!.reportedAt).getTime() / 1000));
    expect(decode(res.rawPayload, 'event_cells')).toEqual([]);
  });

  it('aggregate below that zoom: counts per square cell, each event counted once', async () => {
    const res = await t.inject(cellUrl);
    expect(res.statusCode).toBe(200);
    const cells = decode(res.rawPayload, 'event_cells');
    expect(decode(res.rawPayload, 'events')).toEqual([]);
    for (const c of cells) {
      expect(c.type).toBe(3); // Polygon
      expect(Object.keys(c.properties).sort()).toEqual(['count', 'open', 'overdue']);
    }
    expect(cells.reduce((n, c) => n + Number(c.properties.count), 0)).toBe(events.length);
    expect(cells.reduce((n, c) => n + Number(c.properties.open), 0)).toBe(events.length);
    // The two G1 events (20 m apart) share a cell of about 600 m at z12; the G2 one is 200 m east.
    expect(cells.map((c) => c.properties.count).sort()).toEqual(cells.length === 1 ? [3] : [1, 2]);
  });

  it('filter by category, state and reported time', async () => {
    const ids = async (q: string): Promise<unknown[]> => decode((await t.inject(`${pointUrl}?${q}`)).rawPayload, 'events').map((f) => f.id).sort();
    expect(await ids('category=facility.manhole')).toEqual([events[1]!.id]);
    expect(await ids('category=dispute')).toEqual([events[0]!.id, events[2]!.id].sort());
    expect(await ids('state=closed,rejected')).toEqual([]);
    expect(await ids(`from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`)).toEqual([]);
    expect(await ids(`to=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`)).toHaveLength(3);
    const bad = await t.inject(`${pointUrl}?state=lost`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { code: string; details: unknown } }>().error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'state' } });
    expect((await t.inject('/tiles/events/3/1/1.mvt')).statusCode).toBe(400);
  });

  it('need events:read and show only the caller’s scope', async () => {
    expect((await t.inject({ url: pointUrl, as: 'anonymous' })).statusCode).toBe(401);
    expect((await t.inject({ url: pointUrl, as: 'analyst' })).statusCode).toBe(403);
    expect((await t.inject({ url: pointUrl, as: 'planner' })).statusCode).toBe(403);
    expect((await t.inject({ url: '/tiles/events.json', as: 'anonymous' })).statusCode).toBe(401);
    const mine = decode((await t.inject({ url: pointUrl, as: { token: worker.token } })).rawPayload, 'events');
    expect(mine.map((f) => f.id).sort()).toEqual([events[0]!.id, events[1]!.id].sort());
    const dispatcher = decode((await t.inject({ url: pointUrl, as: 'dispatcher' })).rawPayload, 'events');
    expect(dispatcher).toHaveLength(3);
    // TileJSON bounds cover the caller's events only: the worker's two (20 m apart in G1), not G2's.
    type TileJson = { bounds: [number, number, number, number] };
    const all = (await t.inject({ url: '/tiles/events.json', as: 'dispatcher' })).json<TileJson>().bounds;
    const own = (await t.inject({ url: '/tiles/events.json', as: { token: worker.token } })).json<TileJson>().bounds;
    expect(all[2]).toBeCloseTo(IN_G2[0], 6);
    expect(own[2]).toBeLessThan(IN_G2[0] - 0.001);
    expect(own[0]).toBeCloseTo(IN_G1[0], 6);
    // The public tile route does not serve events under another name.
    expect((await t.inject({ url: `/tiles/event/${Z}/${X}/${Y}.mvt`, as: 'anonymous' })).statusCode).toBe(404);
  });

  it('are never stale after an intake or a transition', async () => {
    const before = decode((await t.inject(pointUrl)).rawPayload, 'events');
    const added = await report(IN_G2, 'facility.manhole');
    await expect
      .poll(async () => decode((await t.inject(pointUrl)).rawPayload, 'events').map((f) => f.id), { timeout: 3_000, interval: 50 })
      .toContain(added.id);
    expect(before.map((f) => f.id)).not.toContain(added.id);
    const res = await t.inject({ method: 'POST', url: `/api/v1/events/${added.id}/transitions`, payload: { action: 'reject', reason: '重复上报' } });
    expect(res.statusCode, res.body).toBe(200);
    await expect
      .poll(async () => decode((await t.inject(pointUrl)).rawPayload, 'events').find((f) => f.id === added.id)?.properties.state, { timeout: 3_000, interval: 50 })
      .toBe('rejected');
    // And the cells below: the rejected event still counts, but not as open.
    await expect
      .poll(async () => decode((await t.inject(cellUrl)).rawPayload, 'event_cells').reduce((n, c) => n + Number(c.properties.count) - Number(c.properties.open), 0), { timeout: 3_000, interval: 50 })
      .toBe(1);
  });

  it('describe both zoom ranges with TileJSON', async () => {
    const doc = (await t.inject({ url: '/tiles/events.json', as: 'dispatcher' })).json<{ tiles: string[]; vector_layers: Array<{ id: string; minzoom: number; maxzoom: number; fields: Record<string, string> }> }>();
    expect(doc.tiles[0]).toMatch(/\/tiles\/events\/\{z\}\/\{x\}\/\{y\}\.mvt$/);
    expect(doc.vector_layers.map((l) => [l.id, l.minzoom, l.maxzoom])).toEqual([
      ['event_cells', 8, Z - 1],
      ['events', Z, 20],
    ]);
    expect(doc.vector_layers[1]!.fields).toEqual({ category: 'String', overdue: 'Boolean', reported_at: 'Number', state: 'String' });
  });
});
