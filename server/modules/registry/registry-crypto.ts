/**
 * Encryption at rest of residents' ID numbers and phones (PIPL sensitive personal data).
 *
 * One 32-byte master key (env REGISTRY_KEY, base64; in the embedded/dev setup generated once into
 * `.data/registry.key`, mode 0600) is split with HKDF into two independent keys:
 * - AES-256-GCM for the stored value: `version(1) ‖ iv(12) ‖ ciphertext ‖ tag(16)`. A random IV per value,
 *   so equal numbers encrypt differently and the column reveals nothing, not even equality.
 * - HMAC-SHA256 for the search column: deterministic, so `WHERE id_number_hmac = $1` finds a number
 *   (and serves as the natural key for imports) without decrypting anything; without the key the hash
 *   cannot be brute-forced over the small space of valid ID numbers.
 * The leading version byte lets a later key rotation tell old values from new ones.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, type AppConfig } from '../../config';
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const KEY_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface RegistryCipher {
  encrypt(plain: string): Buffer;
  decrypt(stored: Buffer): string;
  /** Keyed hash for exact-match search; normalise before hashing (upper-case ID numbers). */
  hmac(plain: string): Buffer;
  /**
   * 16 bytes that name the master key (HKDF with a label of its own: nothing about the other two keys
   * follows from it). The database keeps the one it was encrypted with (registry-key.service.ts).
   */
  readonly fingerprint: Buffer;
}


export function createRegistryCipher(masterKeyBase64: string): RegistryCipher {
  const master = Buffer.from(masterKeyBase64, 'base64');
  if (master.length !== 32) throw new Error(`REGISTRY_KEY must be 32 bytes, base64-encoded (got ${master.length} bytes)`);
  const encKey = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'wangge registry aes-256-gcm v1', 32));
  const macKey = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'wangge registry hmac-sha256 v1', 32));
  const fingerprint = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'wangge registry key fingerprint v1', 16));
  // IVs are cut from a block of random bytes, each slice used once: one randomBytes call per value
  // cost about as much as the encryption itself (a 1M-resident import encrypts two million values).
  let ivPool = Buffer.alloc(0);
  let ivOffset = 0;
  const nextIv = (): Buffer => {
    if (ivOffset + IV_BYTES > ivPool.length) {
      ivPool = randomBytes(IV_BYTES * 4096);
      ivOffset = 0;
    }
    const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
    ivOffset += IV_BYTES;
    return iv;
  };
  return {
    fingerprint,
    encrypt(plain) {
      const iv = nextIv();
      const cipher = createCipheriv('aes-256-gcm', encKey, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from([KEY_VERSION]), iv, body, cipher.getAuthTag()]);
    },
    decrypt(stored) {
      if (stored.length < 1 + IV_BYTES + TAG_BYTES || stored[0] !== KEY_VERSION) throw new Error('registry value has an unknown key version');
      const iv = stored.subarray(1, 1 + IV_BYTES);
      const tag = stored.subarray(stored.length - TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', encKey, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(stored.subarray(1 + IV_BYTES, stored.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    },
    hmac(plain) {
      return createHmac('sha256', macKey).update(plain, 'utf8').digest();
    },
  };
}

/**
 * The configured key, or (no REGISTRY_KEY) the one in `<dataDir>/registry.key`, generated on first use
 * with mode 0600. Losing that file makes stored ID numbers and phones unreadable: back it up with the
 * database, never beside it in the same dump.
 */
export function loadRegistryKey(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const file = path.join(dataDir, 'registry.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64');
  try {
    // 'wx': two processes starting at once must not each write their own key; the loser reads the winner's.
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw err;
  }
  chmodSync(file, 0o600);
  return key;
}

/** The registry key of a configuration (see {@link loadRegistryKey}), base64. */
export function registryKeyFromConfig(config: Pick<AppConfig, 'registryKey'>): string {
  return loadRegistryKey(config.registryKey, path.join(PROJECT_ROOT, '.data'));
}

/** The registry cipher of a configuration. */
export function registryCipherFromConfig(config: Pick<AppConfig, 'registryKey'>): RegistryCipher {
  return createRegistryCipher(registryKeyFromConfig(config));
}
