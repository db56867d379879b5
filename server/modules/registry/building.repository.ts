/** Buildings: footprints (or points) placed in a community and a grid by registry_place (0006). */
import { sql } from 'kysely';
import type { Building, BuildingInput } from '../../contracts/registry';
import type { Database } from '../../db/database';
import { containsPattern, placedConditions, placedGeom, type Place, type PlacedFilter } from './placed-record.repository';
import { followHouseholdGrid } from './resident.repository';

interface BuildingRow {
  id: number;
  code: string;
  externalId: string | null;
  name: string;
  address: string;
  use: Building['use'];
  floors: number | null;
  geometry: Building['geometry'];
  gridId: number | null;
  gridCode: string | null;
  communityCode: string | null;
  version: number;
  deletedAt: Date | null;
}

const COLUMNS = sql`b.id, b.code, b.external_id AS "externalId", b.name, b.address, b.use, b.floors,
  ST_AsGeoJSON(b.geom, 9)::json AS geometry, b.grid_id AS "gridId", b.grid_code AS "gridCode",
  b.community_code AS "communityCode", b.version, b.deleted_at AS "deletedAt"`;

function toBuilding(r: BuildingRow): Building {
  return { ...r, deletedAt: r.deletedAt ? r.deletedAt.toISOString() : null };
}

export async function findBuilding(db: Database, id: number, lock?: 'update'): Promise<Building | undefined> {
  const { rows } = await sql<BuildingRow>`SELECT ${COLUMNS} FROM buildings b WHERE b.id = ${id} ${lock ? sql`FOR UPDATE` : sql``}`.execute(db);
  return rows[0] ? toBuilding(rows[0]) : undefined;
}

export type BuildingFilter = PlacedFilter;

export async function listBuildings(db: Database, f: BuildingFilter): Promise<Building[]> {
  const where = placedConditions('b', f);
  if (f.q !== undefined) {
    const like = containsPattern(f.q);
    where.push(sql`(b.name ILIKE ${like} OR b.address ILIKE ${like} OR b.code = ${f.q} OR b.external_id = ${f.q})`);
  }
  const { rows } = await sql<BuildingRow>`SELECT ${COLUMNS} FROM buildings b WHERE ${sql.join(where, sql` AND `)} ORDER BY b.id LIMIT ${f.limit}`.execute(db);
  return rows.map(toBuilding);
}

/** Serialises code numbering within a community (transaction-scoped advisory lock). */
export async function lockBuildingCodes(db: Database, communityCode: string | null): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${'building-code:' + (communityCode ?? '')}, 0))`.execute(db);
}

export async function insertBuilding(db: Database, input: BuildingInput, place: Place): Promise<number> {
  const { rows } = await sql<{ id: number }>`
    INSERT INTO buildings (community_code, code, external_id, name, address, use, floors, geom, grid_id, grid_code)
    SELECT ${place.communityCode}::text,
           lpad((coalesce(max(code::int), 0) + 1)::text, 5, '0'),
           ${input.externalId ?? null}, ${input.name ?? ''}, ${input.address ?? ''}, ${input.use ?? 'residential'}, ${input.floors ?? null}::int,
           ${placedGeom(input.geometry)}, ${place.gridId}::int, ${place.gridCode}::text
    FROM buildings WHERE community_code IS NOT DISTINCT FROM ${place.communityCode}::text
    RETURNING id`.execute(db);
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('building insert returned nothing');
  return id;
}

export async function updateBuilding(
  db: Database,
  id: number,
  input: BuildingInput,
  place: Pick<Place, 'gridId' | 'gridCode'>,
): Promise<void> {
  await sql`
    UPDATE buildings SET name = ${input.name ?? ''}, address = ${input.address ?? ''}, use = ${input.use ?? 'residential'},
      floors = ${input.floors ?? null}::int, geom = ${placedGeom(input.geometry)}, grid_id = ${place.gridId}::int, grid_code = ${place.gridCode}::text,
      version = version + 1, updated_at = now()
    WHERE id = ${id}`.execute(db);
}

/** Carry a building's grid to its households and their residents (after it moved or was re-placed). */
export async function cascadeBuildingGrid(db: Database, buildingId: number, on: string, actor: { id: number | null; name: string | null }): Promise<void> {
  await sql`UPDATE households h SET grid_id = b.grid_id, grid_code = b.grid_code, community_code = b.community_code, updated_at = now()
            FROM buildings b WHERE b.id = ${buildingId} AND h.building_id = b.id AND h.grid_id IS DISTINCT FROM b.grid_id`.execute(db);
  await followHouseholdGrid(db, sql`h.building_id = ${buildingId}`, on, actor);
}

export async function countLiveHouseholds(db: Database, buildingId: number): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM households WHERE building_id = ${buildingId} AND deleted_at IS NULL`.execute(db);
  return rows[0]?.n ?? 0;
}
