/**
 * Vector tiles: requests per second through the API, cold (every request renders) and cached, against
 * the same ST_AsMVT SQL run directly through pg and a bare Fastify route returning a tile-sized constant,
 * all measured in this run with wrk at 50 connections over loopback.
 * Targets (issue #9): cold ≥ 0.8 × raw SQL; cached ≥ 0.6 × the bare route.
 *
 * Data: the demo generator's large district (divisions, roads and ~1,000 grids); tiles are every z15 tile
 * over it.
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
import { generateDemoCity } from '../generate/demo-city';
import { insertDivisions, insertGridsBulk, insertPublishedLayouts, insertRoads } from '../../server/modules/demo/demo.repository';
import { TILE_LAYERS, tileSql } from '../../server/modules/tiles/tile-layers';
import { ensureDebianPackages } from '../../server/test/system-packages';
import { withScratchDatabase, writeResults } from './bench-kit';

const run = promisify(execFile);

const DURATION_S = 6;
const CONNECTIONS = 50;

function tilesCovering(bbox: [number, number, number, number], z: number): Array<[number, number, number]> {
  const n = 2 ** z;
  const tx = (lon: number): number => Math.floor(((lon + 180) / 360) * n);
  const ty = (lat: number): number => {
    const r = (lat * Math.PI) / 180;
    return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
  };
  const out: Array<[number, number, number]> = [];
  for (let x = tx(bbox[0]); x <= tx(bbox[2]); x += 1) for (let y = ty(bbox[3]); y <= ty(bbox[1]); y += 1) out.push([z, x, y]);
  return out;
}

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
async function load(url: string, paths: string[]): Promise<Load> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wangge-wrk-'));
  const script = path.join(dir, 'paths.lua');
  writeFileSync(
    script,
    `local paths = {${paths.map((p) => JSON.stringify(p)).join(',')}}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], { ["Accept-Encoding"] = "gzip" })
end
`,
  );
  const { stdout } = await run('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${DURATION_S}s`, '--latency', '-s', script, url]);
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

runCli(async () => {
  if (!ensureDebianPackages('/usr/bin/wrk', ['wrk'])) throw new Error('wrk is needed: sudo apt-get install -y wrk');
  await withScratchDatabase('tiles', async (handle) => {
    const city = generateDemoCity({ size: 'large' });
    await insertDivisions(handle.db, city.divisions.map((d) => ({ code: d.code, level: d.level, name: d.name, parentCode: d.parentCode, boundary: d.boundary })));
    await insertRoads(handle.db, city.roads.map((r) => ({ code: r.code, name: r.name, kind: r.kind, geom: r.geom })));
    const communities = city.divisions.filter((d) => d.level === 'community').map((d) => d.code);
    const layoutOf = await insertPublishedLayouts(handle.db, communities, '2025-01-01T00:00:00Z');
    await insertGridsBulk(handle.db, city.grids.map((g) => ({ layoutId: layoutOf.get(g.communityCode) ?? 0, code: g.code, name: g.name, kind: g.kind === '专属' ? 'dedicated' : 'general', geom: g.geom })));
    await handle.pool.query('ANALYZE');

    const ext = await handle.pool.query<{ w: number; s: number; e: number; n: number }>('SELECT ST_XMin(x) w, ST_YMin(x) s, ST_XMax(x) e, ST_YMax(x) n FROM (SELECT ST_Extent(geom) x FROM grids) t');
    const b = ext.rows[0];
    if (!b) throw new Error('no grids loaded');
    const tiles = tilesCovering([b.w, b.s, b.e, b.n], 15);
    const paths = tiles.map(([z, x, y]) => `/tiles/grids/${z}/${x}/${y}.mvt`);
    console.log(`${city.grids.length} grids, ${tiles.length} z15 tiles`);

    // Baseline 1: the same SQL straight through pg, 50 concurrent clients looping for the same duration.
    const grids = TILE_LAYERS.grids;
    if (!grids) throw new Error('no grids layer');
    const compiled = tiles.map(([z, x, y]) => tileSql(grids, z, x, y).compile(handle.db));
    let done = 0;
    const deadline = performance.now() + DURATION_S * 1000;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async (_, worker) => {
        let i = worker;
        while (performance.now() < deadline) {
          const q = compiled[i % compiled.length];
          if (q) await handle.pool.query(q.sql, q.parameters as unknown[]);
          done += 1;
          i += CONNECTIONS;
        }
      }),
    );
    const rawRps = done / DURATION_S;

    // Baseline 1b: the same SQL behind a bare Fastify route (no validation, cache or gzip): what HTTP
    // and the load generator cost on this machine before any of the API's own work.
    const sqlRoute = Fastify();
    sqlRoute.get('/tiles/grids/:z/:x/:y.mvt', async (request, reply) => {
      const { z, x, y } = request.params as { z: string; x: string; y: string };
      const q = tileSql(grids, Number(z), Number(x), Number(y)).compile(handle.db);
      const { rows } = await handle.pool.query<{ mvt: Buffer }>(q.sql, q.parameters as unknown[]);
      return reply.type('application/vnd.mapbox-vector-tile').send(rows[0]?.mvt ?? Buffer.alloc(0));
    });
    const sqlRouteUrl = await sqlRoute.listen({ port: 0, host: '127.0.0.1' });
    const sqlRouteLoad = await load(sqlRouteUrl, paths);
    await sqlRoute.close();

    // The API, cold: no notification pool, so the cache never goes live and every request renders.
    const cold = await buildApp({ config: testConfig(), db: handle.db });
    const coldUrl = await cold.listen({ port: 0, host: '127.0.0.1' });
    const coldLoad = await load(coldUrl, paths);
    await cold.close();

    // The API, cached: warmed once, then served from memory.
    const warm = await buildApp({ config: testConfig(), db: handle.db, pool: handle.pool });
    const warmUrl = await warm.listen({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => setTimeout(r, 300));
    for (const p of paths) await fetch(warmUrl + p, { headers: { 'accept-encoding': 'gzip' } });
    const cachedLoad = await load(warmUrl, paths);

    // Baseline 2: a bare Fastify route returning a constant as large as the average gzipped tile.
    let bytes = 0;
    // content-length is the compressed size (fetch itself would transparently gunzip the body).
    for (const p of paths) bytes += Number((await fetch(warmUrl + p, { headers: { 'accept-encoding': 'gzip' } })).headers.get('content-length') ?? 0);
    const sample = Buffer.alloc(Math.round(bytes / paths.length), 7);
    const bare = Fastify();
    bare.get('/tiles/:l/:z/:x/:y', async (_req, reply) => reply.type('application/vnd.mapbox-vector-tile').send(sample));
    await warm.close();
    const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });
    const bareLoad = await load(bareUrl, paths.map((p) => p.replace('.mvt', '')));
    await bare.close();

    const results = {
      grids: city.grids.length,
      tiles: tiles.length,
      rawSqlTilesPerS: Math.round(rawRps),
      bareSqlRoute: { ...sqlRouteLoad, ratioToRawSql: sqlRouteLoad.rps / rawRps },
      cold: { ...coldLoad, ratioToRawSql: coldLoad.rps / rawRps, ratioToBareSqlRoute: coldLoad.rps / sqlRouteLoad.rps, target: 0.8 },
      cached: { ...cachedLoad, ratioToBareRoute: cachedLoad.rps / bareLoad.rps, target: 0.6 },
      bareRoute: { ...bareLoad, bytes: sample.length },
    };
    console.table({
      'raw ST_AsMVT SQL': { 'req/s': Math.round(rawRps), p50: '', p99: '', ratio: '' },
      'bare route + same SQL': { 'req/s': Math.round(sqlRouteLoad.rps), p50: sqlRouteLoad.p50, p99: sqlRouteLoad.p99, ratio: `${results.bareSqlRoute.ratioToRawSql.toFixed(2)} × raw SQL (HTTP cost alone)` },
      'API cold': { 'req/s': Math.round(coldLoad.rps), p50: coldLoad.p50, p99: coldLoad.p99, ratio: `${results.cold.ratioToRawSql.toFixed(2)} × raw SQL (target ≥ 0.8)` },
      'API cached': { 'req/s': Math.round(cachedLoad.rps), p50: cachedLoad.p50, p99: cachedLoad.p99, ratio: `${results.cached.ratioToBareRoute.toFixed(2)} × bare route (target ≥ 0.6)` },
      'bare Fastify route': { 'req/s': Math.round(bareLoad.rps), p50: bareLoad.p50, p99: bareLoad.p99, ratio: '' },
    });
    console.log(`results: ${writeResults('tiles', results)}`);
  });
});
