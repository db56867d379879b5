/**
 * Daily and monthly event reports and KPIs, computed from events and their transitions. A day or month
 * is Asia/Shanghai local time. "Open at the end" is the state after the last transition before the end;
 * "overdue at the end" compares with the closing deadline as it stands now (extensions included).
 */
import { sql, type RawBuilder } from 'kysely';
import { isStorableInstant, SHANGHAI_OFFSET_MS } from '../../contracts/calendar';
import type { DailyReportRow, KpiRow, MonthlyEventsReport } from '../../contracts/events';
import type { Database } from '../../db/database';

export type ReportLevel = 'grid' | 'community' | 'street';

function scopeFilter(prefixes: string[] | null, scope: string | undefined): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [sql`true`];
  if (prefixes) {
    parts.push(prefixes.length === 0 ? sql`false` : sql`(${sql.join(prefixes.map((p) => sql`starts_with(coalesce(e.grid_code, e.community_code, ''), ${p})`), sql` OR `)})`);
  }
  if (scope) parts.push(sql`starts_with(coalesce(e.grid_code, e.community_code, ''), ${scope})`);
  return sql.join(parts, sql` AND `);
}

const unitOf = (level: ReportLevel): RawBuilder<string> =>
  level === 'grid' ? sql<string>`coalesce(e.grid_code, '')` : level === 'community' ? sql<string>`coalesce(e.community_code, '')` : sql<string>`coalesce(e.street_code, '')`;

export interface Period {
  start: string;
  end: string;
}

/** Local midnight (Asia/Shanghai, UTC+8 all year) of a calendar day, as ms; month and day may overflow. */
function shanghaiMidnightMs(year: number, month: number, day: number): number {
  // setUTCFullYear, not Date.UTC or a 'YYYY-MM-DD' text: those misread years 0–99 or stop at 9999.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return d.getTime() - SHANGHAI_OFFSET_MS;
}

/** [start, end) as ISO instants; undefined when a bound lies outside what PostgreSQL holds (years 0001–9999 UTC). */
function periodOf(startMs: number, endMs: number): Period | undefined {
  if (!isStorableInstant(startMs) || !isStorableInstant(endMs)) return undefined;
  return { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString() };
}

/** [local midnight of `date`, next local midnight) as instants. */
export function dayPeriod(date: string): Period | undefined {
  const [y = 0, m = 1, d = 1] = date.split('-').map(Number);
  return periodOf(shanghaiMidnightMs(y, m, d), shanghaiMidnightMs(y, m, d + 1));
}

/** [local midnight of the month's first day, that of the next month's) as instants. */
export function monthPeriod(month: string): Period | undefined {
  const [y = 0, m = 1] = month.split('-').map(Number);
  return periodOf(shanghaiMidnightMs(y, m, 1), shanghaiMidnightMs(y, m + 1, 1));
}

interface CountsRow {
  unit: string;
  unit_name: string | null;
  reported: number;
  accepted: number;
  resolved: number;
  closed: number;
  closed_on_time: number;
  rejected: number;
  reopened: number;
  open_at_end: number;
  overdue_at_end: number;
  by_category: Record<string, number> | null;
}

async function periodCounts(db: Database, p: Period, level: ReportLevel | null, where: RawBuilder<unknown>): Promise<CountsRow[]> {
  const unit = level ? unitOf(level) : sql<string>`''`;
  const unitName = level === 'grid' ? sql`b.grid_name` : level ? sql`(SELECT d.name FROM divisions d WHERE d.code = b.unit)` : sql`NULL::text`;
  const { rows } = await sql<CountsRow>`
    WITH ev AS (
      SELECT e.id, e.category_code, e.reported_at, e.due_at, e.grid_name, ${unit} AS unit,
             (SELECT t.to_state FROM event_transitions t WHERE t.event_id = e.id AND t.at < ${p.end}::timestamptz ORDER BY t.at DESC, t.id DESC LIMIT 1) AS state_at_end
      FROM events e WHERE ${where} AND e.reported_at < ${p.end}::timestamptz
    ),
    acts AS (
      SELECT ev.unit,
             count(*) FILTER (WHERE t.action = 'accept')::int AS accepted,
             count(*) FILTER (WHERE t.action = 'resolve')::int AS resolved,
             count(*) FILTER (WHERE t.action = 'close')::int AS closed,
             count(*) FILTER (WHERE t.action = 'close' AND t.at <= ev.due_at)::int AS closed_on_time,
             count(*) FILTER (WHERE t.action = 'reject')::int AS rejected,
             count(*) FILTER (WHERE t.action = 'reopen')::int AS reopened
      FROM event_transitions t JOIN ev ON ev.id = t.event_id
      WHERE t.at >= ${p.start}::timestamptz AND t.at < ${p.end}::timestamptz
      GROUP BY ev.unit
    ),
    cats AS (
      SELECT unit, jsonb_object_agg(cat, n) AS by_category FROM (
        SELECT ev.unit, split_part(ev.category_code, '.', 1) AS cat, count(*)::int AS n
        FROM ev WHERE ev.reported_at >= ${p.start}::timestamptz GROUP BY 1, 2) x
      GROUP BY unit
    ),
    base AS (
      SELECT ev.unit, max(ev.grid_name) AS grid_name,
             count(*) FILTER (WHERE ev.reported_at >= ${p.start}::timestamptz)::int AS reported,
             count(*) FILTER (WHERE ev.state_at_end NOT IN ('closed', 'rejected'))::int AS open_at_end,
             count(*) FILTER (WHERE ev.state_at_end NOT IN ('closed', 'rejected') AND ev.due_at < ${p.end}::timestamptz)::int AS overdue_at_end
      FROM ev GROUP BY ev.unit
    )
    SELECT b.unit, ${unitName} AS unit_name, b.reported, coalesce(a.accepted, 0) AS accepted, coalesce(a.resolved, 0) AS resolved,
           coalesce(a.closed, 0) AS closed, coalesce(a.closed_on_time, 0) AS closed_on_time, coalesce(a.rejected, 0) AS rejected,
           coalesce(a.reopened, 0) AS reopened, b.open_at_end, b.overdue_at_end, c.by_category
    FROM base b LEFT JOIN acts a ON a.unit = b.unit LEFT JOIN cats c ON c.unit = b.unit
    ORDER BY b.unit`.execute(db);
  return rows;
}

export async function computeDailyReport(db: Database, day: Period, level: ReportLevel, prefixes: string[] | null, scope: string | undefined): Promise<DailyReportRow[]> {
  const rows = await periodCounts(db, day, level, scopeFilter(prefixes, scope));
  return rows
    .filter((r) => r.reported + r.accepted + r.resolved + r.closed + r.rejected + r.open_at_end > 0)
    .map((r) => ({
      unitCode: r.unit,
      unitName: r.unit_name,
      reported: r.reported,
      reportedByCategory: r.by_category ?? {},
      accepted: r.accepted,
      resolved: r.resolved,
      closed: r.closed,
      rejected: r.rejected,
      openAtEnd: r.open_at_end,
      overdueAtEnd: r.overdue_at_end,
    }));
}

export async function computeMonthlyEvents(db: Database, month: Period, prefixes: string[] | null, scope: string | undefined): Promise<MonthlyEventsReport['events']> {
  const [r] = await periodCounts(db, month, null, scopeFilter(prefixes, scope));
  return {
    reported: r?.reported ?? 0,
    reportedByCategory: r?.by_category ?? {},
    resolved: r?.resolved ?? 0,
    closed: r?.closed ?? 0,
    closedOnTime: r?.closed_on_time ?? 0,
    rejected: r?.rejected ?? 0,
    reopened: r?.reopened ?? 0,
    openAtEnd: r?.open_at_end ?? 0,
    overdueAtEnd: r?.overdue_at_end ?? 0,
  };
}

interface KpiSqlRow {
  key: string;
  name: string | null;
  events: number;
  closed: number;
  closed_on_time: number;
  mean_h: number | null;
  p90_h: number | null;
  reopened: number;
  extended: number;
  rank: number | null;
}

/**
 * KPIs of the events reported in [from, to), judged by their state now. An event closed, reopened and
 * not closed again is not closed (the reopen counts against the close) and counts as rework; closed
 * again, its time to close runs to the final close and on time means that close met the deadline.
 */
export async function computeKpis(
  db: Database,
  q: { from: Date; to: Date; by: 'grid' | 'staff'; minEvents: number; prefixes: string[] | null; scope: string | undefined },
): Promise<KpiRow[]> {
  const key = q.by === 'grid' ? sql`coalesce(e.grid_code, '')` : sql`coalesce(coalesce(e.assignee_staff_id, e.responsible_staff_id)::text, '')`;
  const name = q.by === 'grid' ? sql`e.grid_name` : sql`(SELECT s.name FROM staff s WHERE s.id = coalesce(e.assignee_staff_id, e.responsible_staff_id))`;
  const { rows } = await sql<KpiSqlRow>`
    WITH ev AS (
      SELECT ${key} AS key, ${name} AS name, e.state, e.reported_at, e.closed_at, e.due_at, e.reopen_count, e.extension_count
      FROM events e
      WHERE ${scopeFilter(q.prefixes, q.scope)} AND e.reported_at >= ${q.from.toISOString()}::timestamptz AND e.reported_at < ${q.to.toISOString()}::timestamptz
    ),
    agg AS (
      SELECT key, max(name) AS name, count(*)::int AS events,
             count(*) FILTER (WHERE state = 'closed')::int AS closed,
             count(*) FILTER (WHERE state = 'closed' AND closed_at <= due_at)::int AS closed_on_time,
             avg(extract(epoch FROM closed_at - reported_at) / 3600) FILTER (WHERE state = 'closed') AS mean_h,
             percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM closed_at - reported_at) / 3600) FILTER (WHERE state = 'closed') AS p90_h,
             count(*) FILTER (WHERE reopen_count > 0)::int AS reopened,
             count(*) FILTER (WHERE extension_count > 0)::int AS extended
      FROM ev GROUP BY key
    )
    SELECT agg.*,
           CASE WHEN events >= ${q.minEvents} THEN
             rank() OVER (PARTITION BY events >= ${q.minEvents}
                          ORDER BY closed_on_time::float8 / events DESC, closed::float8 / events DESC, mean_h ASC NULLS LAST)::int
           END AS rank
    FROM agg ORDER BY rank NULLS LAST, events DESC, key`.execute(db);
  const r4 = (x: number): number => Math.round(x * 10_000) / 10_000;
  return rows.map((r) => ({
    key: r.key,
    name: r.name,
    events: r.events,
    closed: r.closed,
    closedOnTime: r.closed_on_time,
    closureRate: r4(r.closed / r.events),
    onTimeClosureRate: r4(r.closed_on_time / r.events),
    meanHoursToClose: r.mean_h === null ? null : r4(Number(r.mean_h)),
    p90HoursToClose: r.p90_h === null ? null : r4(Number(r.p90_h)),
    reopened: r.reopened,
    reworkRate: r4(r.reopened / r.events),
    extended: r.extended,
    extensionRate: r4(r.extended / r.events),
    rank: r.rank,
  }));
}
