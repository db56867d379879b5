/**
 * SQL of the analysis module. Supplied features reach PostGIS as bound arrays (unnest), never as a
 * table: a request leaves the database exactly as it found it.
 */
import { sql } from 'kysely';
import type { Database } from '../../db/database';
import type { GeometryKind } from './analysis-input';
import type { LocalProjection } from './local-projection';

export interface DbscanInput {
  kind: GeometryKind;
  /** Interleaved planar x, y (metres for EPSG:4326 input) of each point. */
  xy: Float64Array;
  /** Planar polygon parts per feature (polygon input). */
  polygons: [number, number][][][][];
  eps: number;
  minPoints: number;
}

export interface DbscanResult {
  /** PostGIS cluster number per input feature (input order), null for noise. */
  labels: (number | null)[];
}

/**
 * ST_ClusterDBSCAN over the supplied geometries in planar coordinates (SRID 0), as lean as the bare
 * window query: one row (ordinal, label) per input, reordered by ordinal here.
 */
export async function clusterDbscan(db: Database, input: DbscanInput): Promise<DbscanResult> {
  const n = input.xy.length / 2;
  let geometries;
  if (input.kind === 'point') {
    const xs = new Array<number>(n);
    const ys = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      xs[i] = input.xy[2 * i]!;
      ys[i] = input.xy[2 * i + 1]!;
    }
    geometries = sql`SELECT u.ord, ST_MakePoint(u.x, u.y) AS geom FROM unnest(${xs}::float8[], ${ys}::float8[]) WITH ORDINALITY AS u(x, y, ord)`;
  } else {
    const texts = input.polygons.map((parts) => JSON.stringify({ type: 'MultiPolygon', coordinates: parts }));
    geometries = sql`SELECT u.ord, ST_GeomFromGeoJSON(u.g) AS geom FROM unnest(${texts}::text[]) WITH ORDINALITY AS u(g, ord)`;
  }
  const { rows } = await sql<{ ord: number; label: number | null }>`
    SELECT p.ord::int AS ord, ST_ClusterDBSCAN(p.geom, eps := ${input.eps}::float8, minpoints := ${input.minPoints}::int) OVER () AS label
    FROM (${geometries}) p
  `.execute(db);
  const labels = new Array<number | null>(n).fill(null);
  for (const r of rows) labels[r.ord - 1] = r.label;
  return { labels };
}

/**
 * Hexagon counts of stored points by arithmetic binning in SQL (no spatial join), on the lattice of
 * `hexCell` / ST_HexagonGrid. The points' lon/lat go through the same local equirectangular formula
 * as `localProjection` once per row (the OFFSET 0 keeps PostgreSQL from inlining ST_X/ST_Y into every
 * later reference); the containing hexagon is the nearer of the nearest even-column centre
 * (3s·m, √3s·n) and the nearest odd-column centre (3s·m + 1.5s, √3s·n + √3s/2), which is cheaper than
 * cube rounding in SQL. Rows are grouped by one float8 key i · 2^20 + j. `table` and `column` must
 * be trusted identifiers (callers are code, never requests). For the stored-events endpoints of
 * issue #8 and the benchmark.
 */
export async function countHexagonsOfTable(db: Database, table: string, column: string, projection: LocalProjection, size: number): Promise<{ i: number; j: number; count: number }[]> {
  const [lng0, lat0] = projection.origin;
  const colW = 3 * size;
  const rowH = Math.sqrt(3) * size;
  const { rows } = await sql<{ i: number; j: number; count: number }>`
    SELECT round(k.key / 1048576.0)::int AS i, (k.key - round(k.key / 1048576.0) * 1048576)::int AS j, count(*)::int AS count
    FROM ${sql.table(table)} p
    CROSS JOIN LATERAL (
      SELECT (ST_X(p.${sql.ref(column)}) - ${lng0}::float8) * ${projection.kx}::float8 AS x,
             (ST_Y(p.${sql.ref(column)}) - ${lat0}::float8) * ${projection.ky}::float8 AS y
      OFFSET 0
    ) m
    CROSS JOIN LATERAL (
      SELECT floor(m.x / ${colW}::float8 + 0.5) AS ax, floor(m.y / ${rowH}::float8 + 0.5) AS ay,
             floor((m.x - ${colW / 2}::float8) / ${colW}::float8 + 0.5) AS bx, floor((m.y - ${rowH / 2}::float8) / ${rowH}::float8 + 0.5) AS by
    ) c
    CROSS JOIN LATERAL (
      SELECT CASE WHEN (m.x - ${colW}::float8 * c.ax) ^ 2 + (m.y - ${rowH}::float8 * c.ay) ^ 2
                    <= (m.x - ${colW}::float8 * c.bx - ${colW / 2}::float8) ^ 2 + (m.y - ${rowH}::float8 * c.by - ${rowH / 2}::float8) ^ 2
                  THEN (2 * c.ax) * 1048576 + c.ay
                  ELSE (2 * c.bx + 1) * 1048576 + c.by END AS key
    ) k
    GROUP BY k.key
  `.execute(db);
  return rows;
}
