/**
 * Run queries as a principal, with PostgreSQL enforcing its scope (Row Level Security), as defence in
 * depth behind the services' own filters.
 *
 * Inside one transaction: the scope goes into transaction-local settings read by the SQL function
 * `wangge_in_scope(code)` (migrations/0004_scope.sql), then `SET LOCAL ROLE wangge_app` drops the
 * owner's right to bypass RLS. Both end with the transaction, so a pooled connection never carries
 * one request's scope into the next.
 */
import { sql } from 'kysely';
import type { Principal, Scope } from '../auth/principal';
import type { Database } from './database';

export async function withScope<T>(db: Database, scope: Scope, fn: (trx: Database) => Promise<T>, actor?: Pick<Principal, 'userId'>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('wangge.scope_all', ${scope.all ? 'on' : 'off'}, true),
                     set_config('wangge.scope_prefixes', ${scope.prefixes.join(',')}, true),
                     set_config('wangge.user_id', ${String(actor?.userId ?? '')}, true)`.execute(trx);
    await sql`SET LOCAL ROLE wangge_app`.execute(trx);
    return fn(trx);
  });
}
