/**
 * `npm run db:reset`: drop and recreate the embedded database, migrate it and load the demo.
 * Refuses on a DATABASE_URL (someone else's data) unless `--force` is given.
 */
import pg from 'pg';
import { loadConfig } from '../server/config';
import { resolveDatabaseTarget } from '../server/db/connect';
import { openDatabase } from '../server/db/database';
import { quoteIdent } from '../server/db/local-postgres';
import { ensureExtensions, migrateToLatest } from '../server/db/migrate';
import { loadDemoIfEmpty } from '../server/modules/demo/demo.service';
import { registryCipherFromConfig } from '../server/modules/registry/registry-crypto';
import { checkRegistryKey } from '../server/modules/registry/registry-key.service';
import { runCli } from './cli';

runCli(async () => {
  const config = loadConfig();
  const force = process.argv.includes('--force');
  if (config.databaseUrl && !force) {
    console.error('db:reset only resets the embedded database. DATABASE_URL is set; to wipe that database anyway run: npm run db:reset -- --force');
    process.exit(2);
  }
  const target = await resolveDatabaseTarget(config);
  const url = new URL(target.url);
  const dbName = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(dbName)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${quoteIdent(dbName)}`);
  } finally {
    await admin.end();
  }
  await ensureExtensions(target.url);
  const handle = openDatabase(target.url, { max: 2 });
  try {
    await migrateToLatest(handle.db);
    // The new database belongs to the configured key from now on.
    await checkRegistryKey(handle.db, registryCipherFromConfig(config));
    const demo = config.loadDemo ? await loadDemoIfEmpty(handle.db) : { loaded: false, summary: {} };
    console.log(`reset ${dbName}: migrated${demo.loaded ? `, demo loaded ${JSON.stringify(demo.summary)}` : ''}`);
  } finally {
    await handle.close();
    if (target.local?.startedHere) await target.local.stop();
  }
});
