/**
 * Vitest global setup for the `db` project: make sure PostGIS runs (the same code path as `npm start`),
 * build a migrated template database once, and `provide` its URL. Each test file then clones it
 * (see ./database.ts), so files run in parallel and never see each other's rows.
 */
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../config';
import { resolveDatabaseTarget } from '../db/connect';
import { openDatabase } from '../db/database';
import { quoteIdent, processIsAlive } from '../db/local-postgres';
import { ensureExtensions, migrateToLatest } from '../db/migrate';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabaseUrl: string;
    templateDatabaseName: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = loadConfig();
  const target = await resolveDatabaseTarget({ ...config, localDatabaseName: 'postgres' }, (line) => console.log(`[test postgres] ${line}`));
  const templateName = `wangge_test_template_${process.pid}`;
  const adminUrl = new URL(target.url);
  adminUrl.pathname = '/postgres';
  const templateUrl = new URL(target.url);
  templateUrl.pathname = `/${templateName}`;

  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  // Leftovers of a killed run: clones and templates whose owning process is gone.
  const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'wangge\\_test\\_%' OR datname LIKE 't\\_%'");
  for (const { datname } of rows) {
    if (!/^(wangge_test_template_\d+|t_\d+_[0-9a-f]{10})$/.test(datname)) continue;
    const pid = Number(/_(\d+)(?:_|$)/.exec(datname)?.[1]);
    if (!Number.isInteger(pid) || !processIsAlive(pid)) {
      if (datname.startsWith('wangge_test_template_')) await admin.query(`ALTER DATABASE ${quoteIdent(datname)} IS_TEMPLATE false`).catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`).catch(() => undefined);
    }
  }
  await admin.query(`CREATE DATABASE ${quoteIdent(templateName)}`);
  await ensureExtensions(templateUrl.toString());
  const handle = openDatabase(templateUrl.toString(), { max: 1 });
  await migrateToLatest(handle.db);
  await handle.close();
  await admin.query(`ALTER DATABASE ${quoteIdent(templateName)} IS_TEMPLATE true`);

  project.provide('templateDatabaseUrl', templateUrl.toString());
  project.provide('templateDatabaseName', templateName);

  return async () => {
    await admin.query(`ALTER DATABASE ${quoteIdent(templateName)} IS_TEMPLATE false`);
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(templateName)} WITH (FORCE)`);
    await admin.end();
    if (target.local?.startedHere) await target.local.stop();
  };
}
