import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from './csv';

describe('CSV for people (reports, residents export)', () => {
  it('defuses text a spreadsheet would run as a formula, keeps numbers as numbers', () => {
    expect(csvCell('=HYPERLINK("http://evil","点我")')).toBe(`"'=HYPERLINK(""http://evil"",""点我"")"`);
    expect(csvCell('+86 139')).toBe("'+86 139");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('-cmd')).toBe("'-cmd");
    expect(csvCell('\t=1+1')).toBe("'\t=1+1");
    expect(csvCell('-12.5')).toBe('-12.5');
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell('王小明')).toBe('王小明');
  });

  it('quotes commas, quotes and every line break, a lone CR included', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('cr\ronly')).toBe('"cr\ronly"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(['low_income', 'disabled'])).toBe('low_income;disabled');
  });

  it('writes a BOM and CRLF rows', () => {
    expect(toCsv(['a', 'b'], [[1, 'x,y']])).toBe('\uFEFFa,b\r\n1,"x,y"\r\n');
  });
});
