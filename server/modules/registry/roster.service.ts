/**
 * Who is on duty in grid G at instant T — one answer, by this ordered rule (dispatch relies on it):
 *
 * 1. Grid level. Candidates are staff with an extra shift for G (or a prefix of G) covering T, and staff
 *    with a weekly shift for G covering T's Asia/Shanghai weekday and time (start inclusive, end
 *    exclusive) who hold an assignment to G on T's local date — unless a holiday covering T applies to
 *    G (holiday scope code is a prefix of G): holidays cancel grid workers' weekly shifts.
 * 2. Community level (G's first 12 digits), then 3. street level (first 9): the duty officers (属地兜底),
 *    extra and weekly shifts alike; holidays do not cancel duty officers.
 * Staff on leave covering T, or deleted, never count — with one exception for overnight shifts: a
 * night shift (e.g. Mon 22:00–06:00) is stored as two weekly rows, one to 24:00 and the same staff's
 * row from 00:00 the next weekday in the same scope, and a roster officer books leave by day: leave on
 * the shift's start day cancels the whole shift, leave on the next day none of it. So in the after-
 * midnight row of a night shift (a row from 00:00, not to 24:00, whose staff and scope have a row to
 * 24:00 the weekday before) leave covering T does not count; leave that began before that midnight
 * and still ran at it (starts < midnight <= ends) cancels the row. dispatch-roster.ts applies the same
 * rule; a test checks the two agree. Within a level: extra shifts before weekly ones,
 * then assignment role (full-time worker, grid leader, part-time, others), then the shift that started
 * latest (a night shift's after-midnight row started at its evening row's start the day before, not at
 * midnight), then staff code. No candidate at any level → null. Outside every grid the same rule
 * answers for a community (onDutyAtPlace with no grid: levels 2 and 3 only).
 */
import { sql } from 'kysely';
import type { Database } from '../../db/database';

export interface OnDuty {
  staffId: number;
  staffCode: string;
  name: string;
  phone: string | null;
  role: string;
  level: 'grid' | 'community' | 'street';
  via: 'extra' | 'weekly';
  scopeCode: string;
}

/**
 * A place the roster answers for: a grid (community and street from its code), or — outside every grid,
 * or in a grid without a code — a community alone (its and its street's duty officers; no grid level).
 */
export interface DutyPlace {
  gridCode: string | null;
  communityCode: string;
}

const placeOfGrid = (gridCode: string): DutyPlace => ({ gridCode, communityCode: gridCode.slice(0, 12) });

export async function onDutyAt(db: Database, gridCode: string, at: Date): Promise<OnDuty | null> {
  return onDutyAtPlace(db, placeOfGrid(gridCode), at);
}

/** `onDutyAt` for a grid or, with gridCode null, a community (the dispatch lookup's grid-less places). */
export async function onDutyAtPlace(db: Database, place: DutyPlace, at: Date): Promise<OnDuty | null> {
  const grid = place.gridCode;
  const community = place.communityCode;
  const street = community.slice(0, 9);
  const scopes = grid === null ? [community, street] : [grid, community, street];
  const { rows } = await sql<OnDuty & { rank: number }>`
    WITH t AS (
      SELECT ${at.toISOString()}::timestamptz AS at,
             (${at.toISOString()}::timestamptz AT TIME ZONE 'Asia/Shanghai') AS local,
             ((${at.toISOString()}::timestamptz AT TIME ZONE 'Asia/Shanghai')::date::timestamp AT TIME ZONE 'Asia/Shanghai') AS midnight
    ),
    holiday AS (
      SELECT (${grid}::text IS NOT NULL AND EXISTS (
               SELECT 1 FROM roster_exceptions e, t WHERE e.kind = 'holiday' AND starts_with(${grid}::text, e.scope_code)
                 AND t.at >= e.starts_at AND t.at < e.ends_at)) AS on
    ),
    extra AS (
      SELECT e.staff_id, e.scope_code, 'extra' AS via, e.starts_at AS started, false AS night_tail
      FROM roster_exceptions e, t
      WHERE e.kind = 'extra' AND t.at >= e.starts_at AND t.at < e.ends_at
        AND e.scope_code = ANY(${scopes}::text[])
    ),
    weekly AS (
      -- A night shift's after-midnight row started the evening before, at its row to 24:00 (the earliest
      -- such row of that staff and scope): the shift's start orders it, not this midnight.
      SELECT s.staff_id, s.scope_code, 'weekly' AS via,
             CASE WHEN eve.start_time IS NULL THEN (t.local::date + s.start_time) AT TIME ZONE 'Asia/Shanghai'
                  ELSE ((t.local::date - 1) + eve.start_time) AT TIME ZONE 'Asia/Shanghai' END AS started,
             (eve.start_time IS NOT NULL) AS night_tail
      FROM roster_shifts s
      CROSS JOIN t
      CROSS JOIN holiday
      CROSS JOIN LATERAL (
        SELECT min(p.start_time) AS start_time FROM roster_shifts p
        WHERE s.start_time = '00:00' AND s.end_time < '24:00'
          AND p.staff_id = s.staff_id AND p.scope_code = s.scope_code
          AND p.weekday = (s.weekday + 5) % 7 + 1 AND p.end_time = '24:00'
      ) eve
      WHERE s.scope_code = ANY(${scopes}::text[])
        AND s.weekday = extract(isodow FROM t.local) AND s.start_time <= t.local::time AND t.local::time < s.end_time
        AND NOT (s.scope_code IS NOT DISTINCT FROM ${grid}::text AND holiday.on)
    ),
    candidate AS (SELECT * FROM extra UNION ALL SELECT * FROM weekly)
    SELECT st.id AS "staffId", st.code AS "staffCode", st.name, st.phone, coalesce(a.role, st.role) AS role,
           CASE length(c.scope_code) WHEN 15 THEN 'grid' WHEN 12 THEN 'community' ELSE 'street' END AS level,
           c.via, c.scope_code AS "scopeCode"
    FROM candidate c
    JOIN staff st ON st.id = c.staff_id AND st.deleted_at IS NULL
    CROSS JOIN t
    LEFT JOIN LATERAL (
      SELECT a.role FROM staff_assignments a
      WHERE a.staff_id = st.id AND a.grid_code = ${grid}::text
        AND a.from_date <= t.local::date AND (a.to_date IS NULL OR t.local::date < a.to_date)
      ORDER BY a.from_date DESC LIMIT 1
    ) a ON true
    WHERE NOT EXISTS (
        SELECT 1 FROM roster_exceptions l WHERE l.kind = 'leave' AND l.staff_id = st.id
          AND CASE WHEN c.night_tail
                   -- After midnight in a night shift: the leave of its start day (running at this midnight).
                   THEN l.starts_at < t.midnight AND t.midnight <= l.ends_at
                   ELSE t.at >= l.starts_at AND t.at < l.ends_at END)
      -- Grid-level weekly shifts need a current assignment to the grid; extra shifts are explicit.
      AND (length(c.scope_code) < 15 OR c.via = 'extra' OR a.role IS NOT NULL)
    ORDER BY length(c.scope_code) DESC,
             (c.via = 'extra') DESC,
             CASE coalesce(a.role, st.role) WHEN 'full_time_worker' THEN 0 WHEN 'grid_leader' THEN 1 WHEN 'part_time_worker' THEN 2 ELSE 3 END,
             c.started DESC, st.code
    LIMIT 1`.execute(db);
  const r = rows[0];
  return r ? { staffId: r.staffId, staffCode: r.staffCode, name: r.name, phone: r.phone, role: r.role, level: r.level, via: r.via, scopeCode: r.scopeCode } : null;
}

export type ResponderStep = 'grid_on_duty' | 'grid_leader' | 'community_duty_officer' | 'street_duty_officer' | 'community_contact' | 'street_contact';

export interface Responder {
  staffId: number;
  staffCode: string;
  name: string;
  role: string;
  step: ResponderStep;
}

/**
 * Who answers for grid G at instant T — the dispatch chain (dispatch.service.ts walkFallback, over the
 * memory roster) in SQL, for callers that must not depend on the dispatch cache (event routing):
 * grid on duty (onDutyAt at grid level) → the grid's leader assigned on T's local date, not on leave
 * at T → community, then street duty officer on duty → (属地兜底) the community's, then the street's
 * registered duty officer, off shift, not on leave. Ties as in memory: leaders by staff code (byte
 * order), registered officers by code. Null when nobody is registered to answer.
 */
export async function responderAt(db: Database, gridCode: string, at: Date): Promise<Responder | null> {
  return responderAtPlace(db, placeOfGrid(gridCode), at);
}

/**
 * `responderAt` for a grid or, with gridCode null, a community: a point outside every grid (none
 * within the nearest-grid distance) but inside a community, or a grid without a code, where the
 * dispatch chain skips the grid steps and starts at the community's duty officer on duty.
 */
export async function responderAtPlace(db: Database, place: DutyPlace, at: Date): Promise<Responder | null> {
  const gridCode = place.gridCode;
  const duty = await onDutyAtPlace(db, place, at);
  const onDuty = (d: OnDuty): Responder => ({ staffId: d.staffId, staffCode: d.staffCode, name: d.name, role: d.role, step: d.level === 'grid' ? 'grid_on_duty' : d.level === 'community' ? 'community_duty_officer' : 'street_duty_officer' });
  if (duty?.level === 'grid') return onDuty(duty);
  const community = place.communityCode;
  const street = community.slice(0, 9);
  const { rows } = await sql<Omit<Responder, 'step'> & { step: 'grid_leader' | 'community_contact' | 'street_contact' }>`
    WITH t AS (SELECT ${at.toISOString()}::timestamptz AS at, (${at.toISOString()}::timestamptz AT TIME ZONE 'Asia/Shanghai')::date AS day),
    assigned AS (
      -- Each staff member's latest assignment to the grid on the local date (RosterIndex.assignedStaff).
      SELECT DISTINCT ON (a.staff_id) a.staff_id, a.role FROM staff_assignments a, t
      WHERE a.grid_code = ${gridCode}::text AND a.from_date <= t.day AND (a.to_date IS NULL OR t.day < a.to_date)
      ORDER BY a.staff_id, a.from_date DESC
    ),
    candidate AS (
      SELECT st.id, st.code, st.name, a.role, 'grid_leader' AS step, 0 AS pri, st.code COLLATE "C" AS sort_code
      FROM assigned a JOIN staff st ON st.id = a.staff_id WHERE a.role = 'grid_leader' AND st.deleted_at IS NULL
      UNION ALL
      SELECT st.id, st.code, st.name, st.role, CASE st.unit_code WHEN ${community} THEN 'community_contact' ELSE 'street_contact' END,
             CASE st.unit_code WHEN ${community} THEN 1 ELSE 2 END, NULL
      FROM staff st WHERE st.deleted_at IS NULL AND st.role IN ('community_duty_officer', 'street_duty_officer') AND st.unit_code IN (${community}, ${street})
    )
    SELECT c.id AS "staffId", c.code AS "staffCode", c.name, c.role, c.step
    FROM candidate c, t
    WHERE NOT EXISTS (SELECT 1 FROM roster_exceptions l WHERE l.kind = 'leave' AND l.staff_id = c.id AND t.at >= l.starts_at AND t.at < l.ends_at)
    ORDER BY c.pri, c.sort_code, c.code
    LIMIT 1`.execute(db);
  const leader = rows[0]?.step === 'grid_leader' ? rows[0] : undefined;
  if (leader) return leader;
  if (duty) return onDuty(duty);
  return rows[0] ?? null;
}
