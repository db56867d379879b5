/**
 * `npm start`: resolve the database (embedded cluster or DATABASE_URL), migrate, load the demo when the
 * database is empty, serve API and web app on one port, and shut everything down cleanly on a signal.
 */
import { buildApp } from './app';
import { loadConfig } from './config';
import { resolveDatabaseTarget } from './db/connect';
import { openDatabase, redactUrl } from './db/database';
import { LocalPostgresError } from './db/local-postgres';
import { ensureExtensions, migrateToLatest, MigrationError } from './db/migrate';
import { loadDemoIfEmpty } from './modules/demo/demo.service';
import { registryCipherFromConfig } from './modules/registry/registry-crypto';
import { checkRegistryKey, RegistryKeyMismatchError } from './modules/registry/registry-key.service';
import { ensureInitialAdmin } from './modules/users/user.service';

async function main(): Promise<void> {
  const config = loadConfig();
  const target = await resolveDatabaseTarget(config);
  await ensureExtensions(target.url);
  const handle = openDatabase(target.url, { statementTimeoutMs: config.statementTimeoutMs, max: 20 });
  const migrated = await migrateToLatest(handle.db);
  const applied = migrated.results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [];
  // Before anything reads or writes personal data: the key must be the database's (registry-key.service.ts).
  await checkRegistryKey(handle.db, registryCipherFromConfig(config));

  const app = await buildApp({ config, db: handle.db, pool: handle.pool });
  handle.pool.on('error', (err) => app.log.warn({ err }, 'idle database connection lost; it will be replaced'));
  if (applied.length > 0) app.log.info({ applied }, `applied ${applied.length} migration(s)`);
  if (config.loadDemo) {
    const demo = await loadDemoIfEmpty(handle.db);
    if (demo.loaded) app.log.info(demo.summary, 'loaded the demo city (first start on an empty database)');
  }
  // First run: an administrator with a one-time password, printed here once and never stored in clear.
  const initialAdmin = await ensureInitialAdmin(handle.db);

  const address = await app.listen({ port: config.port, host: config.host });
  const where = target.kind === 'embedded' && target.local
    ? `embedded PostgreSQL at 127.0.0.1:${target.local.port}/${config.localDatabaseName} (cluster in ${target.local.paths.dataDir})`
    : `DATABASE_URL ${redactUrl(target.url)}`;
  const shown = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
  app.log.info(`Wangge listening on ${shown} — database: ${where}`);
  console.log(`\n  Wangge is running at ${shown}  (API docs: ${shown}/docs)\n  Database: ${where}\n  Press Ctrl-C to stop.\n`);
  if (initialAdmin) {
    console.log(
      `  First start: created the administrator account.\n` +
        `    username: ${initialAdmin.username}\n    one-time password: ${initialAdmin.oneTimePassword}\n` +
        `  It is shown only now; sign in (POST /api/v1/auth/sign-in) and change it (POST /api/v1/auth/password).\n`,
    );
  }

  let closing = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (closing) return;
    closing = true;
    app.log.info(`${signal}: draining requests and shutting down`);
    // Fastify stops accepting, waits for in-flight requests, then we close the pool and the cluster.
    await app.close();
    await handle.close();
    if (target.local?.startedHere) {
      await target.local.stop();
      console.log('  embedded PostgreSQL stopped');
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof LocalPostgresError || err instanceof MigrationError || err instanceof RegistryKeyMismatchError) {
    console.error(`\nwangge: ${err.message}`);
    if (err.hint) console.error(`\n  ${err.hint}\n`);
  } else {
    console.error(err);
  }
  process.exit(1);
});
