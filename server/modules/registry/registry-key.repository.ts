/**
 * SQL of the registry key check (registry-key.service.ts): the stored fingerprint, and one stored
 * encrypted value to try the key on in a database from before the fingerprint existed.
 */
import { sql } from 'kysely';
import type { Database } from '../../db/database';
import { asSystem } from './registry.repository';

export async function readKeyFingerprint(db: Database): Promise<Buffer | undefined> {
  const row = await db.selectFrom('registry_key').select('fingerprint').executeTakeFirst();
  return row?.fingerprint;
}

/** Store the fingerprint unless one is there already (another process claimed first); the stored one. */
export async function claimKeyFingerprint(db: Database, fingerprint: Buffer): Promise<Buffer> {
  await db.insertInto('registry_key').values({ fingerprint }).onConflict((oc) => oc.column('singleton').doNothing()).execute();
  const stored = await readKeyFingerprint(db);
  if (!stored) throw new Error('registry_key has no row after its insert');
  return stored;
}

/** Any one encrypted value of the registry or of an event's reporter, or undefined when none is stored. */
export async function sampleEncryptedValue(db: Database): Promise<Buffer | undefined> {
  return db.transaction().execute(async (trx) => {
    await asSystem(trx);
    const { rows } = await sql<{ value: Buffer }>`
      (SELECT id_number_enc AS value FROM residents LIMIT 1)
      UNION ALL (SELECT reporter_phone_enc FROM events WHERE reporter_phone_enc IS NOT NULL LIMIT 1)
      UNION ALL (SELECT reporter_name_enc FROM events WHERE reporter_name_enc IS NOT NULL LIMIT 1)
      LIMIT 1`.execute(trx);
    return rows[0]?.value;
  });
}
