/**
 * SQL of the analysis module. Supplied features reach PostGIS as bound arrays (unnest), never as a
 * table: a request leaves the database exactly as it found it.
 */
import { sql } from 'kysely';
import type { Database } from '../../db/database';
import { float8ArrayParam, int4Array } from '../../db/pg-binary';
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
  /** PostGIS cluster number per input feature (input order), -1 for noise. */
  labels: Int32Array;
}

/**
 * ST_ClusterDBSCAN over the supplied geometries in planar coordinates (SRID 0), as lean as the bare
 * window query. Points go in as two binary float8[] parameters; the labels come back as one row: the
 * ordinals and the labels, each a base64 run of int4 in whatever order the window emitted them
 * (100k rows of (ordinal, label) cost more to send and parse, and an ORDER BY in the aggregate costs
 * PostgreSQL a sort), put in input order here.
 */
export async function clusterDbscan(db: Database, input: DbscanInput): Promise<DbscanResult> {
  const n = input.xy.length / 2;
  let geometries;
  if (input.kind === 'point') {
    geometries = sql`SELECT u.ord, ST_MakePoint(u.x, u.y) AS geom
      FROM unnest(${float8ArrayParam(input.xy, 2, 0)}::float8[], ${float8ArrayParam(input.xy, 2, 1)}::float8[]) WITH ORDINALITY AS u(x, y, ord)`;
  } else {
    const texts = input.polygons.map((parts) => JSON.stringify({ type: 'MultiPolygon', coordinates: parts }));
    geometries = sql`SELECT u.ord, ST_GeomFromGeoJSON(u.g) AS geom FROM unnest(${texts}::text[]) WITH ORDINALITY AS u(g, ord)`;
  }
  const { rows } = await sql<{ n: number; ords: string | null; labels: string | null }>`
    SELECT count(*)::int AS n, encode(string_agg(int4send(p.ord::int), ''::bytea), 'base64') AS ords,
           encode(string_agg(int4send(coalesce(p.label, -1)), ''::bytea), 'base64') AS labels
    FROM (
      SELECT g.ord, ST_ClusterDBSCAN(g.geom, eps := ${input.eps}::float8, minpoints := ${input.minPoints}::int) OVER () AS label
      FROM (${geometries}) g) p
  `.execute(db);
  const row = rows[0]!;
  if (row.n !== n) throw new Error(`DBSCAN returned ${row.n} labels for ${n} inputs`);
  const ords = int4Array(row.ords, n);
  const got = int4Array(row.labels, n);
  const labels = new Int32Array(n).fill(-2);
  for (let k = 0; k < n; k++) {
    const at = ords[k]! - 1;
    if (!(at >= 0 && at < n) || labels[at] !== -2) throw new Error(`DBSCAN returned ordinal ${at + 1} out of range or twice`);
    labels[at] = got[k]!;
  }
  return { labels };
}
