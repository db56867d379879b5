/**
 * Reports (日报, 月报) and evaluation KPIs (定奖惩), as JSON or CSV. The monthly report's registry part
 * (births, deaths, moves, floating population, low-income recipients, shop employment) comes from the
 * registry's history (issue #5) and needs `registry:read`; without it those fields are null with a note.
 */
import type { Principal } from '../../auth/principal';
import type { DailyReport, DailyReportQuery, KpiQuery, KpiReport, MonthlyEventsReport, MonthlyEventsReportQuery } from '../../contracts/events';
import type { Database } from '../../db/database';
import { withScope } from '../../db/scoped';
import { toCsv } from '../../contracts/csv';
import { AppError } from '../../http/errors';
import { computeMonthlyReport } from '../registry/registry-report.repository';
import { computeDailyReport, computeKpis, computeMonthlyEvents, dayPeriod, monthPeriod, type Period } from './event-report.repository';

export const DEFAULT_MIN_EVENTS_FOR_RANK = 10;

const prefixesOf = (p: Principal): string[] | null => (p.scope.all ? null : p.scope.prefixes);

/** The period of a report day or month; one whose China-time bounds fall outside years 0001–9999 UTC is refused. */
function requirePeriod(period: Period | undefined, field: 'date' | 'month', value: string): Period {
  if (!period) throw new AppError('VALIDATION_FAILED', 400, `No report for ${value}: its bounds lie outside the years 0001–9999.`, { in: 'querystring', field, value });
  return period;
}

export async function dailyReport(db: Database, principal: Principal, q: DailyReportQuery): Promise<DailyReport> {
  const level = q.level ?? 'grid';
  const rows = await computeDailyReport(db, requirePeriod(dayPeriod(q.date), 'date', q.date), level, prefixesOf(principal), q.scope);
  const totals = { reported: 0, reportedByCategory: {} as Record<string, number>, accepted: 0, resolved: 0, closed: 0, rejected: 0, openAtEnd: 0, overdueAtEnd: 0 };
  for (const r of rows) {
    totals.reported += r.reported;
    totals.accepted += r.accepted;
    totals.resolved += r.resolved;
    totals.closed += r.closed;
    totals.rejected += r.rejected;
    totals.openAtEnd += r.openAtEnd;
    totals.overdueAtEnd += r.overdueAtEnd;
    for (const [k, v] of Object.entries(r.reportedByCategory)) totals.reportedByCategory[k] = (totals.reportedByCategory[k] ?? 0) + v;
  }
  return { date: q.date, level, scope: q.scope ?? null, rows, totals };
}

export async function monthlyReport(db: Database, principal: Principal, q: MonthlyEventsReportQuery): Promise<MonthlyEventsReport> {
  const events = await computeMonthlyEvents(db, requirePeriod(monthPeriod(q.month), 'month', q.month), prefixesOf(principal), q.scope);
  const empty = { births: null, deaths: null, movedIn: null, movedOut: null, residents: null, floating: null, lowIncome: null, shops: null, shopEmployees: null };
  let registry: MonthlyEventsReport['registry'];
  if (!principal.permissions.has('registry:read')) {
    registry = { ...empty, note: 'The registry part needs the permission registry:read.' };
  } else {
    const r = await withScope(db, principal.scope, (trx) => computeMonthlyReport(trx, q.month, q.scope ?? ''), principal);
    registry = {
      births: r.births, deaths: r.deaths, movedIn: r.movedIn, movedOut: r.movedOut, residents: r.residents, floating: r.floating,
      lowIncome: r.lowIncome, shops: r.shops, shopEmployees: r.shopEmployees, note: null,
    };
  }
  return { month: q.month, scope: q.scope ?? null, registry, events };
}

export async function kpiReport(db: Database, principal: Principal, q: KpiQuery): Promise<KpiReport> {
  const from = new Date(q.from);
  const to = new Date(q.to);
  if (!(from < to)) throw new AppError('VALIDATION_FAILED', 400, 'from must be before to.', { in: 'querystring', field: 'from' });
  const by = q.by ?? 'grid';
  // Per-person KPIs evaluate named staff: only for those who may read staff (analysts get grids only).
  if (by === 'staff' && !principal.permissions.has('staff:read')) {
    throw new AppError('FORBIDDEN', 403, 'KPIs per staff member need the permission staff:read; by=grid is open to reports:read.', { in: 'querystring', field: 'by', permission: 'staff:read' });
  }
  const minEvents = q.minEvents ?? DEFAULT_MIN_EVENTS_FOR_RANK;
  const rows = await computeKpis(db, { from, to, by, minEvents, prefixes: prefixesOf(principal), scope: q.scope });
  return { from: from.toISOString(), to: to.toISOString(), by, minEvents, rows };
}

// ---- CSV ----


export function dailyReportCsv(r: DailyReport): string {
  const cats = [...new Set(r.rows.flatMap((x) => Object.keys(x.reportedByCategory)))].sort();
  return toCsv(
    ['date', 'level', 'unit_code', 'unit_name', 'reported', ...cats.map((c) => `reported_${c}`), 'accepted', 'resolved', 'closed', 'rejected', 'open_at_end', 'overdue_at_end'],
    r.rows.map((x) => [r.date, r.level, x.unitCode, x.unitName, x.reported, ...cats.map((c) => x.reportedByCategory[c] ?? 0), x.accepted, x.resolved, x.closed, x.rejected, x.openAtEnd, x.overdueAtEnd]),
  );
}

export function monthlyReportCsv(r: MonthlyEventsReport): string {
  const rows: unknown[][] = [];
  for (const [k, v] of Object.entries(r.registry)) rows.push([r.month, r.scope, 'registry', k, v]);
  for (const [k, v] of Object.entries(r.events)) {
    if (k === 'reportedByCategory') for (const [c, n] of Object.entries(v as Record<string, number>)) rows.push([r.month, r.scope, 'events', `reported_${c}`, n]);
    else rows.push([r.month, r.scope, 'events', k, v]);
  }
  return toCsv(['month', 'scope', 'part', 'measure', 'value'], rows);
}

export function kpiCsv(r: KpiReport): string {
  return toCsv(
    ['rank', 'key', 'name', 'events', 'closed', 'closed_on_time', 'closure_rate', 'on_time_closure_rate', 'mean_hours_to_close', 'p90_hours_to_close', 'reopened', 'rework_rate', 'extended', 'extension_rate'],
    r.rows.map((x) => [x.rank, x.key, x.name, x.events, x.closed, x.closedOnTime, x.closureRate, x.onTimeClosureRate, x.meanHoursToClose, x.p90HoursToClose, x.reopened, x.reworkRate, x.extended, x.extensionRate]),
  );
}
