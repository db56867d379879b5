import { sql } from 'kysely';
import type { Database } from '../../db/database';

export async function readServerVersions(db: Database): Promise<{ postgres: string; postgis: string }> {
  const { rows } = await sql<{ postgres: string; postgis: string }>`
    SELECT current_setting('server_version') AS postgres, postgis_lib_version() AS postgis`.execute(db);
  const row = rows[0];
  if (!row) throw new Error('version query returned no row');
  return row;
}

export async function readCurrentMigration(db: Database): Promise<string | null> {
  const { rows } = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name DESC LIMIT 1`.execute(db);
  return rows[0]?.name ?? null;
}
