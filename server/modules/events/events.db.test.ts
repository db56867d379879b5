/**
 * Events over HTTP on real PostGIS: intake and routing, idempotency (incl. a race), duplicate hints,
 * every allowed and forbidden transition, concurrency, re-routing, transfers, routing surviving a
 * later layout publish, listing, and an Open311 round trip.
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event, EventAction, EventList, EventState, Taxonomy, Timeline, TransitionResult } from '../../contracts/events';
import type { ErrorResponse } from '../../contracts/common';
import { COMMUNITY, M_LON, lattice, newDivisions, newGrid, newLayout, rect } from '../../test/factories';
import { createTestApp, type TestApp, type TestUser } from '../../test/app';
import { allowedActions, WORKFLOW } from './event.service';
import { loadWorkingCalendar } from './event.repository';
import { addDeadlineHours } from './working-calendar';

const G1 = `${COMMUNITY}001`;
const G2 = `${COMMUNITY}002`;
const LEFT: [number, number] = [113.601, 34.7515];
const RIGHT: [number, number] = [113.603, 34.7515];

let t: TestApp;
let worker: TestUser;
let staffId: number;
let layoutId: number;

const point = (p: [number, number]) => ({ type: 'Point' as const, coordinates: p });

async function report(body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Event> {
  const res = await t.inject({ method: 'POST', url: '/api/v1/events', headers, payload: { category: 'dispute.neighbour', description: '楼上漏水，邻里争执', channel: 'patrol', location: point(LEFT), ...body } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<Event>();
}

async function act(id: number, action: EventAction, extra: Record<string, unknown> = {}, as?: TestUser) {
  return t.inject({ method: 'POST', url: `/api/v1/events/${id}/transitions`, payload: { action, ...extra }, ...(as ? { as: { token: as.token } } : {}) });
}

const PARAMS: Partial<Record<EventAction, Record<string, unknown>>> = {
  reject: { reason: '不属于网格事项' },
  dispatch: { staffId: 0 },
  resolve: { result: '已调解，双方签订协议' },
  reopen: { reason: '核查未通过' },
  transfer: { gridCode: G2, reason: '发生地在相邻网格' },
  request_extension: { hours: 8, reason: '需要物业配合' },
  amend: { category: 'dispute.family' },
};

/** The path from `reported` to each state; the handler (worker) resolves so that an admin may verify. */
const PATH: Record<EventState, EventAction[]> = {
  reported: [],
  accepted: ['accept'],
  rejected: ['reject'],
  dispatched: ['accept', 'dispatch'],
  in_progress: ['accept', 'dispatch', 'start'],
  resolved: ['accept', 'dispatch', 'start', 'resolve'],
  verified: ['accept', 'dispatch', 'start', 'resolve', 'verify'],
  closed: ['accept', 'dispatch', 'start', 'resolve', 'verify', 'close'],
};

async function eventIn(state: EventState): Promise<Event> {
  const e = await report();
  for (const a of PATH[state]) {
    const res = await act(e.id, a, PARAMS[a] ?? {}, a === 'resolve' ? worker : undefined);
    expect(res.statusCode, `${a}: ${res.body}`).toBe(200);
  }
  return (await t.inject(`/api/v1/events/${e.id}`)).json<Event>();
}

beforeAll(async () => {
  t = await createTestApp();
  const db = t.tdb.db;
  await newDivisions(db);
  layoutId = await newLayout(db, { status: 'published', effectiveFrom: '2020-01-01T00:00:00Z' });
  const [a, b] = lattice(113.6, 34.75, 113.604, 34.753, 2, 1);
  await newGrid(db, layoutId, a!, { code: G1, name: '一网格' });
  await newGrid(db, layoutId, b!, { code: G2, name: '二网格' });
  const { rows } = await sql<{ id: number }>`
    INSERT INTO staff (code, name, phone, role, unit_code) VALUES ('S1', '王网格', '13800000001', 'grid_leader', ${G1}) RETURNING id`.execute(db);
  staffId = rows[0]!.id;
  PARAMS.dispatch = { staffId };
  await sql`INSERT INTO staff_assignments (staff_id, grid_code, role, from_date) VALUES (${staffId}, ${G1}, 'grid_leader', '2020-01-01')`.execute(db);
  worker = await t.userWith({ roles: ['grid_worker'], scope: [COMMUNITY] });
});
afterAll(async () => t?.close());

describe('intake', () => {
  it('routes to the grid in force, stores layout and responsible staff, masks the reporter and computes deadlines', async () => {
    const e = await report({ reporter: { name: '张三丰', phone: '13912345678' }, attachments: ['https://example.org/a.jpg'] });
    expect(e.state).toBe('reported');
    expect(e.routing).toMatchObject({ gridCode: G1, gridName: '一网格', layoutId, communityCode: COMMUNITY, streetCode: COMMUNITY.slice(0, 9), via: 'grid' });
    expect(e.routing.responsibleStaff).toEqual({ id: staffId, name: '王网格', role: 'grid_leader' });
    expect(e.reporter).toEqual({ name: '张**', phone: '139****5678' });
    expect(e.attachments).toEqual(['https://example.org/a.jpg']);
    // Deadlines: accept 4 h, all stages 4+4+40+8 = 56 working hours from intake.
    const cal = await loadWorkingCalendar(t.tdb.db);
    expect(e.stage).toBe('accept');
    expect(e.stageDueAt).toBe(addDeadlineHours(new Date(e.reportedAt), 4, false, cal).toISOString());
    expect(e.dueAt).toBe(addDeadlineHours(new Date(e.reportedAt), 56, false, cal).toISOString());
    expect(e.overdue).toBe(false);
    // The intake answer is built without re-reading; GET must say exactly the same.
    expect((await t.inject(`/api/v1/events/${e.id}`)).json<Event>()).toEqual(e);
    // The raw reporter columns are ciphertext, never the plain name or phone.
    const { rows } = await sql<{ n: Buffer; p: Buffer }>`SELECT reporter_name_enc AS n, reporter_phone_enc AS p FROM events WHERE id = ${e.id}`.execute(t.tdb.db);
    expect(rows[0]!.n.toString('utf8')).not.toContain('张三丰');
    expect(rows[0]!.p.toString('latin1')).not.toContain('13912345678');
    const timeline = (await t.inject(`/api/v1/events/${e.id}/timeline`)).json<Timeline>();
    expect(timeline.transitions.map((x) => [x.action, x.from, x.to])).toEqual([['report', null, 'reported']]);
  });

  it('urgent sub-types run on calendar hours', async () => {
    const e = await report({ category: 'safety.gas' });
    const reported = new Date(e.reportedAt).getTime();
    expect(new Date(e.stageDueAt!).getTime() - reported).toBe(30 * 60_000);
    expect(new Date(e.dueAt).getTime() - reported).toBe((0.5 + 0.5 + 12 + 24) * 3_600_000);
  });

  it('refuses unknown categories, a bare category, and a body without a place', async () => {
    for (const body of [{ category: 'nope.nothing' }, { category: 'dispute' }, { location: undefined }]) {
      const res = await t.inject({ method: 'POST', url: '/api/v1/events', payload: { category: 'dispute.neighbour', description: 'x', channel: 'patrol', location: point(LEFT), ...body } });
      expect(res.statusCode, res.body).toBe(400);
    }
  });

  it('needs events:write; analysts may not report', async () => {
    const res = await t.inject({ method: 'POST', url: '/api/v1/events', as: 'analyst', payload: { category: 'dispute.neighbour', description: 'x', channel: 'patrol', location: point(LEFT) } });
    expect(res.statusCode).toBe(403);
  });

  it('links an open event of the same category nearby as a possible duplicate, never merging', async () => {
    const first = await report({ category: 'facility.street_light', location: point([113.6011, 34.7511]) });
    const second = await report({ category: 'facility.street_light', location: point([113.6011 + 30 * M_LON, 34.7511]) });
    expect(second.id).not.toBe(first.id);
    expect(second.possibleDuplicates.map((d) => d.id)).toContain(first.id);
    expect(second.possibleDuplicates.find((d) => d.id === first.id)?.distanceM).toBeCloseTo(30, 0);
    expect((await t.inject(`/api/v1/events/${second.id}`)).json<Event>().possibleDuplicates).toEqual(second.possibleDuplicates);
    const other = await report({ category: 'facility.manhole', location: point([113.6011, 34.7511]) });
    expect(other.possibleDuplicates).toEqual([]);
    const far = await report({ category: 'facility.street_light', location: point([113.6011 + 500 * M_LON, 34.7511]) });
    expect(far.possibleDuplicates.map((d) => d.id)).not.toContain(first.id);
  });
});

describe('Idempotency-Key', () => {
  const count = async (): Promise<number> => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM events`.execute(t.tdb.db)).rows[0]!.n;

  it('a retry returns the first answer and creates nothing', async () => {
    const before = await count();
    const first = await t.inject({ method: 'POST', url: '/api/v1/events', headers: { 'idempotency-key': 'k-seq' }, payload: { category: 'environment.garbage', description: '垃圾堆放', channel: 'hotline', location: point(LEFT) } });
    const retry = await t.inject({ method: 'POST', url: '/api/v1/events', headers: { 'idempotency-key': 'k-seq' }, payload: { category: 'environment.garbage', description: '垃圾堆放', channel: 'hotline', location: point(LEFT) } });
    expect(first.statusCode).toBe(201);
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    expect(await count()).toBe(before + 1);
  });

  it('a retry racing the first request: one row, identical answers', async () => {
    const before = await count();
    const send = () => t.inject({ method: 'POST', url: '/api/v1/events', headers: { 'idempotency-key': 'k-race' }, payload: { category: 'environment.garbage', description: '并发重试', channel: 'hotline', location: point(LEFT) } });
    const answers = await Promise.all([send(), send(), send(), send(), send()]);
    expect(answers.map((a) => a.statusCode)).toEqual([201, 201, 201, 201, 201]);
    const bodies = answers.map((a) => a.body);
    expect(new Set(bodies).size).toBe(1);
    expect(await count()).toBe(before + 1);
  });

  it('the same key with a different request is a conflict', async () => {
    await report({}, { 'idempotency-key': 'k-diff' });
    const res = await t.inject({ method: 'POST', url: '/api/v1/events', headers: { 'idempotency-key': 'k-diff' }, payload: { category: 'dispute.neighbour', description: 'another', channel: 'patrol', location: point(LEFT) } });
    expect(res.statusCode).toBe(409);
    expect(res.json<{ error: { details: { reason: string } } }>().error.details.reason).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('a retry with the same body in another key order is the same request', async () => {
    const before = await count();
    const first = await t.inject({ method: 'POST', url: '/api/v1/events', headers: { 'idempotency-key': 'k-order' }, payload: { category: 'environment.garbage', description: '键序', channel: 'hotline', location: point(LEFT) } });
    const retry = await t.inject({
      method: 'POST', url: '/api/v1/events', headers: { 'idempotency-key': 'k-order', 'content-type': 'application/json' },
      payload: `{"location":{"coordinates":[${LEFT[0]},${LEFT[1]}],"type":"Point"},"channel":"hotline","description":"键序","category":"environment.garbage"}`,
    });
    expect(first.statusCode).toBe(201);
    expect(retry.statusCode, retry.body).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    expect(await count()).toBe(before + 1);
  });

  it('a key stored before hashes were canonical still answers its retry', async () => {
    const body = { description: '旧哈希', category: 'environment.garbage', location: point(LEFT), channel: 'hotline' };
    const first = await t.inject({ method: 'POST', url: '/api/v1/events', headers: { 'idempotency-key': 'k-legacy' }, payload: body });
    expect(first.statusCode).toBe(201);
    // What earlier releases stored: the hash of the body as received, keys in the sender's order (keys never expire).
    const legacy = createHash('sha256').update(JSON.stringify(['api', body])).digest('hex');
    const { numAffectedRows } = await sql`UPDATE event_idempotency_keys SET request_hash = ${legacy} WHERE key = 'k-legacy'`.execute(t.tdb.db);
    expect(numAffectedRows).toBe(1n);
    const retry = await t.inject({ method: 'POST', url: '/api/v1/events', headers: { 'idempotency-key': 'k-legacy' }, payload: body });
    expect(retry.statusCode, retry.body).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const other = await t.inject({ method: 'POST', url: '/api/v1/events', headers: { 'idempotency-key': 'k-legacy' }, payload: { ...body, description: '别的' } });
    expect(other.statusCode).toBe(409);
  });
});

describe('workflow', () => {
  const STATES = Object.keys(PATH) as EventState[];
  const ACTIONS = Object.keys(WORKFLOW) as EventAction[];
  const cases = STATES.flatMap((state) => ACTIONS.map((action) => ({ state, action, allowed: allowedActions(state, false).includes(action) })));

  it('the table allows exactly the documented transitions', () => {
    expect(Object.fromEntries(STATES.map((s) => [s, allowedActions(s, false)]))).toEqual({
      reported: ['accept', 'reject', 'transfer', 'amend'],
      accepted: ['dispatch', 'transfer', 'request_extension', 'amend'],
      rejected: [],
      dispatched: ['start', 'transfer', 'request_extension', 'amend'],
      in_progress: ['resolve', 'transfer', 'request_extension', 'amend'],
      resolved: ['verify', 'reopen'],
      verified: ['close', 'reopen'],
      closed: ['reopen'],
    });
    expect(allowedActions('dispatched', true)).toEqual(['start', 'transfer', 'approve_extension', 'reject_extension', 'amend']);
  });

  it.each(cases)('$action from $state → allowed: $allowed', async ({ state, action, allowed }) => {
    const e = await eventIn(state);
    const res = await act(e.id, action, PARAMS[action] ?? {});
    if (allowed) {
      expect(res.statusCode, res.body).toBe(200);
      const r = res.json<TransitionResult>();
      expect(r.transition).toMatchObject({ action, from: state, to: WORKFLOW[action].to ?? state });
      expect(r.event.state).toBe(WORKFLOW[action].to ?? state);
      expect(r.event.version).toBe(e.version + 1);
    } else {
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json<{ error: { details: { allowedActions: string[]; state: string } } }>().error.details).toMatchObject({ state, allowedActions: allowedActions(state, false) });
    }
  });

  it('a verifier must differ from the handler; every step is on the timeline', async () => {
    const e = await eventIn('resolved');
    const own = await act(e.id, 'verify', {}, worker);
    expect(own.statusCode).toBe(403);
    expect(own.json<{ error: { details: { reason: string } } }>().error.details.reason).toBe('VERIFIER_IS_HANDLER');
    expect((await act(e.id, 'verify')).statusCode).toBe(200);
    expect((await act(e.id, 'close', { note: '结案' })).statusCode).toBe(200);
    const reopened = (await act(e.id, 'reopen', { reason: '群众反映问题复发' })).json<TransitionResult>().event;
    expect(reopened).toMatchObject({ state: 'dispatched', reopenCount: 1, closedAt: null, result: null });
    const timeline = (await t.inject(`/api/v1/events/${e.id}/timeline`)).json<Timeline>();
    expect(timeline.transitions.map((x) => `${x.action}:${x.from ?? ''}>${x.to}`)).toEqual([
      'report:>reported', 'accept:reported>accepted', 'dispatch:accepted>dispatched', 'start:dispatched>in_progress',
      'resolve:in_progress>resolved', 'verify:resolved>verified', 'close:verified>closed', 'reopen:closed>dispatched',
    ]);
    expect(timeline.transitions[4]!.actor.userId).toBe(worker.id);
  });

  it('required fields per action', async () => {
    const e = await report();
    expect((await act(e.id, 'reject')).statusCode).toBe(400);
    expect((await act(e.id, 'transfer', { gridCode: G2 })).statusCode).toBe(400);
    expect((await act(e.id, 'accept')).statusCode).toBe(200);
    expect((await act(e.id, 'dispatch')).statusCode).toBe(400);
    expect((await act(e.id, 'dispatch', { department: '城管执法中队' })).json<TransitionResult>().event.assignee).toEqual({ staffId: null, department: '城管执法中队' });
  });

  it('concurrent transitions on one event: exactly one wins', async () => {
    for (const [a, b] of [['accept', 'reject'], ['accept', 'accept']] as const) {
      const e = await report();
      const answers = await Promise.all([act(e.id, a, PARAMS[a] ?? {}), act(e.id, b, PARAMS[b] ?? {})]);
      expect(answers.map((x) => x.statusCode).sort()).toEqual([200, 409]);
      const timeline = (await t.inject(`/api/v1/events/${e.id}/timeline`)).json<Timeline>();
      expect(timeline.transitions).toHaveLength(2);
    }
  });

  it('If-Match with a stale version is refused', async () => {
    const e = await report();
    const res = await t.inject({ method: 'POST', url: `/api/v1/events/${e.id}/transitions`, headers: { 'if-match': `"${e.version + 5}"` }, payload: { action: 'accept' } });
    expect(res.statusCode).toBe(412);
  });

  it('If-Match: * and an ETag list naming the current version are met', async () => {
    const e = await report();
    const any = await t.inject({ method: 'POST', url: `/api/v1/events/${e.id}/transitions`, headers: { 'if-match': '*' }, payload: { action: 'accept' } });
    expect(any.statusCode, any.body).toBe(200);
    const v = any.json<TransitionResult>().event.version;
    const miss = await t.inject({ method: 'POST', url: `/api/v1/events/${e.id}/transitions`, headers: { 'if-match': `"${v - 1}", "${v + 1}"` }, payload: { action: 'dispatch' } });
    expect(miss.statusCode).toBe(412);
  });

  it('who answers for a case is decided by supervisors (定责): a grid worker may accept, start, resolve and verify, not reject, dispatch, transfer, amend, close or reopen', async () => {
    const refusedTo = async (state: EventState, action: EventAction): Promise<void> => {
      const e = await eventIn(state);
      expect((await t.inject({ url: `/api/v1/events/${e.id}`, as: { token: worker.token } })).json<Event>().allowedActions, `${action} offered in ${state}`).not.toContain(action);
      const res = await act(e.id, action, PARAMS[action] ?? {}, worker);
      expect(res.statusCode, `${action}: ${res.body}`).toBe(403);
      expect(res.json<ErrorResponse>().error).toMatchObject({ code: 'FORBIDDEN', details: { permission: 'events:supervise', action } });
      const after = (await t.inject(`/api/v1/events/${e.id}`)).json<Event>();
      expect({ state: after.state, version: after.version }, `${action} changed nothing`).toEqual({ state: e.state, version: e.version });
    };
    await refusedTo('reported', 'reject');
    await refusedTo('accepted', 'dispatch');
    await refusedTo('dispatched', 'transfer');
    await refusedTo('dispatched', 'amend');
    await refusedTo('verified', 'close');
    await refusedTo('closed', 'reopen');
    // What the grid worker does: accept a case of their grid, start, resolve; another worker's result they verify.
    const e = await report();
    expect((await act(e.id, 'accept', {}, worker)).statusCode).toBe(200);
    expect((await act(e.id, 'dispatch', PARAMS.dispatch)).statusCode).toBe(200);
    expect((await act(e.id, 'start', {}, worker)).statusCode).toBe(200);
    expect((await act(e.id, 'resolve', PARAMS.resolve)).statusCode).toBe(200);
    expect((await act(e.id, 'verify', {}, worker)).json<TransitionResult>().event.state).toBe('verified');
  });

  it('extensions are decided by a supervisor (not a grid worker) other than who asked, and move both deadlines', async () => {
    const manager = await t.userWith({ roles: ['community_manager'], scope: [COMMUNITY] });
    const e = await eventIn('dispatched');
    const asked = await act(e.id, 'request_extension', { hours: 7, reason: '需要物业配合' }, worker);
    expect(asked.statusCode).toBe(200);
    // The grid worker asks; approving or rejecting is not offered to them, nor allowed.
    expect(asked.json<TransitionResult>().event.allowedActions).not.toContain('approve_extension');
    const refusedAgain = await act(e.id, 'request_extension', { hours: 7, reason: 'again' }, worker);
    expect(refusedAgain.statusCode).toBe(409);
    expect((refusedAgain.json<ErrorResponse>().error.details as { allowedActions: string[] }).allowedActions).not.toContain('reject_extension');
    for (const action of ['approve_extension', 'reject_extension'] as const) {
      const refused = await act(e.id, action, {}, worker);
      expect(refused.statusCode).toBe(403);
      expect(refused.json<ErrorResponse>().error).toMatchObject({ code: 'FORBIDDEN', details: { permission: 'events:supervise', action } });
    }
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log WHERE action = 'access.denied' AND actor_user_id = ${worker.id} AND details->>'permission' = 'events:supervise' AND target_type = 'event' AND target_id = ${String(e.id)}`.execute(t.tdb.db);
    expect(rows[0]!.n).toBe(2);
    const seen = (await t.inject({ url: `/api/v1/events/${e.id}`, as: { token: manager.token } })).json<Event>();
    expect(seen.allowedActions).toEqual(expect.arrayContaining(['approve_extension', 'reject_extension']));
    expect((await t.inject({ url: `/api/v1/events/${e.id}`, as: { token: worker.token } })).json<Event>().allowedActions).not.toContain('approve_extension');

    const approved = (await act(e.id, 'approve_extension', {}, manager)).json<TransitionResult>().event;
    const cal = await loadWorkingCalendar(t.tdb.db);
    expect(approved.dueAt).toBe(addDeadlineHours(new Date(e.dueAt), 7, false, cal).toISOString());
    expect(approved.stageDueAt).toBe(addDeadlineHours(new Date(e.stageDueAt!), 7, false, cal).toISOString());
    expect(approved).toMatchObject({ extensionCount: 1, extensionHours: 7, pendingExtension: null });

    // A supervisor's own request is decided by someone else.
    expect((await act(e.id, 'request_extension', { hours: 3, reason: '等待街道协调' }, manager)).statusCode).toBe(200);
    const own = await act(e.id, 'approve_extension', {}, manager);
    expect(own.statusCode).toBe(403);
    expect(own.json<ErrorResponse>().error.details).toMatchObject({ reason: 'APPROVER_IS_REQUESTER' });
    const dispatcher = await t.userWith({ roles: ['dispatcher'], scope: 'all' });
    expect((await act(e.id, 'reject_extension', {}, dispatcher)).statusCode).toBe(200);
  });

  it('amending the category keeps the extensions approved in the current stage', async () => {
    const e = await eventIn('dispatched');
    expect((await act(e.id, 'request_extension', { hours: 48, reason: '需要物业配合' }, worker)).statusCode).toBe(200);
    expect((await act(e.id, 'approve_extension')).statusCode).toBe(200);
    expect((await act(e.id, 'request_extension', { hours: 5, reason: '再等业主' }, worker)).statusCode).toBe(200);
    expect((await act(e.id, 'approve_extension')).statusCode).toBe(200);
    const amended = (await act(e.id, 'amend', { category: 'dispute.land' })).json<TransitionResult>().event;
    const { rows } = await sql<{ started: Date }>`SELECT stage_started_at AS started FROM events WHERE id = ${e.id}`.execute(t.tdb.db);
    const cal = await loadWorkingCalendar(t.tdb.db);
    // dispute.land: handle 80 working hours from the stage's start, then the approved 48 and 5.
    const base = addDeadlineHours(rows[0]!.started, 80, false, cal);
    expect(amended.stage).toBe('handle');
    expect(amended.stageDueAt).toBe(addDeadlineHours(addDeadlineHours(base, 48, false, cal), 5, false, cal).toISOString());
    expect(amended.dueAt).toBe(addDeadlineHours(addDeadlineHours(new Date(e.reportedAt), 4 + 4 + 80 + 8, false, cal), 53, false, cal).toISOString());
    expect(amended).toMatchObject({ extensionHours: 53, extensionCount: 2 });
    // Starting stays in handling: the stage, its clock and its extensions carry on.
    const started = (await act(e.id, 'start')).json<TransitionResult>().event;
    expect(started).toMatchObject({ state: 'in_progress', stage: 'handle', stageDueAt: amended.stageDueAt });
    const again = (await act(e.id, 'amend', { category: 'dispute.neighbour' })).json<TransitionResult>().event;
    expect(again.stageDueAt).toBe(addDeadlineHours(addDeadlineHours(addDeadlineHours(rows[0]!.started, 40, false, cal), 48, false, cal), 5, false, cal).toISOString());
  });

  it('extensions of an earlier stage do not carry into the next stage', async () => {
    const e = await eventIn('accepted');
    expect((await act(e.id, 'request_extension', { hours: 48, reason: '等待职能部门' }, worker)).statusCode).toBe(200);
    expect((await act(e.id, 'approve_extension')).statusCode).toBe(200);
    expect((await act(e.id, 'dispatch', PARAMS.dispatch)).statusCode).toBe(200);
    expect((await act(e.id, 'request_extension', { hours: 5, reason: '再等业主' }, worker)).statusCode).toBe(200);
    expect((await act(e.id, 'approve_extension')).statusCode).toBe(200);
    const amended = (await act(e.id, 'amend', { category: 'dispute.land' })).json<TransitionResult>().event;
    const { rows } = await sql<{ started: Date }>`SELECT stage_started_at AS started FROM events WHERE id = ${e.id}`.execute(t.tdb.db);
    const cal = await loadWorkingCalendar(t.tdb.db);
    // Handling began at dispatch: 80 working hours (dispute.land) plus the 5 approved in it, not the 48.
    expect(amended.stage).toBe('handle');
    expect(amended.stageDueAt).toBe(addDeadlineHours(addDeadlineHours(rows[0]!.started, 80, false, cal), 5, false, cal).toISOString());
  });

  it('starting late does not buy a fresh handling period: the handling deadline runs from dispatch (处置时限从派遣起算)', async () => {
    const e = await eventIn('dispatched');
    // Dispatched a month ago: its handling deadline (40 working hours) has passed.
    await sql`UPDATE events SET stage_started_at = stage_started_at - interval '30 days', stage_due_at = stage_due_at - interval '30 days' WHERE id = ${e.id}`.execute(t.tdb.db);
    const before = (await t.inject(`/api/v1/events/${e.id}`)).json<Event>();
    expect(before.overdue).toBe(true);
    const started = (await act(e.id, 'start', {}, worker)).json<TransitionResult>().event;
    expect(started).toMatchObject({ state: 'in_progress', stage: 'handle', stageDueAt: before.stageDueAt, overdue: true });
    // Leaving the stage does restart the clock: resolved enters verification.
    const resolved = (await act(e.id, 'resolve', PARAMS.resolve, worker)).json<TransitionResult>().event;
    expect(resolved.stage).toBe('verify');
    expect(new Date(resolved.stageDueAt!).getTime()).toBeGreaterThan(Date.now());
  });

  it('a pending extension lapses when the event is resolved or transferred (it was still approvable after a reopen)', async () => {
    const asked = { hours: 6, reason: '需要物业配合' };
    const e = await eventIn('in_progress');
    expect((await act(e.id, 'request_extension', asked, worker)).statusCode).toBe(200);
    const resolved = (await act(e.id, 'resolve', PARAMS.resolve, worker)).json<TransitionResult>();
    expect(resolved.event.pendingExtension).toBeNull();
    expect(resolved.transition.details).toMatchObject({ lapsedExtension: asked });
    expect((await act(e.id, 'verify')).statusCode).toBe(200);
    expect((await act(e.id, 'close')).json<TransitionResult>().event.pendingExtension).toBeNull();
    const reopened = (await act(e.id, 'reopen', PARAMS.reopen)).json<TransitionResult>().event;
    expect(reopened).toMatchObject({ state: 'dispatched', pendingExtension: null, extensionCount: 0, dueAt: e.dueAt });
    expect(reopened.allowedActions).not.toContain('approve_extension');
    expect((await act(e.id, 'approve_extension')).statusCode).toBe(409);

    const d = await eventIn('dispatched');
    expect((await act(d.id, 'request_extension', asked, worker)).statusCode).toBe(200);
    const moved = (await act(d.id, 'transfer', PARAMS.transfer)).json<TransitionResult>();
    expect(moved.event).toMatchObject({ state: 'reported', pendingExtension: null });
    expect(moved.transition.details).toMatchObject({ lapsedExtension: asked });
    const accepted = (await act(d.id, 'accept')).json<TransitionResult>().event;
    expect(accepted.allowedActions).toContain('request_extension');
    expect(accepted.allowedActions).not.toContain('approve_extension');
  });

  it('changing the location re-routes; changing the category recomputes deadlines', async () => {
    const e = await report();
    expect(e.routing.gridCode).toBe(G1);
    const moved = (await act(e.id, 'amend', { location: point(RIGHT) })).json<TransitionResult>();
    expect(moved.event.routing).toMatchObject({ gridCode: G2, via: 'grid', responsibleStaff: null });
    expect(moved.event.location.coordinates).toEqual(RIGHT);
    expect(moved.transition.details).toMatchObject({ rerouted: { fromGridCode: G1, toGridCode: G2 } });
    const recat = (await act(e.id, 'amend', { category: 'dispute.land' })).json<TransitionResult>().event;
    const cal = await loadWorkingCalendar(t.tdb.db);
    expect(recat.category.code).toBe('dispute.land');
    expect(recat.dueAt).toBe(addDeadlineHours(new Date(e.reportedAt), 4 + 4 + 80 + 8, false, cal).toISOString());
  });

  it('a transfer re-routes to the receiving grid, restarts acceptance and is audited', async () => {
    const e = await eventIn('dispatched');
    const res = await act(e.id, 'transfer', { gridCode: G2, reason: '发生地在相邻网格' });
    const moved = res.json<TransitionResult>().event;
    expect(moved).toMatchObject({ state: 'reported', stage: 'accept', transferCount: 1, assignee: { staffId: null, department: null } });
    expect(moved.routing).toMatchObject({ gridCode: G2, via: 'transfer' });
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log WHERE action = 'event.transfer' AND target_id = ${String(e.id)}`.execute(t.tdb.db);
    expect(rows[0]!.n).toBe(1);
  });

  it('a grid worker sees and changes only events of their scope', async () => {
    const other = await t.userWith({ roles: ['grid_worker'], scope: ['410105001002'] });
    const e = await report();
    expect((await t.inject({ url: `/api/v1/events/${e.id}`, as: { token: other.token } })).statusCode).toBe(404);
    expect((await act(e.id, 'accept', {}, other)).statusCode).toBe(404);
    const list = (await t.inject({ url: '/api/v1/events?limit=1000', as: { token: other.token } })).json<EventList>();
    expect(list.items).toEqual([]);
  });
});

describe('routing survives a later layout publish', () => {
  it('keeps grid, layout and staff of events reported before; new events go to the new layout', async () => {
    const before = await report({ location: point(RIGHT) });
    const draft = await newLayout(t.tdb.db);
    await newGrid(t.tdb.db, draft, rect(113.6, 34.75, 113.604, 34.753), { name: '合并网格' });
    const published = await t.inject({ method: 'POST', url: `/api/v1/layouts/${draft}/publish`, payload: {} });
    expect(published.statusCode, published.body).toBe(200);
    const again = (await t.inject(`/api/v1/events/${before.id}`)).json<Event>();
    expect(again.routing).toEqual(before.routing);
    const { rows } = await sql<{ grid_id: number; layout_id: number }>`SELECT grid_id, layout_id FROM events WHERE id = ${before.id}`.execute(t.tdb.db);
    expect(rows[0]).toEqual({ grid_id: before.routing.gridId, layout_id: layoutId });
    const after = await report({ location: point(RIGHT) });
    expect(after.routing.layoutId).toBe(draft);
    expect(after.routing.gridName).toBe('合并网格');
  });
});

describe('malformed input (found by server/http/bad-input.db.test.ts)', () => {
  it('refuses ids, cursors and versions past their range instead of failing in SQL or ignoring them', async () => {
    const e = await report();
    const before = (await t.inject(`/api/v1/events/${e.id}`)).json<Event>();
    // a staff id beyond any id column was accepted beside an action that does not use it (and the event changed)
    const accept = await act(e.id, 'accept', { staffId: 9e16 });
    expect(accept.statusCode).toBe(400);
    expect(accept.json<{ error: { code: string; details: { in: string } } }>().error).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'body' } });
    expect((await t.inject(`/api/v1/events/${e.id}`)).json<Event>()).toEqual(before);
    for (const url of ['/api/v1/events?after=Infinity', '/api/v1/events?after=1000000000000000000000000000000', '/api/v1/event-categories?version=Infinity']) {
      const res = await t.inject(url);
      expect(res.statusCode, url).toBe(400);
    }
  });

  it('refuses date-times no instant can hold (a leap second, year 0, past 9999 UTC) with a 400, not a 500', async () => {
    // RFC 3339 admits 23:59:60 (JavaScript: Invalid Date) and year 0000 / 9999 in any offset (PostgreSQL
    // refuses year 0 and years past 9999): each passed validation and failed on the way to SQL.
    const before = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM events`.execute(t.tdb.db)).rows[0]!.n;
    for (const at of ['2016-12-31T23:59:60Z', '0000-01-01T00:00:00Z', '0001-01-01T07:00:00+08:00', '9999-12-31T23:00:00-08:00']) {
      const q = encodeURIComponent(at);
      for (const url of [`/api/v1/events?from=${q}`, `/api/v1/events?to=${q}`, `/open311/v2/requests.json?start_date=${q}`, `/api/v1/grids/${G1}/on-duty?at=${q}`, `/api/v1/events/kpis?from=${q}&to=2030-01-01T00:00:00Z`]) {
        const res = await t.inject(url);
        expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
        expect(res.json<{ error: { code: string; details: { in: string } } }>().error).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'querystring' } });
      }
      const intake = await t.inject({ method: 'POST', url: '/api/v1/events', payload: { category: 'dispute.neighbour', description: 'x', channel: 'patrol', location: point(LEFT), occurredAt: at } });
      expect(intake.statusCode, `occurredAt ${at}: ${intake.body}`).toBe(400);
      expect(intake.json<{ error: { details: { in: string } } }>().error.details.in).toBe('body');
    }
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM events`.execute(t.tdb.db)).rows[0]!.n).toBe(before);
    // The edges themselves still pass.
    expect((await t.inject(`/api/v1/events?from=${encodeURIComponent('0001-01-01T00:00:00Z')}&to=${encodeURIComponent('9999-12-31T23:59:59Z')}`)).statusCode).toBe(200);
  });

  it('refuses a text with NUL in a transition note (was a 500) and leaves the event as it was', async () => {
    const e = await report();
    const res = await act(e.id, 'accept', { note: 'a\u0000b' });
    expect(res.statusCode).toBe(400);
    expect((await t.inject(`/api/v1/events/${e.id}`)).json<Event>().state).toBe(e.state);
  });
});

describe('deadlines far away', () => {
  it('a sub-type at the taxonomy\'s limits (4 × 10,000 working hours) takes events; intake was a 500', async () => {
    const active = (await t.inject('/api/v1/event-categories')).json<Taxonomy>();
    const categories = [...active.categories, { code: 'other.long_term', parentCode: 'other', name: '长期整改', sort: 999, urgent: false, hours: { accept: 10000, dispatch: 10000, handle: 10000, verify: 10000 } }];
    const published = await t.inject({ method: 'POST', url: '/api/v1/event-categories', payload: { name: active.name, categories } });
    expect(published.statusCode, published.body).toBe(201);
    const e = await report({ category: 'other.long_term' });
    const cal = await loadWorkingCalendar(t.tdb.db);
    expect(e.dueAt).toBe(addDeadlineHours(new Date(e.reportedAt), 40_000, false, cal).toISOString());
    expect(new Date(e.dueAt).getTime() - new Date(e.reportedAt).getTime()).toBeGreaterThan(20 * 365 * 86_400_000);
  });
});

describe('category names in two languages', () => {
  it('the default taxonomy names every category in English too; a published taxonomy keeps its English names, and events carry them', async () => {
    // the default taxonomy (version 1, migrations; other tests in this file publish later versions)
    const first = (await t.inject('/api/v1/event-categories?version=1')).json<Taxonomy>();
    expect(first.categories.length).toBeGreaterThan(30);
    for (const c of first.categories) expect(c.nameEn, c.code).toMatch(/^[A-Z][A-Za-z ,-]+$/);
    expect(first.categories.find((c) => c.code === 'safety.gas')?.nameEn).toBe('Gas hazard');
    const active = (await t.inject('/api/v1/event-categories')).json<Taxonomy>();

    // a new version: one sub-type renamed in English, one without an English name (null: the Chinese name serves)
    const categories = [
      ...active.categories.map((c) => (c.code === 'dispute.neighbour' ? { ...c, nameEn: 'Dispute between neighbours' } : c)),
      { code: 'other.bilingual_gap', parentCode: 'other', name: '仅中文名称', sort: 998, urgent: false, hours: { accept: 4, dispatch: 4, handle: 40, verify: 8 } },
    ];
    const published = await t.inject({ method: 'POST', url: '/api/v1/event-categories', payload: { name: active.name, categories } });
    expect(published.statusCode, published.body).toBe(201);
    const now = (await t.inject('/api/v1/event-categories')).json<Taxonomy>();
    expect(now.version).toBeGreaterThan(active.version);
    expect(now.categories.find((c) => c.code === 'dispute.neighbour')?.nameEn).toBe('Dispute between neighbours');
    expect(now.categories.find((c) => c.code === 'other.bilingual_gap')?.nameEn).toBeNull();

    const e = await report({ category: 'dispute.neighbour' });
    expect(e.category).toMatchObject({ code: 'dispute.neighbour', name: '邻里纠纷', nameEn: 'Dispute between neighbours' });
    expect((await t.inject(`/api/v1/events/${e.id}`)).json<Event>().category.nameEn).toBe('Dispute between neighbours');
    const plain = await report({ category: 'other.bilingual_gap' });
    expect(plain.category.nameEn).toBeNull();
  });

  it('only admins publish a taxonomy (events:configure): supervisors and grid workers may not', async () => {
    const active = (await t.inject('/api/v1/event-categories')).json<Taxonomy>();
    for (const role of ['grid_worker', 'community_manager', 'street_manager', 'dispatcher'] as const) {
      const user = await t.userWith({ roles: [role], scope: 'all' });
      const res = await t.inject({ method: 'POST', url: '/api/v1/event-categories', as: { token: user.token }, payload: { name: active.name, categories: active.categories } });
      expect(res.statusCode, role).toBe(403);
      expect(res.json<ErrorResponse>().error).toMatchObject({ code: 'FORBIDDEN', details: { permission: 'events:configure' } });
    }
    expect((await t.inject('/api/v1/event-categories')).json<Taxonomy>().version).toBe(active.version);
  });

  it('refuses a blank English name and publishes nothing', async () => {
    const active = (await t.inject('/api/v1/event-categories')).json<Taxonomy>();
    const categories = active.categories.map((c) => (c.code === 'safety.gas' ? { ...c, nameEn: '   ' } : c));
    const res = await t.inject({ method: 'POST', url: '/api/v1/event-categories', payload: { name: active.name, categories } });
    expect(res.statusCode).toBe(400);
    const error = res.json<ErrorResponse>().error;
    expect(error.code).toBe('VALIDATION_FAILED');
    const where = error.details as { in?: string; field?: string };
    expect(where.in).toBe('body');
    expect(where.field).toMatch(/^categories\/\d+\/nameEn$/);
    expect((await t.inject('/api/v1/event-categories')).json<Taxonomy>().version).toBe(active.version);
  });
});
