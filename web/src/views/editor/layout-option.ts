/** How a layout is named in the editor's select: its name (or #id), status, grid count and creation time. */
import type { Layout } from '@contracts/layout';

/** The city's offset from UTC (Asia/Shanghai: UTC+8, no daylight saving time). */
const CITY_OFFSET_MS = 8 * 3600_000;
const two = (n: number): string => String(n).padStart(2, '0');

/**
 * A creation time in the city's time: "11-28 09:05" within the current year, "2025-11-28 09:05"
 * before it (drafts are told apart by the minute they were made on).
 */
export function formatCreated(iso: string, now = new Date()): string {
  const d = new Date(new Date(iso).getTime() + CITY_OFFSET_MS);
  if (Number.isNaN(d.getTime())) return '';
  const thisYear = new Date(now.getTime() + CITY_OFFSET_MS).getUTCFullYear();
  const day = `${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
  return `${d.getUTCFullYear() === thisYear ? day : `${d.getUTCFullYear()}-${day}`} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}

/** The option's parameters for the `editor.layout.option` message. */
export function layoutOptionParams(layout: Pick<Layout, 'id' | 'name' | 'gridCount' | 'createdAt'>, now = new Date()): { name: string; count: number; created: string } {
  const name = layout.name.trim();
  return { name: name || `#${layout.id}`, count: layout.gridCount, created: formatCreated(layout.createdAt, now) };
}
