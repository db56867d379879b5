/**
 * Group commit of event intake on real PostGIS: concurrent intakes written together in one statement and
 * one commit must each get their own answer, exactly once; one failing event fails only its caller; an
 * Idempotency-Key twice in one batch gives one row and one answer.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionsOf, type Principal } from '../../auth/principal';
import type { CreateEventBody, Event } from '../../contracts/events';
import { openDatabase, type DatabaseHandle } from '../../db/database';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, lattice, newDivisions, newGrid, newLayout } from '../../test/factories';
import { SYSTEM_ACTOR } from '../audit/audit.service';
import { createRegistryCipher } from '../registry/registry-crypto';
import { reportEvent, type EventContext, type IntakeResult } from './event.service';
import { groupCommitOf } from './intake-group-commit';
import { IDEMPOTENCY_KEY } from '../../http/errors';

const G1 = `${COMMUNITY}001`;
const admin: Principal = { kind: 'user', userId: null, username: 'test', roles: ['admin'], permissions: permissionsOf(['admin']), scope: { all: true, prefixes: [] } };

let t: TestApp;

const body = (i: number, extra: Partial<CreateEventBody> = {}): CreateEventBody => ({
  category: 'environment.garbage',
  description: `批量事件 ${i}`,
  channel: 'hotline',
  location: { type: 'Point', coordinates: [113.6005 + (i % 7) * 0.0004, 34.7505 + Math.floor(i / 7) * 0.0002] },
  ...extra,
});

/** An intake context on its own connection pool, so it gets its own group commit with these options. */
async function withOwnGroup<T>(opts: { maxInFlight: number }, fn: (ctx: EventContext, handle: DatabaseHandle) => Promise<T>): Promise<T> {
  const handle = openDatabase(t.tdb.url, { max: 3 });
  groupCommitOf(handle.db, opts);
  try {
    return await fn({ db: handle.db, cipher: createRegistryCipher(randomBytes(32).toString('base64')), groupCommit: opts }, handle);
  } finally {
    await handle.close();
  }
}

const intake = (ctx: EventContext, b: CreateEventBody, key?: string): Promise<IntakeResult> =>
  reportEvent(ctx, admin, b, { source: 'api', principalKey: 'user:test', actor: SYSTEM_ACTOR, ...(key ? { idempotency: { key, where: IDEMPOTENCY_KEY } } : {}) });

/**
 * Runs `lead` first and holds it in flight (its key is held by an open transaction until the others
 * wait), so that everything `rest` starts goes into the next batch, together.
 */
async function behindLead<T>(ctx: EventContext, leadKey: string, lead: () => Promise<unknown>, rest: () => Array<Promise<T>>, count: number): Promise<{ lead: Promise<unknown>; rest: Array<PromiseSettledResult<T>> }> {
  const group = groupCommitOf(ctx.db);
  const blocker = await t.tdb.pool.connect();
  let released = true;
  try {
    await blocker.query('BEGIN');
    released = false;
    await blocker.query(`INSERT INTO event_idempotency_keys (principal_key, key, request_hash) VALUES ('user:test', $1, 'blocker')`, [leadKey]);
    const leading = lead();
    leading.catch(() => undefined);
    // The lead is in flight (waiting on the blocker's key) once nothing waits for a slot.
    for (let i = 0; i < 200 && (group.waiting > 0 || group.stats.batches === 0); i++) await new Promise((r) => setTimeout(r, 10));
    const started = rest();
    for (let i = 0; i < 500 && group.waiting < count; i++) await new Promise((r) => setTimeout(r, 10));
    expect(group.waiting).toBe(count);
    await blocker.query('ROLLBACK');
    released = true;
    return { lead: leading, rest: await Promise.allSettled(started) };
  } finally {
    if (!released) await blocker.query('ROLLBACK');
    blocker.release();
  }
}

async function stored(descriptionLike: string): Promise<Array<{ id: number; description: string; n_transitions: number }>> {
  const { rows } = await sql<{ id: number; description: string; n_transitions: number }>`
    SELECT e.id, e.description, (SELECT count(*)::int FROM event_transitions x WHERE x.event_id = e.id AND x.action = 'report') AS n_transitions
    FROM events e WHERE e.description LIKE ${descriptionLike} ORDER BY e.id`.execute(t.tdb.db);
  return rows;
}

beforeAll(async () => {
  t = await createTestApp();
  const db = t.tdb.db;
  await newDivisions(db);
  const layoutId = await newLayout(db, { status: 'published', effectiveFrom: '2020-01-01T00:00:00Z' });
  const [a] = lattice(113.6, 34.75, 113.604, 34.753, 1, 1);
  await newGrid(db, layoutId, a!, { code: G1, name: '一网格' });
});
afterAll(async () => t?.close());

describe('intake group commit', () => {
  it('50 concurrent intakes over HTTP: each stored exactly once, each caller gets its own event, fewer commits than events', async () => {
    const group = groupCommitOf(t.tdb.db);
    const before = { ...group.stats };
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      t.inject({ method: 'POST', url: '/api/v1/events', headers: { 'idempotency-key': `http-${i}` }, payload: body(i, { description: `HTTP 并发 ${i}` }) })));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(50).fill(201));
    const events = answers.map((a) => a.json<Event>());
    // Each caller's answer is its own request's event.
    events.forEach((e, i) => expect(e.description).toBe(`HTTP 并发 ${i}`));
    expect(new Set(events.map((e) => e.id)).size).toBe(50);
    const rows = await stored('HTTP 并发 %');
    expect(rows).toHaveLength(50);
    expect(rows.every((r) => r.n_transitions === 1)).toBe(true);
    const byId = new Map(rows.map((r) => [r.id, r.description]));
    for (const e of events) expect(byId.get(e.id)).toBe(e.description);
    // What GET reads is what the intake answered (duplicate hints included).
    for (const e of events.slice(0, 10)) expect((await t.inject(`/api/v1/events/${e.id}`)).json<Event>()).toEqual(e);
    // They were group-committed: 50 intakes in fewer statements than intakes.
    expect(group.stats.intakes - before.intakes).toBe(50);
    expect(group.stats.batches - before.batches).toBeLessThan(50);
    // A retry of any of them replays its answer.
    const retry = await t.inject({ method: 'POST', url: '/api/v1/events', headers: { 'idempotency-key': 'http-17' }, payload: body(17, { description: 'HTTP 并发 17' }) });
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json<Event>()).toEqual(events[17]);
  });

  it('one failing event in a batch fails only its caller; the others are stored', async () => {
    await withOwnGroup({ maxInFlight: 1 }, async (ctx) => {
      const group = groupCommitOf(ctx.db);
      const { lead, rest: results } = await behindLead(ctx, 'bad-lead', () => intake(ctx, body(0, { description: '坏批 lead' }), 'bad-lead'), () =>
        Array.from({ length: 8 }, (_, i) =>
          // Past the table's CHECK (the route's schema would refuse it first; the service does not).
          intake(ctx, body(i, { description: i === 3 ? `坏批 ${'长'.repeat(10_001)}` : `坏批 ${i}` }), `bad-batch-${i}`)), 8);
      await lead;
      // The lead alone, then the eight in one statement, which failed and was written one by one.
      expect(group.stats.batches).toBe(2);
      expect(group.stats.fallbacks).toBe(1);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
      expect(String((results[3] as PromiseRejectedResult).reason)).toMatch(/check constraint/);
      const rows = await stored('坏批 %');
      expect(rows.map((r) => r.description).sort()).toEqual(['坏批 0', '坏批 1', '坏批 2', '坏批 4', '坏批 5', '坏批 6', '坏批 7', '坏批 lead'].sort());
      expect(rows.every((r) => r.n_transitions === 1)).toBe(true);
      for (const r of results) if (r.status === 'fulfilled') expect(rows.find((x) => x.id === r.value.event.id)?.description).toBe(r.value.event.description);
      // The failed key was never claimed: a corrected retry with it is stored.
      const again = await intake(ctx, body(3, { description: '坏批 3' }), 'bad-batch-3');
      expect(again.replayed).toBe(false);
      expect((await stored('坏批 3')).map((r) => r.id)).toEqual([again.event.id]);
    });
  });

  it('the same Idempotency-Key twice in one batch: one row, the same answer for both', async () => {
    await withOwnGroup({ maxInFlight: 1 }, async (ctx) => {
      const group = groupCommitOf(ctx.db);
      const same = body(1, { description: '同键 retry' });
      const { lead, rest } = await behindLead(ctx, 'same-lead', () => intake(ctx, body(0, { description: '同键 lead' }), 'same-lead'), () => [
        intake(ctx, same, 'same-key'),
        intake(ctx, body(2, { description: '同键 other' }), 'other-key'),
        intake(ctx, same, 'same-key'),
        intake(ctx, body(5, { description: '同键 first' }), 'clash-key'),
        intake(ctx, body(6, { description: '同键 second' }), 'clash-key'),
      ], 5);
      await lead;
      // The lead alone; the other five in one statement, no fallback.
      expect(group.stats).toEqual({ batches: 2, intakes: 6, fallbacks: 0 });
      const [a, other, b, c, d] = rest;
      expect(a!.status).toBe('fulfilled');
      expect(b!.status).toBe('fulfilled');
      // Whichever reached the batch first wrote the row; the other got its answer, replayed.
      const [x, y] = [(a as PromiseFulfilledResult<IntakeResult>).value, (b as PromiseFulfilledResult<IntakeResult>).value];
      expect(y.event).toEqual(x.event);
      expect([x.replayed, y.replayed].sort()).toEqual([false, true]);
      expect([x.statusCode, y.statusCode]).toEqual([201, 201]);
      expect((await stored('同键 retry')).map((r) => r.id)).toEqual([x.event.id]);
      expect((other as PromiseFulfilledResult<IntakeResult>).value.event.description).toBe('同键 other');
      // A different request under a key already in the batch is refused, as a later retry would be.
      const clash = [c!, d!];
      expect(clash.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const won = (clash.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<IntakeResult>).value;
      expect((clash.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'CONFLICT', details: { reason: 'IDEMPOTENCY_KEY_REUSED' } });
      expect((await stored('同键 %')).map((r) => r.description).sort()).toEqual(['同键 lead', '同键 other', '同键 retry', won.event.description].sort());
    });
  });
});
