/**
 * Residents (人进户). ID numbers and phones arrive here already encrypted and hashed by the service;
 * rows leave as `ResidentRecord` with the ciphertexts, which only the service turns into masked (or,
 * through the audited reveal, full) values.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Resident } from '../../contracts/registry';
import type { Database } from '../../db/database';

export interface ResidentRecord extends Omit<Resident, 'idNumber' | 'phone'> {
  idNumberEnc: Buffer;
  phoneEnc: Buffer | null;
}

interface ResidentRow extends Omit<ResidentRecord, 'deletedAt'> {
  deletedAt: Date | null;
}

const COLUMNS = sql`r.id, r.household_id AS "householdId", r.name, r.gender, r.birth_date AS "birthDate",
  r.id_number_enc AS "idNumberEnc", r.phone_enc AS "phoneEnc", r.relation, r.registration, r.tags, r.status,
  r.grid_id AS "gridId", r.grid_code AS "gridCode", r.community_code AS "communityCode", r.version, r.deleted_at AS "deletedAt"`;

const toRecord = (r: ResidentRow): ResidentRecord => ({ ...r, deletedAt: r.deletedAt ? r.deletedAt.toISOString() : null });

export async function findResident(db: Database, id: number, lock?: 'update'): Promise<ResidentRecord | undefined> {
  const { rows } = await sql<ResidentRow>`SELECT ${COLUMNS} FROM residents r WHERE r.id = ${id} ${lock ? sql`FOR UPDATE` : sql``}`.execute(db);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

export interface ResidentFilter {
  gridCode?: string;
  gridId?: number;
  communityCode?: string;
  householdId?: number;
  bbox?: [number, number, number, number];
  q?: string;
  tag?: string;
  idNumberHmac?: Buffer;
  registration?: string;
  status?: string;
  after?: number;
  limit: number;
  includeDeleted?: boolean;
}

/**
 * One page in id order. With `gridId` the (grid_id, id) partial index answers it by a range scan, which
 * is what keeps the grid worker's list fast at a million residents.
 */
export async function listResidents(db: Database, f: ResidentFilter): Promise<ResidentRecord[]> {
  const where: RawBuilder<unknown>[] = [sql`r.id > ${f.after ?? 0}`];
  if (!f.includeDeleted) where.push(sql`r.deleted_at IS NULL`);
  if (f.gridId !== undefined) where.push(sql`r.grid_id = ${f.gridId}`);
  if (f.gridCode !== undefined) where.push(f.gridCode.length === 15 ? sql`r.grid_code = ${f.gridCode}` : sql`starts_with(r.grid_code, ${f.gridCode})`);
  if (f.communityCode !== undefined) where.push(sql`r.community_code = ${f.communityCode}`);
  if (f.householdId !== undefined) where.push(sql`r.household_id = ${f.householdId}`);
  if (f.tag !== undefined) where.push(sql`r.tags @> ARRAY[${f.tag}]::text[]`);
  if (f.idNumberHmac !== undefined) where.push(sql`r.id_number_hmac = ${f.idNumberHmac}`);
  if (f.registration !== undefined) where.push(sql`r.registration = ${f.registration}`);
  if (f.status !== undefined) where.push(sql`r.status = ${f.status}`);
  if (f.q !== undefined) where.push(sql`r.name LIKE ${`%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`);
  if (f.bbox) {
    where.push(sql`EXISTS (SELECT 1 FROM households h JOIN buildings b ON b.id = h.building_id
      WHERE h.id = r.household_id AND b.geom && ST_MakeEnvelope(${f.bbox[0]}, ${f.bbox[1]}, ${f.bbox[2]}, ${f.bbox[3]}, 4326))`);
  }
  const { rows } = await sql<ResidentRow>`SELECT ${COLUMNS} FROM residents r WHERE ${sql.join(where, sql` AND `)} ORDER BY r.id LIMIT ${f.limit}`.execute(db);
  return rows.map(toRecord);
}

export interface NewResident {
  householdId: number;
  name: string;
  gender: string;
  birthDate: string;
  idNumberEnc: Buffer;
  idNumberHmac: Buffer;
  phoneEnc: Buffer | null;
  phoneHmac: Buffer | null;
  relation: string;
  registration: string;
  tags: string[];
}

export async function insertResident(db: Database, r: NewResident): Promise<number> {
  const { rows } = await sql<{ id: number }>`
    INSERT INTO residents (household_id, name, gender, birth_date, id_number_enc, id_number_hmac, phone_enc, phone_hmac,
                           relation, registration, tags, grid_id, grid_code, community_code)
    SELECT h.id, ${r.name}, ${r.gender}, ${r.birthDate}::date, ${r.idNumberEnc}, ${r.idNumberHmac}, ${r.phoneEnc}, ${r.phoneHmac},
           ${r.relation}, ${r.registration}, ${r.tags}::text[], h.grid_id, h.grid_code, h.community_code
    FROM households h WHERE h.id = ${r.householdId}
    RETURNING id`.execute(db);
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('resident insert returned nothing (household not visible)');
  return id;
}

export interface ResidentChanges {
  householdId?: number;
  name?: string;
  phoneEnc?: Buffer | null;
  phoneHmac?: Buffer | null;
  relation?: string;
  registration?: string;
  tags?: string[];
  status?: string;
}

export async function updateResident(db: Database, id: number, c: ResidentChanges): Promise<void> {
  const sets: RawBuilder<unknown>[] = [sql`version = version + 1`, sql`updated_at = now()`];
  if (c.householdId !== undefined) {
    sets.push(sql`household_id = ${c.householdId}`);
    sets.push(sql`(grid_id, grid_code, community_code) = (SELECT h.grid_id, h.grid_code, h.community_code FROM households h WHERE h.id = ${c.householdId})`);
  }
  if (c.name !== undefined) sets.push(sql`name = ${c.name}`);
  if (c.phoneEnc !== undefined) sets.push(sql`phone_enc = ${c.phoneEnc}, phone_hmac = ${c.phoneHmac ?? null}`);
  if (c.relation !== undefined) sets.push(sql`relation = ${c.relation}`);
  if (c.registration !== undefined) sets.push(sql`registration = ${c.registration}`);
  if (c.tags !== undefined) sets.push(sql`tags = ${c.tags}::text[]`);
  if (c.status !== undefined) sets.push(sql`status = ${c.status}`);
  await sql`UPDATE residents SET ${sql.join(sets, sql`, `)} WHERE id = ${id}`.execute(db);
}

export async function softDeleteResident(db: Database, id: number, reason: string): Promise<void> {
  await sql`UPDATE residents SET deleted_at = now(), deleted_reason = ${reason}, version = version + 1, updated_at = now() WHERE id = ${id}`.execute(db);
}

/**
 * Close the resident's current history row at `on` and open one with its state now. A change is never
 * dated before the current state began (`on` is raised to that day): a row reaching back would overlap
 * the earlier state, and the monthly report would count the person twice in between.
 */
export async function recordResidentHistory(db: Database, id: number, change: string, on: string, actor: { id: number | null; name: string | null }): Promise<void> {
  await sql`UPDATE resident_history SET valid_to = greatest(${on}::date, valid_from) WHERE resident_id = ${id} AND valid_to IS NULL`.execute(db);
  await sql`INSERT INTO resident_history (resident_id, valid_from, change, household_id, registration, tags, status, grid_code, community_code, actor_id, actor)
            SELECT id, greatest(${on}::date, (SELECT max(valid_from) FROM resident_history WHERE resident_id = ${id})), ${change}, household_id, registration, tags, status,
                   grid_code, community_code, ${actor.id}::int, ${actor.name}::text
            FROM residents WHERE id = ${id}`.execute(db);
}

/** The day the resident's current state began (its open history row), if it has one. */
export async function currentStateSince(db: Database, id: number): Promise<string | undefined> {
  const { rows } = await sql<{ from: string }>`SELECT max(valid_from)::text AS "from" FROM resident_history WHERE resident_id = ${id} AND valid_to IS NULL`.execute(db);
  return rows[0]?.from ?? undefined;
}

/**
 * Residents follow their household's grid (its building moved, or the community was re-divided): one
 * statement re-points those of the households `households` selects (a condition on `h`) and gives each
 * whose grid code changed a 'regrid' history row from `on`, closing the current one, so the monthly
 * report by grid follows them. Deleted residents keep their closed history. Returns how many moved.
 */
export async function followHouseholdGrid(db: Database, households: RawBuilder<unknown>, on: string, actor: { id: number | null; name: string | null }): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    WITH u AS (
      UPDATE residents t SET grid_id = h.grid_id, grid_code = h.grid_code, community_code = h.community_code, updated_at = now()
      FROM households h
      WHERE h.id = t.household_id AND (${households}) AND t.grid_id IS DISTINCT FROM h.grid_id
      RETURNING t.id, t.household_id, t.registration, t.tags, t.status, t.grid_code, t.community_code
    ),
    -- Every part of one statement reads the same snapshot: residents r here is the row before the update.
    moved AS (
      SELECT u.* FROM u JOIN residents r ON r.id = u.id WHERE r.grid_code IS DISTINCT FROM u.grid_code AND r.deleted_at IS NULL
    ),
    closed AS (
      UPDATE resident_history rh SET valid_to = greatest(${on}::date, rh.valid_from) FROM moved m WHERE rh.resident_id = m.id AND rh.valid_to IS NULL
    ),
    opened AS (
      INSERT INTO resident_history (resident_id, valid_from, change, household_id, registration, tags, status, grid_code, community_code, actor_id, actor)
      SELECT m.id, greatest(${on}::date, (SELECT max(x.valid_from) FROM resident_history x WHERE x.resident_id = m.id)), 'regrid', m.household_id, m.registration, m.tags, m.status, m.grid_code, m.community_code, ${actor.id}::int, ${actor.name}::text FROM moved m
    )
    SELECT count(*)::int AS n FROM u`.execute(db);
  return rows[0]?.n ?? 0;
}

/** Tags that may be given now (in the taxonomy and not retired), by code. */
export async function listActiveTagCodes(db: Database): Promise<Set<string>> {
  const { rows } = await sql<{ code: string }>`SELECT code FROM resident_tags WHERE retired_in IS NULL`.execute(db);
  return new Set(rows.map((r) => r.code));
}
