/**
 * The vector-tile layers: what each one selects and which attributes it carries. Attributes are listed
 * explicitly, never `*`, so personal data can never reach a tile by a later column addition.
 */
import { sql, type RawBuilder } from 'kysely';

export interface TileLayerDefinition {
  id: string;
  description: string;
  minzoom: number;
  maxzoom: number;
  /**
   * The data_versions layers whose change invalidates this layer's tiles: its own data, and any table it
   * joins for attributes (a stale name after an edit is a stale tile too).
   */
  dependsOn: readonly string[];
  /** Attribute names and their MVT types, for TileJSON's vector_layers. */
  fields: Record<string, 'String' | 'Number'>;
  /**
   * Rows for one tile: `geom` in EPSG:4326 plus the attributes. `envelope4326` is the tile envelope in
   * lon/lat (for the index-friendly && filter); `layoutId` selects a layout instead of the published ones.
   */
  rows(envelope4326: RawBuilder<unknown>, opts: { layoutId?: number; zoom: number }): RawBuilder<unknown>;
  /**
   * A second layer in the same tile with one label point per feature (ST_PointOnSurface), written only
   * into the tile that holds the point: a polygon spanning four tiles is labelled once, not four times.
   * Its attributes come from the same rows.
   */
  labels?: { id: string; description: string; fields: Record<string, 'String' | 'Number'> };
}

/**
 * The buildings layer is public, so a building's household count is left out below this: on an open map,
 * 0, 1 or 2 would tell anyone which house stands empty or holds a single household (statistical
 * offices suppress cells under 3 for the same reason). Null attributes are not written into the tile.
 */
export const HOUSEHOLDS_SHOWN_FROM = 3;

export const TILE_LAYERS: Record<string, TileLayerDefinition> = {
  divisions: {
    id: 'divisions',
    description: 'District, street and community boundaries (区, 街道, 社区)',
    minzoom: 6,
    maxzoom: 18,
    dependsOn: ['divisions'],
    fields: { code: 'String', name: 'String', level: 'String' },
    // Communities only when they are big enough on screen to matter.
    rows: (env, { zoom }) => sql`
      SELECT d.geom, d.code, d.name, d.level FROM divisions d
      WHERE d.geom IS NOT NULL AND d.geom && ${env}
        AND (${zoom} >= 12 OR d.level <> 'community')`,
  },
  grids: {
    id: 'grids',
    description: 'Grids (网格) of the published layouts, or of one layout with ?layout=',
    minzoom: 10,
    maxzoom: 20,
    // The label carries the community's name (divisions).
    dependsOn: ['grids', 'divisions'],
    fields: { id: 'Number', code: 'String', name: 'String', kind: 'String', community_code: 'String', layout_id: 'Number' },
    // The community's name is for the labels: grids of neighbouring communities share names (第1网格).
    labels: {
      id: 'grid_labels',
      description: 'One label point per grid (on its surface), in the tile that holds it; with the community name',
      fields: { id: 'Number', code: 'String', name: 'String', community_code: 'String', community_name: 'String', layout_id: 'Number' },
    },
    rows: (env, { layoutId }) => sql`
      SELECT g.geom, g.id, g.code, g.name, g.kind, l.community_code, d.name AS community_name, g.layout_id
      FROM grids g JOIN layouts l ON l.id = g.layout_id LEFT JOIN divisions d ON d.code = l.community_code
      WHERE ${layoutId === undefined ? sql`l.status = 'published'` : sql`g.layout_id = ${layoutId}`}
        AND g.geom && ${env}`,
  },
  buildings: {
    id: 'buildings',
    description: `Building footprints with their number of households when it is ${HOUSEHOLDS_SHOWN_FROM} or more (a count only: households and people never go into tiles)`,
    minzoom: 14,
    maxzoom: 20,
    dependsOn: ['buildings'],
    fields: { code: 'String', name: 'String', address: 'String', use: 'String', floors: 'Number', community_code: 'String', grid_code: 'String', households: 'Number' },
    rows: (env) => sql`
      SELECT b.geom, b.code, b.name, b.address, b.use, b.floors, b.community_code, b.grid_code,
             CASE WHEN b.household_count >= ${HOUSEHOLDS_SHOWN_FROM} THEN b.household_count END AS households
      FROM buildings b WHERE b.deleted_at IS NULL AND b.geom && ${env}`,
  },
  roads: {
    id: 'roads',
    description: 'Named roads',
    minzoom: 10,
    maxzoom: 20,
    dependsOn: ['roads'],
    fields: { code: 'String', name: 'String', kind: 'String' },
    rows: (env) => sql`SELECT r.geom, r.code, r.name, r.kind FROM roads r WHERE r.geom && ${env}`,
  },
};

/**
 * One tile as Mapbox Vector Tile bytes, built entirely in PostGIS: ST_TileEnvelope gives the Web
 * Mercator envelope, ST_AsMVTGeom clips and quantises (4096 extent, 64 px buffer), ST_AsMVT encodes.
 */
export function tileSql(layer: TileLayerDefinition, z: number, x: number, y: number, layoutId?: number): RawBuilder<{ mvt: Buffer }> {
  const env3857 = sql`ST_TileEnvelope(${z}, ${x}, ${y})`;
  const env4326 = sql`ST_Transform(${env3857}, 4326)`;
  const columns = Object.keys(layer.fields).map((f) => sql.ref(`src.${f}`));
  const rows = layer.rows(env4326, { zoom: z, ...(layoutId === undefined ? {} : { layoutId }) });
  // MATERIALIZED: otherwise the planner pushes `geom IS NOT NULL` down into the scan and PostgreSQL
  // computes ST_AsMVTGeom twice per feature, once for that filter and once for the output (EXPLAIN
  // VERBOSE shows both); clipping polygons is the expensive part, and tiles got about 15 % faster.
  const mvt = sql`
    WITH src AS (${rows}),
         mvtgeom AS MATERIALIZED (
           SELECT ST_AsMVTGeom(ST_Transform(src.geom, 3857), ${env3857}, 4096, 64, true) AS geom, ${sql.join(columns)}
           FROM src)`;
  if (!layer.labels) return sql<{ mvt: Buffer }>`${mvt}
    SELECT ST_AsMVT(mvtgeom, ${layer.id}, 4096, 'geom') AS mvt FROM mvtgeom WHERE geom IS NOT NULL`;
  // Labels: the point is tested against the tile half-open (west and north edges in, east and south
  // out), so a point on a tile edge still lands in exactly one tile. An MVT is a list of layers: the
  // two encodings concatenated are one tile with both layers.
  const labelColumns = Object.keys(layer.labels.fields).map((f) => sql.ref(`src.${f}`));
  return sql<{ mvt: Buffer }>`${mvt},
         labelpt AS (
           SELECT ST_Transform(ST_PointOnSurface(src.geom), 3857) AS pt, ${sql.join(labelColumns)} FROM src),
         labelgeom AS (
           SELECT ST_AsMVTGeom(pt, ${env3857}, 4096, 0, false) AS geom, ${sql.join(Object.keys(layer.labels.fields).map((f) => sql.ref(`labelpt.${f}`)))}
           FROM labelpt, (SELECT ${env3857} AS e) env
           WHERE ST_X(pt) >= ST_XMin(env.e) AND ST_X(pt) < ST_XMax(env.e) AND ST_Y(pt) > ST_YMin(env.e) AND ST_Y(pt) <= ST_YMax(env.e))
    SELECT COALESCE((SELECT ST_AsMVT(mvtgeom, ${layer.id}, 4096, 'geom') FROM mvtgeom WHERE geom IS NOT NULL), ''::bytea)
        || COALESCE((SELECT ST_AsMVT(labelgeom, ${layer.labels.id}, 4096, 'geom') FROM labelgeom WHERE geom IS NOT NULL), ''::bytea) AS mvt`;
}
