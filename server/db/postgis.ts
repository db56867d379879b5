/**
 * SQL fragments for moving geometry between GeoJSON and PostGIS. Geometry columns are never selected
 * raw (they would arrive as hex EWKB); use these.
 */
import { sql, type RawBuilder } from 'kysely';

/**
 * GeoJSON of a geometry expression, with 9 decimals (0.1 mm): enough that coordinates a client sent
 * with up to 9 decimals come back bit-identical, so shared vertices stay shared after a round trip.
 * @example sql`SELECT ${asGeoJson(sql.ref('g.geom'))} AS geometry FROM grids g`
 */
export function asGeoJson<G = unknown>(expr: RawBuilder<unknown>): RawBuilder<G> {
  return sql<G>`ST_AsGeoJSON(${expr}, 9)::json`;
}

/**
 * A GeoJSON geometry object as a PostGIS geometry in EPSG:4326 (a bound parameter, never spliced).
 * @example sql`SELECT ST_Area(${fromGeoJson(polygon)}::geography)`
 */
export function fromGeoJson(geometry: unknown): RawBuilder<unknown> {
  return sql`ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(geometry)}::text), 4326)`;
}
