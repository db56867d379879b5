/** Households (户进房): a unit/room of a building; grid and community copied from the building. */
import { sql, type RawBuilder } from 'kysely';
import type { Household } from '../../contracts/registry';
import type { Database } from '../../db/database';

interface HouseholdRow extends Omit<Household, 'deletedAt'> {
  deletedAt: Date | null;
}

const COLUMNS = sql`h.id, h.building_id AS "buildingId", b.code AS "buildingCode", b.address, h.unit, h.room, h.tenure,
  (SELECT count(*)::int FROM residents r WHERE r.household_id = h.id AND r.status = 'present' AND r.deleted_at IS NULL) AS members,
  h.grid_id AS "gridId", h.grid_code AS "gridCode", h.community_code AS "communityCode", h.version, h.deleted_at AS "deletedAt"`;

const toHousehold = (r: HouseholdRow): Household => ({ ...r, deletedAt: r.deletedAt ? r.deletedAt.toISOString() : null });

export async function findHousehold(db: Database, id: number, lock?: 'update'): Promise<Household | undefined> {
  const { rows } = await sql<HouseholdRow>`SELECT ${COLUMNS} FROM households h JOIN buildings b ON b.id = h.building_id
    WHERE h.id = ${id} ${lock ? sql`FOR UPDATE OF h` : sql``}`.execute(db);
  return rows[0] ? toHousehold(rows[0]) : undefined;
}

export async function listHouseholds(
  db: Database,
  f: { gridCode?: string; gridId?: number; communityCode?: string; buildingId?: number; after?: number; limit: number; includeDeleted?: boolean },
): Promise<Household[]> {
  const where: RawBuilder<unknown>[] = [sql`h.id > ${f.after ?? 0}`];
  if (!f.includeDeleted) where.push(sql`h.deleted_at IS NULL`);
  if (f.gridId !== undefined) where.push(sql`h.grid_id = ${f.gridId}`);
  if (f.gridCode !== undefined) where.push(sql`starts_with(h.grid_code, ${f.gridCode})`);
  if (f.communityCode !== undefined) where.push(sql`h.community_code = ${f.communityCode}`);
  if (f.buildingId !== undefined) where.push(sql`h.building_id = ${f.buildingId}`);
  const { rows } = await sql<HouseholdRow>`SELECT ${COLUMNS} FROM households h JOIN buildings b ON b.id = h.building_id
    WHERE ${sql.join(where, sql` AND `)} ORDER BY h.id LIMIT ${f.limit}`.execute(db);
  return rows.map(toHousehold);
}

export async function insertHousehold(db: Database, h: { buildingId: number; unit: string; room: string; tenure: string }): Promise<number> {
  const { rows } = await sql<{ id: number }>`
    INSERT INTO households (building_id, unit, room, tenure, grid_id, grid_code, community_code)
    SELECT b.id, ${h.unit}, ${h.room}, ${h.tenure}, b.grid_id, b.grid_code, b.community_code FROM buildings b WHERE b.id = ${h.buildingId}
    RETURNING id`.execute(db);
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('household insert returned nothing');
  return id;
}

export async function updateHouseholdTenure(db: Database, id: number, tenure: string): Promise<void> {
  await sql`UPDATE households SET tenure = ${tenure}, version = version + 1, updated_at = now() WHERE id = ${id}`.execute(db);
}

export async function softDeleteHousehold(db: Database, id: number, reason: string): Promise<void> {
  await sql`UPDATE households SET deleted_at = now(), deleted_reason = ${reason}, version = version + 1, updated_at = now() WHERE id = ${id}`.execute(db);
}

/** Close the household's current history row at `on` and open one describing its state now. */
export async function recordHouseholdHistory(db: Database, id: number, change: string, on: string, actor: { id: number | null; name: string | null }): Promise<void> {
  await sql`UPDATE household_history SET valid_to = greatest(${on}::date, valid_from) WHERE household_id = ${id} AND valid_to IS NULL`.execute(db);
  await sql`INSERT INTO household_history (household_id, valid_from, change, building_id, tenure, grid_code, community_code, actor_id, actor)
            SELECT id, ${on}::date, ${change}, building_id, tenure, grid_code, community_code, ${actor.id}::int, ${actor.name}::text
            FROM households WHERE id = ${id}`.execute(db);
}
