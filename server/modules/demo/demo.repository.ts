import { sql } from 'kysely';
import type { Database } from '../../db/database';

export async function isDatabaseEmpty(db: Database): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`SELECT (SELECT count(*) FROM divisions)::int AS n`.execute(db);
  return (rows[0]?.n ?? 0) === 0;
}

export interface DivisionRow {
  code: string;
  level: string;
  name: string;
  parentCode: string | null;
  boundary: unknown;
}

/** Bulk insert in one statement per table: unnest of parallel arrays keeps it to one round trip. */
export async function insertDivisions(db: Database, rows: readonly DivisionRow[]): Promise<void> {
  await sql`
    INSERT INTO divisions (code, level, name, parent_code, geom)
    SELECT code, level, name, parent_code, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(boundary), 4326))
    FROM unnest(${rows.map((r) => r.code)}::text[], ${rows.map((r) => r.level)}::text[], ${rows.map((r) => r.name)}::text[],
                ${rows.map((r) => r.parentCode)}::text[], ${rows.map((r) => JSON.stringify(r.boundary))}::text[])
         AS t(code, level, name, parent_code, boundary)
    ORDER BY length(code)`.execute(db);
}

export async function insertRoads(db: Database, rows: ReadonlyArray<{ code: string; name: string; kind: string; geom: unknown }>): Promise<void> {
  await sql`
    INSERT INTO roads (code, name, kind, geom)
    SELECT code, name, kind, ST_SetSRID(ST_GeomFromGeoJSON(geom), 4326)
    FROM unnest(${rows.map((r) => r.code)}::text[], ${rows.map((r) => r.name)}::text[], ${rows.map((r) => r.kind)}::text[],
                ${rows.map((r) => JSON.stringify(r.geom))}::text[]) AS t(code, name, kind, geom)`.execute(db);
}

/** One published layout per community, effective from `effectiveFrom`; returns community → layout id. */
export async function insertPublishedLayouts(db: Database, communityCodes: readonly string[], effectiveFrom: string): Promise<Map<string, number>> {
  const { rows } = await sql<{ id: number; community_code: string }>`
    INSERT INTO layouts (community_code, status, name, effective_from, published_at)
    SELECT c, 'published', '初始网格划分', ${effectiveFrom}::timestamptz, ${effectiveFrom}::timestamptz
    FROM unnest(${[...communityCodes]}::text[]) AS c
    RETURNING id, community_code`.execute(db);
  return new Map(rows.map((r) => [r.community_code, r.id]));
}

export async function insertGridsBulk(
  db: Database,
  rows: ReadonlyArray<{ layoutId: number; code: string; name: string; kind: string; geom: unknown }>,
): Promise<void> {
  await sql`
    INSERT INTO grids (layout_id, code, name, kind, geom)
    SELECT layout_id, code, name, kind, ST_SetSRID(ST_GeomFromGeoJSON(geom), 4326)
    FROM unnest(${rows.map((r) => r.layoutId)}::int[], ${rows.map((r) => r.code)}::text[], ${rows.map((r) => r.name)}::text[],
                ${rows.map((r) => r.kind)}::text[], ${rows.map((r) => JSON.stringify(r.geom))}::text[]) AS t(layout_id, code, name, kind, geom)`.execute(db);
}

/** The published grid of each code, for placing the demo registry without a spatial join. */
const PUBLISHED_GRID = sql`(SELECT g.id, g.code FROM grids g JOIN layouts l ON l.id = g.layout_id AND l.status = 'published')`;

export async function insertBuildingsBulk(
  db: Database,
  rows: ReadonlyArray<{ communityCode: string; gridCode: string; code: string; name: string; address: string; use: string; floors: number; geom: unknown }>,
): Promise<void> {
  await sql`
    INSERT INTO buildings (community_code, code, name, address, use, floors, geom, grid_id, grid_code)
    SELECT t.community_code, t.code, t.name, t.address, t.use, t.floors, ST_SetSRID(ST_GeomFromGeoJSON(t.geom), 4326), g.id, t.grid_code
    FROM unnest(${rows.map((r) => r.communityCode)}::text[], ${rows.map((r) => r.code)}::text[], ${rows.map((r) => r.name)}::text[],
                ${rows.map((r) => r.address)}::text[], ${rows.map((r) => r.use)}::text[], ${rows.map((r) => r.floors)}::int[],
                ${rows.map((r) => JSON.stringify(r.geom))}::text[], ${rows.map((r) => r.gridCode)}::text[])
         AS t(community_code, code, name, address, use, floors, geom, grid_code)
    LEFT JOIN ${PUBLISHED_GRID} g ON g.code = t.grid_code`.execute(db);
}

export async function insertHouseholdsBulk(
  db: Database,
  rows: ReadonlyArray<{ communityCode: string; buildingCode: string; unit: string; room: string; tenure: string }>,
  validFrom: string,
): Promise<void> {
  await sql`
    WITH ins AS (
      INSERT INTO households (building_id, unit, room, tenure, grid_id, grid_code, community_code)
      SELECT b.id, t.unit, t.room, t.tenure, b.grid_id, b.grid_code, b.community_code
      FROM unnest(${rows.map((r) => r.communityCode)}::text[], ${rows.map((r) => r.buildingCode)}::text[], ${rows.map((r) => r.unit)}::text[],
                  ${rows.map((r) => r.room)}::text[], ${rows.map((r) => r.tenure)}::text[]) AS t(community_code, building_code, unit, room, tenure)
      JOIN buildings b ON b.community_code = t.community_code AND b.code = t.building_code
      RETURNING id, building_id, tenure, grid_code, community_code
    )
    INSERT INTO household_history (household_id, valid_from, change, building_id, tenure, grid_code, community_code, actor)
    SELECT id, ${validFrom}::date, 'registered', building_id, tenure, grid_code, community_code, 'demo' FROM ins`.execute(db);
}

export interface DemoResidentRow {
  communityCode: string;
  buildingCode: string;
  unit: string;
  room: string;
  name: string;
  gender: string;
  birthDate: string;
  idNumberEnc: Buffer;
  idNumberHmac: Buffer;
  phoneEnc: Buffer | null;
  phoneHmac: Buffer | null;
  relation: string;
  registration: string;
  /** Comma-joined tag codes ('' for none): arrays of arrays do not unnest row by row. */
  tags: string;
}

export async function insertResidentsBulk(db: Database, rows: readonly DemoResidentRow[], validFrom: string): Promise<void> {
  await sql`
    WITH ins AS (
      INSERT INTO residents (household_id, name, gender, birth_date, id_number_enc, id_number_hmac, phone_enc, phone_hmac,
                             relation, registration, tags, grid_id, grid_code, community_code)
      SELECT h.id, t.name, t.gender, t.birth_date::date, t.id_enc, t.id_hmac, t.phone_enc, t.phone_hmac, t.relation, t.registration,
             coalesce(string_to_array(nullif(t.tags, ''), ','), '{}'), h.grid_id, h.grid_code, h.community_code
      FROM unnest(${rows.map((r) => r.communityCode)}::text[], ${rows.map((r) => r.buildingCode)}::text[], ${rows.map((r) => r.unit)}::text[],
                  ${rows.map((r) => r.room)}::text[], ${rows.map((r) => r.name)}::text[], ${rows.map((r) => r.gender)}::text[],
                  ${rows.map((r) => r.birthDate)}::text[], ${rows.map((r) => r.idNumberEnc)}::bytea[], ${rows.map((r) => r.idNumberHmac)}::bytea[],
                  ${rows.map((r) => r.phoneEnc)}::bytea[], ${rows.map((r) => r.phoneHmac)}::bytea[], ${rows.map((r) => r.relation)}::text[],
                  ${rows.map((r) => r.registration)}::text[], ${rows.map((r) => r.tags)}::text[])
           AS t(community_code, building_code, unit, room, name, gender, birth_date, id_enc, id_hmac, phone_enc, phone_hmac, relation, registration, tags)
      JOIN buildings b ON b.community_code = t.community_code AND b.code = t.building_code
      JOIN households h ON h.building_id = b.id AND h.unit = t.unit AND h.room = t.room
      RETURNING id, household_id, registration, tags, status, grid_code, community_code
    )
    INSERT INTO resident_history (resident_id, valid_from, change, household_id, registration, tags, status, grid_code, community_code, actor)
    SELECT id, ${validFrom}::date, 'registered', household_id, registration, coalesce(tags, '{}'), status, grid_code, community_code, 'demo' FROM ins`.execute(db);
}

export async function insertOrganisationsBulk(
  db: Database,
  rows: ReadonlyArray<{ code: string; communityCode: string; gridCode: string; name: string; kind: string; category: string; employees: number; address: string; geom: unknown }>,
  openedOn: string,
): Promise<void> {
  await sql`
    WITH ins AS (
      INSERT INTO organisations (code, name, kind, category, employees, address, geom, opened_on, grid_id, grid_code, community_code)
      SELECT t.code, t.name, t.kind, t.category, t.employees, t.address, ST_SetSRID(ST_GeomFromGeoJSON(t.geom), 4326), ${openedOn}::date, g.id, t.grid_code, t.community_code
      FROM unnest(${rows.map((r) => r.code)}::text[], ${rows.map((r) => r.communityCode)}::text[], ${rows.map((r) => r.gridCode)}::text[],
                  ${rows.map((r) => r.name)}::text[], ${rows.map((r) => r.kind)}::text[], ${rows.map((r) => r.category)}::text[],
                  ${rows.map((r) => r.employees)}::int[], ${rows.map((r) => r.address)}::text[], ${rows.map((r) => JSON.stringify(r.geom))}::text[])
           AS t(code, community_code, grid_code, name, kind, category, employees, address, geom)
      LEFT JOIN ${PUBLISHED_GRID} g ON g.code = t.grid_code
      RETURNING id, kind, employees, grid_code, community_code
    )
    INSERT INTO organisation_history (organisation_id, valid_from, kind, employees, grid_code, community_code)
    SELECT id, ${openedOn}::date, kind, employees, grid_code, community_code FROM ins`.execute(db);
}

export async function insertStaffBulk(
  db: Database,
  staff: ReadonlyArray<{ code: string; name: string; gender: string; phone: string; role: string; unitCode: string }>,
  assignments: ReadonlyArray<{ staffCode: string; gridCode: string; role: string; fromDate: string }>,
  shifts: ReadonlyArray<{ staffCode: string; scopeCode: string; weekday: number; start: string; end: string }>,
): Promise<void> {
  await sql`
    INSERT INTO staff (code, name, gender, phone, role, unit_code)
    SELECT * FROM unnest(${staff.map((s) => s.code)}::text[], ${staff.map((s) => s.name)}::text[], ${staff.map((s) => s.gender)}::text[],
                         ${staff.map((s) => s.phone)}::text[], ${staff.map((s) => s.role)}::text[], ${staff.map((s) => s.unitCode)}::text[])`.execute(db);
  await sql`
    INSERT INTO staff_assignments (staff_id, grid_code, role, from_date)
    SELECT s.id, t.grid_code, t.role, t.from_date::date
    FROM unnest(${assignments.map((a) => a.staffCode)}::text[], ${assignments.map((a) => a.gridCode)}::text[], ${assignments.map((a) => a.role)}::text[],
                ${assignments.map((a) => a.fromDate)}::text[]) AS t(staff_code, grid_code, role, from_date)
    JOIN staff s ON s.code = t.staff_code`.execute(db);
  await sql`
    INSERT INTO roster_shifts (staff_id, scope_code, weekday, start_time, end_time)
    SELECT s.id, t.scope_code, t.weekday, t.start_time::time, t.end_time::time
    FROM unnest(${shifts.map((r) => r.staffCode)}::text[], ${shifts.map((r) => r.scopeCode)}::text[], ${shifts.map((r) => r.weekday)}::int[],
                ${shifts.map((r) => r.start)}::text[], ${shifts.map((r) => r.end)}::text[]) AS t(staff_code, scope_code, weekday, start_time, end_time)
    JOIN staff s ON s.code = t.staff_code`.execute(db);
}
