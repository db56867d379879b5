import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../test/database';
import { withScope } from './scoped';

describe('transaction scope for Row Level Security', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(async () => tdb.drop());

  it('matches codes by prefix, runs as the unprivileged role, and leaves nothing on the connection', async () => {
    const inside = await withScope(tdb.db, { all: false, prefixes: ['410105001', '410199001001002'] }, async (trx) => {
      const { rows } = await sql<{ role: string; a: boolean; b: boolean; c: boolean; d: boolean }>`
        SELECT current_user AS role,
               wangge_in_scope('410105001002') AS a,       -- community under the street
               wangge_in_scope('410199001001002') AS b,    -- the grid itself
               wangge_in_scope('410199001001003') AS c,    -- its neighbour
               wangge_in_scope(NULL) AS d`.execute(trx);
      return rows[0];
    });
    expect(inside).toEqual({ role: 'wangge_app', a: true, b: true, c: false, d: false });
    const all = await withScope(tdb.db, { all: true, prefixes: [] }, async (trx) => (await sql<{ x: boolean }>`SELECT wangge_in_scope('999') AS x`.execute(trx)).rows[0]?.x);
    expect(all).toBe(true);
    // after the transaction the pooled connection is the owner again, with no scope
    const { rows } = await sql<{ role: string; x: boolean }>`SELECT current_user AS role, wangge_in_scope('410105001002') AS x`.execute(tdb.db);
    expect(rows[0]?.role).not.toBe('wangge_app');
    expect(rows[0]?.x).toBe(false);
  });
});
