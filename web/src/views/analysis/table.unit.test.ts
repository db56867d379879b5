import { describe, expect, it } from 'vitest';
import { cellCentre, formatCentre, numberCells, toCsv, type CellFeature, type Column } from './table';
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

describe('cell labels', () => {
  /** A flat-topped hexagon around [lng, lat] with "radius" r degrees, ring closed. */
  const hexagon = (unit: string, lng: number, lat: number, r = 0.001): CellFeature => {
    const ring = [0, 60, 120, 180, 240, 300, 0].map((deg) => [lng + r * Math.cos((deg * Math.PI) / 180), lat + r * Math.sin((deg * Math.PI) / 180)]);
    return { geometry: { type: 'Polygon', coordinates: [ring] }, properties: { unit } };
  };

  it('finds the centre of a hexagon (not pulled by the closing corner) and of a multipolygon square', () => {
    const [lng, lat] = cellCentre(hexagon('0,0', 113.6, 34.7).geometry)!;
    expect(lng).toBeCloseTo(113.6, 9);
    expect(lat).toBeCloseTo(34.7, 9);
    const square = { type: 'MultiPolygon', coordinates: [[[[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]]] };
    expect(cellCentre(square)).toEqual([2, 2]);
    expect(cellCentre({ type: 'Point', coordinates: [1, 2] })).toBeNull();
  });

  it('numbers cells in reading order (north to south, then west to east), whatever order they come in', () => {
    // two staggered hexagon columns: the eastern one half a row lower
    const cells = [
      hexagon('1,-1', 113.6015, 34.69913),
      hexagon('0,0', 113.6, 34.7),
      hexagon('0,-1', 113.6, 34.69827),
      hexagon('1,0', 113.6015, 34.70087),
      hexagon('2,0', 113.603, 34.7),
    ];
    const expected = { '1,0': 1, '0,0': 2, '2,0': 3, '1,-1': 4, '0,-1': 5 };
    for (const order of [cells, [...cells].reverse(), [cells[2]!, cells[4]!, cells[0]!, cells[3]!, cells[1]!]]) {
      const numbers = numberCells(order);
      expect(Object.fromEntries([...numbers].map(([unit, c]) => [unit, c.no]))).toEqual(expected);
    }
    expect(numberCells(cells).get('2,0')?.centre[0]).toBeCloseTo(113.603, 9);
  });

  it('writes a centre with hemispheres, five decimals', () => {
    expect(formatCentre([113.6253149, 34.7512])).toBe('113.62531°E, 34.75120°N');
    expect(formatCentre([-0.12, -33.9])).toBe('0.12000°W, 33.90000°S');
  });
});
