/**
 * CSV for people: reports, the residents export and the web app's analysis table, opened in a spreadsheet. (The exchange module's CSV
 * is for GIS tools and round trips, and keeps every value as it is.)
 * - A BOM, so Excel opens Chinese text as UTF-8; CRLF line ends (RFC 4180).
 * - A cell is quoted when it holds a quote, comma or line break (a lone CR included).
 * - A text cell starting with = + - @ (or a tab or CR, which spreadsheets skip before reading a formula)
 *   gets a leading apostrophe: a resident's name or an event's note typed as `=HYPERLINK(…)` must not run
 *   as a formula on the office computer that opens the export (CSV injection). Plain numbers stay numbers.
 */
export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : Array.isArray(v) ? v.join(';') : JSON.stringify(v);
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?[0-9.]+$/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly unknown[]>): string {
  return `\uFEFF${[header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
