import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditPage, AuditVerification } from '../../contracts/audit';
import { withScope } from '../../db/scoped';
import { COMMUNITY, lattice, newDivisions, newGrid, newLayout } from '../../test/factories';
import { createTestApp, type TestApp } from '../../test/app';
import { SYSTEM_ACTOR, writeAudit } from './audit.service';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const verify = async (): Promise<AuditVerification> => (await t.inject({ url: '/api/v1/audit/verify', as: 'auditor' })).json<AuditVerification>();

describe('audit log', () => {
  it('chains concurrent appends without forking, and verifies', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => writeAudit(t.tdb.db, { actor: SYSTEM_ACTOR, action: 'test.concurrent', target: { type: 'thing', id: i }, details: { i, nested: { b: 1, a: [1, 'x'] } } })),
    );
    const result = await verify();
    expect(result).toMatchObject({ ok: true, firstBroken: null });
    expect(result.checked).toBeGreaterThanOrEqual(40);
    const ids = await sql<{ id: number }>`SELECT id FROM audit_log ORDER BY id`.execute(t.tdb.db);
    expect(ids.rows.map((r) => Number(r.id))).toEqual(ids.rows.map((_, i) => i + 1));
  });

  it('lists newest first with filters and keyset paging', async () => {
    const page1 = (await t.inject({ url: '/api/v1/audit?action=test.concurrent&limit=15', as: 'auditor' })).json<AuditPage>();
    expect(page1.entries).toHaveLength(15);
    expect(page1.nextBefore).not.toBeNull();
    const page2 = (await t.inject({ url: `/api/v1/audit?action=test.&limit=100&before=${page1.nextBefore ?? 0}`, as: 'auditor' })).json<AuditPage>();
    expect(page2.entries).toHaveLength(25);
    expect(page2.nextBefore).toBeNull();
    const all = [...page1.entries, ...page2.entries].map((e) => e.id);
    expect(all).toEqual([...all].sort((a, b) => b - a));
    const one = (await t.inject({ url: '/api/v1/audit?targetType=thing&targetId=7', as: 'auditor' })).json<AuditPage>();
    expect(one.entries.map((e) => e.details)).toEqual([{ i: 7, nested: { a: [1, 'x'], b: 1 } }]);
  });

  it('is append-only, for the application role and for the owner', async () => {
    await expect(sql`UPDATE audit_log SET action = 'x.y' WHERE id = 1`.execute(t.tdb.db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM audit_log WHERE id = 1`.execute(t.tdb.db)).rejects.toThrow(/append-only/);
    await expect(sql`TRUNCATE audit_log`.execute(t.tdb.db)).rejects.toThrow(/append-only/);
    await expect(withScope(t.tdb.db, { all: true, prefixes: [] }, (trx) => sql`UPDATE audit_log SET action = 'x.y' WHERE id = 1`.execute(trx))).rejects.toThrow(/permission denied/);
    await expect(withScope(t.tdb.db, { all: true, prefixes: [] }, (trx) => sql`DELETE FROM audit_log`.execute(trx))).rejects.toThrow(/permission denied/);
    // …but it may append from inside a scoped transaction (registry unmask/export do that)
    await withScope(t.tdb.db, { all: false, prefixes: ['410105'] }, (trx) => writeAudit(trx, { actor: SYSTEM_ACTOR, action: 'test.scoped_append' }));
    // …and never read credentials
    await expect(withScope(t.tdb.db, { all: true, prefixes: [] }, (trx) => sql`SELECT password_hash FROM users`.execute(trx))).rejects.toThrow(/permission denied/);
    await expect(withScope(t.tdb.db, { all: true, prefixes: [] }, (trx) => sql`SELECT * FROM sessions`.execute(trx))).rejects.toThrow(/permission denied/);
    expect((await verify()).ok).toBe(true);
  });

  it('writes layout publishes with the actor, in the publishing transaction', async () => {
    await newDivisions(t.tdb.db);
    const layoutId = await newLayout(t.tdb.db);
    for (const g of lattice(113.6, 34.75, 113.604, 34.753, 2, 1)) await newGrid(t.tdb.db, layoutId, g);
    const planner = await t.userWith({ roles: ['planner'] });
    const res = await t.inject({ method: 'POST', url: `/api/v1/layouts/${layoutId}/publish`, as: { token: planner.token }, payload: {} });
    expect(res.statusCode).toBe(200);
    const log = (await t.inject({ url: '/api/v1/audit?action=layout.publish', as: 'auditor' })).json<AuditPage>();
    expect(log.entries[0]).toMatchObject({ actorKind: 'user', actorUserId: planner.id, actorName: planner.username, targetType: 'layout', targetId: String(layoutId), details: { communityCode: COMMUNITY, gridCount: 2 } });
    expect(log.entries[0]?.ip).toBeTruthy();
  });

  it('finds an edited row (as superuser, trigger disabled) and names the first broken link', async () => {
    expect((await verify()).ok).toBe(true);
    await sql`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`.execute(t.tdb.db);
    try {
      await sql`UPDATE audit_log SET details = jsonb_set(details, '{i}', '999') WHERE id = 5`.execute(t.tdb.db);
    } finally {
      await sql`ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`.execute(t.tdb.db);
    }
    expect(await verify()).toMatchObject({ ok: false, checked: 4, firstBroken: { id: 5, reason: 'hash_mismatch' } });
  });

  it('finds a deleted row and a forged hash', async () => {
    const clone = await createTestApp();
    try {
      for (let i = 0; i < 5; i += 1) await writeAudit(clone.tdb.db, { actor: SYSTEM_ACTOR, action: 'test.delete', details: { i } });
      const check = async (): Promise<AuditVerification> => (await clone.inject({ url: '/api/v1/audit/verify', as: 'auditor' })).json<AuditVerification>();
      await sql`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`.execute(clone.tdb.db);
      // recompute nothing, just re-link row 4 to skip row 3: the forger cannot fix the hash without the chain
      await sql`DELETE FROM audit_log WHERE id = 3`.execute(clone.tdb.db);
      expect(await check()).toMatchObject({ ok: false, firstBroken: { id: 3, reason: 'missing_entry' } });
      await sql`UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE id = 2), id = 3 WHERE id = 4`.execute(clone.tdb.db);
      expect(await check()).toMatchObject({ ok: false, firstBroken: { id: 3, reason: 'hash_mismatch' } });
    } finally {
      await clone.close();
    }
  });
});
