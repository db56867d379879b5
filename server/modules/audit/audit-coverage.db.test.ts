/**
 * What the audit log must hold beyond sign-ins and permission changes: personal-data reads and every
 * event transition (issue #4), written in the same request, and the chain still verifies.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app';
import { testConfig } from '../../config';
import { loadDemoIfEmpty } from '../demo/demo.service';
import { registryCipherFromConfig } from '../registry/registry-crypto';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  // The demo's residents are encrypted with the key the test app decrypts with.
  await loadDemoIfEmpty(t.tdb.db, 'small', registryCipherFromConfig(testConfig()));
});
afterAll(async () => t.close());

async function auditActions(prefix: string): Promise<Array<{ action: string; target_id: string | null; ip: string | null }>> {
  const { rows } = await sql<{ action: string; target_id: string | null; ip: string | null }>`
    SELECT action, target_id, ip FROM audit_log WHERE action LIKE ${`${prefix}%`} ORDER BY id`.execute(t.tdb.db);
  return rows;
}

describe('audit coverage', () => {
  it('records reads of residents, one by one and in lists', async () => {
    const list = await t.inject({ url: '/api/v1/residents?limit=3' });
    expect(list.statusCode).toBe(200);
    const [first] = list.json<{ items: Array<{ id: number }> }>().items;
    expect(first).toBeDefined();
    expect((await t.inject({ url: `/api/v1/residents/${first?.id}` })).statusCode).toBe(200);
    const actions = await auditActions('registry.');
    expect(actions.map((a) => a.action)).toEqual(['registry.list', 'registry.read']);
    expect(actions[1]?.target_id).toBe(String(first?.id));
    // From where, as for exports and reveals: who looked at whom, and from which address.
    expect(actions.map((a) => a.ip)).toEqual(['127.0.0.1', '127.0.0.1']);
  });

  it('records every event transition with from and to, and the chain verifies', async () => {
    const { rows } = await sql<{ x: number; y: number }>`
      SELECT ST_X(ST_PointOnSurface(g.geom)) AS x, ST_Y(ST_PointOnSurface(g.geom)) AS y
      FROM grids g JOIN layouts l ON l.id = g.layout_id WHERE l.status = 'published' ORDER BY g.code LIMIT 1`.execute(t.tdb.db);
    const p = rows[0];
    const created = await t.inject({
      method: 'POST',
      url: '/api/v1/events',
      payload: { location: { type: 'Point', coordinates: [p?.x, p?.y] }, category: 'dispute.neighbour', description: '楼上漏水引发邻里纠纷', channel: 'hotline' },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json<{ id: number }>().id;
    const accepted = await t.inject({ method: 'POST', url: `/api/v1/events/${id}/transitions`, payload: { action: 'accept' } });
    expect(accepted.statusCode).toBe(200);
    const actions = await auditActions('event.');
    expect(actions).toContainEqual({ action: 'event.accept', target_id: String(id), ip: '127.0.0.1' });
    const verify = (await t.inject({ url: '/api/v1/audit/verify' })).json<{ ok: boolean }>();
    expect(verify.ok).toBe(true);
  });
});
