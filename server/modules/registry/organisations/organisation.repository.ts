/** Organisations (商业网点, schools, hospitals, agencies): a point or footprint placed like buildings. */
import { sql } from 'kysely';
import type { Organisation, OrganisationInput } from '../../../contracts/registry';
import type { Database } from '../../../db/database';
import { containsPattern, placedConditions, placedGeom, type Place, type PlacedFilter } from '../placed-record.repository';

interface OrganisationRow extends Omit<Organisation, 'deletedAt'> {
  deletedAt: Date | null;
}

const COLUMNS = sql`o.id, o.code, o.name, o.kind, o.category, o.employees, o.address, o.opened_on AS "openedOn", o.closed_on AS "closedOn",
  ST_AsGeoJSON(o.geom, 9)::json AS geometry, o.grid_id AS "gridId", o.grid_code AS "gridCode", o.community_code AS "communityCode",
  o.version, o.deleted_at AS "deletedAt"`;

const toOrganisation = (r: OrganisationRow): Organisation => ({ ...r, deletedAt: r.deletedAt ? r.deletedAt.toISOString() : null });

export async function findOrganisation(db: Database, id: number, lock?: 'update'): Promise<Organisation | undefined> {
  const { rows } = await sql<OrganisationRow>`SELECT ${COLUMNS} FROM organisations o WHERE o.id = ${id} ${lock ? sql`FOR UPDATE` : sql``}`.execute(db);
  return rows[0] ? toOrganisation(rows[0]) : undefined;
}

export interface OrganisationFilter extends PlacedFilter {
  kind?: string;
}

export async function listOrganisations(db: Database, f: OrganisationFilter): Promise<Organisation[]> {
  const where = placedConditions('o', f);
  if (f.kind !== undefined) where.push(sql`o.kind = ${f.kind}`);
  if (f.q !== undefined) {
    const like = containsPattern(f.q);
    where.push(sql`(o.name ILIKE ${like} OR o.address ILIKE ${like} OR o.category ILIKE ${like} OR o.code = ${f.q})`);
  }
  const { rows } = await sql<OrganisationRow>`SELECT ${COLUMNS} FROM organisations o WHERE ${sql.join(where, sql` AND `)} ORDER BY o.id LIMIT ${f.limit}`.execute(db);
  return rows.map(toOrganisation);
}

/** The next code of a community: community + 'O' + 4 digits (serialised by the caller's advisory lock). */
export async function nextOrganisationCode(db: Database, communityCode: string): Promise<string> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${'organisation-code:' + communityCode}, 0))`.execute(db);
  const { rows } = await sql<{ n: number }>`
    SELECT coalesce(max(substr(code, 14)::int), 0) + 1 AS n FROM organisations WHERE code ~ ${`^${communityCode}O[0-9]{4}$`}`.execute(db);
  return `${communityCode}O${String(rows[0]?.n ?? 1).padStart(4, '0')}`;
}

export async function insertOrganisation(db: Database, code: string, input: OrganisationInput, place: Place, openedOn: string): Promise<number> {
  const { rows } = await sql<{ id: number }>`
    INSERT INTO organisations (code, name, kind, category, employees, address, geom, opened_on, closed_on, grid_id, grid_code, community_code)
    VALUES (${code}, ${input.name.trim()}, ${input.kind}, ${input.category ?? ''}, ${input.employees ?? 0}, ${input.address ?? ''}, ${placedGeom(input.geometry)},
            ${openedOn}::date, ${input.closedOn ?? null}::date, ${place.gridId}::int, ${place.gridCode}::text, ${place.communityCode}::text)
    RETURNING id`.execute(db);
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('organisation insert returned nothing');
  return id;
}

export async function updateOrganisation(db: Database, id: number, input: OrganisationInput, place: Place): Promise<void> {
  await sql`
    UPDATE organisations SET name = ${input.name.trim()}, kind = ${input.kind}, category = ${input.category ?? ''}, employees = ${input.employees ?? 0},
      address = ${input.address ?? ''}, geom = ${placedGeom(input.geometry)}, opened_on = coalesce(${input.openedOn ?? null}::date, opened_on),
      closed_on = ${input.closedOn ?? null}::date, grid_id = ${place.gridId}::int, grid_code = ${place.gridCode}::text, community_code = ${place.communityCode}::text,
      version = version + 1, updated_at = now()
    WHERE id = ${id}`.execute(db);
}

/**
 * Close the organisation's open history row on `on` and (unless it was deleted) open one with its state
 * now: employee counts and kinds over time feed the monthly report's shop employment.
 */
export async function recordOrganisationHistory(db: Database, id: number, on: string, actorId: number | null, open = true): Promise<void> {
  await sql`UPDATE organisation_history SET valid_to = greatest(${on}::date, valid_from) WHERE organisation_id = ${id} AND valid_to IS NULL`.execute(db);
  if (!open) return;
  await sql`INSERT INTO organisation_history (organisation_id, valid_from, kind, employees, grid_code, community_code, actor_id)
            SELECT id, greatest(${on}::date, coalesce((SELECT max(valid_from) FROM organisation_history WHERE organisation_id = ${id}), ${on}::date)),
                   kind, employees, grid_code, community_code, ${actorId}::int
            FROM organisations WHERE id = ${id}`.execute(db);
}

export interface OrganisationHistoryRow {
  validFrom: string;
  validTo: string | null;
  kind: string;
  employees: number;
}

export async function listOrganisationHistory(db: Database, id: number): Promise<OrganisationHistoryRow[]> {
  const { rows } = await sql<OrganisationHistoryRow>`SELECT valid_from AS "validFrom", valid_to AS "validTo", kind, employees
    FROM organisation_history WHERE organisation_id = ${id} ORDER BY valid_from, id`.execute(db);
  return rows;
}
