/**
 * The registry key check (registry-key.service.ts): a server, a demo reset or an import started with a
 * key that is not the database's refuses to go on, instead of answering 500 for every stored ID number
 * and writing new ones that the right key could not read.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, TEST_REGISTRY_KEY } from '../../config';
import { createTestDatabase, type TestDatabase } from '../../test/database';
import { loadDemoIfEmpty } from '../demo/demo.service';
import { createRegistryCipher } from './registry-crypto';
import { checkRegistryKey, RegistryKeyMismatchError } from './registry-key.service';

const run = promisify(execFile);
const KEY_A = TEST_REGISTRY_KEY;
const KEY_B = Buffer.alloc(32, 0x17).toString('base64');
const A = createRegistryCipher(KEY_A);
const B = createRegistryCipher(KEY_B);

let tdb: TestDatabase;
const fingerprintRows = async (): Promise<string[]> =>
  (await sql<{ f: Buffer }>`SELECT fingerprint AS f FROM registry_key`.execute(tdb.db)).rows.map((r) => r.f.toString('hex'));
const residents = async (): Promise<number> =>
  (await sql<{ n: number }>`SELECT count(*)::int AS n FROM residents`.execute(tdb.db)).rows[0]!.n;

beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.drop());

describe('registry key check', () => {
  it('a database with encrypted data from before the check refuses a key that cannot decrypt it, then belongs to the one that can', async () => {
    await loadDemoIfEmpty(tdb.db, 'small', A);
    expect(await residents()).toBeGreaterThan(0);
    expect(await fingerprintRows()).toEqual([]);
    const refused = await checkRegistryKey(tdb.db, B).then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(RegistryKeyMismatchError);
    expect((refused as Error).message).toMatch(/does not decrypt/);
    // Refusing claims nothing: the right key can still take the database.
    expect(await fingerprintRows()).toEqual([]);
    await checkRegistryKey(tdb.db, A);
    expect(await fingerprintRows()).toEqual([A.fingerprint.toString('hex')]);
  });

  it('a claimed database accepts its own key again and refuses another, naming both fingerprints', async () => {
    await checkRegistryKey(tdb.db, A);
    const refused = await checkRegistryKey(tdb.db, B).then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(RegistryKeyMismatchError);
    expect((refused as Error).message).toContain(A.fingerprint.toString('hex'));
    expect((refused as Error).message).toContain(B.fingerprint.toString('hex'));
    expect((refused as RegistryKeyMismatchError).hint).toMatch(/registry\.key|REGISTRY_KEY/);
    expect(await fingerprintRows()).toEqual([A.fingerprint.toString('hex')]);
    // The fingerprint is not any of the working keys' bytes.
    expect(A.fingerprint.length).toBe(16);
    expect(Buffer.from(KEY_A, 'base64').includes(A.fingerprint)).toBe(false);
  });

  it('the import CLI and npm start refuse the wrong key and write nothing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wangge-key-'));
    try {
      const file = path.join(dir, 'residents.csv');
      writeFileSync(file, 'id_number,name\n');
      const before = await residents();
      const env = { ...process.env, DATABASE_URL: tdb.url, REGISTRY_KEY: KEY_B, PORT: '0', LOG_LEVEL: 'silent' };
      for (const [what, args] of [['import', ['tsx', 'scripts/import-registry.ts', 'residents', file]], ['start', ['tsx', 'server/main.ts']]] as const) {
        const failed = await run('npx', [...args], { cwd: PROJECT_ROOT, env, timeout: 60_000 }).then(() => null, (e: { code: number; stderr: string }) => e);
        expect(failed, `${what} should refuse`).not.toBeNull();
        expect(failed!.code, what).toBe(1);
        expect(failed!.stderr, what).toMatch(/registry key does not match this database/);
      }
      expect(await residents()).toBe(before);
      expect(await fingerprintRows()).toEqual([A.fingerprint.toString('hex')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
