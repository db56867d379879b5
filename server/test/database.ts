/**
 * Per-test-file database: a clone of the migrated template (`CREATE DATABASE … TEMPLATE`), dropped
 * afterwards. Real PostGIS, never a mock.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../db/database';
import { quoteIdent } from '../db/local-postgres';

export interface TestDatabase extends DatabaseHandle {
  name: string;
  /** Close the pool and drop the database. */
  drop(): Promise<void>;
}

function adminUrl(): URL {
  const url = new URL(inject('templateDatabaseUrl'));
  url.pathname = '/postgres';
  return url;
}

export async function createTestDatabase(opts: { max?: number } = {}): Promise<TestDatabase> {
  const template = inject('templateDatabaseName');
  // The runner's PID in the name lets global setup sweep clones left by a killed run.
  const name = `t_${process.ppid}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl().toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(inject('templateDatabaseUrl'));
  url.pathname = `/${name}`;
  const handle = openDatabase(url.toString(), { max: opts.max ?? 5 });
  return {
    ...handle,
    name,
    drop: async () => {
      await handle.close();
      const a = new pg.Client({ connectionString: adminUrl().toString() });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}
