/**
 * Shared plumbing for benchmarks: a scratch database on the configured server (embedded cluster unless
 * DATABASE_URL), migrated and dropped afterwards; median/percentile helpers; JSON results under
 * test-output/bench/. Benchmarks report ratios against a baseline measured in the same run, because this
 * machine is shared and absolute timings drift.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { loadConfig, PROJECT_ROOT } from '../../server/config';
import { resolveDatabaseTarget } from '../../server/db/connect';
import { openDatabase, type DatabaseHandle } from '../../server/db/database';
import { quoteIdent } from '../../server/db/local-postgres';
import { ensureExtensions, migrateToLatest } from '../../server/db/migrate';

export async function withScratchDatabase<T>(name: string, fn: (handle: DatabaseHandle) => Promise<T>, opts: { max?: number } = {}): Promise<T> {
  const target = await resolveDatabaseTarget(loadConfig());
  const dbName = `wangge_bench_${name}_${process.pid}`;
  const adminUrl = new URL(target.url);
  adminUrl.pathname = '/postgres';
  const url = new URL(target.url);
  url.pathname = `/${dbName}`;
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${quoteIdent(dbName)}`);
  const handle = openDatabase(url.toString(), { max: opts.max ?? 20 });
  try {
    await ensureExtensions(url.toString());
    await migrateToLatest(handle.db);
    return await fn(handle);
  } finally {
    await handle.close();
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(dbName)} WITH (FORCE)`);
    await admin.end();
    if (target.local?.startedHere) await target.local.stop();
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export function writeResults(name: string, results: unknown): string {
  const file = path.join(PROJECT_ROOT, 'test-output/bench', `${name}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  return file;
}
