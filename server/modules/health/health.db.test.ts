import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app';
import { testConfig } from '../../config';
import { openDatabase } from '../../db/database';
import { startLocalPostgres, type LocalPostgres } from '../../db/local-postgres';
import { ensureExtensions, migrateToLatest, MIGRATIONS_DIR } from '../../db/migrate';
import { createTestDatabase, type TestDatabase } from '../../test/database';
import type { Health } from '../../contracts/health';

const newestMigration = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort().at(-1)?.replace(/\.sql$/, '');

describe('GET /health on a running database', () => {
  let tdb: TestDatabase;
  let app: FastifyInstance;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    app = await buildApp({ config: testConfig(), db: tdb.db });
  });
  afterAll(async () => {
    await app.close();
    await tdb.drop();
  });

  it('reports PostgreSQL and PostGIS versions and the newest migration', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    const health = res.json<Health>();
    expect(health.status).toBe('ok');
    expect(health.database.ok).toBe(true);
    expect(health.database.postgres).toMatch(/^\d+\.\d+/);
    expect(health.database.postgis).toMatch(/^3\.\d+/);
    expect(health.migrations.current).toBe(newestMigration);
  });
});

// A real stop and restart of a PostgreSQL server, so it gets a throwaway cluster of its own: stopping
// the shared one would break every other test file running in parallel.
describe('GET /health while the database stops and comes back', () => {
  const scratchRoot = mkdtempSync(path.join(os.tmpdir(), 'wangge-health-'));
  let app: FastifyInstance;
  let close: () => Promise<void> = async () => undefined;
  let restart: LocalPostgres | undefined;

  afterAll(async () => {
    await app?.close();
    await close();
    await restart?.stop();
    rmSync(scratchRoot, { recursive: true, force: true });
    if (restart) rmSync(restart.paths.root, { recursive: true, force: true });
  });

  it('turns 503 when the server is stopped and 200 again after it restarts, with no process restart', async () => {
    const first = await startLocalPostgres({ projectRoot: scratchRoot, database: 'wangge', log: () => undefined });
    const url = first.urlFor('wangge');
    await ensureExtensions(url);
    const handle = openDatabase(url, { max: 2 });
    close = () => handle.close();
    await migrateToLatest(handle.db);
    app = await buildApp({ config: testConfig(), db: handle.db });

    expect((await app.inject('/health')).statusCode).toBe(200);

    await first.stop();
    const down = await app.inject('/health');
    expect(down.statusCode).toBe(503);
    const downBody = down.json<Health>();
    expect(downBody.status).toBe('unavailable');
    expect(downBody.database.ok).toBe(false);

    const second = await startLocalPostgres({ projectRoot: scratchRoot, database: 'wangge', log: () => undefined });
    restart = second;
    // The cluster remembers its port, so the pool's URL is still right.
    expect(second.port).toBe(first.port);
    const up = await app.inject('/health');
    expect(up.statusCode).toBe(200);
    expect(up.json<Health>().database.postgis).toMatch(/^3\./);
  });
});
