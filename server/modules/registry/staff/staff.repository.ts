/**
 * Staff, their grid assignments and the duty roster (weekly shifts and dated exceptions). Every write
 * to these tables fires `wangge_roster_changed` (statement triggers, migration 0010), which the
 * dispatch engine's in-memory roster follows.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Staff, StaffInput } from '../../../contracts/registry';
import type { Database } from '../../../db/database';

interface StaffRow extends Omit<Staff, 'deletedAt'> {
  deletedAt: Date | null;
}

const COLUMNS = sql`st.id, st.code, st.name, st.gender, st.phone, st.role, st.unit_code AS "unitCode", st.version, st.deleted_at AS "deletedAt",
  coalesce((SELECT json_agg(json_build_object('gridCode', a.grid_code, 'role', a.role) ORDER BY a.grid_code)
            FROM staff_assignments a WHERE a.staff_id = st.id AND a.from_date <= ${sql`(now() AT TIME ZONE 'Asia/Shanghai')::date`}
              AND (a.to_date IS NULL OR a.to_date > (now() AT TIME ZONE 'Asia/Shanghai')::date)), '[]') AS grids`;

const toStaff = (r: StaffRow): Staff => ({ ...r, deletedAt: r.deletedAt ? r.deletedAt.toISOString() : null });

export async function findStaff(db: Database, id: number, lock?: 'update'): Promise<Staff | undefined> {
  const { rows } = await sql<StaffRow>`SELECT ${COLUMNS} FROM staff st WHERE st.id = ${id} ${lock ? sql`FOR UPDATE` : sql``}`.execute(db);
  return rows[0] ? toStaff(rows[0]) : undefined;
}

export interface StaffFilter {
  /** Belonging to (unit code) or currently assigned to a grid under this code prefix. */
  codePrefix?: string;
  bbox?: [number, number, number, number];
  q?: string;
  role?: string;
  after?: number;
  limit: number;
  includeDeleted?: boolean;
}

export async function listStaff(db: Database, f: StaffFilter): Promise<Staff[]> {
  const where: RawBuilder<unknown>[] = [sql`st.id > ${f.after ?? 0}`];
  if (!f.includeDeleted) where.push(sql`st.deleted_at IS NULL`);
  if (f.codePrefix !== undefined) {
    where.push(sql`(starts_with(st.unit_code, ${f.codePrefix}) OR EXISTS (SELECT 1 FROM staff_assignments a WHERE a.staff_id = st.id
      AND starts_with(a.grid_code, ${f.codePrefix}) AND (a.to_date IS NULL OR a.to_date > (now() AT TIME ZONE 'Asia/Shanghai')::date)))`);
  }
  if (f.bbox) {
    where.push(sql`EXISTS (SELECT 1 FROM staff_assignments a JOIN grids g ON g.code = a.grid_code JOIN layouts l ON l.id = g.layout_id AND l.status = 'published'
      WHERE a.staff_id = st.id AND (a.to_date IS NULL OR a.to_date > (now() AT TIME ZONE 'Asia/Shanghai')::date)
        AND g.geom && ST_MakeEnvelope(${f.bbox[0]}, ${f.bbox[1]}, ${f.bbox[2]}, ${f.bbox[3]}, 4326))`);
  }
  if (f.role !== undefined) where.push(sql`st.role = ${f.role}`);
  if (f.q !== undefined) {
    const like = `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(sql`(st.name LIKE ${like} OR st.code = ${f.q.toUpperCase()} OR st.phone = ${f.q})`);
  }
  const { rows } = await sql<StaffRow>`SELECT ${COLUMNS} FROM staff st WHERE ${sql.join(where, sql` AND `)} ORDER BY st.id LIMIT ${f.limit}`.execute(db);
  return rows.map(toStaff);
}

export async function insertStaff(db: Database, s: StaffInput): Promise<number> {
  const { rows } = await sql<{ id: number }>`
    INSERT INTO staff (code, name, gender, phone, role, unit_code) VALUES (${s.code}, ${s.name.trim()}, ${s.gender ?? null}, ${s.phone ?? null}, ${s.role}, ${s.unitCode})
    RETURNING id`.execute(db);
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('staff insert returned nothing');
  return id;
}

export async function updateStaff(db: Database, id: number, s: StaffInput): Promise<void> {
  await sql`UPDATE staff SET name = ${s.name.trim()}, gender = ${s.gender ?? null}, phone = ${s.phone ?? null}, role = ${s.role}, unit_code = ${s.unitCode},
    version = version + 1, updated_at = now() WHERE id = ${id}`.execute(db);
}

export async function softDeleteStaff(db: Database, id: number, reason: string, today: string): Promise<void> {
  await sql`UPDATE staff SET deleted_at = now(), deleted_reason = ${reason}, version = version + 1, updated_at = now() WHERE id = ${id}`.execute(db);
  // Their open assignments end today (the dates stay as history); future ones go.
  await sql`DELETE FROM staff_assignments WHERE staff_id = ${id} AND from_date >= ${today}::date`.execute(db);
  await sql`UPDATE staff_assignments SET to_date = ${today}::date WHERE staff_id = ${id} AND (to_date IS NULL OR to_date > ${today}::date)`.execute(db);
}

// Grids and members --------------------------------------------------------------------------------

export async function findGridCode(db: Database, gridId: number): Promise<string | null | undefined> {
  const { rows } = await sql<{ code: string | null }>`SELECT code FROM grids WHERE id = ${gridId}`.execute(db);
  return rows[0] ? rows[0].code : undefined;
}

export interface MemberRow {
  assignmentId: number;
  staffId: number;
  staffCode: string;
  name: string;
  phone: string | null;
  role: 'grid_leader' | 'full_time_worker' | 'part_time_worker' | 'party_secretary' | 'community_police';
  fromDate: string;
  toDate: string | null;
}

export async function listMembers(db: Database, gridCode: string, on: string): Promise<MemberRow[]> {
  const { rows } = await sql<MemberRow>`
    SELECT a.id AS "assignmentId", st.id AS "staffId", st.code AS "staffCode", st.name, st.phone, a.role, a.from_date AS "fromDate", a.to_date AS "toDate"
    FROM staff_assignments a JOIN staff st ON st.id = a.staff_id AND st.deleted_at IS NULL
    WHERE a.grid_code = ${gridCode} AND a.from_date <= ${on}::date AND (a.to_date IS NULL OR a.to_date > ${on}::date)
    ORDER BY CASE a.role WHEN 'grid_leader' THEN 0 WHEN 'full_time_worker' THEN 1 WHEN 'part_time_worker' THEN 2 ELSE 3 END, st.code`.execute(db);
  return rows;
}

export async function insertAssignment(db: Database, a: { staffId: number; gridCode: string; role: string; fromDate: string; toDate: string | null }): Promise<number> {
  const { rows } = await sql<{ id: number }>`
    INSERT INTO staff_assignments (staff_id, grid_code, role, from_date, to_date) VALUES (${a.staffId}, ${a.gridCode}, ${a.role}, ${a.fromDate}::date, ${a.toDate}::date)
    RETURNING id`.execute(db);
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('assignment insert returned nothing');
  return id;
}

/** End an assignment on `on` (kept as history); one that has not started yet is removed. */
export async function endAssignment(db: Database, gridCode: string, assignmentId: number, on: string): Promise<boolean> {
  const del = await sql`DELETE FROM staff_assignments WHERE id = ${assignmentId} AND grid_code = ${gridCode} AND from_date >= ${on}::date`.execute(db);
  if (Number(del.numAffectedRows ?? 0) > 0) return true;
  const upd = await sql`UPDATE staff_assignments SET to_date = ${on}::date WHERE id = ${assignmentId} AND grid_code = ${gridCode} AND (to_date IS NULL OR to_date > ${on}::date)`.execute(db);
  return Number(upd.numAffectedRows ?? 0) > 0;
}

// Roster -------------------------------------------------------------------------------------------

export interface ShiftRow {
  id: number;
  staffId: number;
  staffCode: string;
  name: string;
  weekday: number;
  start: string;
  end: string;
}

export async function listShifts(db: Database, scopeCode: string): Promise<ShiftRow[]> {
  const { rows } = await sql<ShiftRow>`
    SELECT s.id, s.staff_id AS "staffId", st.code AS "staffCode", st.name, s.weekday::int AS weekday,
           to_char(s.start_time, 'HH24:MI') AS start, CASE WHEN s.end_time = '24:00' THEN '24:00' ELSE to_char(s.end_time, 'HH24:MI') END AS "end"
    FROM roster_shifts s JOIN staff st ON st.id = s.staff_id
    WHERE s.scope_code = ${scopeCode} ORDER BY s.weekday, s.start_time, st.code`.execute(db);
  return rows;
}

/** Serialises edits of one grid's week (transaction-scoped advisory lock). */
export async function lockRoster(db: Database, gridCode: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${'roster:' + gridCode}, 0))`.execute(db);
}

export async function replaceShifts(db: Database, scopeCode: string, shifts: ReadonlyArray<{ staffId: number; weekday: number; start: string; end: string }>): Promise<void> {
  await sql`DELETE FROM roster_shifts WHERE scope_code = ${scopeCode}`.execute(db);
  if (shifts.length === 0) return;
  await sql`INSERT INTO roster_shifts (staff_id, scope_code, weekday, start_time, end_time)
    SELECT t.staff_id, ${scopeCode}, t.weekday, t.start_time::time, t.end_time::time
    FROM unnest(${shifts.map((s) => s.staffId)}::int[], ${shifts.map((s) => s.weekday)}::int[], ${shifts.map((s) => s.start)}::text[], ${shifts.map((s) => s.end)}::text[])
      AS t(staff_id, weekday, start_time, end_time)`.execute(db);
}

export interface ExceptionRow {
  id: number;
  kind: 'leave' | 'holiday' | 'extra';
  staffId: number | null;
  staffCode: string | null;
  scopeCode: string | null;
  startsAt: string;
  endsAt: string;
  reason: string;
}

/** Exceptions touching a grid in [from, to): holidays over it, extra shifts in it, leave of its staff. */
export async function listExceptions(db: Database, gridCode: string, from: string, to: string): Promise<ExceptionRow[]> {
  const { rows } = await sql<ExceptionRow & { startsAt: Date; endsAt: Date }>`
    SELECT e.id, e.kind, e.staff_id AS "staffId", st.code AS "staffCode", e.scope_code AS "scopeCode", e.starts_at AS "startsAt", e.ends_at AS "endsAt", e.reason
    FROM roster_exceptions e LEFT JOIN staff st ON st.id = e.staff_id
    WHERE e.starts_at < ${to}::timestamptz AND e.ends_at > ${from}::timestamptz AND (
      (e.kind = 'holiday' AND starts_with(${gridCode}, e.scope_code)) OR
      (e.kind = 'extra' AND e.scope_code = ${gridCode}) OR
      (e.kind = 'leave' AND EXISTS (SELECT 1 FROM staff_assignments a WHERE a.staff_id = e.staff_id AND a.grid_code = ${gridCode}))
    )
    ORDER BY e.starts_at, e.id`.execute(db);
  return rows.map((r) => ({ ...r, startsAt: new Date(r.startsAt).toISOString(), endsAt: new Date(r.endsAt).toISOString() }));
}

export async function insertException(db: Database, e: { kind: string; staffId: number | null; scopeCode: string | null; startsAt: string; endsAt: string; reason: string }): Promise<number> {
  const { rows } = await sql<{ id: number }>`
    INSERT INTO roster_exceptions (kind, staff_id, scope_code, starts_at, ends_at, reason)
    VALUES (${e.kind}, ${e.staffId}::int, ${e.scopeCode}::text, ${e.startsAt}::timestamptz, ${e.endsAt}::timestamptz, ${e.reason}) RETURNING id`.execute(db);
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('exception insert returned nothing');
  return id;
}

export async function deleteException(db: Database, id: number, gridCode: string): Promise<boolean> {
  const res = await sql`DELETE FROM roster_exceptions e WHERE e.id = ${id} AND (
      (e.kind IN ('holiday', 'extra') AND e.scope_code = ${gridCode}) OR
      (e.kind = 'leave' AND EXISTS (SELECT 1 FROM staff_assignments a WHERE a.staff_id = e.staff_id AND a.grid_code = ${gridCode})))`.execute(db);
  return Number(res.numAffectedRows ?? 0) > 0;
}
