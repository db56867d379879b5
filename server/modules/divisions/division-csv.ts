/**
 * A small RFC 4180 CSV reader (no dependency): comma-separated, fields optionally in double quotes,
 * `""` inside quotes is one quote, quoted fields may hold commas and line breaks. Accepts LF, CRLF and
 * CR line ends and a leading UTF-8 BOM (Excel writes one). Blank lines are ignored.
 */

export interface CsvRecord {
  /** 1-based line where the record starts (the header is line 1 when the file starts with it). */
  line: number;
  fields: string[];
}

export type CsvParseResult = { ok: true; records: CsvRecord[] } | { ok: false; line: number; message: string };

export function parseCsv(text: string): CsvParseResult {
  const records: CsvRecord[] = [];
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let line = 1;
  let recordLine = 1;
  let fields: string[] = [];
  let field = '';
  let i = 0;
  // Whether the current record has any content (so that blank lines are dropped, not read as [""]).
  let started = false;

  const endRecord = (): void => {
    fields.push(field);
    if (started) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    started = false;
  };

  while (i < src.length) {
    const ch = src[i];
    if (ch === '"' && field === '') {
      // A quoted field: read to the closing quote.
      const openedOn = line;
      started = true;
      i++;
      for (;;) {
        if (i >= src.length) return { ok: false, line: openedOn, message: `A quoted field opened on line ${openedOn} is never closed.` };
        const c = src[i];
        if (c === '"') {
          if (src[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\n' || (c === '\r' && src[i + 1] !== '\n')) line++;
        field += c;
        i++;
      }
      const next = src[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        return { ok: false, line, message: `Unexpected character after a closing quote on line ${line}; a quote inside a quoted field is written "".` };
      }
      continue;
    }
    if (ch === ',') {
      started = true;
      fields.push(field);
      field = '';
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      endRecord();
      i += ch === '\r' && src[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
      continue;
    }
    if (ch === '"') {
      return { ok: false, line, message: `A quote inside an unquoted field on line ${line}; quote the whole field and write the quote as "".` };
    }
    started = true;
    field += ch;
    i++;
  }
  if (started || field !== '' || fields.length > 0) endRecord();
  return { ok: true, records };
}
