/**
 * Where a cold tile's time goes (issue #9): not a benchmark with a target, a breakdown for whoever works
 * on the cold path. Same data as tiles.bench.ts. Run through the shared lock:
 * `flock /tmp/wangge-bench.lock npx tsx scripts/bench/tiles-cold-profile.ts`.
 *
 * 1. PostgreSQL alone: planning and execution time of each tile's SQL (EXPLAIN ANALYZE, all tiles), and
 *    the tiles in sequence on one connection, unnamed against named.
 * 2. CPU per tile under load (wrk, PROFILE_CONNECTIONS, default 50): this Node process (process.cpuUsage,
 *    every thread) and the PostgreSQL server (its processes' utime + stime from /proc), for the raw SQL
 *    loop, the bare route with the same SQL, the API cold for a gzip-only client, for a browser's
 *    Accept-Encoding (Brotli) and without Accept-Encoding; bearer-token lookups that reached PostgreSQL during the API run (sessions scans).
 *    PROFILE_CPU=1 writes a V8 CPU profile of the API run (on a busy 2-core machine its samples land in
 *    socket writes that wake PostgreSQL; read it for JavaScript, not for totals).
 * 3. Node-side pieces: app.inject in sequence with and without gzip; kysely compile, ETag hash and gzip
 *    level 1 alone; kysely execute against pool.query in sequence.
 * PROFILE_ONLY=<part of a tile set's name> and PROFILE_SECONDS (default 4) keep a run short.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import type pg from 'pg';
import { buildApp } from '../../server/app';
import { testConfig } from '../../server/config';
import { runCli } from '../cli';
import { loadTileBenchData, tilesCovering } from './tile-bench-data';
import { TILE_LAYERS, tileSql } from '../../server/modules/tiles/tile-layers';
import { eventTileSql } from '../../server/modules/tiles/event-tiles';
import { etagFor } from '../../server/modules/tiles/tile-cache';
import { median, withScratchDatabase } from './bench-kit';

const run = promisify(execFile);
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.PROFILE_CONNECTIONS ?? 50);


/** CPU seconds used so far by the PostgreSQL server serving `pool` (postmaster and its children). */
async function postgresCpuSeconds(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE pid = pg_backend_pid()');
  const backend = rows[0]?.pid;
  if (!backend) return NaN;
  const statOf = (pid: number | string): string[] | undefined => {
    try {
      const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return s.slice(s.lastIndexOf(')') + 2).split(' ');
    } catch {
      return undefined;
    }
  };
  const postmaster = Number(statOf(backend)?.[1]);
  const tick = 100;
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const f = statOf(pid);
    if (!f) continue;
    if (Number(pid) !== postmaster && Number(f[1]) !== postmaster) continue;
    // Fields after the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / tick;
  }
  return total;
}

/** What a gzip-only client sends, and what a browser sends (it gets Brotli). */
const GZIP = 'gzip';
const BROWSER = 'gzip, deflate, br, zstd';

async function wrk(url: string, paths: string[], headers: Record<string, string>, acceptEncoding: string | undefined = GZIP): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wangge-wrk-'));
  const script = path.join(dir, 'paths.lua');
  const all = acceptEncoding === undefined ? headers : { ...headers, 'Accept-Encoding': acceptEncoding };
  const fields = Object.entries(all).map(([k, v]) => `[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join(', ');
  writeFileSync(script, `local paths = {${paths.map((p) => JSON.stringify(p)).join(',')}}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], { ${fields} })
end
`);
  const { stdout } = await run('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '-s', script, url]);
  rmSync(dir, { recursive: true, force: true });
  return Number(/Requests:?\s*(\d+) requests in/.exec(stdout)?.[1] ?? /(\d+) requests in/.exec(stdout)?.[1] ?? NaN);
}

interface CpuPerTile {
  rps: number;
  nodeUs: number;
  /** Of nodeUs, the garbage collector's pauses (PerformanceObserver 'gc'). */
  gcUs: number;
  postgresUs: number;
}

async function measure(pool: pg.Pool, body: () => Promise<number>): Promise<CpuPerTile> {
  const pg0 = await postgresCpuSeconds(pool);
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const n = await body();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  gc.disconnect();
  const pg1 = await postgresCpuSeconds(pool);
  return { rps: n / seconds, nodeUs: (cpu.user + cpu.system) / n, gcUs: (gcMs * 1000) / n, postgresUs: ((pg1 - pg0) * 1e6) / n };
}

runCli(async () => {
  await withScratchDatabase('tilesprofile', async (handle) => {
    const config = testConfig();
    const data = await loadTileBenchData(handle, config, Number(process.env.TILES_BENCH_EVENTS ?? 20_000));
    const { bbox, auth } = data;
    const grids = TILE_LAYERS.grids!;
    const z15 = tilesCovering(bbox, 15);
    const z13 = tilesCovering(bbox, 13);
    const sets = [
      { name: 'grids z15', tiles: z15, path: (z: number, x: number, y: number) => `/tiles/grids/${z}/${x}/${y}.mvt`, builder: (z: number, x: number, y: number) => tileSql(grids, z, x, y), headers: {} },
      { name: 'events z15', tiles: z15, path: (z: number, x: number, y: number) => `/tiles/events/${z}/${x}/${y}.mvt`, builder: (z: number, x: number, y: number) => eventTileSql(z, x, y, { scopePrefixes: null }), headers: auth },
      { name: 'events z13', tiles: z13, path: (z: number, x: number, y: number) => `/tiles/events/${z}/${x}/${y}.mvt`, builder: (z: number, x: number, y: number) => eventTileSql(z, x, y, { scopePrefixes: null }), headers: auth },
    ];
    const only = process.env.PROFILE_ONLY;

    const app = await buildApp({ config, db: handle.db });
    const appUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    for (const s of sets) {
      if (only && !s.name.includes(only)) continue;
      const compiled = s.tiles.map(([z, x, y]) => s.builder(z, x, y).compile(handle.db));

      // 1. PostgreSQL alone.
      const plan: number[] = [];
      const exec: number[] = [];
      for (let round = 0; round < 3; round++) {
        for (const q of compiled) {
          const { rows } = await handle.pool.query<{ 'QUERY PLAN': Array<{ 'Planning Time': number; 'Execution Time': number }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${q.sql}`, q.parameters as unknown[]);
          const p = rows[0]?.['QUERY PLAN'][0];
          if (round > 0 && p) {
            plan.push(p['Planning Time']);
            exec.push(p['Execution Time']);
          }
        }
      }
      const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
      console.log(`${s.name}: EXPLAIN ANALYZE over ${compiled.length} tiles × 2: planning median ${median(plan).toFixed(3)} ms (${((100 * sum(plan)) / (sum(plan) + sum(exec))).toFixed(0)} % of planning + execution), execution median ${median(exec).toFixed(3)} ms`);

      // Sequential on one connection: unnamed statements (as both run them now) against a named one.
      const client = await handle.pool.connect();
      try {
        const sequential = async (named: boolean): Promise<number> => {
          const t0 = performance.now();
          for (let r = 0; r < 4; r++) for (const q of compiled) await client.query({ text: q.sql, values: q.parameters as unknown[], ...(named ? { name: `profile_${s.name.replace(/\W/g, '_')}` } : {}) });
          return (performance.now() - t0) / (4 * compiled.length);
        };
        const unnamed: number[] = [];
        const named: number[] = [];
        for (let i = 0; i < 3; i++) {
          unnamed.push(await sequential(false));
          named.push(await sequential(true));
        }
        console.log(`${s.name}: one connection, in sequence: unnamed ${median(unnamed).toFixed(3)} ms a tile, named (prepared) ${median(named).toFixed(3)} ms a tile`);
      } finally {
        client.release();
      }

      // 2. CPU per tile under load.
      const raw = await measure(handle.pool, async () => {
        let done = 0;
        const deadline = performance.now() + SECONDS * 1000;
        await Promise.all(
          Array.from({ length: CONNECTIONS }, async (_, worker) => {
            let i = worker;
            while (performance.now() < deadline) {
              const q = compiled[i % compiled.length]!;
              await handle.pool.query(q.sql, q.parameters as unknown[]);
              done += 1;
              i += CONNECTIONS;
            }
          }),
        );
        return done;
      });
      const bare = Fastify();
      bare.get('/t/:z/:x/:y', async (request, reply) => {
        const { z, x, y } = request.params as { z: string; x: string; y: string };
        const q = s.builder(Number(z), Number(x), Number(y)).compile(handle.db);
        const { rows } = await handle.pool.query<{ mvt: Buffer }>(q.sql, q.parameters as unknown[]);
        return reply.type('application/vnd.mapbox-vector-tile').send(rows[0]?.mvt ?? Buffer.alloc(0));
      });
      const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });
      const route = await measure(handle.pool, () => wrk(bareUrl, s.tiles.map(([z, x, y]) => `/t/${z}/${x}/${y}`), {}));
      await bare.close();
      const session = process.env.PROFILE_CPU ? new Session() : undefined;
      if (session) {
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
      }
      const sessionScans = async (): Promise<number> => {
        await handle.pool.query('SELECT pg_stat_force_next_flush()');
        const { rows } = await handle.pool.query<{ n: number }>(`SELECT coalesce(idx_scan, 0) + coalesce(seq_scan, 0) AS n FROM pg_stat_user_tables WHERE relname = 'sessions'`);
        return Number(rows[0]?.n ?? NaN);
      };
      const scans0 = await sessionScans();
      let served = 0;
      const api = await measure(handle.pool, async () => (served = await wrk(appUrl, s.tiles.map(([z, x, y]) => s.path(z, x, y)), s.headers)));
      await new Promise((r) => setTimeout(r, 600));
      console.log(`${s.name}: bearer-token lookups in PostgreSQL (sessions scans) during the API run: ${(await sessionScans()) - scans0} for ${served} requests`);
      if (session) {
        const { profile } = await session.post('Profiler.stop');
        const file = path.join(os.tmpdir(), `tiles-cold-${s.name.replace(/\W/g, '_')}.cpuprofile`);
        writeFileSync(file, JSON.stringify(profile));
        console.log(`CPU profile of the API under load: ${file}`);
        session.disconnect();
      }
      const br = await measure(handle.pool, () => wrk(appUrl, s.tiles.map(([z, x, y]) => s.path(z, x, y)), s.headers, BROWSER));
      const identity = await measure(handle.pool, () => wrk(appUrl, s.tiles.map(([z, x, y]) => s.path(z, x, y)), s.headers, undefined));
      const fmt = (c: CpuPerTile): string => `${Math.round(c.rps)}/s, Node ${Math.round(c.nodeUs)} µs (GC ${Math.round(c.gcUs)}) + PostgreSQL ${Math.round(c.postgresUs)} µs CPU a tile`;
      console.log(`${s.name}: raw SQL ${fmt(raw)}\n${s.name}: bare route ${fmt(route)}\n${s.name}: API cold, gzip ${fmt(api)}\n${s.name}: API cold, a browser's Accept-Encoding (Brotli) ${fmt(br)}\n${s.name}: API cold without Accept-Encoding (no gzip) ${fmt(identity)}`);

      // In sequence through app.inject (no sockets): Node CPU of a request with and without gzip.
      const injectCpu = async (headers: Record<string, string>): Promise<number> => {
        const c0 = process.cpuUsage();
        const n = 600;
        for (let i = 0; i < n; i++) {
          const [z, x, y] = s.tiles[i % s.tiles.length]!;
          const res = await app.inject({ url: s.path(z, x, y), headers: { ...s.headers, ...headers } });
          if (res.statusCode !== 200) throw new Error(`inject ${res.statusCode}`);
        }
        const d = process.cpuUsage(c0);
        return (d.user + d.system) / n;
      };
      const injected: string[] = [];
      for (let r = 0; r < 2; r++) injected.push(`gzip ${(await injectCpu({ 'accept-encoding': 'gzip' })).toFixed(0)} µs, identity ${(await injectCpu({})).toFixed(0)} µs`);
      console.log(`${s.name}: app.inject in sequence, Node CPU a request: ${injected.join('; ')}`);

      // 3. Node-side pieces, alone.
      const tiles = await Promise.all(compiled.map(async (q) => (await handle.pool.query<{ mvt: Buffer }>(q.sql, q.parameters as unknown[])).rows[0]?.mvt ?? Buffer.alloc(0)));
      const time = (n: number, f: () => void): number => {
        const t0 = process.cpuUsage();
        for (let i = 0; i < n; i++) f();
        const d = process.cpuUsage(t0);
        return (d.user + d.system) / n;
      };
      let k = 0;
      const compileUs = time(2000, () => {
        const [z, x, y] = s.tiles[k++ % s.tiles.length]!;
        s.builder(z, x, y).compile(handle.db);
      });
      const etagUs = time(2000, () => etagFor(tiles[k++ % tiles.length]!));
      const gzipUs = time(500, () => gzipSync(tiles[k++ % tiles.length]!, { level: 1 }));
      const rawBytes = median(tiles.map((t) => t.length));
      const gzBytes = median(tiles.map((t) => gzipSync(t, { level: 1 }).length));
      // kysely's execute against pool.query, one at a time (the difference is Node-side overhead + pool checkout).
      const seqCpu = async (f: (i: number) => Promise<unknown>): Promise<number> => {
        const t0 = process.cpuUsage();
        for (let i = 0; i < 300; i++) await f(i);
        const d = process.cpuUsage(t0);
        return (d.user + d.system) / 300;
      };
      const viaKysely = await seqCpu((i) => { const [z, x, y] = s.tiles[i % s.tiles.length]!; return s.builder(z, x, y).execute(handle.db); });
      const viaPool = await seqCpu((i) => { const q = compiled[i % compiled.length]!; return handle.pool.query(q.sql, q.parameters as unknown[]); });
      console.log(`${s.name}: median tile ${rawBytes} B (gzip level 1: ${gzBytes} B); Node CPU a tile: compile ${compileUs.toFixed(0)} µs, ETag ${etagUs.toFixed(0)} µs, gzip ${gzipUs.toFixed(0)} µs; in sequence, kysely execute ${viaKysely.toFixed(0)} µs against pool.query ${viaPool.toFixed(0)} µs`);
    }
    await app.close();
  });
});
