/**
 * SQL for grids. Geometry is written through `storedGeometry` (2D, CCW exteriors per RFC 7946, single
 * polygons unwrapped) so every write path stores the same normal form.
 */
import { sql, type RawBuilder } from 'kysely';
import type { GridFeature, GridKind } from '../../contracts/grid';
import type { LayoutStatus } from '../../contracts/layout';
import type { Database } from '../../db/database';
import { asGeoJson, fromGeoJson } from '../../db/postgis';

export interface GridRecord {
  id: number;
  layoutId: number;
  code: string | null;
  name: string;
  kind: GridKind;
  properties: Record<string, unknown>;
  areaM2: number;
  version: number;
  geometry: { type: string; coordinates: unknown };
}

interface GridRow {
  id: number;
  layout_id: number;
  code: string | null;
  name: string;
  kind: string;
  properties: Record<string, unknown>;
  area_m2: number;
  version: number;
  geometry: { type: string; coordinates: unknown };
}

const gridColumns = sql`g.id, g.layout_id, g.code, g.name, g.kind, g.properties, g.area_m2, g.version, ${asGeoJson(sql`g.geom`)} AS geometry`;

function toGridRecord(row: GridRow): GridRecord {
  return {
    id: row.id,
    layoutId: row.layout_id,
    code: row.code,
    name: row.name,
    kind: row.kind as GridKind,
    properties: row.properties,
    areaM2: row.area_m2,
    version: row.version,
    geometry: row.geometry,
  };
}

/** The wire form: the planner's attributes flattened beside the grid's own fields. */
export function toGridFeature(grid: GridRecord): GridFeature {
  return {
    type: 'Feature',
    id: grid.id,
    geometry: grid.geometry,
    properties: {
      ...grid.properties,
      layoutId: grid.layoutId,
      code: grid.code,
      name: grid.name,
      kind: grid.kind,
      areaM2: Math.round(grid.areaM2 * 100) / 100,
      version: grid.version,
    },
  };
}

/** 2D, exterior rings counter-clockwise (RFC 7946), a one-part MultiPolygon unwrapped to a Polygon. */
function normalised(geom: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`(SELECT CASE WHEN ST_NumGeometries(x.g) = 1 THEN ST_GeometryN(x.g, 1) ELSE x.g END
              FROM (SELECT ST_ForcePolygonCCW(ST_Force2D(${geom})) AS g) x)`;
}

/** The geometry to store from submitted GeoJSON; `repair` runs ST_MakeValid and keeps the polygons. */
export function storedGeometry(geojson: unknown, repair = false): RawBuilder<unknown> {
  const raw = fromGeoJson(geojson);
  return normalised(repair ? sql`ST_CollectionExtract(ST_MakeValid(${raw}, 'method=structure'), 3)` : raw);
}

export interface GeometryDiagnosis {
  valid: boolean;
  reason: string | null;
  location: [number, number] | null;
  type: string;
  vertices: number;
  areaM2: number | null;
  parts: number;
  /** After ST_MakeValid (only computed when invalid). */
  repaired: { type: string; areaM2: number; parts: number; empty: boolean } | null;
}

/** Gate 3 of the geometry checks: what PostGIS (GEOS) thinks of a submitted geometry. */
export async function diagnoseGeometry(db: Database, geojson: unknown): Promise<GeometryDiagnosis> {
  const { rows } = await sql<{
    valid: boolean;
    reason: string | null;
    location: { coordinates: [number, number] } | null;
    type: string;
    vertices: number;
    area_m2: number | null;
    parts: number;
    fixed_type: string | null;
    fixed_area_m2: number | null;
    fixed_parts: number | null;
    fixed_empty: boolean | null;
  }>`
    WITH input AS (SELECT ${fromGeoJson(geojson)} AS g),
         detail AS (SELECT g, ST_IsValidDetail(g) AS d FROM input),
         fixed AS (
           SELECT CASE WHEN (d).valid THEN NULL
                       ELSE ST_CollectionExtract(ST_MakeValid(g, 'method=structure'), 3) END AS f
           FROM detail)
    SELECT (d).valid AS valid, (d).reason AS reason, ST_AsGeoJSON((d).location)::json AS location,
           GeometryType(g) AS type, ST_NPoints(g) AS vertices,
           CASE WHEN (d).valid THEN ST_Area(g::geography) END AS area_m2,
           ST_NumGeometries(g) AS parts,
           GeometryType(f) AS fixed_type, ST_Area(f::geography) AS fixed_area_m2,
           ST_NumGeometries(f) AS fixed_parts, ST_IsEmpty(f) AS fixed_empty
    FROM detail, fixed`.execute(db);
  const row = rows[0];
  if (!row) throw new Error('geometry diagnosis returned no row');
  return {
    valid: row.valid,
    reason: row.reason?.trim() ?? null,
    location: row.location?.coordinates ?? null,
    type: row.type,
    vertices: row.vertices,
    areaM2: row.area_m2,
    parts: row.parts,
    repaired:
      row.fixed_type === null
        ? null
        : { type: row.fixed_type, areaM2: row.fixed_area_m2 ?? 0, parts: row.fixed_parts ?? 0, empty: row.fixed_empty ?? true },
  };
}

export interface LayoutOfGrid {
  layoutId: number;
  status: LayoutStatus;
  communityCode: string;
}

/**
 * Lock a layout against publishing while grids are written (FOR SHARE): publish takes FOR UPDATE on the
 * same row, so a write and a publish never interleave and a published layout is never written to.
 */
export async function lockLayoutForGridWrite(db: Database, layoutId: number): Promise<LayoutOfGrid | undefined> {
  const { rows } = await sql<{ id: number; status: LayoutStatus; community_code: string }>`
    SELECT id, status, community_code FROM layouts WHERE id = ${layoutId} FOR SHARE`.execute(db);
  const row = rows[0];
  return row ? { layoutId: row.id, status: row.status, communityCode: row.community_code } : undefined;
}

/** A layout's status and community, without locking (for read checks). */
export async function findLayoutHeader(db: Database, layoutId: number): Promise<LayoutOfGrid | undefined> {
  const row = await db.selectFrom('layouts').select(['id', 'status', 'community_code']).where('id', '=', layoutId).executeTakeFirst();
  return row ? { layoutId: row.id, status: row.status as LayoutStatus, communityCode: row.community_code } : undefined;
}

export async function findLayoutIdOfGrid(db: Database, gridId: number): Promise<number | undefined> {
  const row = await db.selectFrom('grids').select('layout_id').where('id', '=', gridId).executeTakeFirst();
  return row?.layout_id;
}

export async function findGrid(db: Database, id: number): Promise<GridRecord | undefined> {
  const { rows } = await sql<GridRow>`SELECT ${gridColumns} FROM grids g WHERE g.id = ${id}`.execute(db);
  return rows[0] ? toGridRecord(rows[0]) : undefined;
}

export async function findGrids(db: Database, ids: readonly number[]): Promise<GridRecord[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<GridRow>`SELECT ${gridColumns} FROM grids g WHERE g.id = ANY(${[...ids]}::int[]) ORDER BY g.id`.execute(db);
  return rows.map(toGridRecord);
}

export async function listLayoutGrids(db: Database, layoutId: number): Promise<GridRecord[]> {
  const { rows } = await sql<GridRow>`
    SELECT ${gridColumns} FROM grids g WHERE g.layout_id = ${layoutId} ORDER BY g.code NULLS LAST, g.id`.execute(db);
  return rows.map(toGridRecord);
}

export interface NewGrid {
  layoutId: number;
  code: string | null;
  name: string;
  kind: GridKind;
  properties: Record<string, unknown>;
  /** SQL producing the geometry (storedGeometry(...) or an expression over existing grids). */
  geom: RawBuilder<unknown>;
  sourceGridId?: number | null;
}

export async function insertGrid(db: Database, grid: NewGrid): Promise<GridRecord> {
  const { rows } = await sql<GridRow>`
    WITH inserted AS (
      INSERT INTO grids (layout_id, code, name, kind, properties, geom, source_grid_id)
      VALUES (${grid.layoutId}, ${grid.code}, ${grid.name}, ${grid.kind}, ${JSON.stringify(grid.properties)}::jsonb, ${grid.geom}, ${grid.sourceGridId ?? null})
      RETURNING *)
    SELECT ${gridColumns} FROM inserted g`.execute(db);
  if (!rows[0]) throw new Error('insert returned no row');
  return toGridRecord(rows[0]);
}

export interface GridChanges {
  name?: string;
  kind?: GridKind;
  code?: string | null;
  properties?: Record<string, unknown>;
  geom?: RawBuilder<unknown>;
}

/**
 * Compare-and-set on `version`: returns undefined when the grid is gone or its version moved on, so
 * of two concurrent writers exactly one wins.
 */
export async function updateGrid(db: Database, id: number, expectedVersion: number | undefined, changes: GridChanges): Promise<GridRecord | undefined> {
  const sets: RawBuilder<unknown>[] = [sql`version = g.version + 1`, sql`updated_at = now()`];
  if (changes.name !== undefined) sets.push(sql`name = ${changes.name}`);
  if (changes.kind !== undefined) sets.push(sql`kind = ${changes.kind}`);
  if (changes.code !== undefined) sets.push(sql`code = ${changes.code}`);
  if (changes.properties !== undefined) sets.push(sql`properties = ${JSON.stringify(changes.properties)}::jsonb`);
  if (changes.geom !== undefined) sets.push(sql`geom = ${changes.geom}`);
  const versionCheck = expectedVersion === undefined ? sql`` : sql`AND g.version = ${expectedVersion}`;
  const { rows } = await sql<GridRow>`
    UPDATE grids g SET ${sql.join(sets)} WHERE g.id = ${id} ${versionCheck}
    RETURNING ${gridColumns}`.execute(db);
  return rows[0] ? toGridRecord(rows[0]) : undefined;
}

export async function deleteGrids(db: Database, ids: readonly number[]): Promise<number> {
  const result = await db.deleteFrom('grids').where('id', 'in', [...ids]).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function deleteGridIfVersion(db: Database, id: number, expectedVersion: number | undefined): Promise<boolean> {
  let query = db.deleteFrom('grids').where('id', '=', id);
  if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export interface SplitPart {
  geometry: unknown;
  areaM2: number;
}

/** The polygons ST_Split cuts a grid into, largest first. */
export async function splitGeometry(db: Database, gridId: number, line: unknown): Promise<SplitPart[]> {
  const { rows } = await sql<{ geometry: unknown; area_m2: number }>`
    SELECT ${asGeoJson(sql`d.geom`)} AS geometry, ST_Area(d.geom::geography) AS area_m2
    FROM grids g, ST_Dump(ST_CollectionExtract(ST_Split(g.geom, ${fromGeoJson(line)}), 3)) d
    WHERE g.id = ${gridId}
    ORDER BY ST_Area(d.geom::geography) DESC, ST_XMin(d.geom), ST_YMin(d.geom)`.execute(db);
  return rows.map((r) => ({ geometry: r.geometry, areaM2: r.area_m2 }));
}

/** Geometry of the split part `index` (0 = largest), recomputed in SQL so no precision is lost via JSON. */
export function splitPartGeometry(gridId: number, line: unknown, index: number): RawBuilder<unknown> {
  return normalised(sql`(
    SELECT d.geom FROM grids g, ST_Dump(ST_CollectionExtract(ST_Split(g.geom, ${fromGeoJson(line)}), 3)) d
    WHERE g.id = ${gridId}
    ORDER BY ST_Area(d.geom::geography) DESC, ST_XMin(d.geom), ST_YMin(d.geom)
    OFFSET ${index} LIMIT 1)`);
}

/** Union of grids; `parts` > 1 means they do not form one connected polygon. */
export async function unionOfGrids(db: Database, ids: readonly number[]): Promise<{ parts: number; areaM2: number }> {
  const { rows } = await sql<{ parts: number; area_m2: number }>`
    SELECT ST_NumGeometries(u) AS parts, ST_Area(u::geography) AS area_m2
    FROM (SELECT ST_UnaryUnion(ST_Collect(geom)) AS u FROM grids WHERE id = ANY(${[...ids]}::int[])) x`.execute(db);
  return { parts: rows[0]?.parts ?? 0, areaM2: rows[0]?.area_m2 ?? 0 };
}

export function unionGeometry(ids: readonly number[]): RawBuilder<unknown> {
  return normalised(sql`(SELECT ST_UnaryUnion(ST_Collect(geom)) FROM grids WHERE id = ANY(${[...ids]}::int[]))`);
}

/**
 * A grid snapped to its neighbours in the same layout and to the community boundary. ST_Snap works in
 * the geometry's units (degrees): the metre tolerance becomes degrees of longitude at the grid's
 * latitude, the larger of the two degree values, so no vertex within `toleranceM` is missed (in
 * latitude it may reach up to 1/cos(lat) times further: about 1.2× at 35°N).
 */
export function snappedGeometry(gridId: number, toleranceM: number): RawBuilder<unknown> {
  return normalised(sql`(
    SELECT ST_Snap(g.geom, ST_Collect(ref.geom), ${toleranceM} / (111320.0 * cos(radians(ST_Y(ST_Centroid(g.geom))))))
    FROM grids g
    JOIN layouts l ON l.id = g.layout_id
    CROSS JOIN LATERAL (
      SELECT n.geom FROM grids n
      WHERE n.layout_id = g.layout_id AND n.id <> g.id
        AND ST_DWithin(n.geom::geography, g.geom::geography, ${toleranceM * 2})
      UNION ALL
      SELECT ST_Boundary(d.geom) FROM divisions d WHERE d.code = l.community_code AND d.geom IS NOT NULL
    ) ref
    WHERE g.id = ${gridId}
    GROUP BY g.geom)`);
}

export function clippedGeometry(gridId: number): RawBuilder<unknown> {
  return normalised(sql`(
    SELECT ST_CollectionExtract(ST_Intersection(g.geom, d.geom), 3)
    FROM grids g JOIN layouts l ON l.id = g.layout_id JOIN divisions d ON d.code = l.community_code
    WHERE g.id = ${gridId})`);
}

/**
 * Would this geometry expression be storable (valid, polygonal, not empty)? Returns area too, and when
 * invalid GEOS's reason and `[lng, lat]` location as diagnoseGeometry gives them.
 */
export async function inspectGeometry(
  db: Database,
  geom: RawBuilder<unknown>,
): Promise<{ valid: boolean; reason: string | null; location: [number, number] | null; empty: boolean; type: string | null; areaM2: number; parts: number }> {
  const { rows } = await sql<{
    valid: boolean | null;
    reason: string | null;
    location: { coordinates: [number, number] } | null;
    empty: boolean | null;
    type: string | null;
    area_m2: number | null;
    parts: number | null;
  }>`
    SELECT (v.d).valid AS valid, (v.d).reason AS reason, ST_AsGeoJSON((v.d).location)::json AS location,
           ST_IsEmpty(x.g) AS empty, GeometryType(x.g) AS type,
           ST_Area(x.g::geography) AS area_m2, ST_NumGeometries(x.g) AS parts
    FROM (SELECT ${geom} AS g) x, LATERAL (SELECT ST_IsValidDetail(x.g) AS d) v`.execute(db);
  const row = rows[0];
  return {
    valid: row?.valid ?? false,
    reason: row?.reason?.trim() ?? null,
    location: row?.location?.coordinates ?? null,
    empty: row?.empty ?? true,
    type: row?.type ?? null,
    areaM2: row?.area_m2 ?? 0,
    parts: row?.parts ?? 0,
  };
}

export async function communityHasBoundary(db: Database, communityCode: string): Promise<boolean> {
  const row = await db.selectFrom('divisions').select('code').where('code', '=', communityCode).where('geom', 'is not', null).executeTakeFirst();
  return row !== undefined;
}

export interface GapCheck {
  /** Gap area, m². */
  areaM2: number;
  /** Part of the gap already covered by grids of the layout, m². */
  coveredM2: number;
  /** Part of the gap outside the community boundary, m². */
  outsideM2: number | null;
  /** Neighbour sharing the longest boundary with the gap, and that length in metres. */
  neighbour: { id: number; sharedM: number } | null;
}

export async function checkGap(db: Database, layoutId: number, communityCode: string, gap: unknown, gridId?: number): Promise<GapCheck> {
  const { rows } = await sql<{ area_m2: number; covered_m2: number | null; outside_m2: number | null; neighbour_id: number | null; shared_m: number | null }>`
    WITH gap AS (SELECT ${fromGeoJson(gap)} AS g),
         near AS (
           SELECT n.id, ST_Length(ST_Intersection(ST_Boundary(gap.g), ST_Boundary(n.geom))::geography) AS shared_m,
                  ST_Area(ST_Intersection(gap.g, n.geom)::geography) AS overlap_m2
           FROM grids n, gap
           WHERE n.layout_id = ${layoutId} AND n.geom && ST_Expand(gap.g, 1e-7)
         )
    SELECT ST_Area(gap.g::geography) AS area_m2,
           (SELECT COALESCE(sum(overlap_m2), 0) FROM near) AS covered_m2,
           (SELECT ST_Area(ST_Difference(gap.g, d.geom)::geography) FROM divisions d WHERE d.code = ${communityCode} AND d.geom IS NOT NULL) AS outside_m2,
           b.id AS neighbour_id, b.shared_m
    FROM gap
    LEFT JOIN LATERAL (
      SELECT id, shared_m FROM near
      WHERE ${gridId === undefined ? sql`shared_m > 0` : sql`id = ${gridId}`}
      ORDER BY shared_m DESC, id LIMIT 1
    ) b ON true`.execute(db);
  const row = rows[0];
  return {
    areaM2: row?.area_m2 ?? 0,
    coveredM2: row?.covered_m2 ?? 0,
    outsideM2: row?.outside_m2 ?? null,
    neighbour: row?.neighbour_id != null ? { id: row.neighbour_id, sharedM: row.shared_m ?? 0 } : null,
  };
}

export function gridPlusGapGeometry(gridId: number, gap: unknown): RawBuilder<unknown> {
  return normalised(sql`(SELECT ST_UnaryUnion(ST_Collect(g.geom, ${fromGeoJson(gap)})) FROM grids g WHERE g.id = ${gridId})`);
}

export interface GridAtRow {
  grid: GridRecord;
}

/** Grids of the layouts in force at `at` that cover the point, deterministic order (code, then id). */
export async function gridsCoveringAt(db: Database, lon: number, lat: number, at: Date): Promise<GridRecord[]> {
  const { rows } = await sql<GridRow>`
    SELECT ${gridColumns}
    FROM grids g JOIN layouts l ON l.id = g.layout_id
    WHERE l.effective_from IS NOT NULL
      AND tstzrange(l.effective_from, l.effective_to, '[)') @> ${at.toISOString()}::timestamptz
      AND g.geom && ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326)
      AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326))
    ORDER BY g.code NULLS LAST, g.id`.execute(db);
  return rows.map(toGridRecord);
}

/** Grids of one layout, or of every published layout, optionally within a bbox (index-friendly &&). */
export async function listGrids(
  db: Database,
  opts: { layoutId?: number; bbox?: [number, number, number, number]; limit: number },
): Promise<GridRecord[]> {
  const layoutFilter = opts.layoutId === undefined
    ? sql`g.layout_id IN (SELECT id FROM layouts WHERE status = 'published')`
    : sql`g.layout_id = ${opts.layoutId}`;
  const bboxFilter = opts.bbox ? sql`AND g.geom && ST_MakeEnvelope(${opts.bbox[0]}, ${opts.bbox[1]}, ${opts.bbox[2]}, ${opts.bbox[3]}, 4326)` : sql``;
  const { rows } = await sql<GridRow>`
    SELECT ${gridColumns} FROM grids g WHERE ${layoutFilter} ${bboxFilter}
    ORDER BY g.code NULLS LAST, g.id LIMIT ${opts.limit}`.execute(db);
  return rows.map(toGridRecord);
}
