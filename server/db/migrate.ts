/**
 * Migrations are plain numbered SQL files in `migrations/`, forward-only, run by kysely's Migrator
 * (each file in its own transaction). They never import application code.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import pg from 'pg';
import { PROJECT_ROOT } from '../config';
import { REQUIRED_EXTENSIONS } from './local-postgres';
import { MigrationError } from './migration-error';

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'migrations');

/** Reads `NNNN_name.sql` files; the file name (without .sql) is the migration name. */
export class SqlFileMigrationProvider implements MigrationProvider {
  constructor(private readonly dir: string = MIGRATIONS_DIR) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await fs.readdir(this.dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
    const migrations: Record<string, Migration> = {};
    for (const file of files) {
      const text = await fs.readFile(path.join(this.dir, file), 'utf8');
      migrations[file.replace(/\.sql$/, '')] = {
        // Sent as one simple-protocol query, so a file may hold many statements.
        up: async (db: Kysely<unknown>) => {
          await sql.raw(text).execute(db);
        },
      };
    }
    return migrations;
  }
}

export { MigrationError };

/**
 * Check that the server offers every extension the schema needs and create them, or fail naming the
 * missing one and how to add it (an external DATABASE_URL may lack PostGIS, or our role may not be
 * allowed to create extensions).
 */
export async function ensureExtensions(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; installed_version: string | null }>(
      'SELECT name, installed_version FROM pg_available_extensions WHERE name = ANY($1)',
      [REQUIRED_EXTENSIONS],
    );
    const available = new Map(rows.map((r) => [r.name, r.installed_version]));
    const missing = REQUIRED_EXTENSIONS.filter((e) => !available.has(e));
    if (missing.length > 0) {
      const pgVersion = (await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]?.v ?? '';
      const major = pgVersion.slice(0, -4) || '<major>';
      throw new MigrationError(
        `The database server lacks the extension(s) ${missing.join(', ')}, which Wangge needs.`,
        missing.includes('postgis')
          ? `On the database host (Debian/Ubuntu): apt-get install postgresql-${major}-postgis-3; postgresql-contrib provides pg_trgm, btree_gist and pgcrypto.`
          : 'Install postgresql-contrib on the database host.',
      );
    }
    for (const ext of REQUIRED_EXTENSIONS) {
      if (available.get(ext)) continue;
      try {
        await client.query(`CREATE EXTENSION IF NOT EXISTS ${ext}`);
      } catch (err) {
        throw new MigrationError(
          `Could not create the extension ${ext}: ${(err as Error).message}`,
          `Ask a superuser to run in this database: CREATE EXTENSION IF NOT EXISTS ${ext};`,
        );
      }
    }
  } finally {
    await client.end();
  }
}

export async function migrateToLatest<T>(db: Kysely<T>, dir: string = MIGRATIONS_DIR): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db: db as Kysely<unknown>, provider: new SqlFileMigrationProvider(dir) });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const reason = result.error instanceof Error ? result.error.message : JSON.stringify(result.error);
    throw new MigrationError(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${reason}`);
  }
  return result;
}
