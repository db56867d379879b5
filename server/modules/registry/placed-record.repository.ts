/**
 * SQL shared by the registry's placed records — buildings and organisations: a point or footprint that
 * registry_place (0006) puts into a community and a grid, listed by place, soft-deleted with a reason.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../../db/database';
import { fromGeoJson } from '../../db/postgis';

/** Where a geometry lies: its community and its grid (null outside every community or grid). */
export interface Place {
  communityCode: string | null;
  gridId: number | null;
  gridCode: string | null;
}

/** The tables whose rows are placed records (each has geom, grid_id, grid_code, community_code, version, deleted_at). */
export type PlacedTable = 'buildings' | 'organisations';

/**
 * A record's GeoJSON geometry as stored: 2D. GeoJSON positions may carry an altitude (the route schema
 * admits it), which the 2D geom columns refuse with an error that was a 500.
 */
export function placedGeom(geometry: unknown): RawBuilder<unknown> {
  return sql`ST_Force2D(${fromGeoJson(geometry)})`;
}

/**
 * The community and grid of `geometry` (GeoJSON, EPSG:4326) by registry_place: a given `communityCode`
 * wins over the one the geometry lies in, and the grid comes from that community's published layout
 * (none while it has none).
 */
export async function placeGeometry(db: Database, geometry: unknown, communityCode: string | null): Promise<Place> {
  const { rows } = await sql<Place>`
    SELECT community_code AS "communityCode", grid_id AS "gridId", grid_code AS "gridCode"
    FROM registry_place(${placedGeom(geometry)}, ${communityCode}::text)`.execute(db);
  return rows[0] ?? { communityCode, gridId: null, gridCode: null };
}

export async function softDeletePlaced(db: Database, table: PlacedTable, id: number, reason: string): Promise<void> {
  await sql`UPDATE ${sql.table(table)} SET deleted_at = now(), deleted_reason = ${reason}, version = version + 1, updated_at = now() WHERE id = ${id}`.execute(db);
}

/** The filters every list of placed records takes (keyset-paged by id). */
export interface PlacedFilter {
  gridCode?: string;
  gridId?: number;
  communityCode?: string;
  bbox?: [number, number, number, number];
  q?: string;
  after?: number;
  limit: number;
  includeDeleted?: boolean;
}

/**
 * The WHERE conditions of `f` on the placed table aliased `alias`, except the text search `q`, whose
 * columns differ by table (use {@link containsPattern}). The bbox test uses `&&` so the GiST index serves it.
 */
export function placedConditions(alias: 'b' | 'o', f: PlacedFilter): RawBuilder<unknown>[] {
  const col = (name: string): RawBuilder<unknown> => sql.ref(`${alias}.${name}`);
  const where: RawBuilder<unknown>[] = [sql`${col('id')} > ${f.after ?? 0}`];
  if (!f.includeDeleted) where.push(sql`${col('deleted_at')} IS NULL`);
  if (f.gridId !== undefined) where.push(sql`${col('grid_id')} = ${f.gridId}`);
  if (f.gridCode !== undefined) where.push(sql`starts_with(${col('grid_code')}, ${f.gridCode})`);
  if (f.communityCode !== undefined) where.push(sql`${col('community_code')} = ${f.communityCode}`);
  if (f.bbox) where.push(sql`${col('geom')} && ST_MakeEnvelope(${f.bbox[0]}, ${f.bbox[1]}, ${f.bbox[2]}, ${f.bbox[3]}, 4326)`);
  return where;
}

/** An ILIKE pattern matching text that contains `q` literally (its `\`, `%` and `_` escaped). */
export function containsPattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
