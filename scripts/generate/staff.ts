/**
 * Grid staff, their assignments and a weekly roster. Coverage is deliberately uneven so escalation
 * logic has cases: working hours (Mon–Fri 08:30–17:30) are always covered by grid staff, evenings
 * and weekends only in some grids, and nights (22:00–08:30) never. Community duty officers cover
 * evenings and weekend days; the street duty officer is on call around the clock.
 */
import { type CityLayout } from './layout';
import { drawFullName } from './names';
import { drawPhone } from './people';
import { type Rng, rngFor } from './random';
import { type Assignment, type Gender, type Shift, type StaffMember, type StaffRole, type Weekday } from './types';

export interface Staffing {
  staff: StaffMember[];
  assignments: Assignment[];
  roster: Shift[];
}

const WEEKDAYS: readonly Weekday[] = [1, 2, 3, 4, 5];
const WEEKEND: readonly Weekday[] = [6, 7];

function isoDate(year: number, month: number, day: number): string {
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export function buildStaffing(layout: CityLayout, seed: number): Staffing {
  const phones = new Set<string>();
  const staff: StaffMember[] = [];
  const assignments: Assignment[] = [];
  const roster: Shift[] = [];

  const hire = (rng: Rng, unitCode: string, index: number, role: StaffRole, ageRange: [number, number]): StaffMember => {
    const gender: Gender = rng.chance(0.6) ? 'F' : 'M';
    const member: StaffMember = {
      code: `W${unitCode}${String(index).padStart(2, '0')}`,
      name: drawFullName(rng, gender, 2024 - rng.int(ageRange[0], ageRange[1])),
      gender,
      phone: drawPhone(rng, phones),
      role,
      unitCode,
    };
    staff.push(member);
    return member;
  };
  const shift = (member: StaffMember, scopeCode: string, days: readonly Weekday[], start: string, end: string) => {
    for (const weekday of days) roster.push({ staffCode: member.code, scopeCode, weekday, start, end });
  };

  for (const division of layout.divisions) {
    if (division.level === 'district') continue;
    const rng = rngFor(seed, 'duty', division.code);
    if (division.level === 'street') {
      const officer = hire(rng, division.code, 1, '街道值班员', [30, 55]);
      shift(officer, division.code, [...WEEKDAYS, ...WEEKEND], '00:00', '24:00');
    } else {
      const officer = hire(rng, division.code, 1, '社区值班员', [25, 55]);
      shift(officer, division.code, [...WEEKDAYS, ...WEEKEND], '17:30', '22:00');
      shift(officer, division.code, WEEKEND, '08:30', '17:30');
    }
  }

  for (const { grid } of layout.plans) {
    const rng = rngFor(seed, 'staff', grid.code);
    const since = () => isoDate(rng.int(2019, 2024), rng.int(1, 12), rng.int(1, 28));
    const leader = hire(rng, grid.code, 1, '网格长', [32, 55]);
    assignments.push({ staffCode: leader.code, gridCode: grid.code, role: '网格长', fromDate: since() });
    shift(leader, grid.code, WEEKDAYS, '08:30', '17:30');

    const workers = rng.chance(0.55) ? 2 : 1;
    for (let k = 0; k < workers; k++) {
      const role: StaffRole = k === 0 || rng.chance(0.3) ? '专职网格员' : '兼职网格员';
      const worker = hire(rng, grid.code, k + 2, role, [22, 60]);
      assignments.push({ staffCode: worker.code, gridCode: grid.code, role, fromDate: since() });
      if (role === '专职网格员') {
        shift(worker, grid.code, WEEKDAYS, '08:30', '17:30');
        // Some full-timers take Saturday mornings and one or two evenings a week.
        if (rng.chance(0.4)) shift(worker, grid.code, [6], '09:00', '12:00');
        const evenings = rng.shuffle([...WEEKDAYS]).slice(0, rng.int(0, 2));
        shift(worker, grid.code, evenings.sort(), '17:30', '21:00');
      } else {
        // Part-timers (often retired residents or volunteers) cover weekends and a few evenings.
        shift(worker, grid.code, WEEKEND, '09:00', '17:00');
        const evenings = rng.shuffle([...WEEKDAYS]).slice(0, rng.int(2, 3));
        shift(worker, grid.code, evenings.sort(), '18:00', '21:30');
      }
    }
  }
  return { staff, assignments, roster };
}
