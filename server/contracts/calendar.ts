/** Whether a calendar date exists: Date.UTC normalises overflow (Feb 30 → Mar 2), so a round trip tells. */
export function isRealDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Asia/Shanghai's offset from UTC: +8 h all year (no daylight saving since 1991), so a fixed offset is exact. */
export const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

/** Today in Asia/Shanghai, YYYY-MM-DD: the business date in China. */
export function shanghaiToday(now: Date = new Date()): string {
  return new Date(now.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);
}

const FIRST_STORABLE_MS = Date.parse('0001-01-01T00:00:00Z');
const LAST_STORABLE_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * Whether an instant (ms since the epoch) survives the trip to PostgreSQL as ISO text: years 0001–9999
 * UTC. `Date#toISOString` writes year 0 as `0000` and later years as `+010000`, both refused by
 * PostgreSQL; NaN (an unparseable or leap-second text) is no instant at all.
 */
export function isStorableInstant(ms: number): boolean {
  return ms >= FIRST_STORABLE_MS && ms <= LAST_STORABLE_MS;
}
