/**
 * The one place that opens database connections. Everything else receives a `Kysely<DB>`.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DB } from './schema.gen';

export type Database = Kysely<DB>;

// int8 (counts, sums) as numbers: every bigint this schema holds fits in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
// numeric as numbers (areas, statistics); exactness beyond a double is never needed here.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
// `date` stays 'YYYY-MM-DD': turning it into a JS Date shifts it by the process time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export interface DatabaseHandle {
  db: Database;
  pool: pg.Pool;
  url: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Pool size; keep it small in tests (many files run in parallel against one server). */
  max?: number;
  /** Per-statement timeout set on every connection, ms (0 = none). */
  statementTimeoutMs?: number;
  /** Called when an idle connection dies (server restart); the pool replaces it on next use. */
  onIdleError?: (err: Error) => void;
  applicationName?: string;
}

export function openDatabase(url: string, opts: OpenDatabaseOptions = {}): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    // Fail fast when the server is down, so /health answers 503 quickly instead of hanging.
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    application_name: opts.applicationName ?? 'wangge',
    ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
  });
  // Without a listener an idle client's error (e.g. the server restarting) crashes the process.
  pool.on('error', (err) => opts.onIdleError?.(err));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    url,
    close: () => db.destroy(),
  };
}

/** `postgres://user:***@host:port/db` for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
