/** Whether a calendar date exists: Date.UTC normalises overflow (Feb 30 → Mar 2), so a round trip tells. */
export function isRealDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
