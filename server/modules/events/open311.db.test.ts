/**
 * Listing with filters (JSON and GeoJSON, keyset paging) and an Open311 GeoReport v2 round trip:
 * services → form-encoded POST → GET one/many → worked through the API → closed in Open311.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event, EventList } from '../../contracts/events';
import type { Open311Request, Open311Service } from '../../contracts/open311';
import { COMMUNITY, lattice, newDivisions, newGrid, newLayout } from '../../test/factories';
import { createTestApp, type TestApp, type TestUser } from '../../test/app';

const G1 = `${COMMUNITY}001`;
const G2 = `${COMMUNITY}002`;
let t: TestApp;
let worker: TestUser;

const report = async (body: Record<string, unknown>): Promise<Event> => {
  const res = await t.inject({ method: 'POST', url: '/api/v1/events', payload: { description: '巡查发现', channel: 'patrol', ...body } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<Event>();
};
const pt = (lon: number, lat: number) => ({ type: 'Point', coordinates: [lon, lat] });

beforeAll(async () => {
  t = await createTestApp();
  await newDivisions(t.tdb.db);
  const layout = await newLayout(t.tdb.db, { status: 'published', effectiveFrom: '2020-01-01T00:00:00Z' });
  const [a, b] = lattice(113.6, 34.75, 113.604, 34.753, 2, 1);
  await newGrid(t.tdb.db, layout, a!, { code: G1, name: '一网格' });
  await newGrid(t.tdb.db, layout, b!, { code: G2, name: '二网格' });
  worker = await t.userWith({ roles: ['grid_worker'], scope: [COMMUNITY] });
});
afterAll(async () => t?.close());

describe('GET /api/v1/events', () => {
  let ids: Record<string, number> = {};
  beforeAll(async () => {
    ids = {
      a: (await report({ category: 'dispute.neighbour', location: pt(113.601, 34.751) })).id,
      b: (await report({ category: 'dispute.family', location: pt(113.6012, 34.7512), channel: 'hotline' })).id,
      c: (await report({ category: 'facility.street_light', location: pt(113.603, 34.752) })).id,
      d: (await report({ category: 'environment.garbage', location: pt(113.6032, 34.7522), channel: 'video' })).id,
    };
    // d is overdue: its deadlines lie in the past (as if reported long ago).
    await sql`UPDATE events SET stage_due_at = now() - interval '1 hour', due_at = now() - interval '1 hour' WHERE id = ${ids.d!}`.execute(t.tdb.db);
    await t.inject({ method: 'POST', url: `/api/v1/events/${ids.c!}/transitions`, payload: { action: 'accept' } });
  });
  const list = async (q: string): Promise<number[]> => {
    const res = await t.inject(`/api/v1/events?${q}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<EventList>().items.map((e) => e.id).sort((x, y) => x - y);
  };

  it.each([
    ['grid', () => `grid=${G1}`, () => [ids.a, ids.b]],
    ['community', () => `community=${COMMUNITY}`, () => [ids.a, ids.b, ids.c, ids.d]],
    ['state', () => 'state=accepted', () => [ids.c]],
    ['states', () => 'state=accepted,reported', () => [ids.a, ids.b, ids.c, ids.d]],
    ['a category and its sub-types', () => 'category=dispute', () => [ids.a, ids.b]],
    ['a sub-type', () => 'category=dispute.family', () => [ids.b]],
    ['channel', () => 'channel=hotline', () => [ids.b]],
    ['overdue', () => 'overdue=true', () => [ids.d]],
    ['not overdue', () => 'overdue=false', () => [ids.a, ids.b, ids.c]],
    ['bbox', () => 'bbox=113.6025,34.7515,113.6035,34.7525', () => [ids.c, ids.d]],
    ['time range', () => `from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, () => []],
  ])('filters by %s', async (_name, q, expected) => {
    expect(await list(q())).toEqual(expected());
  });

  it('pages newest first by keyset and returns GeoJSON on request', async () => {
    const page1 = (await t.inject('/api/v1/events?limit=3')).json<EventList>();
    expect(page1.items.map((e) => e.id)).toEqual([ids.d, ids.c, ids.b]);
    expect(page1.next).toBe(ids.b);
    const page2 = (await t.inject(`/api/v1/events?limit=3&after=${page1.next!}`)).json<EventList>();
    expect(page2.items.map((e) => e.id)).toEqual([ids.a]);
    expect(page2.next).toBeNull();
    const fc = (await t.inject(`/api/v1/events?format=geojson&grid=${G2}`)).json<{ type: string; features: Array<{ id: number; geometry: { type: string }; properties: { overdue: boolean } }> }>();
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.features.map((f) => [f.id, f.geometry.type, f.properties.overdue])).toEqual([[ids.d, 'Point', true], [ids.c, 'Point', false]]);
  });

  it('refuses an unknown state and a bad bbox', async () => {
    expect((await t.inject('/api/v1/events?state=lost')).statusCode).toBe(400);
    expect((await t.inject('/api/v1/events?bbox=1,2,0,1')).statusCode).toBe(400);
  });
});

describe('Open311 GeoReport v2', () => {
  it('round trip: services, a form-encoded request, its status through the workflow', async () => {
    const services = (await t.inject({ url: '/open311/v2/services.json', as: 'anonymous' })).json<Open311Service[]>();
    expect(services.find((s) => s.service_code === 'facility.street_light')).toMatchObject({ service_name: '路灯', group: '公共设施（部件）', metadata: false, type: 'realtime' });
    expect(services.some((s) => s.service_code === 'facility')).toBe(false);

    const form = new URLSearchParams({ service_code: 'facility.street_light', lat: '34.7521', long: '113.6031', description: '路灯不亮', first_name: '小明', last_name: '李', phone: '13711112222', media_url: 'https://example.org/lamp.jpg' });
    const posted = await t.inject({ method: 'POST', url: '/open311/v2/requests.json', as: 'anonymous', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() });
    expect(posted.statusCode, posted.body).toBe(201);
    const [created] = posted.json<Array<{ service_request_id: string; service_notice: string }>>();
    const id = Number(created!.service_request_id);

    const event = (await t.inject(`/api/v1/events/${id}`)).json<Event>();
    expect(event).toMatchObject({ source: 'open311', channel: 'resident', reporter: { name: '李**', phone: '137****2222' }, attachments: ['https://example.org/lamp.jpg'] });
    expect(event.routing.gridCode).toBe(G2);

    const [open] = (await t.inject({ url: `/open311/v2/requests/${id}.json`, as: 'anonymous' })).json<Open311Request[]>();
    expect(open).toMatchObject({
      service_request_id: String(id), status: 'open', service_code: 'facility.street_light', service_name: '路灯', description: '路灯不亮',
      agency_responsible: `网格 ${G2} 二网格`, expected_datetime: event.dueAt, lat: 34.7521, long: 113.6031, media_url: 'https://example.org/lamp.jpg',
    });
    expect(JSON.stringify(open)).not.toContain('13711112222');

    for (const [action, extra, as] of [
      ['accept', {}, undefined], ['dispatch', { department: '路灯所' }, undefined], ['start', {}, undefined],
      ['resolve', { result: '已更换灯泡' }, worker], ['verify', {}, undefined], ['close', {}, undefined],
    ] as const) {
      const res = await t.inject({ method: 'POST', url: `/api/v1/events/${id}/transitions`, payload: { action, ...extra }, ...(as ? { as: { token: as.token } } : {}) });
      expect(res.statusCode, res.body).toBe(200);
    }
    const [closed] = (await t.inject({ url: `/open311/v2/requests/${id}.json`, as: 'anonymous' })).json<Open311Request[]>();
    expect(closed).toMatchObject({ status: 'closed', status_notes: '已结案 (closed): 已更换灯泡', expected_datetime: null });

    const closedList = (await t.inject({ url: '/open311/v2/requests.json?status=closed', as: 'anonymous' })).json<Open311Request[]>();
    expect(closedList.map((r) => r.service_request_id)).toEqual([String(id)]);
  });

  it('Idempotency-Key: the same request is answered again, one that differs in any field is a 409', async () => {
    const body = { service_code: 'environment.garbage', lat: '34.7512', long: '113.6012', description: '垃圾满溢', email: 'a@example.org', account_id: 'acct-1' };
    const post = (payload: Record<string, string>) => t.inject({
      method: 'POST', url: '/open311/v2/requests.json', as: 'anonymous',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': 'o311-k1' }, payload: new URLSearchParams(payload).toString(),
    });
    const first = await post(body);
    expect(first.statusCode, first.body).toBe(201);
    const again = await post(body);
    expect(again.statusCode, again.body).toBe(201);
    expect(again.json()).toEqual(first.json());
    // Fields the event does not keep (email, account_id, device_id …) still make it another request.
    for (const other of [{ ...body, email: 'b@example.org' }, { ...body, account_id: 'acct-2' }, { ...body, device_id: 'phone-2' }]) {
      const res = await post(other);
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json<{ error: { details: { reason: string; in: string } } }>().error.details).toMatchObject({ reason: 'IDEMPOTENCY_KEY_REUSED', in: 'headers' });
    }
  });

  it('refuses a service_request_id past the id column (was a 500 in SQL), as the one-request path does', async () => {
    for (const ids of ['99999999999999999999', '9223372036854775808', `1,${'9'.repeat(16)}`]) {
      const res = await t.inject({ url: `/open311/v2/requests.json?service_request_id=${ids}`, as: 'anonymous' });
      expect(res.statusCode, `${ids}: ${res.body}`).toBe(400);
      expect(res.json<{ error: { code: string; details: { in: string } } }>().error).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'querystring' } });
    }
    const ok = await t.inject({ url: `/open311/v2/requests.json?service_request_id=1,${'9'.repeat(15)}`, as: 'anonymous' });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('accepts JSON too, lists only Open311 requests, and refuses a request without a place', async () => {
    const internal = await report({ category: 'dispute.family', location: pt(113.601, 34.751) });
    const posted = await t.inject({ method: 'POST', url: '/open311/v2/requests.json', as: 'anonymous', payload: { service_code: 'environment.garbage', lat: 34.751, long: 113.601, description: '垃圾' } });
    expect(posted.statusCode, posted.body).toBe(201);
    const all = (await t.inject({ url: '/open311/v2/requests.json', as: 'anonymous' })).json<Open311Request[]>();
    expect(all.map((r) => r.service_request_id)).not.toContain(String(internal.id));
    expect((await t.inject({ url: `/open311/v2/requests/${internal.id}.json`, as: 'anonymous' })).statusCode).toBe(404);
    const noPlace = await t.inject({ method: 'POST', url: '/open311/v2/requests.json', as: 'anonymous', payload: { service_code: 'environment.garbage' } });
    expect(noPlace.statusCode).toBe(400);
    const unknown = await t.inject({ method: 'POST', url: '/open311/v2/requests.json', as: 'anonymous', payload: { service_code: 'nope', lat: 34.751, long: 113.601 } });
    expect(unknown.statusCode).toBe(400);
  });
});
