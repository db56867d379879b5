import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../config';
import { quoteIdent } from './local-postgres';
import { ensureExtensions, MigrationError } from './migrate';

/**
 * An external DATABASE_URL whose role may not create PostGIS: the start must stop with a message that
 * names the missing extension and how to add it, not a stack trace.
 */
describe('an external database without the rights to create extensions', () => {
  const suffix = randomBytes(4).toString('hex');
  const role = `wangge_limited_${suffix}`;
  const database = `wangge_noext_${suffix}`;
  const password = randomBytes(12).toString('hex');
  let admin: pg.Client;
  let limitedUrl: string;

  beforeAll(async () => {
    const adminUrl = new URL(inject('templateDatabaseUrl'));
    adminUrl.pathname = '/postgres';
    admin = new pg.Client({ connectionString: adminUrl.toString() });
    await admin.connect();
    await admin.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${password}'`);
    await admin.query(`CREATE DATABASE ${quoteIdent(database)} OWNER ${quoteIdent(role)}`);
    const url = new URL(adminUrl);
    url.username = role;
    url.password = password;
    url.pathname = `/${database}`;
    limitedUrl = url.toString();
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
    await admin.end();
  });

  it('fails with the missing extension named and the statement to run', async () => {
    const attempt = ensureExtensions(limitedUrl);
    await expect(attempt).rejects.toBeInstanceOf(MigrationError);
    await expect(attempt).rejects.toThrow(/postgis/);
    const err = await attempt.then(() => undefined, (e: unknown) => e as MigrationError);
    expect(err?.hint).toMatch(/CREATE EXTENSION IF NOT EXISTS postgis/);
  });

  it('db:reset refuses to wipe a DATABASE_URL without --force and leaves it alone', () => {
    const run = spawnSync('npx', ['tsx', path.join(PROJECT_ROOT, 'scripts/reset-db.ts')], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATABASE_URL: limitedUrl },
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/only resets the embedded database/);
    expect(run.stderr).toMatch(/--force/);
  });
});
