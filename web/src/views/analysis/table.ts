/**
 * The per-unit table as CSV (RFC 4180, UTF-8 with a BOM so spreadsheet programs read the Chinese), and
 * the labels of hexagon and square cells (a number the map shows, and the centre).
 */

import { toCsv as peopleCsv } from '@contracts/csv';

export interface Column<R> {
  key: string;
  label: string;
  value(row: R): string | number | null;
}

/** The table in the one CSV for people (quoting, formulas defused, BOM: @contracts/csv). */
export function toCsv<R>(columns: ReadonlyArray<Column<R>>, rows: readonly R[]): string {
  return peopleCsv(columns.map((c) => c.label), rows.map((r) => columns.map((c) => c.value(r))));
}

/** What `numberCells` reads of a hexagon or square cell from the analysis answers. */
export interface CellFeature {
  geometry: { type: string; coordinates: unknown };
  properties: { unit: string };
}

/**
 * The centre [lng, lat] of a cell: the mean of its outer ring's corners (the closing one not twice),
 * which for the regular hexagons and squares of the analysis lattice is the cell's centre.
 */
export function cellCentre(geometry: CellFeature['geometry']): [number, number] | null {
  const polygon = geometry.type === 'Polygon' ? geometry.coordinates : geometry.type === 'MultiPolygon' ? (geometry.coordinates as unknown[])[0] : undefined;
  const ring = Array.isArray(polygon) ? (polygon[0] as unknown) : undefined;
  if (!Array.isArray(ring) || ring.length < 4) return null;
  const corners = (ring as Array<[number, number]>).slice(0, -1);
  return [corners.reduce((s, p) => s + p[0], 0) / corners.length, corners.reduce((s, p) => s + p[1], 0) / corners.length];
}

/**
 * Numbers hexagon or square cells 1…n in reading order of their centres, north to south and then west
 * to east, so "Hexagon 1" is the north-western cell of the answer. The map labels each cell with its
 * number, so a row of the table can be found on the map. The same cells get the same numbers whatever
 * order the server lists them in (the table's sort by count does not change them).
 */
export function numberCells(features: readonly CellFeature[]): Map<string, { no: number; centre: [number, number] }> {
  // Centres of one lattice row differ by float noise only: compare at about 1 cm.
  const key = (v: number): number => Math.round(v * 1e7);
  const cells = features
    .map((f) => ({ unit: f.properties.unit, centre: cellCentre(f.geometry) }))
    .filter((c): c is { unit: string; centre: [number, number] } => c.centre !== null)
    .sort((a, b) => key(b.centre[1]) - key(a.centre[1]) || key(a.centre[0]) - key(b.centre[0]) || a.unit.localeCompare(b.unit));
  return new Map(cells.map((c, i) => [c.unit, { no: i + 1, centre: c.centre }]));
}

/** A centre in degrees with five decimals (about a metre) and hemispheres, so neither order nor sign is ambiguous. */
export function formatCentre([lng, lat]: readonly [number, number]): string {
  return `${Math.abs(lng).toFixed(5)}°${lng < 0 ? 'W' : 'E'}, ${Math.abs(lat).toFixed(5)}°${lat < 0 ? 'S' : 'N'}`;
}
