/**
 * The events tile layer (issue #9): below EVENT_POINT_MINZOOM each tile carries counts per square cell
 * (`event_cells`), from EVENT_POINT_MINZOOM on the events themselves (`events`), both built by PostGIS.
 *
 * Cells are 1/16 of the tile's side in Web Mercator (16 × 16 cells per tile, i.e. 16 px at 256 px
 * tiles: about 150 m at z14, 2.4 km at z10). They are aligned to the tile, so a cell never straddles
 * two tiles, and each point is counted in exactly one cell of exactly one tile (half-open bounds).
 * Counting is a GROUP BY on the cell indices of the points the GiST index finds in the tile: no
 * geometry join, linear in the events of the tile.
 *
 * Attributes are listed explicitly and are never personal: no description, address, reporter or
 * attachments (descriptions are free text written by residents and often hold names and phone numbers).
 */
import { sql, type RawBuilder } from 'kysely';
import { eventWhere, type EventFilter } from '../events/event.repository';

/** Individual events from this zoom on; counts per cell below it. z15 tiles are about 1 km wide here. */
export const EVENT_POINT_MINZOOM = 15;
export const EVENT_MINZOOM = 8;
export const EVENT_MAXZOOM = 20;
/** Cells per tile side at the aggregated zooms. */
export const EVENT_CELLS_PER_TILE = 16;

/**
 * Attributes of the `events` layer. The event's id is the MVT feature id (Feature.id, what MapLibre's
 * feature state and queryRenderedFeatures use), not an attribute; `reported_at` is Unix time in seconds.
 * Both are unique per feature, so as attributes each took a value of its own in the tile: the id ~8
 * bytes, the time as an RFC 3339 string ~24. As the feature id and an integer a 17.7 KB z15 tile of the
 * benchmark data shrinks to 11.1 KB, and PostgreSQL skips a to_char per event (README "Benchmarks").
 */
export const EVENT_POINT_FIELDS = { category: 'String', state: 'String', reported_at: 'Number', overdue: 'Boolean' } as const;
export const EVENT_CELL_FIELDS = { count: 'Number', open: 'Number', overdue: 'Number' } as const;

/** Filters of an event tile (the listing's, minus paging): scope always, the rest from the query. */
export type EventTileFilter = Pick<EventFilter, 'scopePrefixes' | 'states' | 'category' | 'from' | 'to'>;

/** Half of the Web Mercator world's side, metres (what ST_TileEnvelope uses by default). */
const WORLD = 20037508.342789244;

/** A tile's Web Mercator bounds, as ST_TileEnvelope computes them. */
export function tileBounds3857(z: number, x: number, y: number): { xmin: number; ymin: number; xmax: number; ymax: number; size: number } {
  const size = (2 * WORLD) / 2 ** z;
  return { xmin: -WORLD + x * size, xmax: -WORLD + (x + 1) * size, ymax: WORLD - y * size, ymin: WORLD - (y + 1) * size, size };
}

const OVERDUE = sql`(e.state NOT IN ('closed', 'rejected') AND least(e.stage_due_at, e.due_at) < now())`;

function where(env4326: RawBuilder<unknown>, f: EventTileFilter): RawBuilder<unknown> {
  return sql`e.geom && ${env4326} AND ${eventWhere({ ...f, limit: 0 })}`;
}

/** One events tile as MVT bytes: cells below EVENT_POINT_MINZOOM, points from it on. */
export function eventTileSql(z: number, x: number, y: number, f: EventTileFilter): RawBuilder<{ mvt: Buffer }> {
  const env3857 = sql`ST_TileEnvelope(${z}, ${x}, ${y})`;
  const env4326 = sql`ST_Transform(${env3857}, 4326)`;
  if (z >= EVENT_POINT_MINZOOM) {
    return sql<{ mvt: Buffer }>`
      WITH src AS (
        SELECT ST_AsMVTGeom(ST_Transform(e.geom, 3857), ${env3857}, 4096, 64, true) AS geom,
               e.id, e.category_code AS category, e.state,
               floor(date_part('epoch', e.reported_at))::int8 AS reported_at,
               ${OVERDUE} AS overdue
        FROM events e WHERE ${where(env4326, f)})
      SELECT ST_AsMVT(src, 'events', 4096, 'geom', 'id') AS mvt FROM src WHERE geom IS NOT NULL`;
  }
  const b = tileBounds3857(z, x, y);
  const cell = b.size / EVENT_CELLS_PER_TILE;
  // Web Mercator x/y by the spherical formula (what ST_Transform(…, 3857) computes) in plain float
  // arithmetic: PostGIS prices ST_Transform so high that a few thousand points push the plan over
  // jit_above_cost, and JIT compilation then takes longer than the query (measured 60–470 ms a tile).
  // MATERIALIZED keeps the planner from pushing the final `geom IS NOT NULL` (an ST_AsMVTGeom call)
  // down into the events scan, where it was priced per event.
  return sql<{ mvt: Buffer }>`
    WITH p AS MATERIALIZED (
      SELECT 6378137 * radians(ST_X(e.geom)) AS x, 6378137 * ln(tan(pi() / 4 + radians(ST_Y(e.geom)) / 2)) AS y,
             e.state NOT IN ('closed', 'rejected') AS open, ${OVERDUE} AS overdue
      FROM events e WHERE ${where(env4326, f)}),
    c AS MATERIALIZED (
      SELECT floor((p.x - ${b.xmin}::float8) / ${cell}::float8)::int AS i,
             floor((p.y - ${b.ymin}::float8) / ${cell}::float8)::int AS j,
             count(*)::int AS count, (count(*) FILTER (WHERE p.open))::int AS open, (count(*) FILTER (WHERE p.overdue))::int AS overdue
      FROM p
      WHERE p.x >= ${b.xmin}::float8 AND p.x < ${b.xmax}::float8 AND p.y >= ${b.ymin}::float8 AND p.y < ${b.ymax}::float8
      GROUP BY 1, 2),
    src AS (
      SELECT ST_AsMVTGeom(ST_MakeEnvelope(${b.xmin}::float8 + c.i * ${cell}::float8, ${b.ymin}::float8 + c.j * ${cell}::float8,
                                          ${b.xmin}::float8 + (c.i + 1) * ${cell}::float8, ${b.ymin}::float8 + (c.j + 1) * ${cell}::float8, 3857),
                          ${env3857}, 4096, 0, true) AS geom,
             c.count, c.open, c.overdue
      FROM c)
    SELECT ST_AsMVT(src, 'event_cells', 4096, 'geom') AS mvt FROM src WHERE geom IS NOT NULL`;
}
