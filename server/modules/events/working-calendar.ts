/**
 * Deadlines on a working calendar, in Asia/Shanghai local time (UTC+8 all year: no daylight saving, so
 * a fixed offset is exact). Pure: the calendar comes from the database (event_work_periods,
 * event_calendar_days), the arithmetic happens here so it can be tested by hand.
 */
import { SHANGHAI_OFFSET_MS } from '../../contracts/calendar';

const DAY_MS = 86_400_000;

/** Minutes after local midnight, [start, end). */
export type MinuteRange = readonly [number, number];

export interface WorkingCalendar {
  /** ISO weekday (1 = Monday … 7 = Sunday) → working periods, sorted. */
  periods: ReadonlyMap<number, readonly MinuteRange[]>;
  /** 'YYYY-MM-DD' → a holiday ('off') or a weekend day worked in exchange ('work', Monday's periods). */
  days: ReadonlyMap<string, 'off' | 'work'>;
}

/** 'HH:MM[:SS]' → minutes after midnight; '24:00' is 1440. */
export function minutesOf(time: string): number {
  const [h = '0', m = '0'] = time.split(':');
  return Number(h) * 60 + Number(m);
}

export function localDateOf(dayIndex: number): string {
  return new Date(dayIndex * DAY_MS).toISOString().slice(0, 10);
}

function periodsOn(cal: WorkingCalendar, dayIndex: number): readonly MinuteRange[] {
  const kind = cal.days.get(localDateOf(dayIndex));
  if (kind === 'off') return [];
  const weekday = ((new Date(dayIndex * DAY_MS).getUTCDay() + 6) % 7) + 1;
  const own = cal.periods.get(weekday) ?? [];
  if (kind === 'work' && own.length === 0) return cal.periods.get(1) ?? [];
  return own;
}

/**
 * The instant `hours` working hours after `start`. Time outside working periods (nights, weekends,
 * holidays, lunch breaks) does not count; a deadline that uses up a period exactly falls at its end
 * (17:30 that day, not 9:00 the next).
 *
 * @example addWorkingHours(new Date('2025-01-03T09:00:00Z'), 2, cal) // Fri 17:00 +08 + 2 h → Mon 10:00 +08
 */
export function addWorkingHours(start: Date, hours: number, cal: WorkingCalendar): Date {
  if (!(hours > 0)) return new Date(start.getTime());
  // A week without a working minute would loop for ever: refuse it. Any other calendar ends the walk,
  // since past its last dated exception every week works (stage limits reach 4 × 10,000 h: 23 years,
  // so no fixed count of days would do).
  let weekWorks = false;
  for (const list of cal.periods.values()) if (list.some(([s, e]) => e > s)) weekWorks = true;
  if (!weekWorks) throw new Error('the working calendar has no working periods');
  let remaining = Math.round(hours * 3_600_000);
  let cursor = start.getTime();
  let day = Math.floor((cursor + SHANGHAI_OFFSET_MS) / DAY_MS);
  for (;; day += 1) {
    for (const [s, e] of periodsOn(cal, day)) {
      const periodEnd = day * DAY_MS + e * 60_000 - SHANGHAI_OFFSET_MS;
      const from = Math.max(cursor, day * DAY_MS + s * 60_000 - SHANGHAI_OFFSET_MS);
      if (from >= periodEnd) continue;
      const available = periodEnd - from;
      if (remaining <= available) return new Date(from + remaining);
      remaining -= available;
      cursor = periodEnd;
    }
  }
}

/** Calendar hours: day and night, weekends and holidays alike (urgent sub-types). */
export function addCalendarHours(start: Date, hours: number): Date {
  return new Date(start.getTime() + Math.round(hours * 3_600_000));
}

export function addDeadlineHours(start: Date, hours: number, urgent: boolean, cal: WorkingCalendar): Date {
  return urgent ? addCalendarHours(start, hours) : addWorkingHours(start, hours, cal);
}
