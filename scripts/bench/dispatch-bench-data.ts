/**
 * The dispatch benchmarks' data: the demo generator's large district (1,010 grids, its staff, assignments
 * and weekly roster) published into a scratch database, and a dispatcher's API token to call with.
 * Shared by dispatch.bench.ts (throughput) and dispatch-refresh-profile.ts (event-loop stalls while the
 * in-memory index is rebuilt).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../server/config';
import type { DatabaseHandle } from '../../server/db/database';
import { hashPassword } from '../../server/auth/password';
import { newToken } from '../../server/auth/tokens';
import { insertDemoDispatchData } from '../../server/modules/demo/demo.service';
import { insertApiToken } from '../../server/modules/users/api-token.repository';
import { insertUser } from '../../server/modules/users/user.repository';
import { generateDemoCity } from '../generate/demo-city';

const run = promisify(execFile);


export interface DispatchBenchData {
  staff: number;
  shifts: number;
  /** `Authorization` header of a dispatcher's API token (city-wide scope). */
  auth: { Authorization: string };
}

export async function seedLargeDistrict(handle: DatabaseHandle): Promise<DispatchBenchData> {
  const city = generateDemoCity({ size: 'large' });
  await insertDemoDispatchData(handle.db, city, '2025-01-01T00:00:00Z');
  await handle.pool.query('ANALYZE');

  // A hotline system's credentials: an API token of a dispatcher (city-wide scope).
  const user = await insertUser(handle.db, {
    username: 'hotline-bench',
    displayName: 'hotline bench',
    passwordHash: await hashPassword('bench-password-123'),
    roles: ['dispatcher'],
    scope: { all: true, prefixes: [] },
    mustChangePassword: false,
  });
  if (!user) throw new Error('bench user not created');
  const { token, hash } = newToken('api');
  await insertApiToken(handle.db, { userId: user.id, name: 'hotline', tokenHash: hash, tokenPrefix: token.slice(0, 10), roles: ['dispatcher'], scope: { all: true, prefixes: [] } });
  return { staff: city.staff.length, shifts: city.roster.length, auth: { Authorization: `Bearer ${token}` } };
}

/** `count` lookup paths at points spread uniformly (seeded) over a bounding box [w, s, e, n]. */
export function lookupPaths(bbox: readonly [number, number, number, number], count = 5_000): string[] {
  const [w, s, e, n] = bbox;
  let seed = 1;
  const random = (): number => (seed = (seed * 16807) % 2_147_483_647) / 2_147_483_647;
  return Array.from({ length: count }, () => `/api/v1/dispatch/lookup?lon=${(w + random() * (e - w)).toFixed(7)}&lat=${(s + random() * (n - s)).toFixed(7)}`);
}

export interface AutocannonResult {
  total: number;
  rps: number;
  /** Latencies (ms). */
  p50: number;
  p99: number;
  p999: number;
  max: number;
  errors: number;
}

/**
 * autocannon in a child process cycling through the paths (the load generator): in the server's
 * process it would take the CPU the server needs on this two-core machine.
 */
export async function runAutocannon(url: string, paths: string[], headers: Record<string, string>, durationS: number, connections: number): Promise<AutocannonResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wangge-autocannon-'));
  const pathsFile = path.join(dir, 'paths.json');
  writeFileSync(pathsFile, JSON.stringify(paths));
  const child = `
    import autocannon from 'autocannon';
    import { readFileSync } from 'node:fs';
    const [url, pathsFile, headersJson, durationS, connections] = process.argv.slice(1);
    const headers = JSON.parse(headersJson);
    const requests = JSON.parse(readFileSync(pathsFile, 'utf8')).map((p) => ({ method: 'GET', path: p, headers }));
    const r = await autocannon({ url, connections: Number(connections), duration: Number(durationS), requests });
    process.stdout.write(JSON.stringify({ total: r.requests.total, rps: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, p999: r.latency.p99_9, max: r.latency.max, errors: r.non2xx + r.errors + r.timeouts }));`;
  try {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', child, url, pathsFile, JSON.stringify(headers), String(durationS), String(connections)], { cwd: PROJECT_ROOT });
    return JSON.parse(stdout) as AutocannonResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
