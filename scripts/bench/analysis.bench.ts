/**
 * `npx tsx scripts/bench/analysis.bench.ts` (or `npm run bench -- analysis`): issue #8's speed targets,
 * each as a ratio against a baseline measured in the same run, in a scratch database
 * `wangge_bench_analysis_<pid>` on the configured server (embedded cluster unless DATABASE_URL),
 * dropped at the end.
 *
 * (a) 1M random points in a ~20 km box around Zhengzhou: hexagon counts (100 m edge) by arithmetic
 *     binning in SQL (`countHexagonsOfTable`: local equirectangular metres, cube rounding, GROUP BY) +
 *     zero-filled lattice + Gi* on the cells (adjacent hexagons by lattice arithmetic, binary) in JS, against a plain
 *     `ST_HexagonGrid` join-and-count on a GiST-indexed, pre-projected (UTM 49N) column — a baseline
 *     favoured by not paying for any projection. Targets: ratio ≤ 0.5 and < 1.5 s.
 * (b) DBSCAN on 100k of those points supplied as GeoJSON (eps 50 m, minpoints 4): the service path
 *     `clusterFeatures` (validation, projection, arrays bound to ST_ClusterDBSCAN, renumbering, hulls,
 *     time spans) against the bare `ST_ClusterDBSCAN(ST_MakePoint(x, y), 50, 4) OVER ()` over the same
 *     supplied coordinates bound as arrays — both pay for sending 100k points. Target: ratio ≤ 1.1.
 *     Also reported: the same bare query with the arrays bound in binary (no decimal text to format
 *     and parse; the service binds them so), and bare ST_ClusterDBSCAN over the stored,
 *     pre-projected column (no transfer).
 * (c) The same 1M points stored as events (the real `events` table with its indexes), spread over the
 *     12 months of 2024, analysed through the stored-events services (what GET /api/v1/analysis/… runs,
 *     without HTTP):
 *     - hex counts + Gi* (`eventHotspots`, unit hex 100 m, adjacent weights, GeoJSON answer built)
 *       against a plain ST_HexagonGrid join-and-count over the same events (hexagons made in UTM 49N,
 *       transformed to lon/lat, joined with the GiST index on events.geom). Targets ≤ 0.5 and < 1.5 s.
 *     - DBSCAN on the ~100k events of 36 days (`eventClusters`: one SQL statement with hulls and time
 *       spans) against the bare `ST_ClusterDBSCAN(…) OVER ()` over the same stored rows with the same
 *       projection arithmetic, returning (id, cluster) per event. Target ≤ 1.1.
 *     - emerging hot spots over 12 monthly slices (`eventEmerging`, hex 250 m and 100 m). Target < 10 s.
 *     - kernel density over the ~415k events of five months (`eventDensity`, radius 500 m, cells of
 *       100 m, GeoJSON answer built) against the bare SQL reading the same events' projected x, y as
 *       rows through pg (what the density read before, without the density). No target; for the record.
 *
 * `ANALYSIS_BENCH=hotspots,dbscan` runs only some parts (hex = (a), dbscan = (b), hotspots, clusters,
 * emerging, density = (c)); `ANALYSIS_BENCH_RUNS=5` changes the number of measured runs (default 3). Load
 * averages at the start and the end go into the output, since this machine is shared.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { PROJECT_ROOT } from '../../server/config';
import type { AnalysisFeature } from '../../server/contracts/analysis';
import type { Database } from '../../server/db/database';
import { fillHexLattice, latticeNeighbours } from '../../server/modules/analysis/aggregation';
import { countCellsOfTable } from '../../server/modules/analysis/analysis-events.repository';
import { clusterFeatures } from '../../server/modules/analysis/analysis.service';
import { eventClusters, eventDensity, eventEmerging, eventHotspots } from '../../server/modules/analysis/analysis-events.service';
import { localProjection } from '../../server/modules/analysis/local-projection';
import type { Principal } from '../../server/auth/principal';
import { getisOrd, spatialWeights } from '../../server/modules/analysis/stats';
import { runCli } from '../cli';
import { withScratchDatabase } from './bench-kit';

const OUT = path.join(PROJECT_ROOT, 'test-output/bench/analysis.json');
const POINTS = 1_000_000;
const DBSCAN_POINTS = 100_000;
const HEX_SIZE = 100; // m, edge length
const EPS = 50; // m
const MIN_POINTS = 4;
const RUNS = Number(process.env.ANALYSIS_BENCH_RUNS ?? 3);
const PARTS = new Set((process.env.ANALYSIS_BENCH ?? 'hex,dbscan,hotspots,clusters,emerging,density').split(',').map((p) => p.trim()));
const want = (part: string): boolean => PARTS.has(part);
const loadAverage = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const CENTRE: [number, number] = [113.65, 34.75];
// ~20 km × 20 km: 0.22° of longitude and 0.18° of latitude at 34.75° N.
const HALF_LNG = 0.11;
const HALF_LAT = 0.09;

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function load(db: Database): Promise<void> {
  await sql`CREATE TABLE bench_points (id int PRIMARY KEY, geom geometry(Point, 4326) NOT NULL, geom_m geometry(Point, 32649) NOT NULL)`.execute(db);
  // Deterministic pseudo-random positions (hash of the id), so every run measures the same data.
  await sql`
    INSERT INTO bench_points (id, geom, geom_m)
    SELECT id, g, ST_Transform(g, 32649)
    FROM (SELECT id, ST_SetSRID(ST_MakePoint(
            ${CENTRE[0] - HALF_LNG}::float8 + ${2 * HALF_LNG}::float8 * ((abs(sin(id * 12.9898) * 43758.5453)) - floor(abs(sin(id * 12.9898) * 43758.5453))),
            ${CENTRE[1] - HALF_LAT}::float8 + ${2 * HALF_LAT}::float8 * ((abs(sin(id * 78.233) * 24634.6345)) - floor(abs(sin(id * 78.233) * 24634.6345)))), 4326) AS g
          FROM generate_series(1, ${POINTS}::int) id) s`.execute(db);
  await sql`CREATE INDEX ON bench_points USING gist (geom_m)`.execute(db);
  await sql`VACUUM ANALYZE bench_points`.execute(db);
}

/** Arithmetic hex counts in SQL + zero-filled lattice + Gi* (adjacent hexagons, binary weights). */
async function hexCountsAndGiStar(db: Database): Promise<{ cells: number; hot: number }> {
  const projection = localProjection(CENTRE);
  const rows = await countCellsOfTable(db, 'bench_points', 'geom', projection, 'hex', HEX_SIZE);
  const cells = fillHexLattice({
    i: Int32Array.from(rows, (r) => r.i),
    j: Int32Array.from(rows, (r) => r.j),
    value: Float64Array.from(rows, (r) => r.count),
  });
  // Adjacent hexagons by lattice index arithmetic, as the service does.
  const w = spatialWeights(latticeNeighbours(cells.i, cells.j, 'hex'), { transform: 'B', includeSelf: true });
  const gi = getisOrd(cells.value, w);
  return { cells: cells.i.length, hot: gi.bin.filter((b) => b > 0).length };
}

async function plainHexJoin(db: Database): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM (
      SELECT h.i, h.j, count(*) AS c
      FROM ST_HexagonGrid(${HEX_SIZE}::float8, (SELECT ST_SetSRID(ST_Extent(geom_m), 32649) FROM bench_points)) h
      JOIN bench_points p ON ST_Intersects(h.geom, p.geom_m)
      GROUP BY h.i, h.j) t`.execute(db);
  return rows[0]!.n;
}

async function bareDbscanOnArrays(db: Database, xs: number[], ys: number[]): Promise<number> {
  const { rows } = await sql<{ cid: number | null }>`
    SELECT ST_ClusterDBSCAN(ST_MakePoint(x, y), eps := ${EPS}::float8, minpoints := ${MIN_POINTS}::int) OVER () AS cid
    FROM unnest(${xs}::float8[], ${ys}::float8[]) AS u(x, y)`.execute(db);
  return new Set(rows.map((r) => r.cid).filter((c) => c !== null)).size;
}

/** A float8[] parameter in PostgreSQL's binary array format (the baseline's own copy, independent of the code measured). */
function binaryFloat8Array(values: readonly number[]): Buffer {
  const bytes = Buffer.allocUnsafe(20 + 12 * values.length);
  [1, 0, 701, values.length, 1].forEach((v, k) => bytes.writeInt32BE(v, 4 * k));
  values.forEach((v, k) => {
    bytes.writeInt32BE(8, 20 + 12 * k);
    bytes.writeDoubleBE(v, 24 + 12 * k);
  });
  return bytes;
}

/** The same bare query with the arrays bound in binary (no decimal text either way): the leanest baseline. */
async function bareDbscanOnBinaryArrays(db: Database, xs: number[], ys: number[]): Promise<number> {
  const { rows } = await sql<{ cid: number | null }>`
    SELECT ST_ClusterDBSCAN(ST_MakePoint(x, y), eps := ${EPS}::float8, minpoints := ${MIN_POINTS}::int) OVER () AS cid
    FROM unnest(${binaryFloat8Array(xs)}::float8[], ${binaryFloat8Array(ys)}::float8[]) AS u(x, y)`.execute(db);
  return new Set(rows.map((r) => r.cid).filter((c) => c !== null)).size;
}

async function bareDbscan(db: Database): Promise<number> {
  const { rows } = await sql<{ cid: number | null }>`
    SELECT ST_ClusterDBSCAN(geom_m, eps := ${EPS}::float8, minpoints := ${MIN_POINTS}::int) OVER () AS cid
    FROM bench_points WHERE id <= ${DBSCAN_POINTS}::int`.execute(db);
  return new Set(rows.map((r) => r.cid).filter((c) => c !== null)).size;
}

const ADMIN: Principal = { kind: 'user', userId: null, username: 'bench', roles: ['admin'], permissions: new Set(), scope: { all: true, prefixes: [] } };
const YEAR_END = '2024-12-31T16:00:00Z'; // 2025-01-01 00:00 Asia/Shanghai
const DBSCAN_FROM = '2024-06-01T00:00:00Z';
const DBSCAN_TO = '2024-07-07T00:00:00Z'; // 36 days ≈ 100k of the 1M events

const DENSITY_FROM = '2024-03-01T00:00:00Z';
const DENSITY_TO = '2024-08-01T00:00:00Z'; // five months ≈ 415k of the 1M events

/** What the density read before: the events' projected x, y as rows through pg (same projection arithmetic as the service). */
async function bareProjectedRows(db: Database, origin: readonly [number, number]): Promise<number> {
  const p = localProjection(origin);
  const { rows } = await sql<{ x: number; y: number }>`
    SELECT (ST_X(e.geom) - ${p.origin[0]}::float8) * ${p.kx}::float8 AS x, (ST_Y(e.geom) - ${p.origin[1]}::float8) * ${p.ky}::float8 AS y
    FROM events e WHERE e.reported_at >= ${DENSITY_FROM}::timestamptz AND e.reported_at < ${DENSITY_TO}::timestamptz`.execute(db);
  return rows.length;
}

/** The bench points as events reported over the 12 months of 2024 (deterministic times). */
async function loadEvents(db: Database): Promise<number> {
  await sql`
    INSERT INTO events (taxonomy_version, category_code, description, channel, occurred_at, reported_at, geom, state, due_at)
    SELECT 1, (ARRAY['dispute.neighbour','dispute.family','environment.garbage','environment.noise','facility.road'])[1 + p.id % 5], '',
           (ARRAY['patrol','hotline','resident','video','assigned'])[1 + (p.id / 7) % 5], t.at, t.at, p.geom, 'reported', t.at + interval '5 days'
    FROM bench_points p
    CROSS JOIN LATERAL (SELECT ${YEAR_END}::timestamptz - interval '366 days' * ((abs(sin(p.id * 3.7191) * 9871.123)) - floor(abs(sin(p.id * 3.7191) * 9871.123))) AS at) t`.execute(db);
  await sql`VACUUM ANALYZE events`.execute(db);
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE reported_at >= ${DBSCAN_FROM}::timestamptz AND reported_at < ${DBSCAN_TO}::timestamptz`.execute(db);
  return rows[0]!.n;
}

async function plainHexJoinEvents(db: Database): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    WITH h AS (
      SELECT h.i, h.j, ST_Transform(h.geom, 4326) AS geom
      FROM ST_HexagonGrid(${HEX_SIZE}::float8, (SELECT ST_Transform(ST_SetSRID(ST_Extent(geom), 4326), 32649) FROM events)) h)
    SELECT count(*)::int AS n FROM (
      SELECT h.i, h.j, count(*) AS c FROM h JOIN events e ON ST_Intersects(h.geom, e.geom) GROUP BY h.i, h.j) t`.execute(db);
  return rows[0]!.n;
}

/**
 * Reads the DBSCAN window's heap pages, so both DBSCAN measurements start from the same cache state
 * (otherwise whichever runs second finds the pages the first one loaded).
 */
async function warmDbscanWindow(db: Database): Promise<void> {
  await sql`SELECT sum(ST_X(geom)) FROM events WHERE reported_at >= ${DBSCAN_FROM}::timestamptz AND reported_at < ${DBSCAN_TO}::timestamptz`.execute(db);
}

/** The bare DBSCAN over the stored rows, same projection arithmetic as the service, every (id, cluster) to the client. */
async function bareDbscanStoredEvents(db: Database): Promise<number> {
  const p = localProjection([Math.round(CENTRE[0] * 100) / 100, Math.round(CENTRE[1] * 100) / 100]);
  const { rows } = await sql<{ id: string; cid: number | null }>`
    SELECT e.id, ST_ClusterDBSCAN(ST_MakePoint((ST_X(e.geom) - ${p.origin[0]}::float8) * ${p.kx}::float8, (ST_Y(e.geom) - ${p.origin[1]}::float8) * ${p.ky}::float8),
                                  eps := ${EPS}::float8, minpoints := ${MIN_POINTS}::int) OVER () AS cid
    FROM events e WHERE e.reported_at >= ${DBSCAN_FROM}::timestamptz AND e.reported_at < ${DBSCAN_TO}::timestamptz`.execute(db);
  return new Set(rows.map((r) => r.cid).filter((c) => c !== null)).size;
}

runCli(async () => {
  const loadAtStart = loadAverage();
  console.log(`parts: ${[...PARTS].join(', ')}; ${RUNS} runs; load average ${loadAtStart}`);
  await withScratchDatabase('analysis', async (handle) => {
    const loadTime = await time(() => load(handle.db));
    console.log(`loaded ${POINTS.toLocaleString('en')} points in ${(loadTime.ms / 1000).toFixed(1)} s`);
    const table: Record<string, Record<string, unknown>> = {};
    const results: Record<string, unknown> = {};
    const runsMs: Record<string, unknown> = {};

    if (want('hex') || want('dbscan')) {
      const { rows: sample } = await sql<{ lng: number; lat: number }>`
        SELECT ST_X(geom) AS lng, ST_Y(geom) AS lat FROM bench_points WHERE id <= ${DBSCAN_POINTS}::int ORDER BY id`.execute(handle.db);
      const projection = localProjection(CENTRE);
      const xs = sample.map((p) => projection.forward(p.lng, p.lat)[0]);
      const ys = sample.map((p) => projection.forward(p.lng, p.lat)[1]);
      const features: AnalysisFeature[] = sample.map((p) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [p.lng, p.lat] }, properties: null }));
      const clusterSupplied = () => clusterFeatures(handle.db, { data: { type: 'FeatureCollection', features }, crs: 'EPSG:4326', eps: EPS, minPoints: MIN_POINTS }, { maxFeatures: DBSCAN_POINTS });

      // Warm-up (plans, caches, JIT of the JS paths), then interleaved runs.
      if (want('hex')) {
        await hexCountsAndGiStar(handle.db);
        await plainHexJoin(handle.db);
      }
      if (want('dbscan')) {
        await clusterSupplied();
        await bareDbscanOnArrays(handle.db, xs, ys);
        await bareDbscanOnBinaryArrays(handle.db, xs, ys);
      }
      const ours: number[] = [];
      const join: number[] = [];
      const dbscanOurs: number[] = [];
      const dbscanBare: number[] = [];
      const dbscanStored: number[] = [];
      const dbscanBinary: number[] = [];
      let hexInfo = { cells: 0, hot: 0 };
      let joinCells = 0;
      let clusters = { ours: 0, bare: 0 };
      for (let run = 0; run < RUNS; run++) {
        if (want('hex')) {
          const a = await time(() => hexCountsAndGiStar(handle.db));
          ours.push(a.ms);
          hexInfo = a.value;
          const b = await time(() => plainHexJoin(handle.db));
          join.push(b.ms);
          joinCells = b.value;
        }
        if (want('dbscan')) {
          const c = await time(clusterSupplied);
          dbscanOurs.push(c.ms);
          const d = await time(() => bareDbscanOnArrays(handle.db, xs, ys));
          dbscanBare.push(d.ms);
          const e = await time(() => bareDbscan(handle.db));
          dbscanStored.push(e.ms);
          const f = await time(() => bareDbscanOnBinaryArrays(handle.db, xs, ys));
          dbscanBinary.push(f.ms);
          clusters = { ours: c.value.clusters.features.length, bare: e.value };
        }
      }
      if (want('hex')) {
        const hex = { oursMs: median(ours), plainJoinMs: median(join), ratio: median(ours) / median(join), targetRatio: 0.5, targetMs: 1500, cells: hexInfo.cells, nonEmptyJoinCells: joinCells, hotCells: hexInfo.hot };
        results.hex = hex;
        runsMs.hex = { ours, join };
        table[`hex counts + Gi*, ${POINTS / 1e6}M points`] = { 'ours ms': Math.round(hex.oursMs), 'baseline ms': Math.round(hex.plainJoinMs), ratio: hex.ratio.toFixed(3), target: '≤ 0.5 and < 1500 ms', met: hex.ratio <= 0.5 && hex.oursMs < 1500 };
        console.log(`hex: ${hex.cells} lattice cells (${hex.nonEmptyJoinCells} non-empty by the join), ${hex.hotCells} hot at 90 %+`);
      }
      if (want('dbscan')) {
        const dbscan = {
          oursMs: median(dbscanOurs),
          bareMs: median(dbscanBare),
          ratio: median(dbscanOurs) / median(dbscanBare),
          targetRatio: 1.1,
          bareBinaryMs: median(dbscanBinary),
          ratioVsBinary: median(dbscanOurs) / median(dbscanBinary),
          bareStoredMs: median(dbscanStored),
          ratioVsStored: median(dbscanOurs) / median(dbscanStored),
          clustersOurs: clusters.ours,
          clustersBare: clusters.bare,
        };
        results.dbscan = dbscan;
        runsMs.dbscan = { ours: dbscanOurs, bare: dbscanBare, bareBinary: dbscanBinary, bareStored: dbscanStored, ratios: dbscanOurs.map((o, k) => o / dbscanBare[k]!) };
        table[`DBSCAN, ${DBSCAN_POINTS / 1e3}k supplied points`] = { 'ours ms': Math.round(dbscan.oursMs), 'baseline ms': Math.round(dbscan.bareMs), ratio: dbscan.ratio.toFixed(3), target: '≤ 1.1', met: dbscan.ratio <= 1.1 };
        table[`(info) vs the bare query, arrays bound in binary`] = { 'ours ms': Math.round(dbscan.oursMs), 'baseline ms': Math.round(dbscan.bareBinaryMs), ratio: dbscan.ratioVsBinary.toFixed(3), target: '—', met: '—' };
        table[`(info) vs bare DBSCAN on the stored table`] = { 'ours ms': Math.round(dbscan.oursMs), 'baseline ms': Math.round(dbscan.bareStoredMs), ratio: dbscan.ratioVsStored.toFixed(3), target: '—', met: '—' };
        console.log(`DBSCAN: ${clusters.ours} clusters (service, local projection) vs ${clusters.bare} (bare SQL, UTM 49N)`);
      }
    }

    // (c) stored events.
    if (want('hotspots') || want('clusters') || want('emerging') || want('density')) {
      const eventsLoad = await time(() => loadEvents(handle.db));
      const dbscanEvents = eventsLoad.value;
      console.log(`stored ${POINTS.toLocaleString('en')} events in ${(eventsLoad.ms / 1000).toFixed(1)} s (${dbscanEvents.toLocaleString('en')} in the DBSCAN window)`);
      const hotspots = () => eventHotspots(handle.db, ADMIN, { unit: 'hex', size: HEX_SIZE });
      const clusterEvents = () => eventClusters(handle.db, ADMIN, { from: DBSCAN_FROM, to: DBSCAN_TO, eps: EPS, minPoints: MIN_POINTS });
      const emerging = (size: number) => () => eventEmerging(handle.db, ADMIN, { unit: 'hex', size, slice: 'month', slices: 12, to: YEAR_END });
      const densityOrigin: [number, number] = [Math.round(CENTRE[0] * 100) / 100, Math.round(CENTRE[1] * 100) / 100];
      const density = () => eventDensity(handle.db, ADMIN, { from: DENSITY_FROM, to: DENSITY_TO, radius: 500, cell: 100, origin: densityOrigin.join(',') });
      if (want('density')) {
        await density();
        await bareProjectedRows(handle.db, densityOrigin);
      }
      if (want('hotspots')) {
        await hotspots();
        await plainHexJoinEvents(handle.db);
      }
      if (want('clusters')) {
        await clusterEvents();
        await bareDbscanStoredEvents(handle.db);
      }
      const stored = { hotspots: [] as number[], join: [] as number[], dbscan: [] as number[], dbscanBare: [] as number[], emerging250: [] as number[], emerging100: [] as number[], density: [] as number[], densityBareRows: [] as number[] };
      const storedInfo: Record<string, unknown> = {};
      for (let run = 0; run < RUNS; run++) {
        if (want('hotspots')) {
          const a = await time(hotspots);
          stored.hotspots.push(a.ms);
          const b = await time(() => plainHexJoinEvents(handle.db));
          stored.join.push(b.ms);
          Object.assign(storedInfo, { cells: a.value.features.length, hot: a.value.features.filter((x) => x.properties.bin > 0).length, joinCells: b.value });
        }
        if (want('clusters')) {
          await warmDbscanWindow(handle.db);
          const c = await time(clusterEvents);
          stored.dbscan.push(c.ms);
          await warmDbscanWindow(handle.db);
          const d = await time(() => bareDbscanStoredEvents(handle.db));
          stored.dbscanBare.push(d.ms);
          Object.assign(storedInfo, { clusters: c.value.features.length, clustersBare: d.value });
        }
        if (want('emerging')) {
          const e = await time(emerging(250));
          stored.emerging250.push(e.ms);
          const f = await time(emerging(100));
          stored.emerging100.push(f.ms);
          const categories: Record<string, number> = {};
          for (const feature of e.value.features) categories[feature.properties.category] = (categories[feature.properties.category] ?? 0) + 1;
          Object.assign(storedInfo, { emergingLocations: e.value.features.length, emergingCategories: categories });
        }
        if (want('density')) {
          const g = await time(density);
          stored.density.push(g.ms);
          const h = await time(() => bareProjectedRows(handle.db, densityOrigin));
          stored.densityBareRows.push(h.ms);
          const answer = g.value.kind === 'geojson' ? g.value.body : null;
          Object.assign(storedInfo, { densityEvents: answer?.summary.events, densityCells: answer?.features.length, densityBareRows: h.value });
        }
      }
      runsMs.stored = stored;
      if (want('hotspots')) {
        const storedHex = { oursMs: median(stored.hotspots), plainJoinMs: median(stored.join), ratio: median(stored.hotspots) / median(stored.join) };
        results.storedHex = storedHex;
        table[`stored events: hex counts + Gi*, 1M`] = { 'ours ms': Math.round(storedHex.oursMs), 'baseline ms': Math.round(storedHex.plainJoinMs), ratio: storedHex.ratio.toFixed(3), target: '≤ 0.5 and < 1500 ms', met: storedHex.ratio <= 0.5 && storedHex.oursMs < 1500 };
      }
      if (want('clusters')) {
        const storedDbscan = { oursMs: median(stored.dbscan), bareMs: median(stored.dbscanBare), ratio: median(stored.dbscan) / median(stored.dbscanBare), events: dbscanEvents };
        results.storedDbscan = storedDbscan;
        table[`stored events: DBSCAN, ${Math.round(dbscanEvents / 1000)}k`] = { 'ours ms': Math.round(storedDbscan.oursMs), 'baseline ms': Math.round(storedDbscan.bareMs), ratio: storedDbscan.ratio.toFixed(3), target: '≤ 1.1', met: storedDbscan.ratio <= 1.1 };
      }
      if (want('emerging')) {
        const storedEmerging = { hex250Ms: median(stored.emerging250), hex100Ms: median(stored.emerging100) };
        results.storedEmerging = storedEmerging;
        table[`stored events: emerging, 12 months, hex 250 m`] = { 'ours ms': Math.round(storedEmerging.hex250Ms), 'baseline ms': '—', ratio: '—', target: '< 10000 ms', met: storedEmerging.hex250Ms < 10_000 };
        table[`stored events: emerging, 12 months, hex 100 m`] = { 'ours ms': Math.round(storedEmerging.hex100Ms), 'baseline ms': '—', ratio: '—', target: '< 10000 ms', met: storedEmerging.hex100Ms < 10_000 };
      }
      if (want('density')) {
        const storedDensity = { oursMs: median(stored.density), bareRowsMs: median(stored.densityBareRows), ratio: median(stored.density) / median(stored.densityBareRows) };
        results.storedDensity = storedDensity;
        table[`stored events: kernel density, 5 months`] = { 'ours ms': Math.round(storedDensity.oursMs), 'baseline ms': Math.round(storedDensity.bareRowsMs), ratio: storedDensity.ratio.toFixed(3), target: '— (baseline: the x, y rows alone)', met: '—' };
      }
      results.storedInfo = storedInfo;
      console.log(`stored events: ${JSON.stringify(storedInfo)}`);
    }
    console.table(table);
    const loadAtEnd = loadAverage();
    console.log(`load average: start ${loadAtStart}, end ${loadAtEnd}`);
    mkdirSync(path.dirname(OUT), { recursive: true });
    writeFileSync(
      OUT,
      JSON.stringify({ date: new Date().toISOString(), machine: { cpus: os.cpus().length, node: process.version }, loadAverage: { start: loadAtStart, end: loadAtEnd }, parts: [...PARTS], points: POINTS, runs: RUNS, ...results, runsMs }, null, 2) + '\n',
    );
    console.log(`results: ${path.relative(PROJECT_ROOT, OUT)}`);
  }, { max: 4 });
});
