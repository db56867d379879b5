/**
 * SQL of the analysis module. Supplied features reach PostGIS as bound arrays (unnest), never as a
 * table: a request leaves the database exactly as it found it.
 */
import { endianness } from 'node:os';
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
  /** PostGIS cluster number per input feature (input order), -1 for noise. */
  labels: Int32Array;
}

const FLOAT8_OID = 701;

/**
 * A float8[] query parameter in PostgreSQL's binary array format (what `array_send` writes: one
 * dimension, no nulls, element OID 701, then each value as length 8 + big-endian IEEE 754). node-pg
 * sends a Buffer parameter in binary, and `$1::float8[]` makes the server read it with `array_recv`:
 * no decimal text to format in JS nor to parse in PostgreSQL (for 2 × 100k coordinates that text
 * cost 110 ms of our CPU), and the values arrive bit for bit.
 */
export function float8ArrayParam(values: ArrayLike<number>, stride = 1, offset = 0): Buffer {
  const n = Math.ceil((values.length - offset) / stride);
  const bytes = Buffer.allocUnsafe(20 + 12 * n);
  bytes.writeInt32BE(1, 0); // dimensions
  bytes.writeInt32BE(0, 4); // no nulls
  bytes.writeInt32BE(FLOAT8_OID, 8);
  bytes.writeInt32BE(n, 12);
  bytes.writeInt32BE(1, 16); // lower bound
  for (let k = 0, at = 20; k < n; k++, at += 12) {
    bytes.writeInt32BE(8, at);
    bytes.writeDoubleBE(values[offset + k * stride]!, at + 4);
  }
  return bytes;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** Base64 of big-endian int4 values (`encode(string_agg(int4send(…), ''), 'base64')`) as an Int32Array. */
function int4Array(base64: string | null, n: number): Int32Array {
  if (base64 === null || n === 0) return new Int32Array(0);
  let bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== 4 * n) throw new Error(`expected ${n} int4 values, got ${bytes.length} bytes`);
  if (bytes.byteOffset % 4 !== 0) {
    const aligned = Buffer.from(new ArrayBuffer(bytes.length));
    bytes.copy(aligned);
    bytes = aligned;
  }
  if (LITTLE_ENDIAN) bytes.swap32();
  return new Int32Array(bytes.buffer, bytes.byteOffset, n);
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
