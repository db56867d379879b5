/**
 * `npx tsx scripts/bench/layout-validation.bench.ts` (or `npm run bench -- layout-validation`): the
 * layout topology report on synthetic tilings, in a scratch database `wangge_bench_<pid>` on the
 * configured server (embedded cluster unless DATABASE_URL), dropped at the end.
 *
 * Cases: (a) one community of 500 grids; (b) a district of 300 communities × 35 grids = 10,500 grids,
 * one layout each, validated as one batch and one layout after another. Tilings are jittered lattices
 * whose neighbours share identical vertices, with deliberate overlaps (a buffered cell), gaps (a removed
 * cell) and an outside part (a border cell shifted out), so every code path does real work.
 *
 * Baseline, measured in the same run on the same data: the bare overlap + gap SQL (pairs with their
 * intersection area; boundary minus union, dumped, with areas) sent straight through pg. The ratio says
 * what the full report (neighbours and suggested grid of each gap, outside parts, slivers, multi-part
 * grids, households, GeoJSON, JS assembly) costs on top. Targets: (a) < 1 s, (b) < 15 s.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig, PROJECT_ROOT } from '../../server/config';
import { resolveDatabaseTarget } from '../../server/db/connect';
import { openDatabase, type Database } from '../../server/db/database';
import { quoteIdent } from '../../server/db/local-postgres';
import { ensureExtensions, migrateToLatest } from '../../server/db/migrate';
import type { LayoutValidationReport } from '../../server/contracts/layout-validation';
import { validateLayout, validateLayouts } from '../../server/modules/layouts/layout-validation.service';
import { runCli } from '../cli';

/** Lattice cell, degrees (≈ 91 m × 111 m near 34.7°N). */
const CELL = 0.001;
const RUNS_SMALL = 7;
const RUNS_LARGE = 3;
const OUT = path.join(PROJECT_ROOT, 'test-output/bench/layout-validation.json');

interface Tiling {
  street: string;
  communities: number;
  cols: number;
  rows: number;
  /** Communities per row of the district mosaic. */
  perRow: number;
  x0: number;
  y0: number;
}

const SINGLE: Tiling = { street: '410199002', communities: 1, cols: 25, rows: 20, perRow: 1, x0: 113.4, y0: 34.6 };
const DISTRICT: Tiling = { street: '410199001', communities: 300, cols: 5, rows: 7, perRow: 20, x0: 113.5, y0: 34.6 };

async function createDistrict(db: Database): Promise<void> {
  await sql`INSERT INTO divisions (code, level, name, parent_code) VALUES ('410199', 'district', '基准区', NULL)`.execute(db);
  // A deterministic jitter of lattice vertex (i, j): interior vertices move up to ±30 % of a cell, border
  // vertices stay, so the cells tile the community rectangle exactly. Every cell computes its corners with
  // this same function, so neighbours share bit-identical vertices.
  await sql`
    CREATE FUNCTION bench_vertex(x0 float8, y0 float8, cell float8, i int, j int, cols int, rows int, seed int)
    RETURNS geometry LANGUAGE sql IMMUTABLE AS $$
      SELECT ST_MakePoint(
        x0 + i * cell + CASE WHEN i IN (0, cols) OR j IN (0, rows) THEN 0
          ELSE cell * 0.6 * (abs(sin(i * 12.9898 + j * 78.233 + seed) * 43758.5453)::numeric % 1 - 0.5) END,
        y0 + j * cell + CASE WHEN i IN (0, cols) OR j IN (0, rows) THEN 0
          ELSE cell * 0.6 * (abs(sin(i * 39.3468 + j * 11.135 + seed) * 24634.6345)::numeric % 1 - 0.5) END)
    $$`.execute(db);
}

/** Communities of one street, each with a draft layout tiled by a jittered lattice. Returns layout ids. */
async function createTiling(db: Database, t: Tiling): Promise<number[]> {
  await sql`INSERT INTO divisions (code, level, name, parent_code) VALUES (${t.street}, 'street', '基准街道', '410199')`.execute(db);
  await sql`
    INSERT INTO divisions (code, level, name, parent_code, geom)
    SELECT ${t.street} || lpad(c::text, 3, '0'), 'community', '基准社区' || c, ${t.street},
           ST_Multi(ST_MakeEnvelope(x, y, x + ${t.cols}::int * ${CELL}::float8, y + ${t.rows}::int * ${CELL}::float8, 4326))
    FROM generate_series(1, ${t.communities}::int) c
    CROSS JOIN LATERAL (SELECT ${t.x0}::float8 + ((c - 1) % ${t.perRow}::int) * ${t.cols}::int * ${CELL}::float8 AS x,
                               ${t.y0}::float8 + ((c - 1) / ${t.perRow}::int) * ${t.rows}::int * ${CELL}::float8 AS y) o`.execute(db);
  const { rows: layouts } = await sql<{ id: number }>`
    INSERT INTO layouts (community_code, name)
    SELECT code, 'bench' FROM divisions WHERE parent_code = ${t.street} ORDER BY code
    RETURNING id`.execute(db);
  const ids = layouts.map((l) => l.id);
  await sql`
    INSERT INTO grids (layout_id, geom)
    SELECT l.id, ST_SetSRID(ST_MakePolygon(ST_MakeLine(ARRAY[
             bench_vertex(x0, y0, ${CELL}, i, j, ${t.cols}, ${t.rows}, l.id),
             bench_vertex(x0, y0, ${CELL}, i + 1, j, ${t.cols}, ${t.rows}, l.id),
             bench_vertex(x0, y0, ${CELL}, i + 1, j + 1, ${t.cols}, ${t.rows}, l.id),
             bench_vertex(x0, y0, ${CELL}, i, j + 1, ${t.cols}, ${t.rows}, l.id),
             bench_vertex(x0, y0, ${CELL}, i, j, ${t.cols}, ${t.rows}, l.id)])), 4326)
    FROM layouts l
    JOIN divisions d ON d.code = l.community_code
    CROSS JOIN LATERAL (SELECT ST_XMin(d.geom) AS x0, ST_YMin(d.geom) AS y0) o
    CROSS JOIN generate_series(0, ${t.cols}::int - 1) i
    CROSS JOIN generate_series(0, ${t.rows}::int - 1) j
    WHERE l.id = ANY(${ids}::int[])
    ORDER BY l.id, j, i`.execute(db);
  return ids;
}

/**
 * Deliberate problems: in every `every`-th layout one interior cell grows by 5 % of a cell (overlaps
 * with its neighbours) and another is removed (a gap); in the first layout a border cell is shifted west
 * by 20 % of a cell (a part outside the boundary, plus a gap behind it).
 */
async function addProblems(db: Database, layoutIds: number[], every: number): Promise<void> {
  const chosen = layoutIds.filter((_, k) => k % every === 0);
  // Grid ids were inserted in (j, i) order per layout: the k-th grid of a layout is a known lattice cell.
  await sql`
    WITH ranked AS (SELECT id, layout_id, row_number() OVER (PARTITION BY layout_id ORDER BY id) AS k FROM grids WHERE layout_id = ANY(${chosen}::int[]))
    UPDATE grids g SET geom = ST_Buffer(g.geom, ${CELL * 0.05}::float8, 'join=mitre')
    FROM ranked r WHERE r.id = g.id AND r.k = 7`.execute(db);
  await sql`
    WITH ranked AS (SELECT id, layout_id, row_number() OVER (PARTITION BY layout_id ORDER BY id) AS k FROM grids WHERE layout_id = ANY(${chosen}::int[]))
    DELETE FROM grids g USING ranked r WHERE r.id = g.id AND r.k = 14`.execute(db);
  const first = layoutIds[0];
  if (first !== undefined) {
    await sql`
      UPDATE grids SET geom = ST_Translate(geom, ${-CELL * 0.2}::float8, 0)
      WHERE id = (SELECT min(id) FROM grids WHERE layout_id = ${first}::int)`.execute(db);
  }
}

/** The bare overlap + gap statement, the baseline: no neighbours, GeoJSON or other checks. */
const BASELINE_SQL = `
  WITH overlap AS (
    SELECT a.layout_id, a.id AS a_id, b.id AS b_id, ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS area_m2
    FROM grids a JOIN grids b ON b.layout_id = a.layout_id AND a.id < b.id AND a.geom && b.geom
    WHERE a.layout_id = ANY($1::int[]) AND ST_Relate(a.geom, b.geom, '2********')
  ),
  covered AS (SELECT layout_id, ST_Union(geom) AS geom FROM grids WHERE layout_id = ANY($1::int[]) GROUP BY layout_id),
  gap AS (
    SELECT l.id AS layout_id, ST_Area(p.geom::geography) AS area_m2
    FROM layouts l JOIN divisions d ON d.code = l.community_code JOIN covered c ON c.layout_id = l.id
    CROSS JOIN LATERAL ST_Dump(ST_Difference(d.geom, c.geom)) p
    WHERE l.id = ANY($1::int[])
  )
  SELECT 'overlap' AS kind, layout_id, area_m2 FROM overlap WHERE area_m2 > 1
  UNION ALL
  SELECT 'gap', layout_id, area_m2 FROM gap WHERE area_m2 > 1`;

async function timeRuns<T>(runs: number, fn: () => Promise<T>): Promise<{ medianMs: number; allMs: number[]; last: T }> {
  await fn(); // warm-up: plan caches, shared buffers, the TS module graph
  const allMs: number[] = [];
  let last: T | undefined;
  for (let k = 0; k < runs; k += 1) {
    const t0 = performance.now();
    last = await fn();
    allMs.push(Math.round((performance.now() - t0) * 10) / 10);
  }
  const sorted = [...allMs].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)] ?? 0, allMs, last: last as T };
}

interface CaseResult {
  case: string;
  layouts: number;
  grids: number;
  runs: number;
  medianMs: number;
  allMs: number[];
  baselineMs: number;
  /** The same baseline with PostgreSQL's default jit = on. */
  baselineJitOnMs: number;
  ratio: number;
  targetMs: number;
  withinTarget: boolean;
  found: { overlaps: number; gaps: number; outside: number; slivers: number; multipart: number; publishable: number };
}

function tally(reports: LayoutValidationReport[]): CaseResult['found'] {
  const sum = (f: (r: LayoutValidationReport) => number): number => reports.reduce((s, r) => s + f(r), 0);
  return {
    overlaps: sum((r) => r.summary.overlaps),
    gaps: sum((r) => r.summary.gaps ?? 0),
    outside: sum((r) => r.summary.outside),
    slivers: sum((r) => r.summary.slivers),
    multipart: sum((r) => r.summary.multipart),
    publishable: sum((r) => (r.summary.publishable ? 1 : 0)),
  };
}

runCli(async () => {
  const config = loadConfig();
  const target = await resolveDatabaseTarget(config);
  const name = `wangge_bench_${process.pid}`;
  const admin = new URL(target.url);
  admin.pathname = '/postgres';
  const url = new URL(target.url);
  url.pathname = `/${name}`;

  const adminClient = new pg.Client({ connectionString: admin.toString() });
  await adminClient.connect();
  await adminClient.query(`CREATE DATABASE ${quoteIdent(name)}`);
  const handle = openDatabase(url.toString(), { max: 4, applicationName: 'wangge-bench' });
  const raw = new pg.Client({ connectionString: url.toString() });
  try {
    await ensureExtensions(url.toString());
    await migrateToLatest(handle.db);
    const db = handle.db;
    await raw.connect();

    console.log('generating synthetic tilings …');
    const g0 = performance.now();
    await createDistrict(db);
    const single = await createTiling(db, SINGLE);
    await addProblems(db, single, 1);
    const district = await createTiling(db, DISTRICT);
    await addProblems(db, district, 10);
    await sql`ANALYZE`.execute(db);
    const gridCount = async (ids: number[]): Promise<number> =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM grids WHERE layout_id = ANY(${ids}::int[])`.execute(db)).rows[0]?.n ?? 0;
    const singleGrids = await gridCount(single);
    const districtGrids = await gridCount(district);
    console.log(`  ${singleGrids} + ${districtGrids} grids in ${Math.round(performance.now() - g0)} ms`);

    // The report turns JIT off for its statements (see withJitOff); the baseline does too, so the ratio
    // compares work, not LLVM compile time. The JIT-on baseline is recorded to show why.
    const baseline = async (ids: number[], jit: 'on' | 'off' = 'off'): Promise<number> => {
      await raw.query(`SET jit = ${jit}`);
      return (await raw.query(BASELINE_SQL, [ids])).rowCount ?? 0;
    };
    const results: CaseResult[] = [];
    const record = async (label: string, ids: number[], grids: number, runs: number, targetMs: number, fn: () => Promise<LayoutValidationReport[]>): Promise<void> => {
      const base = await timeRuns(runs, () => baseline(ids));
      const baseJit = await timeRuns(runs, () => baseline(ids, 'on'));
      const ours = await timeRuns(runs, fn);
      results.push({
        case: label,
        layouts: ids.length,
        grids,
        runs,
        medianMs: ours.medianMs,
        allMs: ours.allMs,
        baselineMs: base.medianMs,
        baselineJitOnMs: baseJit.medianMs,
        ratio: Math.round((ours.medianMs / Math.max(base.medianMs, 0.1)) * 100) / 100,
        targetMs,
        withinTarget: ours.medianMs < targetMs,
        found: tally(ours.last),
      });
    };

    const singleId = single[0] ?? 0;
    await record('(a) one community, validateLayout', single, singleGrids, RUNS_SMALL, 1_000, async () => [await validateLayout(db, singleId)]);
    await record('(b) district, validateLayouts (one batch)', district, districtGrids, RUNS_LARGE, 15_000, () => validateLayouts(db, district));
    await record('(b) district, validateLayout one by one', district, districtGrids, RUNS_LARGE, 15_000, async () => {
      const out: LayoutValidationReport[] = [];
      for (const id of district) out.push(await validateLayout(db, id));
      return out;
    });

    console.log('\ncase                                         layouts  grids  median ms  baseline ms  ratio  target ms  ok   (baseline with jit=on)');
    for (const r of results) {
      console.log(
        `${r.case.padEnd(44)} ${String(r.layouts).padStart(7)} ${String(r.grids).padStart(6)} ${r.medianMs.toFixed(1).padStart(10)} ${r.baselineMs
          .toFixed(1)
          .padStart(12)} ${r.ratio.toFixed(2).padStart(6)} ${String(r.targetMs).padStart(10)}  ${r.withinTarget ? 'yes' : 'NO '}  (${r.baselineJitOnMs.toFixed(1)})`,
      );
    }
    console.log('\nproblems found (last run):');
    for (const r of results) console.log(`  ${r.case}: ${JSON.stringify(r.found)}`);

    mkdirSync(path.dirname(OUT), { recursive: true });
    const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, database: target.kind };
    writeFileSync(OUT, `${JSON.stringify({ benchmark: 'layout-validation', at: new Date().toISOString(), machine, results }, null, 2)}\n`);
    console.log(`\nwritten to ${path.relative(PROJECT_ROOT, OUT)}`);
  } finally {
    await raw.end().catch(() => undefined);
    await handle.close();
    await adminClient.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await adminClient.end();
    if (target.local?.startedHere) await target.local.stop();
  }
});
