/** `npm run db:psql`: an interactive psql on the configured database (starts the embedded one if needed). */
import { spawnSync } from 'node:child_process';
import { loadConfig } from '../server/config';
import { resolveDatabaseTarget } from '../server/db/connect';
import { runCli } from './cli';

runCli(async () => {
  const target = await resolveDatabaseTarget(loadConfig());
  const result = spawnSync('psql', [target.url, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (result.error) console.error(`could not run psql (${result.error.message}); install postgresql-client`);
  if (target.local?.startedHere) await target.local.stop();
  process.exit(result.status ?? 1);
});
