/**
 * The registry key must be the one that encrypted the database's personal data. A server started with
 * another key — `.data/registry.key` lost or regenerated while the cluster lives on elsewhere, a
 * REGISTRY_KEY copied from another installation — would answer 500 for every value it cannot decrypt
 * and write new values that nobody holding the right key could read: personal data lost without a
 * word. So `npm start`, the demo reset and the import CLI check the key first and refuse to go on.
 *
 * The database keeps a fingerprint of its key (migrations/0039_registry_key_check.sql). The first
 * process to check stores its own — after trying it on a stored value, for databases that held
 * encrypted data before the fingerprint existed.
 */
import type { Database } from '../../db/database';
import type { RegistryCipher } from './registry-crypto';
import { claimKeyFingerprint, readKeyFingerprint, sampleEncryptedValue } from './registry-key.repository';

export class RegistryKeyMismatchError extends Error {
  readonly hint =
    'Start with the key this database was created with: restore .data/registry.key from your backup, or set REGISTRY_KEY ' +
    'to it. A database made with a key that is lost cannot show its ID numbers and phones again (they were encrypted so).';

  constructor(reason: string) {
    super(`The registry key does not match this database: ${reason}. Refusing to start, so that nothing is written with the wrong key.`);
    this.name = 'RegistryKeyMismatchError';
  }
}

/** Throws RegistryKeyMismatchError unless `cipher` holds the database's key; claims the database for it when it has none yet. */
export async function checkRegistryKey(db: Database, cipher: RegistryCipher): Promise<void> {
  const mine = cipher.fingerprint;
  let stored = await readKeyFingerprint(db);
  if (!stored) {
    const sample = await sampleEncryptedValue(db);
    if (sample) {
      try {
        cipher.decrypt(sample);
      } catch {
        throw new RegistryKeyMismatchError('a stored ID number or phone does not decrypt with it');
      }
    }
    stored = await claimKeyFingerprint(db, mine);
  }
  if (!stored.equals(mine)) {
    throw new RegistryKeyMismatchError(`the database was encrypted with the key of fingerprint ${stored.toString('hex')}, this one is ${mine.toString('hex')}`);
  }
}
