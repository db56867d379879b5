import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalPostgres, type LocalPostgres, processIsAlive } from './local-postgres';

/** The embedded cluster's lifecycle, on a throwaway cluster of its own (not the shared test cluster). */
describe('embedded PostgreSQL cluster', () => {
  const projectRoot = mkdtempSync(path.join(os.tmpdir(), 'wangge-cluster-'));
  const started: LocalPostgres[] = [];
  const lines: string[] = [];
  const log = (line: string): void => void lines.push(line);

  afterAll(async () => {
    const last = started.at(-1);
    await last?.stop();
    rmSync(projectRoot, { recursive: true, force: true });
    // A private temp folder is out of the postgres user's reach, so the cluster may live elsewhere.
    if (last) rmSync(last.paths.root, { recursive: true, force: true });
  });

  async function query(cluster: LocalPostgres, text: string): Promise<Record<string, unknown>[]> {
    const client = new pg.Client({ connectionString: cluster.urlFor('wangge') });
    await client.connect();
    try {
      return (await client.query(text)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  }

  it('creates a UTF-8 cluster with a C.UTF-8 locale, loopback only, password required', async () => {
    const cluster = await startLocalPostgres({ projectRoot, database: 'wangge', log });
    started.push(cluster);
    expect(cluster.startedHere).toBe(true);
    const [row] = await query(cluster, "SELECT current_setting('server_encoding') AS enc, current_setting('lc_ctype') AS ctype, current_setting('listen_addresses') AS listen");
    expect(row).toEqual({ enc: 'UTF8', ctype: 'C.UTF-8', listen: '127.0.0.1' });
    // Chinese text gets trigrams only under a UTF-8 LC_CTYPE; this is why the locale matters.
    await query(cluster, 'CREATE EXTENSION IF NOT EXISTS pg_trgm');
    const [trgm] = await query(cluster, "SELECT array_length(show_trgm('建设路桐柏路'), 1) AS n");
    expect(Number(trgm?.n)).toBeGreaterThan(0);
    // Credentials are private to the owner, and a wrong password is refused.
    expect(statSync(cluster.paths.credentialsFile).mode & 0o077).toBe(0);
    const bad = new pg.Client({ connectionString: cluster.urlFor('wangge').replace(/:[^:@/]+@/, ':wrong@') });
    await expect(bad.connect()).rejects.toThrow(/password authentication failed/);
  });

  it('a second start reuses the running cluster and leaves it to its owner', async () => {
    const again = await startLocalPostgres({ projectRoot, database: 'wangge', log });
    expect(again.startedHere).toBe(false);
    expect(again.port).toBe(started[0]?.port);
  });

  it('recovers from a crash that left a stale postmaster.pid', async () => {
    const first = started[0];
    if (!first) throw new Error('first test did not start the cluster');
    const pidFile = path.join(first.paths.dataDir, 'postmaster.pid');
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    // Wait for the backends to notice their postmaster died and exit, as after a real crash.
    await expect.poll(() => processIsAlive(pid), { timeout: 10_000 }).toBe(false);
    expect(existsSync(pidFile)).toBe(true);

    const recovered = await startLocalPostgres({ projectRoot, database: 'wangge', log });
    started.push(recovered);
    expect(recovered.startedHere).toBe(true);
    const [row] = await query(recovered, 'SELECT 1 AS one');
    expect(row).toEqual({ one: 1 });
    expect(lines.some((l) => /stale postmaster\.pid/.test(l))).toBe(true);
  });
});
