/**
 * The duty roster in memory: the same rule as the registry's `onDutyAt` (registry/roster.service.ts),
 * evaluated without a query. Ordering and exclusions mirror that SQL line by line, and a test checks
 * both agree over many grids and instants. Times: Asia/Shanghai is UTC+8 all year (no DST since 1991),
 * so local wall time is the instant plus 8 h.
 */
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

const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

const ROLE_RANK: Record<string, number> = { full_time_worker: 0, grid_leader: 1, part_time_worker: 2 };
const rank = (role: string): number => ROLE_RANK[role] ?? 3;

/** Local date 'YYYY-MM-DD', ISO weekday (1 = Monday), seconds since local midnight, local midnight (ms UTC). */
export function shanghaiClock(atMs: number): { date: string; weekday: number; seconds: number; midnightMs: number } {
  const local = atMs + SHANGHAI_OFFSET_MS;
  const dayStart = Math.floor(local / DAY_MS) * DAY_MS;
  const d = new Date(dayStart);
  const weekday = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
  return { date: d.toISOString().slice(0, 10), weekday, seconds: (local - dayStart) / 1000, midnightMs: dayStart - SHANGHAI_OFFSET_MS };
}

export class RosterIndex {
  private readonly staff = new Map<number, StaffRow>();
  private readonly assignmentsByGrid = new Map<string, AssignmentRow[]>();
  private readonly shiftsByScope = new Map<string, ShiftRow[]>();
  private readonly extrasByScope = new Map<string, ExceptionRow[]>();
  private readonly leaveByStaff = new Map<number, ExceptionRow[]>();
  private readonly holidays: ExceptionRow[] = [];
  private readonly dutyOfficersByUnit = new Map<string, StaffRow[]>();

  constructor(snapshot: RosterSnapshot) {
    const push = <K, V>(map: Map<K, V[]>, key: K, value: V): void => {
      const list = map.get(key);
      if (list) list.push(value);
      else map.set(key, [value]);
    };
    for (const s of snapshot.staff) {
      this.staff.set(s.id, s);
      if (!s.deleted && (s.role === 'community_duty_officer' || s.role === 'street_duty_officer')) push(this.dutyOfficersByUnit, s.unitCode, s);
    }
    for (const a of snapshot.assignments) push(this.assignmentsByGrid, a.gridCode, a);
    for (const s of snapshot.shifts) push(this.shiftsByScope, s.scopeCode, s);
    for (const e of snapshot.exceptions) {
      if (e.kind === 'holiday') this.holidays.push(e);
      else if (e.kind === 'leave' && e.staffId !== null) push(this.leaveByStaff, e.staffId, e);
      else if (e.kind === 'extra' && e.scopeCode !== null) push(this.extrasByScope, e.scopeCode, e);
    }
  }

  onLeave(staffId: number, atMs: number): boolean {
    return (this.leaveByStaff.get(staffId) ?? []).some((l) => atMs >= l.startsMs && atMs < l.endsMs);
  }

  /** The staff's assignment role in a grid on a local date (latest from_date first), if any. */
  assignmentRole(staffId: number, gridCode: string, date: string): string | undefined {
    let best: AssignmentRow | undefined;
    for (const a of this.assignmentsByGrid.get(gridCode) ?? []) {
      if (a.staffId !== staffId || a.fromDate > date || (a.toDate !== null && date >= a.toDate)) continue;
      if (!best || a.fromDate > best.fromDate) best = a;
    }
    return best?.role;
  }

  /** Staff assigned to a grid on a local date (not deleted), by role rank, then staff code. */
  assignedStaff(gridCode: string, date: string): Array<{ staff: StaffRow; role: string }> {
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
    return out.sort((a, b) => rank(a.role) - rank(b.role) || (a.staff.code < b.staff.code ? -1 : a.staff.code > b.staff.code ? 1 : 0));
  }

  /** Registered duty officers of a division (community or street), on duty or not, not on leave. */
  dutyOfficers(unitCode: string, atMs: number): StaffRow[] {
    return (this.dutyOfficersByUnit.get(unitCode) ?? []).filter((s) => !this.onLeave(s.id, atMs));
  }

  /**
   * Everyone on duty for a grid (or, with gridCode null, for a community and its street) at an
   * instant, in the order of `onDutyAt`: the first one is its answer.
   */
  onDuty(gridCode: string | null, communityCode: string, atMs: number): DutyCandidate[] {
    const street = communityCode.slice(0, 9);
    const clock = shanghaiClock(atMs);
    const holiday = gridCode !== null && this.holidays.some((h) => h.scopeCode !== null && gridCode.startsWith(h.scopeCode) && atMs >= h.startsMs && atMs < h.endsMs);
    const scopes = gridCode === null ? [communityCode, street] : [gridCode, communityCode, street];
    const out: DutyCandidate[] = [];
    const consider = (staffId: number, scopeCode: string, via: 'extra' | 'weekly', startedMs: number): void => {
      const staff = this.staff.get(staffId);
      if (!staff || staff.deleted || this.onLeave(staffId, atMs)) return;
      const assigned = gridCode === null ? undefined : this.assignmentRole(staffId, gridCode, clock.date);
      if (scopeCode.length === 15 && via === 'weekly' && assigned === undefined) return;
      const level: DutyLevel = scopeCode.length === 15 ? 'grid' : scopeCode.length === 12 ? 'community' : 'street';
      out.push({ staff, role: assigned ?? staff.role, level, via, scopeCode, startedMs });
    };
    for (const scope of scopes) {
      for (const e of this.extrasByScope.get(scope) ?? []) {
        if (e.staffId !== null && atMs >= e.startsMs && atMs < e.endsMs) consider(e.staffId, scope, 'extra', e.startsMs);
      }
      if (holiday && scope === gridCode) continue;
      for (const s of this.shiftsByScope.get(scope) ?? []) {
        if (s.weekday === clock.weekday && s.startS <= clock.seconds && clock.seconds < s.endS) consider(s.staffId, scope, 'weekly', clock.midnightMs + s.startS * 1000);
      }
    }
    return out.sort(
      (a, b) =>
        b.scopeCode.length - a.scopeCode.length ||
        (a.via === 'extra' ? 0 : 1) - (b.via === 'extra' ? 0 : 1) ||
        rank(a.role) - rank(b.role) ||
        b.startedMs - a.startedMs ||
        (a.staff.code < b.staff.code ? -1 : a.staff.code > b.staff.code ? 1 : 0),
    );
  }
}
