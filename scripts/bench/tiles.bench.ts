/**
 * Vector tiles: requests per second through the API, cold (every request renders) and cached, against
 * the same ST_AsMVT SQL run directly through pg and a bare Fastify route returning a tile-sized constant,
 * all measured in this run with wrk at 50 connections over loopback.
 * Targets (issue #9): cold ≥ 0.8 × raw SQL; cached ≥ 0.6 × the bare route.
 *
 * Data: the demo generator's large district (divisions, roads and ~1,000 grids) and TILES_BENCH_EVENTS
 * (default 20,000) events spread over it. Tile sets: grids at z15 (public), events at z15 (points) and
 * events at z13 (counts per cell) — event tiles need a bearer token (events:read), so their API figures
 * include authentication (a cached principal); the baselines do not authenticate.
 *
 * Cold figures come in TILES_BENCH_ROUNDS (3) rounds per tile set, each round the raw SQL (unnamed,
 * the target's baseline; then as named statements, a reference), the bare route around it and the API,
 * seconds apart; each ratio is the median of the per-round ratios. The
 * machine is shared (its load can double within a minute), and measurements made minutes apart
 * compared drift as much as what they measure. Cached figures likewise: rounds alternate the API
 * (cache warm) and the bare route. TILES_BENCH_PARTS=cold or =cached runs one half only;
 * TILES_BENCH_SETS=grids,events15,events13 (any of them) chooses the tile sets.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { buildApp } from '../../server/app';
import { testConfig } from '../../server/config';
import { runCli } from '../cli';
import { loadTileBenchData, tilesCovering } from './tile-bench-data';
import { TILE_LAYERS, tileSql } from '../../server/modules/tiles/tile-layers';
import { eventTileSql } from '../../server/modules/tiles/event-tiles';
import { tileStatements } from '../../server/modules/tiles/tile.repository';
import type pg from 'pg';
import { ensureDebianPackages } from '../../server/test/system-packages';
import { median, withScratchDatabase, writeResults } from './bench-kit';

const run = promisify(execFile);

const DURATION_S = Number(process.env.TILES_BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.TILES_BENCH_ROUNDS ?? 3);
const CONNECTIONS = 50;
const EVENTS = Number(process.env.TILES_BENCH_EVENTS ?? 20_000);
/** `cold`, `cached` or both (default): which half of the benchmark to run. */
const PARTS = process.env.TILES_BENCH_PARTS ?? 'cold,cached';
/** Comma-separated tile sets to run (`grids`, `events15`, `events13`); all by default. */
const SETS = (process.env.TILES_BENCH_SETS ?? 'grids,events15,events13').split(',');
/**
 * The two kinds of tile client: a browser over HTTPS or on localhost (what Chromium sends there; the
 * web map's requests get Brotli, web/e2e/smoke) and a client that takes gzip only (GDAL's MVT driver,
 * QGIS on Qt 5, and Chromium itself over plain HTTP to another host).
 */
const BROWSER = { 'Accept-Encoding': 'gzip, deflate, br, zstd' };
const GZIP_ONLY = { 'Accept-Encoding': 'gzip' };


interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/**
 * wrk (C, Debian's package) generates the load: on two cores a JavaScript load generator would eat the
 * CPU PostgreSQL needs and understate every ratio against the raw SQL.
 */
async function load(url: string, paths: string[], headers: Record<string, string> = {}, durationS = DURATION_S): Promise<Load> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wangge-wrk-'));
  const script = path.join(dir, 'paths.lua');
  const fields = Object.entries(headers).map(([k, v]) => `[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join(', ');
  writeFileSync(
    script,
    `local paths = {${paths.map((p) => JSON.stringify(p)).join(',')}}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], { ${fields} })
end
`,
  );
  const { stdout } = await run('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${durationS}s`, '--latency', '-s', script, url]);
  rmSync(dir, { recursive: true, force: true });
  const num = (re: RegExp): number => Number(re.exec(stdout)?.[1] ?? NaN);
  const ms = (re: RegExp): number => {
    const m = re.exec(stdout);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: ms(/ 50%\s+([\d.]+)(us|ms|s)/),
    p99: ms(/ 99%\s+([\d.]+)(us|ms|s)/),
    errors: Number.isNaN(non2xx) ? 0 : non2xx,
  };
}

interface Tileset {
  name: string;
  tiles: Array<[number, number, number]>;
  path: (z: number, x: number, y: number) => string;
  /** The API's SQL for one tile (what the raw baseline runs). */
  query: (z: number, x: number, y: number) => { sql: string; parameters: readonly unknown[] };
  /** Headers the API needs (a bearer token for event tiles). */
  headers: Record<string, string>;
}

/**
 * The raw SQL through pg: 50 concurrent clients looping for the same duration. `named`: as named
 * statements (parsed and planned once per connection, as the API runs them since tile-statements.ts);
 * a second, stronger reference shown beside the target's baseline, which runs the SQL unnamed.
 */
async function rawSql(pool: pg.Pool, ts: Tileset, named = false): Promise<number> {
  const compiled = ts.tiles.map(([z, x, y]) => ts.query(z, x, y)).map((q) => ({ ...q, name: named ? tileStatements.nameOf(q.sql) : undefined }));
  let done = 0;
  const deadline = performance.now() + DURATION_S * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, worker) => {
      let i = worker;
      while (performance.now() < deadline) {
        const q = compiled[i % compiled.length];
        if (q) await (q.name === undefined ? pool.query(q.sql, q.parameters as unknown[]) : pool.query({ text: q.sql, name: q.name, values: q.parameters as unknown[] }));
        done += 1;
        i += CONNECTIONS;
      }
    }),
  );
  return done / DURATION_S;
}

/**
 * The same SQL, as named statements like the API runs it, behind a bare Fastify route (no validation,
 * auth, cache or compression): HTTP's own cost, to set the API against.
 */
async function bareSqlRoute(pool: pg.Pool, ts: Tileset): Promise<{ url: string; close: () => Promise<void> }> {
  const app = Fastify();
  app.get('/t/:z/:x/:y', async (request, reply) => {
    const { z, x, y } = request.params as { z: string; x: string; y: string };
    const q = ts.query(Number(z), Number(x), Number(y));
    const { rows } = await pool.query<{ mvt: Buffer }>({ text: q.sql, name: tileStatements.nameOf(q.sql), values: q.parameters as unknown[] });
    return reply.type('application/vnd.mapbox-vector-tile').send(rows[0]?.mvt ?? Buffer.alloc(0));
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}


runCli(async () => {
  if (!ensureDebianPackages('/usr/bin/wrk', ['wrk'])) throw new Error('wrk is needed: sudo apt-get install -y wrk');
  await withScratchDatabase('tiles', async (handle) => {
    const config = testConfig();
    const data = await loadTileBenchData(handle, config, EVENTS);
    const { bbox, auth } = data;
    const grids = TILE_LAYERS.grids;
    if (!grids) throw new Error('no grids layer');
    const z15 = tilesCovering(bbox, 15);
    const z13 = tilesCovering(bbox, 13);
    const all: Array<Tileset & { id: string }> = [
      { id: 'grids', name: 'grids z15', tiles: z15, path: (z, x, y) => `/tiles/grids/${z}/${x}/${y}.mvt`, query: (z, x, y) => tileSql(grids, z, x, y).compile(handle.db), headers: {} },
      { id: 'events15', name: 'events z15 (points)', tiles: z15, path: (z, x, y) => `/tiles/events/${z}/${x}/${y}.mvt`, query: (z, x, y) => eventTileSql(z, x, y, { scopePrefixes: null }).compile(handle.db), headers: auth },
      { id: 'events13', name: 'events z13 (cells)', tiles: z13, path: (z, x, y) => `/tiles/events/${z}/${x}/${y}.mvt`, query: (z, x, y) => eventTileSql(z, x, y, { scopePrefixes: null }).compile(handle.db), headers: auth },
    ];
    const tilesets: Tileset[] = all.filter((ts) => SETS.includes(ts.id));
    console.log(`${data.grids} grids, ${EVENTS} events; ${z15.length} z15 tiles, ${z13.length} z13 tiles`);

    // The API, cold: no notification pool, so the cache never goes live and every request renders.
    const cold = await buildApp({ config, db: handle.db });
    const coldUrl = await cold.listen({ port: 0, host: '127.0.0.1' });
    interface ColdRound { raw: number; rawNamed: number; route: Load; api: Load; apiGzip: Load }
    const coldRounds = new Map<string, ColdRound[]>();
    for (const ts of PARTS.includes('cold') ? tilesets : []) {
      const one = ts.query(...(ts.tiles[Math.floor(ts.tiles.length / 2)] ?? [0, 0, 0]));
      const t0 = performance.now();
      await handle.pool.query(one.sql, one.parameters as unknown[]);
      console.log(`${ts.name}: one tile alone ${(performance.now() - t0).toFixed(1)} ms`);
      const route = await bareSqlRoute(handle.pool, ts);
      const rounds: ColdRound[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const r = await rawSql(handle.pool, ts);
        const rNamed = await rawSql(handle.pool, ts, true);
        const viaRoute = await load(route.url, ts.tiles.map(([z, x, y]) => `/t/${z}/${x}/${y}`));
        // The two clients in turn, first one then the other: neither always runs on a warmer machine.
        const paths = ts.tiles.map(([z, x, y]) => ts.path(z, x, y));
        const first = await load(coldUrl, paths, { ...ts.headers, ...(i % 2 === 0 ? BROWSER : GZIP_ONLY) });
        const second = await load(coldUrl, paths, { ...ts.headers, ...(i % 2 === 0 ? GZIP_ONLY : BROWSER) });
        const [api, apiGzip] = i % 2 === 0 ? [first, second] : [second, first];
        rounds.push({ raw: r, rawNamed: rNamed, route: viaRoute, api, apiGzip });
        console.log(`${ts.name} round ${i + 1}: raw SQL ${Math.round(r)}/s (named statements ${Math.round(rNamed)}/s), bare route + SQL ${Math.round(viaRoute.rps)}/s (${(viaRoute.rps / r).toFixed(2)}×), API cold ${Math.round(api.rps)}/s (${(api.rps / r).toFixed(2)}×; ${(api.rps / rNamed).toFixed(2)}× the named raw SQL), gzip-only client ${Math.round(apiGzip.rps)}/s (${(apiGzip.rps / r).toFixed(2)}×); load average ${os.loadavg()[0]?.toFixed(1)}`);
      }
      await route.close();
      coldRounds.set(ts.name, rounds);
    }
    await cold.close();

    // The API, cached: warmed once, then served from memory. Against a bare Fastify route returning a
    // constant as large as the average tile as a browser gets it (Brotli); rounds alternate the two, seconds apart, and each
    // ratio is the median of the per-round ratios (as for cold tiles).
    const warm = await buildApp({ config, db: handle.db, pool: handle.pool });
    const warmUrl = await warm.listen({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => setTimeout(r, 300));
    interface CachedRound { api: Load; bare: Load }
    const cachedRounds = new Map<string, CachedRound[]>();
    const tileBytes = new Map<string, number>();
    for (const ts of PARTS.includes('cached') ? tilesets : []) {
      const paths = ts.tiles.map(([z, x, y]) => ts.path(z, x, y));
      let bytes = 0;
      for (const p of paths) {
        const res = await fetch(warmUrl + p, { headers: { ...BROWSER, ...ts.headers } });
        if (res.status !== 200) throw new Error(`${p}: ${res.status}`);
        // content-length is the compressed size (fetch itself would transparently decompress the body).
        bytes += Number(res.headers.get('content-length') ?? 0);
        await res.arrayBuffer();
      }
      tileBytes.set(ts.name, Math.round(bytes / paths.length));
      const sample = Buffer.alloc(tileBytes.get(ts.name) ?? 0, 7);
      const bare = Fastify();
      bare.get('/t/:z/:x/:y', async (_req, reply) => reply.type('application/vnd.mapbox-vector-tile').send(sample));
      const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });
      // Both servers warmed (JIT) before the first round.
      await load(bareUrl, ts.tiles.map(([z, x, y]) => `/t/${z}/${x}/${y}`), {}, 2);
      await load(warmUrl, paths, { ...ts.headers, ...BROWSER }, 2);
      const rounds: CachedRound[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const b = await load(bareUrl, ts.tiles.map(([z, x, y]) => `/t/${z}/${x}/${y}`));
        const api = await load(warmUrl, paths, { ...ts.headers, ...BROWSER });
        rounds.push({ api, bare: b });
        console.log(`${ts.name} cached round ${i + 1}: bare route ${Math.round(b.rps)}/s, API cached ${Math.round(api.rps)}/s (${(api.rps / b.rps).toFixed(2)}×); load average ${os.loadavg()[0]?.toFixed(1)}`);
      }
      await bare.close();
      cachedRounds.set(ts.name, rounds);
    }
    await warm.close();

    const results: Record<string, unknown> = { grids: data.grids, events: EVENTS };
    const table: Record<string, Record<string, string | number>> = {};
    const mid = (rounds: ColdRound[], f: (r: ColdRound) => number): number => median(rounds.map(f));
    for (const ts of tilesets) {
      const rounds = coldRounds.get(ts.name) ?? [];
      const r = mid(rounds, (x) => x.raw);
      const route: Load = { rps: mid(rounds, (x) => x.route.rps), p50: mid(rounds, (x) => x.route.p50), p99: mid(rounds, (x) => x.route.p99), errors: 0 };
      const c: Load = { rps: mid(rounds, (x) => x.api.rps), p50: mid(rounds, (x) => x.api.p50), p99: mid(rounds, (x) => x.api.p99), errors: rounds.reduce((n, x) => n + x.api.errors, 0) };
      const routeRatio = mid(rounds, (x) => x.route.rps / x.raw);
      const coldRatio = mid(rounds, (x) => x.api.rps / x.raw);
      const g: Load = { rps: mid(rounds, (x) => x.apiGzip.rps), p50: mid(rounds, (x) => x.apiGzip.p50), p99: mid(rounds, (x) => x.apiGzip.p99), errors: rounds.reduce((n, x) => n + x.apiGzip.errors, 0) };
      const coldGzipRatio = mid(rounds, (x) => x.apiGzip.rps / x.raw);
      const rNamed = mid(rounds, (x) => x.rawNamed);
      const coldRatioNamed = mid(rounds, (x) => x.api.rps / x.rawNamed);
      const cr = cachedRounds.get(ts.name) ?? [];
      const midLoad = (f: (r: CachedRound) => Load): Load => ({ rps: median(cr.map((x) => f(x).rps)), p50: median(cr.map((x) => f(x).p50)), p99: median(cr.map((x) => f(x).p99)), errors: cr.reduce((n, x) => n + f(x).errors, 0) });
      const k = midLoad((x) => x.api);
      const bare = midLoad((x) => x.bare);
      const cachedRatio = median(cr.map((x) => x.api.rps / x.bare.rps));
      const errors = c.errors + g.errors + k.errors;
      if (errors > 0) throw new Error(`${ts.name}: ${errors} non-2xx answers`);
      results[ts.name] = {
        tiles: ts.tiles.length,
        avgBrotliBytes: tileBytes.get(ts.name),
        rawSqlTilesPerS: Math.round(r),
        rawSqlNamedTilesPerS: Math.round(rNamed),
        ...(rounds.length === 0 ? {} : {
          bareSqlRoute: { ...route, ratioToRawSql: routeRatio },
          cold: { ...c, acceptEncoding: BROWSER['Accept-Encoding'], ratioToRawSql: coldRatio, ratioToRawSqlNamed: coldRatioNamed, ratioToBareSqlRoute: mid(rounds, (x) => x.api.rps / x.route.rps), target: 0.8 },
          coldGzipOnly: { ...g, acceptEncoding: GZIP_ONLY['Accept-Encoding'], ratioToRawSql: coldGzipRatio, ratioToRawSqlNamed: mid(rounds, (x) => x.apiGzip.rps / x.rawNamed), ratioToBareSqlRoute: mid(rounds, (x) => x.apiGzip.rps / x.route.rps), target: 0.8 },
          coldRounds: rounds.map((x) => ({ rawSqlTilesPerS: Math.round(x.raw), rawSqlNamedTilesPerS: Math.round(x.rawNamed), bareSqlRouteRps: Math.round(x.route.rps), apiColdRps: Math.round(x.api.rps), ratioToRawSql: x.api.rps / x.raw, apiColdGzipOnlyRps: Math.round(x.apiGzip.rps), gzipOnlyRatioToRawSql: x.apiGzip.rps / x.raw })),
        }),
        ...(cr.length === 0 ? {} : {
          cached: { ...k, ratioToBareRoute: cachedRatio, target: 0.6 },
          cachedRounds: cr.map((x) => ({ apiRps: Math.round(x.api.rps), bareRouteRps: Math.round(x.bare.rps), ratio: x.api.rps / x.bare.rps })),
          bareRoute: bare,
        }),
      };
      const perRound = rounds.map((x) => (x.api.rps / x.raw).toFixed(2)).join(' / ');
      // A part not run (TILES_BENCH_PARTS) has no rows.
      if (rounds.length > 0) {
        table[`${ts.name}: raw ST_AsMVT SQL`] = { 'req/s': Math.round(r), p50: '', p99: '', ratio: '' };
        table[`${ts.name}: raw SQL, named`] = { 'req/s': Math.round(rNamed), p50: '', p99: '', ratio: `API cold ${coldRatioNamed.toFixed(2)} × this (reference)` };
        table[`${ts.name}: bare route + SQL`] = { 'req/s': Math.round(route.rps), p50: route.p50, p99: route.p99, ratio: `${routeRatio.toFixed(2)} × raw SQL (HTTP cost alone; named statements)` };
        table[`${ts.name}: API cold, browser (br)`] = { 'req/s': Math.round(c.rps), p50: c.p50, p99: c.p99, ratio: `${coldRatio.toFixed(2)} × raw SQL (rounds ${perRound}; target ≥ 0.8); ${mid(rounds, (x) => x.api.rps / x.route.rps).toFixed(2)} × the bare route` };
        table[`${ts.name}: API cold, gzip only`] = { 'req/s': Math.round(g.rps), p50: g.p50, p99: g.p99, ratio: `${coldGzipRatio.toFixed(2)} × raw SQL (rounds ${rounds.map((x) => (x.apiGzip.rps / x.raw).toFixed(2)).join(' / ')}; target ≥ 0.8); ${mid(rounds, (x) => x.apiGzip.rps / x.route.rps).toFixed(2)} × the bare route` };
      }
      if (cr.length > 0) {
        table[`${ts.name}: API cached, browser (br)`] = { 'req/s': Math.round(k.rps), p50: k.p50, p99: k.p99, ratio: `${cachedRatio.toFixed(2)} × bare route (rounds ${cr.map((x) => (x.api.rps / x.bare.rps).toFixed(2)).join(' / ')}; target ≥ 0.6)` };
        table[`${ts.name}: bare route`] = { 'req/s': Math.round(bare.rps), p50: bare.p50, p99: bare.p99, ratio: `${tileBytes.get(ts.name)} B` };
      }
    }
    console.table(table);
    console.log(`results: ${writeResults('tiles', results)}`);
  });
});
