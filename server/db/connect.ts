/**
 * Decide which database a process uses: `DATABASE_URL` when set, otherwise the embedded cluster.
 */
import { PROJECT_ROOT, type AppConfig } from '../config';
import { startLocalPostgres, type LocalPostgres } from './local-postgres';

export interface DatabaseTarget {
  url: string;
  kind: 'external' | 'embedded';
  /** Present for the embedded cluster; `stop()` it on shutdown when `startedHere`. */
  local?: LocalPostgres;
}

export async function resolveDatabaseTarget(config: Pick<AppConfig, 'databaseUrl' | 'localDatabaseName'>, log?: (line: string) => void): Promise<DatabaseTarget> {
  if (config.databaseUrl) return { url: config.databaseUrl, kind: 'external' };
  const local = await startLocalPostgres({ projectRoot: PROJECT_ROOT, database: config.localDatabaseName, ...(log ? { log } : {}) });
  return { url: local.urlFor(config.localDatabaseName), kind: 'embedded', local };
}
