import type { Health } from '../../contracts/health';
import type { Database } from '../../db/database';
import { readCurrentMigration, readServerVersions } from './health.repository';

/** Never throws: an unreachable database is a normal answer (`status: 'unavailable'`). */
export async function checkHealth(db: Database): Promise<Health> {
  try {
    const versions = await readServerVersions(db);
    const current = await readCurrentMigration(db);
    return { status: 'ok', database: { ok: true, ...versions }, migrations: { current } };
  } catch (err) {
    return {
      status: 'unavailable',
      database: { ok: false, postgres: null, postgis: null, error: (err as Error).message },
      migrations: { current: null },
    };
  }
}
