/**
 * Deadlines across nights, lunch breaks, weekends, holidays and adjusted working days, computed by hand.
 * Calendar: Monday–Friday 09:00–12:00 and 13:30–17:30 (7 working hours a day), Asia/Shanghai.
 * National Day 2025: 1–8 October off; Sunday 28 September and Saturday 11 October worked (调休).
 */
import { describe, expect, it } from 'vitest';
import { addCalendarHours, addDeadlineHours, addWorkingHours, type MinuteRange, type WorkingCalendar } from './working-calendar';

const day: MinuteRange[] = [[9 * 60, 12 * 60], [13 * 60 + 30, 17 * 60 + 30]];
const cal: WorkingCalendar = {
  periods: new Map([1, 2, 3, 4, 5].map((d) => [d, day])),
  days: new Map<string, 'off' | 'work'>([
    ...['01', '02', '03', '04', '05', '06', '07', '08'].map((d) => [`2025-10-${d}`, 'off'] as [string, 'off']),
    ['2025-09-28', 'work'],
    ['2025-10-11', 'work'],
  ]),
};
const at = (local: string): Date => new Date(`${local}+08:00`);

describe('addWorkingHours', () => {
  it.each([
    ['within a morning', '2025-03-04T10:00', 1, '2025-03-04T11:00'],
    ['using up the morning exactly ends at 12:00, not after lunch', '2025-03-04T10:00', 2, '2025-03-04T12:00'],
    ['across the lunch break', '2025-03-04T10:00', 3, '2025-03-04T14:30'],
    ['starting in the lunch break', '2025-03-04T12:30', 1, '2025-03-04T14:30'],
    ['across a night', '2025-03-04T17:00', 2, '2025-03-05T10:30'],
    ['starting at night', '2025-03-04T22:00', 1, '2025-03-05T10:00'],
    ['starting before work', '2025-03-04T06:00', 0.5, '2025-03-04T09:30'],
    ['across a weekend', '2025-03-07T16:30', 2, '2025-03-10T10:00'],
    ['reported on a Saturday', '2025-03-08T11:00', 1, '2025-03-10T10:00'],
    ['four working days (28 h) from Friday morning', '2025-03-07T09:00', 28, '2025-03-12T17:30'],
    ['across the National Day holiday', '2025-09-30T17:00', 1, '2025-10-09T09:30'],
    ['into an adjusted working Saturday', '2025-10-10T17:00', 1, '2025-10-11T09:30'],
    ['on the adjusted working Sunday', '2025-09-27T18:00', 2, '2025-09-28T11:00'],
    ['zero hours', '2025-03-04T22:00', 0, '2025-03-04T22:00'],
  ])('%s', (_name, start, hours, expected) => {
    expect(addWorkingHours(at(start), hours, cal).toISOString()).toBe(at(expected).toISOString());
  });

  it('urgent sub-types count calendar hours, nights and holidays included', () => {
    expect(addCalendarHours(at('2025-10-01T22:00'), 0.5).toISOString()).toBe(at('2025-10-01T22:30').toISOString());
    expect(addDeadlineHours(at('2025-03-07T23:00'), 12, true, cal).toISOString()).toBe(at('2025-03-08T11:00').toISOString());
    // Monday 7 h, then Tuesday 9:00–12:00 (3 h) and 13:30–15:30 (2 h).
    expect(addDeadlineHours(at('2025-03-07T23:00'), 12, false, cal).toISOString()).toBe(at('2025-03-11T15:30').toISOString());
  });

  it('finds a deadline more than ten years of working days away (the walk gave up after 3,660 days and threw)', () => {
    // The taxonomy allows 10,000 h per stage: 40,000 working hours = 5,714 days of 7 h, then 2 h into
    // working day 5,715 = 1,142 weeks and 4 weekdays after Monday 2026-01-05: Friday 2047-11-29, 11:00.
    expect(addWorkingHours(at('2026-01-05T09:00'), 40_000, { periods: cal.periods, days: new Map() }).toISOString()).toBe(at('2047-11-29T11:00').toISOString());
  });

  it('refuses an empty calendar instead of looping', () => {
    expect(() => addWorkingHours(at('2025-03-04T10:00'), 1, { periods: new Map(), days: new Map() })).toThrow(/no working periods/);
  });
});
