import { describe, expect, it } from 'vitest';
import { toCsv, type Column } from './table';
import { binLabels, quantileBreaks } from './legend';

interface R {
  unit: string;
  name: string;
  count: number;
  z: number | null;
}
const cols: Array<Column<R>> = [
  { key: 'unit', label: '单元', value: (r) => r.unit },
  { key: 'name', label: '名称', value: (r) => r.name },
  { key: 'count', label: '事件数', value: (r) => r.count },
  { key: 'z', label: 'z', value: (r) => r.z },
];

describe('table CSV', () => {
  it('has a BOM, a header, one line per row, quotes what needs quoting and leaves nulls empty', () => {
    const csv = toCsv(cols, [
      { unit: '410199001001001', name: '第1网格', count: 12, z: 2.5 },
      { unit: '3,-4', name: 'say "hi"', count: 0, z: null },
      { unit: 'x', name: '=HYPERLINK("evil")', count: 1, z: -1 },
    ]);
    expect(csv.startsWith('\uFEFF')).toBe(true);
    expect(csv.slice(1).split('\r\n')).toEqual(['单元,名称,事件数,z', '410199001001001,第1网格,12,2.5', '"3,-4","say ""hi""",0,', `x,"'=HYPERLINK(""evil"")",1,-1`, '']);
  });
});

describe('choropleth breaks', () => {
  it('are increasing lower bounds from the non-zero values, at most four', () => {
    const b = quantileBreaks([0, 0, 1, 1, 2, 3, 5, 8, 13, 21, 34]);
    expect(b.length).toBeLessThanOrEqual(4);
    expect(b[0]).toBe(1);
    for (let i = 1; i < b.length; i++) expect(b[i]!).toBeGreaterThan(b[i - 1]!);
    expect(quantileBreaks([0, 0])).toEqual([]);
    expect(quantileBreaks([7, 7, 7])).toEqual([7]);
  });
});

describe('legend classes', () => {
  it('do not overlap: a count sits in one class only (the map steps at each break)', () => {
    const n = (v: number): string => String(v);
    expect(binLabels([3], n, true)).toEqual(['0 – 2', '≥ 3']);
    expect(binLabels([1, 2, 5], n, true)).toEqual(['0', '1', '2 – 4', '≥ 5']);
    expect(binLabels([], n, true)).toEqual(['≥ 0']);
    expect(binLabels([0.5, 1.2], n, false)).toEqual(['0 – < 0.5', '0.5 – < 1.2', '≥ 1.2']);
  });
});
