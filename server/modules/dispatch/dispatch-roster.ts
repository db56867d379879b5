/**
 * The duty roster in memory: the same rule as the registry's `onDutyAt` (registry/roster.service.ts),
 * evaluated without a query. Ordering and exclusions mirror that SQL line by line, and a test checks
 * both agree over many grids and instants. Times: Asia/Shanghai is UTC+8 all year (no DST since 1991),
 * so local wall time is the instant plus 8 h.
 */
import { SHANGHAI_OFFSET_MS } from '../../contracts/calendar';
import { runAll, type Steps } from './dispatch-steps';
import type { AssignmentRow, ExceptionRow, RosterSnapshot, ShiftRow, StaffRow } from './dispatch.repository';

export type DutyLevel = 'grid' | 'community' | 'street';

export interface DutyCandidate {
  staff: StaffRow;
  role: string;
  level: DutyLevel;
  via: 'extra' | 'weekly';
  scopeCode: string;
  /** When the shift or extra duty began (ms). */
  startedMs: number;
}

const DAY_MS = 86_400_000;

const ROLE_RANK: Record<string, number> = { full_time_worker: 0, grid_leader: 1, part_time_worker: 2 };
const rank = (role: string): number => ROLE_RANK[role] ?? 3;

/** The last local day asked for: a lookup's date string is computed once a day, not per request. */
let lastDay: { dayStart: number; date: string; weekday: number } | undefined;

/** Local date 'YYYY-MM-DD', ISO weekday (1 = Monday), seconds since local midnight, local midnight (ms UTC). */
export function shanghaiClock(atMs: number): { date: string; weekday: number; seconds: number; midnightMs: number } {
  const local = atMs + SHANGHAI_OFFSET_MS;
  const dayStart = Math.floor(local / DAY_MS) * DAY_MS;
  let day = lastDay;
  if (day?.dayStart !== dayStart) {
    const d = new Date(dayStart);
    day = lastDay = { dayStart, date: d.toISOString().slice(0, 10), weekday: d.getUTCDay() === 0 ? 7 : d.getUTCDay() };
  }
  return { date: day.date, weekday: day.weekday, seconds: (local - dayStart) / 1000, midnightMs: dayStart - SHANGHAI_OFFSET_MS };
}

const byRankThenCode = (a: { staff: StaffRow; role: string }, b: { staff: StaffRow; role: string }): number =>
  rank(a.role) - rank(b.role) || (a.staff.code < b.staff.code ? -1 : a.staff.code > b.staff.code ? 1 : 0);

const byDispatchOrder = (a: DutyCandidate, b: DutyCandidate): number =>
  b.scopeCode.length - a.scopeCode.length ||
  (a.via === 'extra' ? 0 : 1) - (b.via === 'extra' ? 0 : 1) ||
  rank(a.role) - rank(b.role) ||
  b.startedMs - a.startedMs ||
  (a.staff.code < b.staff.code ? -1 : a.staff.code > b.staff.code ? 1 : 0);

const NO_ROWS: readonly never[] = Object.freeze([]);
/** Roster rows indexed per build step (dispatch-steps.ts). */
const ROWS_PER_STEP = 512;

/** Whether a sorted array holds a value strictly between from and to (an edge at `from` itself changes nothing after it). */
function hasEdgeIn(sorted: Float64Array, from: number, to: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? Infinity) <= from) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && (sorted[lo] ?? Infinity) < to;
}

export class RosterIndex {
  private readonly staff = new Map<number, StaffRow>();
  private readonly assignmentsByGrid = new Map<string, AssignmentRow[]>();
  /** Weekly shifts by scope code, then by ISO weekday (index 1–7). */
  private readonly shiftsByScope = new Map<string, ShiftRow[][]>();
  /**
   * The after-midnight rows of night shifts: a row from 00:00 (not to 24:00) whose staff and scope have
   * a row to 24:00 the weekday before, with that evening row's start (local seconds; the earliest if
   * several). The shift started then, the day before (its `startedMs`), and leave is judged at the
   * shift's start day there (see `consider`).
   */
  private readonly nightTails = new Map<ShiftRow, number>();
  private readonly extrasByScope = new Map<string, ExceptionRow[]>();
  private readonly leaveByStaff = new Map<number, ExceptionRow[]>();
  private readonly holidays: ExceptionRow[] = [];
  private readonly dutyOfficersByUnit = new Map<string, StaffRow[]>();
  /**
   * assignedStaff answers for one local date (the last one asked for). The index is immutable, so only
   * the date can change an answer; a lookup for another date starts a new memo.
   */
  private assignedDate = '';
  private assignedMemo = new Map<string, ReadonlyArray<{ staff: StaffRow; role: string }>>();
  /** Every instant (ms) at which an exception (holiday, leave, extra duty) starts or ends, sorted. */
  private exceptionEdges = new Float64Array();
  /** Per ISO weekday (1–7), every local second at which a weekly shift starts or ends, sorted. */
  private shiftEdges: Float64Array[] = [];

  /** The roster of a snapshot, indexed at once (see `build` for a build in steps). */
  constructor(snapshot?: RosterSnapshot) {
    if (snapshot) runAll(this.load(snapshot));
  }

  /** The index in steps of ROWS_PER_STEP rows: the refresh yields to the event loop between them. */
  static *build(snapshot: RosterSnapshot): Steps<RosterIndex> {
    const index = new RosterIndex();
    yield* index.load(snapshot);
    return index;
  }

  private *load(snapshot: RosterSnapshot): Steps<void> {
    const push = <K, V>(map: Map<K, V[]>, key: K, value: V): void => {
      const list = map.get(key);
      if (list) list.push(value);
      else map.set(key, [value]);
    };
    let n = 0;
    const step = (): boolean => ++n % ROWS_PER_STEP === 0;
    for (const s of snapshot.staff) {
      this.staff.set(s.id, s);
      if (!s.deleted && (s.role === 'community_duty_officer' || s.role === 'street_duty_officer')) push(this.dutyOfficersByUnit, s.unitCode, s);
      if (step()) yield;
    }
    for (const a of snapshot.assignments) {
      push(this.assignmentsByGrid, a.gridCode, a);
      if (step()) yield;
    }
    const shiftEdges = Array.from({ length: 8 }, () => new Set<number>());
    for (const s of snapshot.shifts) {
      let week = this.shiftsByScope.get(s.scopeCode);
      if (!week) this.shiftsByScope.set(s.scopeCode, (week = Array.from({ length: 8 }, () => [])));
      week[s.weekday]?.push(s);
      shiftEdges[s.weekday]?.add(s.startS).add(s.endS);
      if (step()) yield;
    }
    // Rows to 24:00 keyed by the weekday after them, with the earliest start (onDutyAt's min(start_time)).
    const eveningStart = new Map<string, number>();
    for (const s of snapshot.shifts) {
      if (s.endS !== 86_400) continue;
      const key = `${s.staffId}|${s.scopeCode}|${(s.weekday % 7) + 1}`;
      eveningStart.set(key, Math.min(eveningStart.get(key) ?? Infinity, s.startS));
    }
    for (const s of snapshot.shifts) {
      const evening = s.startS === 0 && s.endS < 86_400 ? eveningStart.get(`${s.staffId}|${s.scopeCode}|${s.weekday}`) : undefined;
      if (evening !== undefined) this.nightTails.set(s, evening);
    }
    yield;
    const exceptionEdges: number[] = [];
    for (const e of snapshot.exceptions) {
      if (e.kind === 'holiday') this.holidays.push(e);
      else if (e.kind === 'leave' && e.staffId !== null) push(this.leaveByStaff, e.staffId, e);
      else if (e.kind === 'extra' && e.scopeCode !== null) push(this.extrasByScope, e.scopeCode, e);
      exceptionEdges.push(e.startsMs, e.endsMs);
      if (step()) yield;
    }
    this.exceptionEdges = Float64Array.from(exceptionEdges).sort();
    this.shiftEdges = shiftEdges.map((edges) => Float64Array.from(edges).sort());
  }

  /**
   * Whether no roster rule starts or ends within the local minute [minuteMs, minuteMs + 60 s): then
   * every answer of this index (on duty, leave, holidays, assignments — dates change only at midnight,
   * and minutes never straddle one) is the same at every instant of that minute, and may be shared.
   * Conservative: any edge anywhere in the roster makes the minute unsteady.
   */
  steadyMinute(minuteMs: number): boolean {
    if (minuteMs % 60_000 !== 0) return false;
    if (hasEdgeIn(this.exceptionEdges, minuteMs, minuteMs + 60_000)) return false;
    const clock = shanghaiClock(minuteMs);
    return !hasEdgeIn(this.shiftEdges[clock.weekday] ?? new Float64Array(), clock.seconds, clock.seconds + 60);
  }

  /**
   * Whether leave cancels the after-midnight row of a night shift that began the day before: leave is
   * booked by day, and leave on the shift's start day cancels the whole shift, leave on the next day
   * none of it — so leave that began before that midnight and still ran at it (starts < midnight <=
   * ends). The registry's `onDutyAt` has the same rule.
   */
  onLeaveForNightTail(staffId: number, midnightMs: number): boolean {
    const leave = this.leaveByStaff.get(staffId);
    if (!leave) return false;
    for (const l of leave) if (l.startsMs < midnightMs && midnightMs <= l.endsMs) return true;
    return false;
  }

  onLeave(staffId: number, atMs: number): boolean {
    const leave = this.leaveByStaff.get(staffId);
    if (!leave) return false;
    for (const l of leave) if (atMs >= l.startsMs && atMs < l.endsMs) return true;
    return false;
  }

  /** The staff's assignment role in a grid on a local date (latest from_date first), if any. */
  assignmentRole(staffId: number, gridCode: string, date: string): string | undefined {
    let best: AssignmentRow | undefined;
    for (const a of this.assignmentsByGrid.get(gridCode) ?? NO_ROWS) {
      if (a.staffId !== staffId || a.fromDate > date || (a.toDate !== null && date >= a.toDate)) continue;
      if (!best || a.fromDate > best.fromDate) best = a;
    }
    return best?.role;
  }

  /** Staff assigned to a grid on a local date (not deleted), by role rank, then staff code. Shared: do not modify. */
  assignedStaff(gridCode: string, date: string): ReadonlyArray<{ staff: StaffRow; role: string }> {
    if (date !== this.assignedDate) {
      this.assignedDate = date;
      this.assignedMemo = new Map();
    }
    let out = this.assignedMemo.get(gridCode);
    if (!out) this.assignedMemo.set(gridCode, (out = Object.freeze(this.computeAssignedStaff(gridCode, date))));
    return out;
  }

  private computeAssignedStaff(gridCode: string, date: string): Array<{ staff: StaffRow; role: string }> {
    const out: Array<{ staff: StaffRow; role: string }> = [];
    const seen = new Set<number>();
    const live = (this.assignmentsByGrid.get(gridCode) ?? [])
      .filter((a) => a.fromDate <= date && (a.toDate === null || date < a.toDate))
      .sort((a, b) => (a.fromDate < b.fromDate ? 1 : a.fromDate > b.fromDate ? -1 : 0));
    for (const a of live) {
      const s = this.staff.get(a.staffId);
      if (!s || s.deleted || seen.has(s.id)) continue;
      seen.add(s.id);
      out.push({ staff: s, role: a.role });
    }
    return out.sort(byRankThenCode);
  }

  /** The grid's leader on a local date, unless on leave at the instant. */
  gridLeader(gridCode: string, date: string, atMs: number): { staff: StaffRow; role: string } | undefined {
    for (const a of this.assignedStaff(gridCode, date)) if (a.role === 'grid_leader' && !this.onLeave(a.staff.id, atMs)) return a;
    return undefined;
  }

  /** Registered duty officers of a division (community or street), on duty or not, not on leave. */
  dutyOfficers(unitCode: string, atMs: number): StaffRow[] {
    const out: StaffRow[] = [];
    for (const s of this.dutyOfficersByUnit.get(unitCode) ?? NO_ROWS) if (!this.onLeave(s.id, atMs)) out.push(s);
    return out;
  }

  /** The first of `dutyOfficers`, without building the list. */
  firstDutyOfficer(unitCode: string, atMs: number): StaffRow | undefined {
    for (const s of this.dutyOfficersByUnit.get(unitCode) ?? NO_ROWS) if (!this.onLeave(s.id, atMs)) return s;
    return undefined;
  }

  /**
   * Everyone on duty for a grid (or, with gridCode null, for a community and its street) at an
   * instant, in the order of `onDutyAt`: the first one is its answer.
   */
  onDuty(gridCode: string | null, communityCode: string, atMs: number, clock = shanghaiClock(atMs)): DutyCandidate[] {
    let holiday = false;
    if (gridCode !== null) {
      for (const h of this.holidays) {
        if (h.scopeCode !== null && gridCode.startsWith(h.scopeCode) && atMs >= h.startsMs && atMs < h.endsMs) {
          holiday = true;
          break;
        }
      }
    }
    const out: DutyCandidate[] = [];
    if (gridCode !== null) this.considerScope(out, gridCode, gridCode, atMs, clock, holiday);
    this.considerScope(out, gridCode, communityCode, atMs, clock, false);
    this.considerScope(out, gridCode, communityCode.slice(0, 9), atMs, clock, false);
    return out.length > 1 ? out.sort(byDispatchOrder) : out;
  }

  private considerScope(out: DutyCandidate[], gridCode: string | null, scope: string, atMs: number, clock: ReturnType<typeof shanghaiClock>, holiday: boolean): void {
    for (const e of this.extrasByScope.get(scope) ?? NO_ROWS) {
      if (e.staffId !== null && atMs >= e.startsMs && atMs < e.endsMs) this.consider(out, gridCode, e.staffId, scope, 'extra', e.startsMs, atMs, clock.date);
    }
    if (holiday) return;
    for (const s of this.shiftsByScope.get(scope)?.[clock.weekday] ?? NO_ROWS) {
      if (s.startS > clock.seconds || clock.seconds >= s.endS) continue;
      const evening = this.nightTails.get(s);
      // A night shift's after-midnight row: the shift started the evening before (ordering), and the
      // leave that counts is its start day's (running at this midnight).
      if (evening === undefined) this.consider(out, gridCode, s.staffId, scope, 'weekly', clock.midnightMs + s.startS * 1000, atMs, clock.date);
      else this.consider(out, gridCode, s.staffId, scope, 'weekly', clock.midnightMs - (86_400 - evening) * 1000, atMs, clock.date, clock.midnightMs);
    }
  }

  /** `nightTailMidnightMs`: the candidate is a night shift's after-midnight row; leave is judged at that midnight. */
  private consider(out: DutyCandidate[], gridCode: string | null, staffId: number, scopeCode: string, via: 'extra' | 'weekly', startedMs: number, atMs: number, date: string, nightTailMidnightMs?: number): void {
    const staff = this.staff.get(staffId);
    if (!staff || staff.deleted || (nightTailMidnightMs !== undefined ? this.onLeaveForNightTail(staffId, nightTailMidnightMs) : this.onLeave(staffId, atMs))) return;
    const assigned = gridCode === null ? undefined : this.assignmentRole(staffId, gridCode, date);
    if (scopeCode.length === 15 && via === 'weekly' && assigned === undefined) return;
    const level: DutyLevel = scopeCode.length === 15 ? 'grid' : scopeCode.length === 12 ? 'community' : 'street';
    out.push({ staff, role: assigned ?? staff.role, level, via, scopeCode, startedMs });
  }
}
