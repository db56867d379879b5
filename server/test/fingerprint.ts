/**
 * "Changes nothing", checked: a fingerprint (md5 of the ordered rows) of every table of the test
 * database, compared before and after bad requests.
 */
import { sql } from 'kysely';
import type { Database } from '../db/database';

// Refusals are audited (audit_log and its hash chain head) and failed sign-ins counted per address:
// those append-only logs legitimately grow. spatial_ref_sys is PostGIS's read-only catalogue.
const NOT_FINGERPRINTED = new Set(['audit_log', 'audit_chain_head', 'sign_in_failures', 'spatial_ref_sys']);

export async function fingerprint(db: Database): Promise<Map<string, string>> {
  // row_security off: a role that row-level security would filter (households, residents and their
  // history force it) gets an error instead of reading nothing, and "changes nothing" held vacuously.
  return db.transaction().execute(async (trx) => {
    await sql`SET LOCAL row_security = off`.execute(trx);
    const { rows: tables } = await sql<{ name: string }>`
      SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(trx);
    const out = new Map<string, string>();
    for (const { name } of tables) {
      if (NOT_FINGERPRINTED.has(name)) continue;
      const { rows } = await sql<{ h: string | null }>`SELECT md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM ${sql.table(name)} x`.execute(trx);
      out.set(name, rows[0]?.h ?? 'empty');
    }
    return out;
  });
}

/** The tables whose rows differ between two fingerprints. */
export function changedTables(before: Map<string, string>, after: Map<string, string>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => before.get(n) !== after.get(n));
}
