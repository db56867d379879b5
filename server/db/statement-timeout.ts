/**
 * Statement timeouts per request class. The pool sets the default on every connection
 * (`STATEMENT_TIMEOUT_MS`, 15 s; see main.ts); a transaction that knows it is cheaper or dearer says
 * so with SET LOCAL, which ends with the transaction and never leaks to the next user of the pooled
 * connection. A cancelled statement becomes 503 QUERY_TIMEOUT (server/http/errors.ts).
 */
import { sql } from 'kysely';
import type { Database } from './database';

export const STATEMENT_TIMEOUT_MS = {
  /** Token lookups, sign-in bookkeeping: indexed single-row statements. */
  auth: 2_000,
  /** Whole-table scans run on purpose: audit chain verification, layout validation, exports. */
  heavy: 120_000,
} as const;

/** Inside a transaction only (SET LOCAL outside one is a no-op with a warning). */
export async function setStatementTimeout(trx: Database, ms: number): Promise<void> {
  await sql`SELECT set_config('statement_timeout', ${String(Math.max(1, Math.trunc(ms)))}, true)`.execute(trx);
}
