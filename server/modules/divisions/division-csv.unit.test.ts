import { describe, expect, it } from 'vitest';
import { parseCsv } from './division-csv';

describe('parseCsv (RFC 4180)', () => {
  it('reads quoted fields with commas, escaped quotes and line breaks, and records their start lines', () => {
    const res = parseCsv('\uFEFFcode,name\r\n410102,"中原区, 郑州"\n410103,"二七""区"""\n410104,"管城\n回族区"\n\n410105,金水区');
    expect(res).toEqual({
      ok: true,
      records: [
        { line: 1, fields: ['code', 'name'] },
        { line: 2, fields: ['410102', '中原区, 郑州'] },
        { line: 3, fields: ['410103', '二七"区"'] },
        { line: 4, fields: ['410104', '管城\n回族区'] },
        { line: 7, fields: ['410105', '金水区'] },
      ],
    });
  });

  it('keeps empty fields and a trailing empty field', () => {
    expect(parseCsv('a,,c,\n')).toEqual({ ok: true, records: [{ line: 1, fields: ['a', '', 'c', ''] }] });
    expect(parseCsv('"",x')).toEqual({ ok: true, records: [{ line: 1, fields: ['', 'x'] }] });
  });

  it('refuses an unclosed quote and a stray quote, naming the line', () => {
    expect(parseCsv('a,b\n1,"open')).toEqual({ ok: false, line: 2, message: expect.stringContaining('never closed') as unknown });
    expect(parseCsv('a,b\n1,x"y')).toMatchObject({ ok: false, line: 2 });
    expect(parseCsv('a,b\n1,"x"y')).toMatchObject({ ok: false, line: 2 });
  });
});
