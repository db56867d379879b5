/**
 * SQL of the analysis endpoints over stored events. Events are filtered with the events module's own
 * `eventWhere` (same filters, same scope rule as the listing), then aggregated inside PostgreSQL: to
 * lattice cells by arithmetic on projected coordinates (no spatial join), to grids by the grid each
 * event was routed to, to (cell, time slice) for emerging hot spots, and clustered by
 * ST_ClusterDBSCAN with hulls and time spans in the same statement. Only aggregates leave the database
 * (density and points read coordinates, capped).
 */
import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../../db/database';
import { float8Array } from '../../db/pg-binary';
import { eventWhere, type EventFilter } from '../events/event.repository';
import type { LocalProjection } from './local-projection';

export type LatticeShape = 'hex' | 'square';

/** Cells are grouped by one float8 key i · 2^20 + j (|j| < 2^19); `decodeCellKey` splits it. */
const KEY_BASE = 1_048_576;

export function decodeCellKey(key: number): { i: number; j: number } {
  const i = Math.round(key / KEY_BASE);
  return { i, j: key - i * KEY_BASE };
}

/**
 * A derived table `m` of planar x, y (metres) of a lon/lat point expression, through the same local
 * equirectangular formula as `localProjection`, plus `extra` columns. OFFSET 0 keeps it a subquery
 * scan: without it PostgreSQL inlines x and y into every use in the cell key (a dozen ST_X/ST_Y calls
 * per row), and as a LATERAL subquery it costs a nested-loop rescan per row; this form measured 3×
 * faster on 1M events than either.
 */
function projectedTable(point: RawBuilder<unknown>, from: RawBuilder<unknown>, where: RawBuilder<unknown>, projection: LocalProjection, extra: RawBuilder<unknown> = sql``): RawBuilder<unknown> {
  const [lng0, lat0] = projection.origin;
  return sql`(
      SELECT (ST_X(${point}) - ${lng0}::float8) * ${projection.kx}::float8 AS x,
             (ST_Y(${point}) - ${lat0}::float8) * ${projection.ky}::float8 AS y ${extra}
      FROM ${from} WHERE ${where} OFFSET 0) m`;
}

/**
 * `CROSS JOIN LATERAL … k` giving `k.key` of the cell containing (m.x, m.y): squares by floor (as
 * ST_SquareGrid), hexagons on the lattice of `hexCell` / ST_HexagonGrid as the nearer of the nearest
 * even-column centre (3s·m, √3s·n) and the nearest odd-column centre (3s·m + 1.5s, √3s·n + √3s/2),
 * which is cheaper than cube rounding in SQL. Squares are products, not `^ 2` (pow(), which need not
 * round exactly as a product does): `binLonLat` does the same operations in JS and must agree
 * bit for bit, ties on an edge included.
 */
function cellKeyLateral(shape: LatticeShape, size: number): RawBuilder<unknown> {
  if (shape === 'square') {
    return sql`CROSS JOIN LATERAL (SELECT floor(m.x / ${size}::float8) * ${KEY_BASE}::float8 + floor(m.y / ${size}::float8) AS key) k`;
  }
  const colW = 3 * size;
  const rowH = Math.sqrt(3) * size;
  return sql`CROSS JOIN LATERAL (
      SELECT floor(m.x / ${colW}::float8 + 0.5) AS ax, floor(m.y / ${rowH}::float8 + 0.5) AS ay,
             floor((m.x - ${colW / 2}::float8) / ${colW}::float8 + 0.5) AS bx, floor((m.y - ${rowH / 2}::float8) / ${rowH}::float8 + 0.5) AS by
    ) c
    CROSS JOIN LATERAL (
      SELECT CASE WHEN d.ax * d.ax + d.ay * d.ay <= d.bx * d.bx + d.by * d.by
                  THEN (2 * c.ax) * ${KEY_BASE}::float8 + c.ay
                  ELSE (2 * c.bx + 1) * ${KEY_BASE}::float8 + c.by END AS key
      FROM (SELECT m.x - ${colW}::float8 * c.ax AS ax, m.y - ${rowH}::float8 * c.ay AS ay,
                   m.x - ${colW}::float8 * c.bx - ${colW / 2}::float8 AS bx, m.y - ${rowH}::float8 * c.by - ${rowH / 2}::float8 AS by) d
    ) k`;
}

export interface CellCount {
  i: number;
  j: number;
  count: number;
}

function decodeRows(rows: { key: number; count: number }[]): CellCount[] {
  return rows.map((r) => ({ ...decodeCellKey(r.key), count: r.count }));
}

/**
 * Points of a table per lattice cell, by arithmetic binning in SQL. `table` and `column` must be
 * trusted identifiers (callers are code, never requests). Used by the benchmark on a bare table.
 */
export async function countCellsOfTable(db: Database, table: string, column: string, projection: LocalProjection, shape: LatticeShape, size: number): Promise<CellCount[]> {
  const { rows } = await sql<{ key: number; count: number }>`
    SELECT k.key, count(*)::int AS count
    FROM ${projectedTable(sql`p.${sql.ref(column)}`, sql`${sql.table(table)} p`, sql`true`, projection)} ${cellKeyLateral(shape, size)}
    GROUP BY k.key`.execute(db);
  return decodeRows(rows);
}

/** Stored events matching `filter`, per lattice cell (only non-empty cells). */
export async function countEventCells(db: Database, filter: EventFilter, projection: LocalProjection, shape: LatticeShape, size: number): Promise<CellCount[]> {
  const { rows } = await sql<{ key: number; count: number }>`
    SELECT k.key, count(*)::int AS count
    FROM ${projectedTable(sql`e.geom`, sql`events e`, eventWhere(filter), projection)} ${cellKeyLateral(shape, size)}
    GROUP BY k.key`.execute(db);
  return decodeRows(rows);
}

/**
 * Lon/lat of the stored events matching `filter`, or null when more than `limit` match. The
 * coordinates leave PostgreSQL as one row: two runs of big-endian float8 (`float8send`, one
 * `string_agg` each) sent base64-encoded (16 bytes of data per event, 21 on the wire; hex bytea
 * would be 32 and cost the client 1.5× the decoding time), so the binning can happen in JS
 * (`binLonLat`). At a million events this read costs about 0.3 s of PostgreSQL CPU and 0.15 s of
 * ours, where binning and grouping in SQL cost 0.75–0.85 s of PostgreSQL CPU (its per-row expression
 * evaluation and HashAggregate, not reading the rows).
 */
export async function eventLonLat(db: Database, filter: EventFilter, limit: number): Promise<{ lng: Float64Array; lat: Float64Array } | null> {
  const { rows } = await sql<{ n: number; x: string | null; y: string | null }>`
    SELECT count(*)::int AS n, encode(string_agg(float8send(ST_X(s.geom)), ''::bytea), 'base64') AS x,
           encode(string_agg(float8send(ST_Y(s.geom)), ''::bytea), 'base64') AS y
    FROM (SELECT e.geom FROM events e WHERE ${eventWhere(filter)} LIMIT ${limit + 1}) s`.execute(db);
  const row = rows[0]!;
  if (row.n > limit) return null;
  return { lng: float8Array(row.x, row.n), lat: float8Array(row.y, row.n) };
}

/** Stored events per (lattice cell, time slice); slice s (0-based) is [bounds[s], bounds[s + 1]). */
export async function countEventCellSlices(db: Database, filter: EventFilter, projection: LocalProjection, shape: LatticeShape, size: number, bounds: Date[]): Promise<(CellCount & { slice: number })[]> {
  const iso = bounds.map((b) => b.toISOString());
  const { rows } = await sql<{ key: number; slice: number; count: number }>`
    SELECT k.key, width_bucket(m.at, ${iso}::timestamptz[]) - 1 AS slice, count(*)::int AS count
    FROM ${projectedTable(
      sql`e.geom`,
      sql`events e`,
      sql`${eventWhere(filter)} AND e.reported_at >= ${iso[0]}::timestamptz AND e.reported_at < ${iso[iso.length - 1]}::timestamptz`,
      projection,
      sql`, e.reported_at AS at`,
    )} ${cellKeyLateral(shape, size)}
    GROUP BY 1, 2`.execute(db);
  return rows.map((r) => ({ ...decodeCellKey(r.key), slice: r.slice, count: r.count }));
}

/** Stored events matching `filter` per routed grid code (null: routed to no grid). */
export async function countEventsByGrid(db: Database, filter: EventFilter): Promise<{ code: string | null; count: number }[]> {
  const { rows } = await sql<{ code: string | null; count: number }>`
    SELECT e.grid_code AS code, count(*)::int AS count FROM events e WHERE ${eventWhere(filter)} GROUP BY 1`.execute(db);
  return rows;
}

/** Stored events per (grid code, time slice); see `countEventCellSlices`. */
export async function countEventsByGridSlice(db: Database, filter: EventFilter, bounds: Date[]): Promise<{ code: string | null; slice: number; count: number }[]> {
  const iso = bounds.map((b) => b.toISOString());
  const { rows } = await sql<{ code: string | null; slice: number; count: number }>`
    SELECT e.grid_code AS code, width_bucket(e.reported_at, ${iso}::timestamptz[]) - 1 AS slice, count(*)::int AS count
    FROM events e
    WHERE ${eventWhere(filter)} AND e.reported_at >= ${iso[0]}::timestamptz AND e.reported_at < ${iso[iso.length - 1]}::timestamptz
    GROUP BY 1, 2`.execute(db);
  return rows;
}

export interface GridUnit {
  code: string;
  name: string;
  geometry: { type: 'Polygon' | 'MultiPolygon'; coordinates: unknown };
  /** A point inside the grid (ST_PointOnSurface), lon/lat. */
  lng: number;
  lat: number;
}

/** The grids in force (of published layouts), optionally in one community, a bbox and the caller's scope. */
export async function listGridsInForce(db: Database, f: { community?: string; bbox?: [number, number, number, number]; scopePrefixes: string[] | null }): Promise<GridUnit[]> {
  const where: RawBuilder<unknown>[] = [sql`l.status = 'published'`, sql`g.code IS NOT NULL`];
  if (f.community) where.push(sql`l.community_code = ${f.community}`);
  if (f.bbox) where.push(sql`g.geom && ST_MakeEnvelope(${f.bbox[0]}, ${f.bbox[1]}, ${f.bbox[2]}, ${f.bbox[3]}, 4326)`);
  if (f.scopePrefixes) {
    if (f.scopePrefixes.length === 0) where.push(sql`false`);
    else where.push(sql`(${sql.join(f.scopePrefixes.map((p) => sql`starts_with(g.code, ${p})`), sql` OR `)})`);
  }
  const { rows } = await sql<GridUnit>`
    SELECT g.code, g.name, ST_AsGeoJSON(g.geom, 7)::json AS geometry, ST_X(s.p) AS lng, ST_Y(s.p) AS lat
    FROM grids g JOIN layouts l ON l.id = g.layout_id CROSS JOIN LATERAL (SELECT ST_PointOnSurface(g.geom) AS p) s
    WHERE ${sql.join(where, sql` AND `)}
    ORDER BY g.code`.execute(db);
  return rows;
}

export type PopulationKind = 'residents' | 'households';

/**
 * Present residents / current households per grid code. Must run inside `withScope` (the registry
 * tables force Row Level Security); only counts leave this function.
 */
export async function populationByGrid(db: Database, kind: PopulationKind, codes: string[]): Promise<Map<string, number>> {
  const { rows } =
    kind === 'residents'
      ? await sql<{ code: string; n: number }>`
          SELECT r.grid_code AS code, count(*)::int AS n FROM residents r
          WHERE r.deleted_at IS NULL AND r.status = 'present' AND r.grid_code = ANY(${codes}::text[]) GROUP BY 1`.execute(db)
      : await sql<{ code: string; n: number }>`
          SELECT h.grid_code AS code, count(*)::int AS n FROM households h
          WHERE h.deleted_at IS NULL AND h.grid_code = ANY(${codes}::text[]) GROUP BY 1`.execute(db);
  return new Map(rows.map((r) => [r.code, r.n]));
}

/**
 * Present residents / current households per lattice cell, located by their building (a point on its
 * surface). Must run inside `withScope`; only counts leave this function.
 */
export async function populationByCell(db: Database, kind: PopulationKind, projection: LocalProjection, shape: LatticeShape, size: number): Promise<Map<string, number>> {
  const located =
    kind === 'residents'
      ? sql`residents r JOIN households h ON h.id = r.household_id AND h.deleted_at IS NULL
            JOIN buildings b ON b.id = h.building_id AND b.deleted_at IS NULL
            CROSS JOIN LATERAL (SELECT ST_PointOnSurface(b.geom) AS p) s`
      : sql`households h JOIN buildings b ON b.id = h.building_id AND b.deleted_at IS NULL
            CROSS JOIN LATERAL (SELECT ST_PointOnSurface(b.geom) AS p) s`;
  const alive = kind === 'residents' ? sql`r.deleted_at IS NULL AND r.status = 'present'` : sql`h.deleted_at IS NULL`;
  const { rows } = await sql<{ key: number; count: number }>`
    SELECT k.key, count(*)::int AS count
    FROM ${projectedTable(sql`s.p`, located, alive, projection)} ${cellKeyLateral(shape, size)}
    GROUP BY k.key`.execute(db);
  return new Map(decodeRows(rows).map((c) => [`${c.i},${c.j}`, c.count]));
}

/** Bounding box of all stored events (planner estimate when statistics exist), for a stable lattice origin. */
export async function storedEventsExtent(db: Database): Promise<[number, number, number, number] | null> {
  let box: { xmin: number | null; ymin: number; xmax: number; ymax: number } | undefined;
  try {
    // ST_EstimatedExtent reads the planner's statistics: no scan of a million rows per request.
    const { rows } = await sql<{ xmin: number | null; ymin: number; xmax: number; ymax: number }>`
      SELECT ST_XMin(b) AS xmin, ST_YMin(b) AS ymin, ST_XMax(b) AS xmax, ST_YMax(b) AS ymax
      FROM (SELECT ST_EstimatedExtent('events', 'geom') AS b) s`.execute(db);
    box = rows[0];
  } catch {
    box = undefined;
  }
  if (!box || box.xmin === null) {
    const { rows } = await sql<{ xmin: number | null; ymin: number; xmax: number; ymax: number }>`
      SELECT ST_XMin(b) AS xmin, ST_YMin(b) AS ymin, ST_XMax(b) AS xmax, ST_YMax(b) AS ymax FROM (SELECT ST_Extent(geom) AS b FROM events) s`.execute(db);
    box = rows[0];
  }
  if (!box || box.xmin === null) return null;
  return [box.xmin, box.ymin, box.xmax, box.ymax];
}

/**
 * Planar x, y (metres, interleaved) of the events matching `filter`, or null when more than `limit`
 * match. Read as two binary runs (eventLonLat) and projected here with the arithmetic of
 * `projectedTable`, instead of one JavaScript object per event.
 */
export async function projectedEventPoints(db: Database, filter: EventFilter, projection: LocalProjection, limit: number): Promise<Float64Array | null> {
  const lonLat = await eventLonLat(db, filter, limit);
  if (!lonLat) return null;
  const { lng, lat } = lonLat;
  const [lng0, lat0] = projection.origin;
  const { kx, ky } = projection;
  const xy = new Float64Array(lng.length * 2);
  for (let k = 0; k < lng.length; k++) {
    xy[2 * k] = (lng[k]! - lng0) * kx;
    xy[2 * k + 1] = (lat[k]! - lat0) * ky;
  }
  return xy;
}

export interface EventPoint {
  id: number;
  category: string;
  state: string;
  reportedAt: Date;
  lng: number;
  lat: number;
}

/** Events as bare points, newest first: no description, address or reporter, ever. */
export async function listEventPoints(db: Database, filter: EventFilter, limit: number): Promise<EventPoint[]> {
  const { rows } = await sql<EventPoint>`
    SELECT e.id::int AS id, e.category_code AS category, e.state, e.reported_at AS "reportedAt",
           round(ST_X(e.geom)::numeric, 7)::float8 AS lng, round(ST_Y(e.geom)::numeric, 7)::float8 AS lat
    FROM events e WHERE ${eventWhere(filter)} ORDER BY e.id DESC LIMIT ${limit}`.execute(db);
  return rows;
}

export interface EventClusterRow {
  /** PostGIS cluster number; null for the noise row. */
  cid: number | null;
  count: number;
  firstId: number;
  first: Date;
  last: Date;
  hull: { type: string; coordinates: unknown } | null;
}

/**
 * DBSCAN over the stored events in ONE statement: ST_ClusterDBSCAN on the projected points (metres),
 * then per cluster its count, time span, smallest event id (for a stable numbering) and convex hull
 * (ST_ConvexHull of the lon/lat points: the projection is affine in lon/lat, so this is exactly the
 * hull in metres mapped back). Only one row per cluster (and one noise row) leaves the database.
 * Reads at most `limit` events; the caller checks the total.
 */
export async function clusterStoredEvents(db: Database, filter: EventFilter, projection: LocalProjection, eps: number, minPoints: number, limit: number): Promise<EventClusterRow[]> {
  const [lng0, lat0] = projection.origin;
  // JIT off: the window function's cost estimate triggers LLVM inlining and optimisation, which took
  // 140–250 ms per call on 100k events and bought nothing (the work is inside PostGIS).
  return db.transaction().execute(async (trx) => {
    await sql`SET LOCAL jit = off`.execute(trx);
    const { rows } = await sql<EventClusterRow>`
    WITH c AS (
      SELECT p.id, p.geom, p.reported_at,
             ST_ClusterDBSCAN(ST_MakePoint((ST_X(p.geom) - ${lng0}::float8) * ${projection.kx}::float8, (ST_Y(p.geom) - ${lat0}::float8) * ${projection.ky}::float8),
                              eps := ${eps}::float8, minpoints := ${minPoints}::int) OVER () AS cid
      FROM (SELECT e.id, e.geom, e.reported_at FROM events e WHERE ${eventWhere(filter)} LIMIT ${limit}) p
    )
    SELECT cid, count(*)::int AS count, min(id)::float8 AS "firstId", min(reported_at) AS first, max(reported_at) AS last,
           ST_AsGeoJSON(ST_ConvexHull(ST_Collect(geom) FILTER (WHERE cid IS NOT NULL)), 7)::json AS hull
    FROM c GROUP BY cid`.execute(trx);
    return rows;
  });
}

/** Slice boundaries: `count` calendar months / ISO weeks (Asia/Shanghai) ending at `end` (exclusive). */
export async function sliceBounds(db: Database, kind: 'month' | 'week', count: number, end: Date | null): Promise<Date[]> {
  const step = kind === 'month' ? sql`interval '1 month'` : sql`interval '1 week'`;
  // Without `to`: the end of the last complete month / week, so no slice is a partial one.
  const endExpr = end ? sql`${end.toISOString()}::timestamptz` : sql`(date_trunc(${kind}, now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai')`;
  const { rows } = await sql<{ b: Date }>`
    SELECT ((${endExpr} AT TIME ZONE 'Asia/Shanghai') - ${step} * k) AT TIME ZONE 'Asia/Shanghai' AS b
    FROM generate_series(${count}::int, 0, -1) k`.execute(db);
  return rows.map((r) => r.b);
}
