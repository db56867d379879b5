/** The per-unit table as CSV (RFC 4180, UTF-8 with a BOM so spreadsheet programs read the Chinese). */

export interface Column<R> {
  key: string;
  label: string;
  value(row: R): string | number | null;
}

function cell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  // Quote fields with separators, quotes or line breaks; defuse formulas (=, +, -, @) in text cells.
  const safe = typeof v === 'string' && /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv<R>(columns: ReadonlyArray<Column<R>>, rows: readonly R[]): string {
  const lines = [columns.map((c) => cell(c.label)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => cell(c.value(r))).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
