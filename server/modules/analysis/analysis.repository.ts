/**
 * SQL of the analysis module. Supplied features reach PostGIS as bound arrays (unnest), never as a
 * table: a request leaves the database exactly as it found it.
 */
import { sql } from 'kysely';
import type { Database } from '../../db/database';
import type { GeometryKind } from './analysis-input';

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
 * window query: the labels come back as one array in input order.
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
  // One row back: the labels as one array in input order. 100k rows of (ordinal, label) cost more to
  // send and parse than sorting them here.
  const { rows } = await sql<{ labels: (number | null)[] | null }>`
    SELECT array_agg(p.label ORDER BY p.ord) AS labels FROM (
      SELECT g.ord, ST_ClusterDBSCAN(g.geom, eps := ${input.eps}::float8, minpoints := ${input.minPoints}::int) OVER () AS label
      FROM (${geometries}) g) p
  `.execute(db);
  const labels = rows[0]?.labels ?? [];
  if (labels.length !== n) throw new Error(`DBSCAN returned ${labels.length} labels for ${n} inputs`);
  return { labels };
}
