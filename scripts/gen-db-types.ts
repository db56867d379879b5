/**
 * `npm run db:types [-- --verify]`: migrate a scratch database and generate `server/db/schema.gen.ts`
 * with kysely-codegen. `--verify` fails when the committed file is stale (run in `npm test`).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { loadConfig, PROJECT_ROOT } from '../server/config';
import { resolveDatabaseTarget } from '../server/db/connect';
import { openDatabase } from '../server/db/database';
import { quoteIdent } from '../server/db/local-postgres';
import { ensureExtensions, migrateToLatest } from '../server/db/migrate';
import { runCli } from './cli';

const OUT_FILE = path.join(PROJECT_ROOT, 'server/db/schema.gen.ts');

runCli(async () => {
  const verify = process.argv.includes('--verify');
  const target = await resolveDatabaseTarget(loadConfig());
  const scratch = `wangge_codegen_${process.pid}`;
  const adminUrl = new URL(target.url);
  adminUrl.pathname = '/postgres';
  const scratchUrl = new URL(target.url);
  scratchUrl.pathname = `/${scratch}`;

  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(scratch)}`);
    await ensureExtensions(scratchUrl.toString());
    const handle = openDatabase(scratchUrl.toString(), { max: 1 });
    await migrateToLatest(handle.db);
    await handle.close();
    const args = [
      'kysely-codegen',
      '--dialect', 'postgres',
      '--url', scratchUrl.toString(),
      '--out-file', OUT_FILE,
      '--date-parser', 'string',
      '--numeric-parser', 'number',
      '--exclude-pattern', '(spatial_ref_sys|geography_columns|geometry_columns|kysely_*)',
      ...(verify ? ['--verify'] : []),
    ];
    const run = spawnSync('npx', args, { stdio: 'inherit', cwd: PROJECT_ROOT });
    if (run.status !== 0) {
      if (verify) console.error('server/db/schema.gen.ts is stale: run `npm run db:types` and commit the result.');
      process.exitCode = run.status ?? 1;
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)} WITH (FORCE)`);
    await admin.end();
    if (target.local?.startedHere) await target.local.stop();
  }
});
