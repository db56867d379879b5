/**
 * Overnight shifts and leave: a night shift (Mon 22:00–Tue 06:00) is stored as two weekly rows
 * (Mon 22:00–24:00, Tue 00:00–06:00) and is one shift of its start day. Monday's leave cancels all of
 * it, Tuesday's leave none of it (Tuesday's own night shift, yes). Checked in both evaluators: the
 * registry SQL `onDutyAt` and the dispatch lookup's memory roster. After midnight, the night shift is
 * ordered among those on duty by its start the evening before (the shift that started latest first).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DispatchResult } from '../../contracts/dispatch';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, lattice, newDivisions, newGrid, newLayout } from '../../test/factories';
import { onDutyAt } from '../registry/roster.service';

let t: TestApp;
// Five grids side by side; one worker each in the first four, two in the fifth. 2025-06-02 is a Monday.
const GRIDS = ['001', '002', '003', '004', '005'].map((n) => `${COMMUNITY}${n}`);
const CENTRE = (i: number): [number, number] => [113.6005 + i * 0.001, 34.7515];
const AT = (day: string, hhmm: string): string => `2025-06-${day}T${hhmm}:00+08:00`;
const MON = '02';
const TUE = '03';

beforeAll(async () => {
  t = await createTestApp();
  const db = t.tdb.db;
  await newDivisions(db);
  const layout = await newLayout(db, { status: 'published', effectiveFrom: '2025-01-01T00:00:00+08:00' });
  const cells = lattice(113.6, 34.75, 113.605, 34.753, 5, 1);
  for (const [i, code] of GRIDS.entries()) await newGrid(db, layout, cells[i]!, { code, name: `网格${i + 1}` });
  // N1: night shifts Mon and Tue, no leave. N2: the same, on leave all Monday. N3: the same, on leave
  // all Tuesday. D1: on duty all day Monday and Tuesday (two 00:00–24:00 rows: not a night shift), on
  // leave all Tuesday.
  const workers = ['N1', 'N2', 'N3', 'D1'];
  for (const [i, code] of workers.entries()) {
    await sql`INSERT INTO staff (code, name, phone, role, unit_code) VALUES (${code}, ${`夜班${i}`}, NULL, 'full_time_worker', ${GRIDS[i]!})`.execute(db);
    await sql`INSERT INTO staff_assignments (staff_id, grid_code, role, from_date) SELECT id, ${GRIDS[i]!}, 'full_time_worker', '2025-01-01' FROM staff WHERE code = ${code}`.execute(db);
    const shifts: Array<[number, string, string]> = code === 'D1'
      ? [[1, '00:00', '24:00'], [2, '00:00', '24:00']]
      : [[1, '22:00', '24:00'], [2, '00:00', '06:00'], [2, '22:00', '24:00'], [3, '00:00', '06:00']];
    for (const [weekday, start, end] of shifts) {
      await sql`INSERT INTO roster_shifts (staff_id, scope_code, weekday, start_time, end_time) SELECT id, ${GRIDS[i]!}, ${weekday}, ${start}::time, ${end}::time FROM staff WHERE code = ${code}`.execute(db);
    }
  }
  // Grid 5: two full-time workers on Monday's night shift, E22 from 22:00 and L23 from 23:00, both to
  // Tuesday 06:00. The one whose shift started later comes first, after midnight too.
  for (const [code, start] of [['E22', '22:00'], ['L23', '23:00']] as const) {
    await sql`INSERT INTO staff (code, name, phone, role, unit_code) VALUES (${code}, ${`夜班${code}`}, NULL, 'full_time_worker', ${GRIDS[4]!})`.execute(db);
    await sql`INSERT INTO staff_assignments (staff_id, grid_code, role, from_date) SELECT id, ${GRIDS[4]!}, 'full_time_worker', '2025-01-01' FROM staff WHERE code = ${code}`.execute(db);
    for (const [weekday, from, to] of [[1, start, '24:00'], [2, '00:00', '06:00']] as const) {
      await sql`INSERT INTO roster_shifts (staff_id, scope_code, weekday, start_time, end_time) SELECT id, ${GRIDS[4]!}, ${weekday}, ${from}::time, ${to}::time FROM staff WHERE code = ${code}`.execute(db);
    }
  }
  const leave = async (code: string, day: string, next: string): Promise<void> => {
    await sql`INSERT INTO roster_exceptions (kind, staff_id, starts_at, ends_at) SELECT 'leave', id, ${AT(day, '00:00')}, ${AT(next, '00:00')} FROM staff WHERE code = ${code}`.execute(db);
  };
  await leave('N2', MON, TUE);
  await leave('N3', TUE, '04');
  await leave('D1', TUE, '04');
  await t.app.ready();
});

afterAll(async () => {
  await t?.close();
});

async function lookup(i: number, at: string): Promise<DispatchResult> {
  const [lon, lat] = CENTRE(i);
  const res = await t.inject(`/api/v1/dispatch/lookup?lon=${lon}&lat=${lat}&at=${encodeURIComponent(at)}`);
  expect(res.statusCode).toBe(200);
  const body = res.json<DispatchResult>();
  expect(body.grid?.code).toBe(GRIDS[i]);
  return body;
}

/** Who each evaluator says is on duty in grid i at an instant: [SQL onDutyAt, dispatch lookup]. */
async function onDuty(i: number, at: string): Promise<[string | null, string | null]> {
  const sqlAnswer = await onDutyAt(t.tdb.db, GRIDS[i]!, new Date(at));
  return [sqlAnswer?.staffCode ?? null, (await lookup(i, at)).onDuty[0]?.staffCode ?? null];
}

describe('overnight shifts and leave (leave on the shift start day cancels the whole shift)', () => {
  it('without leave, the night shift runs across midnight', async () => {
    expect(await onDuty(0, AT(MON, '23:00'))).toEqual(['N1', 'N1']);
    expect(await onDuty(0, AT(TUE, '01:00'))).toEqual(['N1', 'N1']);
    expect(await onDuty(0, AT(TUE, '06:00'))).toEqual([null, null]);
  });

  it("Monday's leave cancels Monday's night shift through its Tuesday-morning end", async () => {
    expect(await onDuty(1, AT(MON, '23:00'))).toEqual([null, null]);
    expect(await onDuty(1, AT(TUE, '00:00'))).toEqual([null, null]);
    expect(await onDuty(1, AT(TUE, '05:59'))).toEqual([null, null]);
    // Tuesday's night shift is Tuesday's: not on leave.
    expect(await onDuty(1, AT(TUE, '23:00'))).toEqual(['N2', 'N2']);
    expect(await onDuty(1, AT('04', '01:00'))).toEqual(['N2', 'N2']);
  });

  it("Tuesday's leave leaves Monday's night shift whole and cancels Tuesday's", async () => {
    expect(await onDuty(2, AT(MON, '23:00'))).toEqual(['N3', 'N3']);
    expect(await onDuty(2, AT(TUE, '00:00'))).toEqual(['N3', 'N3']);
    expect(await onDuty(2, AT(TUE, '05:59'))).toEqual(['N3', 'N3']);
    expect(await onDuty(2, AT(TUE, '23:00'))).toEqual([null, null]);
    expect(await onDuty(2, AT('04', '01:00'))).toEqual([null, null]);
  });

  it('an all-day duty on consecutive days is two shifts: the second day’s leave cancels the second', async () => {
    expect(await onDuty(3, AT(MON, '23:00'))).toEqual(['D1', 'D1']);
    expect(await onDuty(3, AT(TUE, '01:00'))).toEqual([null, null]);
    expect(await onDuty(3, AT(TUE, '12:00'))).toEqual([null, null]);
  });

  it('after midnight a night shift is ordered by its start the evening before, not by midnight', async () => {
    // Before midnight L23 (started 23:00) comes before E22 (started 22:00); the after-midnight rows
    // used to count as started at 00:00 for both, and the staff code put E22 first until 06:00.
    for (const at of [AT(MON, '23:30'), AT(TUE, '00:00'), AT(TUE, '01:00'), AT(TUE, '05:59')]) {
      expect(await onDuty(4, at), at).toEqual(['L23', 'L23']);
      expect((await lookup(4, at)).onDuty.map((d) => d.staffCode), at).toEqual(['L23', 'E22']);
    }
    expect(await onDuty(4, AT(TUE, '06:00'))).toEqual([null, null]);
  });
});
