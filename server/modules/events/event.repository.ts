/**
 * SQL for events: taxonomy and calendar, intake (idempotency keys, routing look-ups, duplicate hints),
 * the workflow row and its transitions, and listing. `overdue` is computed in the SELECT from now().
 */
import { sql, type RawBuilder } from 'kysely';
import { STAGE_OF_STATE, type Event, type EventCategory, type EventRouting, type EventState, type StageHours, type Taxonomy, type TaxonomyInput, type Transition } from '../../contracts/events';
import type { Database } from '../../db/database';
import { minutesOf, type MinuteRange, type WorkingCalendar } from './working-calendar';

// ---- taxonomy and calendar ----

interface CategoryRow {
  taxonomy_version: number;
  code: string;
  parent_code: string | null;
  name: string;
  name_en: string | null;
  sort: number;
  urgent: boolean;
  accept_hours: number | null;
  dispatch_hours: number | null;
  handle_hours: number | null;
  verify_hours: number | null;
}

export interface CategoryRecord extends EventCategory {
  taxonomyVersion: number;
}

function toCategory(r: CategoryRow): CategoryRecord {
  const hours: StageHours | null =
    r.accept_hours === null || r.dispatch_hours === null || r.handle_hours === null || r.verify_hours === null
      ? null
      : { accept: r.accept_hours, dispatch: r.dispatch_hours, handle: r.handle_hours, verify: r.verify_hours };
  return { taxonomyVersion: r.taxonomy_version, code: r.code, parentCode: r.parent_code, name: r.name, nameEn: r.name_en, sort: r.sort, urgent: r.urgent, hours };
}

export async function findActiveTaxonomyVersion(db: Database): Promise<number | undefined> {
  const { rows } = await sql<{ version: number }>`SELECT version FROM event_taxonomies WHERE active`.execute(db);
  return rows[0]?.version;
}

export async function findTaxonomy(db: Database, version: number): Promise<Taxonomy | undefined> {
  const { rows: t } = await sql<{ version: number; name: string; active: boolean }>`
    SELECT version, name, active FROM event_taxonomies WHERE version = ${version}`.execute(db);
  const head = t[0];
  if (!head) return undefined;
  const { rows } = await sql<CategoryRow>`
    SELECT * FROM event_categories WHERE taxonomy_version = ${version} ORDER BY sort, code`.execute(db);
  return { ...head, categories: rows.map((r) => { const { taxonomyVersion: _v, ...c } = toCategory(r); return c; }) };
}

export async function findCategory(db: Database, version: number, code: string): Promise<CategoryRecord | undefined> {
  const { rows } = await sql<CategoryRow>`SELECT * FROM event_categories WHERE taxonomy_version = ${version} AND code = ${code}`.execute(db);
  return rows[0] ? toCategory(rows[0]) : undefined;
}

/** A new taxonomy version, made active; the previous one stays for the events that carry it. */
export async function insertTaxonomy(db: Database, input: TaxonomyInput, userId: number | null): Promise<number> {
  await sql`LOCK TABLE event_taxonomies IN SHARE ROW EXCLUSIVE MODE`.execute(db);
  const { rows } = await sql<{ version: number }>`SELECT coalesce(max(version), 0) + 1 AS version FROM event_taxonomies`.execute(db);
  const version = rows[0]?.version ?? 1;
  await sql`UPDATE event_taxonomies SET active = false WHERE active`.execute(db);
  await sql`INSERT INTO event_taxonomies (version, name, active, created_by) VALUES (${version}, ${input.name}, true, ${userId})`.execute(db);
  // Parents first, so the self-reference holds row by row.
  const ordered = [...input.categories].sort((a, b) => Number(Boolean(a.parentCode)) - Number(Boolean(b.parentCode)));
  for (const c of ordered) {
    await sql`
      INSERT INTO event_categories (taxonomy_version, code, parent_code, name, name_en, sort, urgent, accept_hours, dispatch_hours, handle_hours, verify_hours)
      VALUES (${version}, ${c.code}, ${c.parentCode ?? null}, ${c.name}, ${c.nameEn ?? null}, ${c.sort ?? 0}, ${c.urgent ?? false},
              ${c.hours?.accept ?? null}, ${c.hours?.dispatch ?? null}, ${c.hours?.handle ?? null}, ${c.hours?.verify ?? null})`.execute(db);
  }
  return version;
}

export async function loadWorkingCalendar(db: Database): Promise<WorkingCalendar> {
  const { rows: p } = await sql<{ weekday: number; start_time: string; end_time: string }>`
    SELECT weekday, start_time::text, end_time::text FROM event_work_periods ORDER BY weekday, start_time`.execute(db);
  const { rows: d } = await sql<{ day: string; kind: 'off' | 'work' }>`SELECT day::text, kind FROM event_calendar_days`.execute(db);
  const periods = new Map<number, MinuteRange[]>();
  for (const r of p) {
    const list = periods.get(r.weekday) ?? [];
    list.push([minutesOf(r.start_time), r.end_time.startsWith('24') ? 1440 : minutesOf(r.end_time)]);
    periods.set(r.weekday, list);
  }
  return { periods, days: new Map(d.map((r) => [r.day, r.kind])) };
}

// ---- routing look-ups (used until dispatch offers its service) ----

export interface GridPlace {
  gridId: number;
  gridCode: string | null;
  gridName: string;
  layoutId: number;
  communityCode: string;
  distanceM: number;
}

/**
 * The grid covering the point in the layout in force at `at`, with its community: the rule of
 * grids/gridsCoveringAt (ST_Covers, first by code then id on shared edges) in one round trip.
 */
export async function findCoveringGridAt(db: Database, lon: number, lat: number, at: Date): Promise<GridPlace | undefined> {
  const { rows } = await sql<GridPlace>`
    SELECT g.id AS "gridId", g.code AS "gridCode", g.name AS "gridName", g.layout_id AS "layoutId", l.community_code AS "communityCode", 0::float8 AS "distanceM"
    FROM grids g JOIN layouts l ON l.id = g.layout_id
    WHERE l.effective_from IS NOT NULL
      AND tstzrange(l.effective_from, l.effective_to, '[)') @> ${at.toISOString()}::timestamptz
      AND g.geom && ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326)
      AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326))
    ORDER BY g.code NULLS LAST, g.id LIMIT 1`.execute(db);
  return rows[0];
}

/** The nearest grid in force at `at` within `maxM` metres (points just outside every grid). */
export async function findNearestGridAt(db: Database, lon: number, lat: number, at: Date, maxM: number): Promise<GridPlace | undefined> {
  const { rows } = await sql<GridPlace>`
    WITH p AS (SELECT ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326) AS g)
    SELECT g.id AS "gridId", g.code AS "gridCode", g.name AS "gridName", g.layout_id AS "layoutId", l.community_code AS "communityCode",
           ST_Distance(g.geom::geography, p.g::geography) AS "distanceM"
    FROM grids g JOIN layouts l ON l.id = g.layout_id, p
    WHERE l.effective_from IS NOT NULL AND tstzrange(l.effective_from, l.effective_to, '[)') @> ${at.toISOString()}::timestamptz
      AND ST_DWithin(g.geom::geography, p.g::geography, ${maxM})
    ORDER BY "distanceM", g.code NULLS LAST, g.id LIMIT 1`.execute(db);
  return rows[0];
}

/** The grid with this code in the layout in force at `at`. */
export async function findGridByCodeAt(db: Database, code: string, at: Date): Promise<GridPlace | undefined> {
  const { rows } = await sql<GridPlace>`
    SELECT g.id AS "gridId", g.code AS "gridCode", g.name AS "gridName", g.layout_id AS "layoutId", l.community_code AS "communityCode", 0::float8 AS "distanceM"
    FROM grids g JOIN layouts l ON l.id = g.layout_id
    WHERE g.code = ${code} AND l.effective_from IS NOT NULL
      AND tstzrange(l.effective_from, l.effective_to, '[)') @> ${at.toISOString()}::timestamptz
    LIMIT 1`.execute(db);
  return rows[0];
}

/** The community whose boundary covers the point (outside every grid: community-level fallback). */
export async function findCommunityAt(db: Database, lon: number, lat: number): Promise<string | undefined> {
  const { rows } = await sql<{ code: string }>`
    SELECT code FROM divisions
    WHERE level = 'community' AND geom && ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326)
      AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326))
    ORDER BY code LIMIT 1`.execute(db);
  return rows[0]?.code;
}

/** A point for free address text: buildings, organisations, named places whose text contains it. */
export async function findAddressPoint(db: Database, text: string): Promise<{ lon: number; lat: number; label: string } | undefined> {
  const pattern = `%${text.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
  const { rows } = await sql<{ lon: number; lat: number; label: string }>`
    SELECT ST_X(p) AS lon, ST_Y(p) AS lat, label FROM (
      SELECT ST_PointOnSurface(geom) AS p, dispatch_building_text(name, address) AS label, 1 AS pri, id
      FROM buildings WHERE deleted_at IS NULL AND dispatch_building_text(name, address) ILIKE ${pattern}
      UNION ALL
      SELECT ST_PointOnSurface(geom), dispatch_building_text(name, address), 2, id
      FROM organisations WHERE deleted_at IS NULL AND dispatch_building_text(name, address) ILIKE ${pattern}
      UNION ALL
      SELECT geom, name, 3, id FROM named_places WHERE name ILIKE ${pattern}
    ) c ORDER BY pri, length(label), id LIMIT 1`.execute(db);
  return rows[0];
}

export async function findStaff(db: Database, id: number): Promise<{ id: number; name: string; role: string } | undefined> {
  const { rows } = await sql<{ id: number; name: string; role: string }>`SELECT id, name, role FROM staff WHERE id = ${id} AND deleted_at IS NULL`.execute(db);
  return rows[0];
}

// ---- idempotency ----

export interface IdempotencyRecord {
  requestHash: string;
  statusCode: number | null;
  response: unknown;
}

export async function findIdempotencyKey(db: Database, principalKey: string, key: string): Promise<IdempotencyRecord | undefined> {
  const { rows } = await sql<{ request_hash: string; status_code: number | null; response: unknown }>`
    SELECT request_hash, status_code, response FROM event_idempotency_keys WHERE principal_key = ${principalKey} AND key = ${key}`.execute(db);
  const r = rows[0];
  return r ? { requestHash: r.request_hash, statusCode: r.status_code, response: r.response } : undefined;
}

// ---- the event row ----

export interface NewEventRow {
  taxonomyVersion: number;
  categoryCode: string;
  description: string;
  channel: string;
  source: 'api' | 'open311' | 'import';
  occurredAt: Date;
  reportedAt: Date;
  address: string | null;
  lon: number;
  lat: number;
  reporterNameEnc: Buffer | null;
  reporterPhoneEnc: Buffer | null;
  reporterMasked: { name: string | null; phone: string | null } | null;
  attachments: string[];
  routing: EventRouting;
  stage: string | null;
  stageDueAt: Date | null;
  dueAt: Date;
  createdBy: number | null;
  /** For the intake ('report') transition written with the row. */
  actorName: string | null;
  transitionDetails: Record<string, unknown>;
}

/** The idempotency key a reported event is filed under, with the answer to store for retries. */
export interface IntakeKey {
  principalKey: string;
  key: string;
  requestHash: string;
  statusCode: number;
  /** The answer without `id` and `possibleDuplicates`, which the statement fills in. */
  response: Record<string, unknown>;
}

/**
 * Intake in ONE statement (one round trip; in autocommit, one durable commit): claim the idempotency key
 * with the stored answer, insert the event, its 'report' transition and its duplicate links (a batch of
 * one for events_report_batch, migration 0027). Undefined when a concurrent request holds the key: the
 * claim waited until it committed, and the caller reads the stored answer.
 */
export async function insertReportedEvent(db: Database, e: NewEventRow, dup: { radiusM: number; hours: number }, key?: IntakeKey): Promise<WrittenEvent | undefined> {
  return (await insertReportedEvents(db, [{ row: e, dup, ...(key ? { key } : {}) }]))[0];
}

/** One intake of a group-committed batch: the row, its key (if any) and its duplicate window. */
export interface BatchedIntake {
  row: NewEventRow;
  dup: { radiusM: number; hours: number };
  key?: IntakeKey;
}

export interface WrittenEvent {
  id: number;
  duplicates: Array<{ id: number; distanceM: number | null }>;
}

const b64 = (b: Buffer | null): string | null => (b === null ? null : b.toString('base64'));

/**
 * Many intakes in ONE statement (in autocommit: one durable commit for all): events_report_batch
 * (migration 0027), the set-based events_report. The result is per input, in order: the written event,
 * or undefined where the idempotency key was held (the caller reads the stored answer). Throws if any
 * row fails; then nothing was written. Keys must be distinct within a batch.
 */
export async function insertReportedEvents(db: Database, items: readonly BatchedIntake[]): Promise<Array<WrittenEvent | undefined>> {
  const rows = items.map(({ row: e, dup, key }, i) => {
    const r = e.routing;
    return {
      i,
      principal_key: key?.principalKey ?? null, key: key?.key ?? null, request_hash: key?.requestHash ?? null, status_code: key?.statusCode ?? null, response: key?.response ?? null,
      taxonomy_version: e.taxonomyVersion, category_code: e.categoryCode, description: e.description, channel: e.channel, source: e.source,
      occurred_at: e.occurredAt.toISOString(), reported_at: e.reportedAt.toISOString(), address: e.address, lon: e.lon, lat: e.lat,
      reporter_name_enc: b64(e.reporterNameEnc), reporter_phone_enc: b64(e.reporterPhoneEnc), reporter_masked: e.reporterMasked, attachments: e.attachments,
      grid_id: r.gridId, grid_code: r.gridCode, grid_name: r.gridName, layout_id: r.layoutId, community_code: r.communityCode, street_code: r.streetCode,
      responsible_staff_id: r.responsibleStaff?.id ?? null, routing: r, stage: e.stage, stage_due_at: e.stageDueAt?.toISOString() ?? null, due_at: e.dueAt.toISOString(),
      created_by: e.createdBy, actor_name: e.actorName, transition_details: e.transitionDetails,
      dup_radius_m: dup.radiusM, dup_hours: dup.hours,
    };
  });
  const { rows: written } = await sql<{ i: number; new_event_id: string; duplicate_list: Array<{ id: number; distanceM: number | null }> }>`
    SELECT i, new_event_id, duplicate_list FROM events_report_batch(${JSON.stringify(rows)}::jsonb)`.execute(db);
  const out = new Array<WrittenEvent | undefined>(items.length).fill(undefined);
  for (const w of written) {
    out[w.i] = { id: Number(w.new_event_id), duplicates: w.duplicate_list.map((d) => ({ id: Number(d.id), distanceM: d.distanceM === null ? null : Number(d.distanceM) })) };
  }
  return out;
}

export interface TransitionInput {
  eventId: number;
  action: string;
  from: EventState | null;
  to: EventState;
  at: Date;
  actorUserId: number | null;
  actorName: string | null;
  note: string | null;
  details: Record<string, unknown>;
}

interface TransitionRow {
  id: number;
  action: string;
  from_state: string | null;
  to_state: string;
  at: Date;
  actor_user_id: number | null;
  actor_name: string | null;
  note: string | null;
  details: Record<string, unknown>;
}

function toTransition(r: TransitionRow): Transition {
  return {
    id: Number(r.id),
    action: r.action,
    from: r.from_state,
    to: r.to_state,
    at: r.at.toISOString(),
    actor: { userId: r.actor_user_id, name: r.actor_name },
    note: r.note,
    details: r.details,
  };
}

export async function insertTransition(db: Database, t: TransitionInput): Promise<Transition> {
  const { rows } = await sql<TransitionRow>`
    INSERT INTO event_transitions (event_id, action, from_state, to_state, at, actor_user_id, actor_name, note, details)
    VALUES (${t.eventId}, ${t.action}, ${t.from}, ${t.to}, ${t.at.toISOString()}, ${t.actorUserId}, ${t.actorName}, ${t.note}, ${JSON.stringify(t.details)}::jsonb)
    RETURNING *`.execute(db);
  const r = rows[0];
  if (!r) throw new Error('transition insert returned nothing');
  return toTransition(r);
}

export async function listTransitions(db: Database, eventId: number): Promise<Transition[]> {
  const { rows } = await sql<TransitionRow>`SELECT * FROM event_transitions WHERE event_id = ${eventId} ORDER BY id`.execute(db);
  return rows.map(toTransition);
}

/** A state column's deadline stage as SQL (STAGE_OF_STATE; NULL for closed and rejected). */
function stageOfSql(state: RawBuilder<unknown>): RawBuilder<string | null> {
  const arms = Object.entries(STAGE_OF_STATE).map(([st, stage]) => sql`WHEN ${sql.lit(st)} THEN ${sql.lit(stage)}`);
  return sql<string | null>`(CASE ${state} ${sql.join(arms, sql` `)} END)`;
}

/**
 * The hours of every extension approved in the event's current stage, oldest first: approvals after
 * the last transition that entered a stage (a state change into another stage, and a transfer, which
 * restarts acceptance even from `reported`; dispatched → in_progress stays in handling). Extensions are
 * kept nowhere else per stage (the event row sums them over its whole life), and only the current
 * stage's moved its deadline.
 */
export async function listStageExtensionHours(db: Database, eventId: number): Promise<number[]> {
  const { rows } = await sql<{ hours: number }>`
    SELECT (t.details->>'hours')::float8 AS hours FROM event_transitions t
    WHERE t.event_id = ${eventId} AND t.action = 'approve_extension' AND t.details ? 'hours'
      AND t.id > coalesce((SELECT max(s.id) FROM event_transitions s
                           WHERE s.event_id = ${eventId} AND (${stageOfSql(sql`s.from_state`)} IS DISTINCT FROM ${stageOfSql(sql`s.to_state`)} OR s.action = 'transfer')), 0)
    ORDER BY t.id`.execute(db);
  return rows.map((r) => Number(r.hours));
}

/** The stored event (what the workflow needs), or undefined. `lock` takes FOR UPDATE. */
export interface EventRecord extends Omit<Event, 'allowedActions'> {
  categoryUrgent: boolean;
  categoryHours: StageHours | null;
  stageStartedAt: string | null;
}

export interface EventRow {
  id: number;
  state: EventState;
  taxonomy_version: number;
  category_code: string;
  category_name: string;
  category_name_en: string | null;
  category_parent: string | null;
  category_urgent: boolean;
  accept_hours: number | null;
  dispatch_hours: number | null;
  handle_hours: number | null;
  verify_hours: number | null;
  description: string;
  channel: string;
  source: string;
  occurred_at: Date;
  reported_at: Date;
  address: string | null;
  location: { type: 'Point'; coordinates: [number, number] };
  reporter_masked: { name: string | null; phone: string | null } | null;
  attachments: string[];
  routing: EventRouting;
  stage: string | null;
  stage_started_at: Date | null;
  stage_due_at: Date | null;
  due_at: Date;
  overdue: boolean;
  assignee_staff_id: number | null;
  assignee_department: string | null;
  handler_user_id: number | null;
  result: string | null;
  rejection_reason: string | null;
  pending_extension: { hours: number; reason: string; requestedBy: number | null; requestedAt: string } | null;
  extension_hours: number;
  extension_count: number;
  reopen_count: number;
  transfer_count: number;
  resolved_at: Date | null;
  closed_at: Date | null;
  version: number;
  updated_at: Date;
  duplicates: Array<{ id: number; distanceM: number | null }>;
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

function toEventRecord(r: EventRow): EventRecord {
  const hours =
    r.accept_hours === null || r.dispatch_hours === null || r.handle_hours === null || r.verify_hours === null
      ? null
      : { accept: r.accept_hours, dispatch: r.dispatch_hours, handle: r.handle_hours, verify: r.verify_hours };
  return {
    id: Number(r.id),
    state: r.state,
    category: { code: r.category_code, name: r.category_name, nameEn: r.category_name_en, parentCode: r.category_parent, taxonomyVersion: r.taxonomy_version },
    categoryUrgent: r.category_urgent,
    categoryHours: hours,
    description: r.description,
    channel: r.channel,
    source: r.source,
    occurredAt: r.occurred_at.toISOString(),
    reportedAt: r.reported_at.toISOString(),
    address: r.address,
    location: r.location,
    reporter: r.reporter_masked,
    attachments: r.attachments,
    routing: r.routing,
    stage: r.stage,
    stageStartedAt: iso(r.stage_started_at),
    stageDueAt: iso(r.stage_due_at),
    dueAt: r.due_at.toISOString(),
    overdue: r.overdue,
    assignee: { staffId: r.assignee_staff_id, department: r.assignee_department },
    handlerUserId: r.handler_user_id,
    result: r.result,
    rejectionReason: r.rejection_reason,
    pendingExtension: r.pending_extension,
    extensionHours: r.extension_hours,
    extensionCount: r.extension_count,
    reopenCount: r.reopen_count,
    transferCount: r.transfer_count,
    resolvedAt: iso(r.resolved_at),
    closedAt: iso(r.closed_at),
    updatedAt: r.updated_at.toISOString(),
    possibleDuplicates: r.duplicates.map((d) => ({ id: Number(d.id), distanceM: d.distanceM })),
    version: r.version,
  };
}

const eventColumns = sql`
  e.id, e.state, e.taxonomy_version, e.category_code, c.name AS category_name, c.name_en AS category_name_en, c.parent_code AS category_parent, c.urgent AS category_urgent,
  c.accept_hours, c.dispatch_hours, c.handle_hours, c.verify_hours,
  e.description, e.channel, e.source, e.occurred_at, e.reported_at, e.address, ST_AsGeoJSON(e.geom, 7)::json AS location,
  e.reporter_masked, e.attachments, e.routing, e.stage, e.stage_started_at, e.stage_due_at, e.due_at,
  (e.state NOT IN ('closed', 'rejected') AND least(e.stage_due_at, e.due_at) < now()) AS overdue,
  e.assignee_staff_id, e.assignee_department, e.handler_user_id, e.result, e.rejection_reason, e.pending_extension,
  e.extension_hours, e.extension_count, e.reopen_count, e.transfer_count, e.resolved_at, e.closed_at, e.version, e.updated_at,
  coalesce((SELECT json_agg(json_build_object('id', l.other_id, 'distanceM', round(l.distance_m::numeric, 1)) ORDER BY l.other_id)
            FROM event_links l WHERE l.event_id = e.id), '[]'::json) AS duplicates`;

export async function findEvent(db: Database, id: number, lock?: 'update'): Promise<EventRecord | undefined> {
  if (lock) await sql`SELECT 1 FROM events WHERE id = ${id} FOR UPDATE`.execute(db);
  const { rows } = await sql<EventRow>`
    SELECT ${eventColumns} FROM events e JOIN event_categories c ON c.taxonomy_version = e.taxonomy_version AND c.code = e.category_code
    WHERE e.id = ${id}`.execute(db);
  return rows[0] ? toEventRecord(rows[0]) : undefined;
}

/** Column updates of a transition; the version is bumped with every one. */
export interface EventPatch {
  state?: EventState;
  stage?: string | null;
  stageStartedAt?: Date | null;
  stageDueAt?: Date | null;
  dueAt?: Date;
  assigneeStaffId?: number | null;
  assigneeDepartment?: string | null;
  handlerUserId?: number | null;
  result?: string | null;
  rejectionReason?: string | null;
  pendingExtension?: unknown;
  extensionHours?: number;
  extensionCount?: number;
  reopenCount?: number;
  transferCount?: number;
  resolvedAt?: Date | null;
  closedAt?: Date | null;
  taxonomyVersion?: number;
  categoryCode?: string;
  address?: string | null;
  point?: [number, number];
  routing?: EventRouting;
}

const COLUMN: Partial<Record<keyof EventPatch, string>> = {
  state: 'state', stage: 'stage', stageStartedAt: 'stage_started_at', stageDueAt: 'stage_due_at', dueAt: 'due_at',
  assigneeStaffId: 'assignee_staff_id', assigneeDepartment: 'assignee_department', handlerUserId: 'handler_user_id',
  result: 'result', rejectionReason: 'rejection_reason', extensionHours: 'extension_hours', extensionCount: 'extension_count',
  reopenCount: 'reopen_count', transferCount: 'transfer_count', resolvedAt: 'resolved_at', closedAt: 'closed_at',
  taxonomyVersion: 'taxonomy_version', categoryCode: 'category_code', address: 'address',
};

export async function updateEvent(db: Database, id: number, patch: EventPatch, at: Date): Promise<void> {
  const sets: RawBuilder<unknown>[] = [sql`version = version + 1`, sql`updated_at = ${at.toISOString()}`];
  for (const [k, v] of Object.entries(patch) as Array<[keyof EventPatch, unknown]>) {
    const column = COLUMN[k];
    if (column) sets.push(sql`${sql.ref(column)} = ${v instanceof Date ? v.toISOString() : (v)}`);
  }
  if (patch.pendingExtension !== undefined) sets.push(sql`pending_extension = ${patch.pendingExtension === null ? null : JSON.stringify(patch.pendingExtension)}::jsonb`);
  if (patch.point) sets.push(sql`geom = ST_SetSRID(ST_MakePoint(${patch.point[0]}, ${patch.point[1]}), 4326)`);
  if (patch.routing) {
    const r = patch.routing;
    sets.push(
      sql`grid_id = ${r.gridId}`, sql`grid_code = ${r.gridCode}`, sql`grid_name = ${r.gridName}`, sql`layout_id = ${r.layoutId}`,
      sql`community_code = ${r.communityCode}`, sql`street_code = ${r.streetCode}`, sql`responsible_staff_id = ${r.responsibleStaff?.id ?? null}`,
      sql`routing = ${JSON.stringify(r)}::jsonb`,
    );
  }
  await sql`UPDATE events SET ${sql.join(sets)} WHERE id = ${id}`.execute(db);
}

// ---- listing ----

export interface EventFilter {
  scopePrefixes: string[] | null;
  grid?: string;
  community?: string;
  street?: string;
  states?: string[];
  category?: string;
  channel?: string;
  overdue?: boolean;
  from?: Date;
  to?: Date;
  bbox?: [number, number, number, number];
  after?: number;
  limit: number;
  /** Only events from this intake source (Open311 reads only what came through Open311). */
  source?: string;
  ids?: number[];
}

export function eventWhere(f: EventFilter): RawBuilder<unknown> {
  const where: RawBuilder<unknown>[] = [sql`true`];
  if (f.scopePrefixes) {
    if (f.scopePrefixes.length === 0) where.push(sql`false`);
    else where.push(sql`(${sql.join(f.scopePrefixes.map((p) => sql`starts_with(coalesce(e.grid_code, e.community_code, ''), ${p})`), sql` OR `)})`);
  }
  if (f.grid) where.push(sql`e.grid_code = ${f.grid}`);
  if (f.community) where.push(sql`e.community_code = ${f.community}`);
  if (f.street) where.push(sql`e.street_code = ${f.street}`);
  if (f.states?.length) where.push(sql`e.state = ANY(${f.states}::text[])`);
  if (f.category) {
    // A category without a dot means all its sub-types (LIKE on text_pattern_ops uses the index).
    where.push(f.category.includes('.') ? sql`e.category_code = ${f.category}` : sql`e.category_code LIKE ${`${f.category}.%`}`);
  }
  if (f.channel) where.push(sql`e.channel = ${f.channel}`);
  if (f.overdue === true) where.push(sql`(e.state NOT IN ('closed', 'rejected') AND least(e.stage_due_at, e.due_at) < now())`);
  if (f.overdue === false) where.push(sql`NOT (e.state NOT IN ('closed', 'rejected') AND least(e.stage_due_at, e.due_at) < now())`);
  if (f.from) where.push(sql`e.reported_at >= ${f.from.toISOString()}`);
  if (f.to) where.push(sql`e.reported_at < ${f.to.toISOString()}`);
  if (f.bbox) where.push(sql`e.geom && ST_MakeEnvelope(${f.bbox[0]}, ${f.bbox[1]}, ${f.bbox[2]}, ${f.bbox[3]}, 4326)`);
  if (f.source) where.push(sql`e.source = ${f.source}`);
  if (f.ids) where.push(sql`e.id = ANY(${f.ids}::bigint[])`);
  if (f.after !== undefined) where.push(sql`e.id < ${f.after}`);
  return sql.join(where, sql` AND `);
}

/** The listing statement (the benchmark runs the same SQL through `pg` as its baseline). */
export function listEventsQuery(f: EventFilter): RawBuilder<EventRow> {
  return sql<EventRow>`
    SELECT ${eventColumns} FROM events e JOIN event_categories c ON c.taxonomy_version = e.taxonomy_version AND c.code = e.category_code
    WHERE ${eventWhere(f)} ORDER BY e.id DESC LIMIT ${f.limit}`;
}

/** Newest first, keyset-paged by id. */
export async function listEvents(db: Database, f: EventFilter): Promise<EventRecord[]> {
  const { rows } = await listEventsQuery(f).execute(db);
  return rows.map(toEventRecord);
}
