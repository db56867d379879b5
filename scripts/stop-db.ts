/** `npm run db:stop`: stop the embedded cluster if it is running. */
import { PROJECT_ROOT } from '../server/config';
import { stopLocalPostgres } from '../server/db/local-postgres';
import { runCli } from './cli';

runCli(async () => {
  console.log((await stopLocalPostgres(PROJECT_ROOT)) ? 'embedded PostgreSQL stopped' : 'embedded PostgreSQL was not running');
});
