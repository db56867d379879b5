/** `npm run db:migrate`: bring the configured database (embedded or DATABASE_URL) to the latest schema. */
import { loadConfig } from '../server/config';
import { resolveDatabaseTarget } from '../server/db/connect';
import { openDatabase, redactUrl } from '../server/db/database';
import { ensureExtensions, migrateToLatest } from '../server/db/migrate';
import { runCli } from './cli';

runCli(async () => {
  const config = loadConfig();
  const target = await resolveDatabaseTarget(config);
  await ensureExtensions(target.url);
  const handle = openDatabase(target.url, { max: 1 });
  try {
    const result = await migrateToLatest(handle.db);
    const applied = result.results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [];
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
    console.log(`database: ${redactUrl(target.url)}`);
  } finally {
    await handle.close();
    if (target.local?.startedHere) await target.local.stop();
  }
});
