import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../test/database';
import { nameStatement } from './database';

describe('named statements', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase({ max: 1 });
  });
  afterAll(async () => tdb.drop());

  it('sends a registered statement prepared once per connection, with each call its own values; others stay unnamed', async () => {
    const query = (n: number) => sql<{ doubled: number }>`SELECT ${n}::int * 2 AS doubled`.compile(tdb.db);
    nameStatement('test_doubled', query(0).sql);
    for (const n of [1, 2, 3]) expect((await tdb.db.executeQuery(query(n))).rows).toEqual([{ doubled: n * 2 }]);
    await sql`SELECT 'not registered'`.execute(tdb.db);
    // One pooled connection: what it has prepared is what the three calls left there.
    const { rows } = await sql<{ name: string; statement: string }>`SELECT name, statement FROM pg_prepared_statements`.execute(tdb.db);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.name).toMatch(/^test_doubled_\d+$/);
    expect(rows[0]?.statement).toBe(query(0).sql);
  });
});
