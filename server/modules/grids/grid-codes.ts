/**
 * Standard grid codes: the community's 12-digit code + a 3-digit sequence (15 digits).
 *
 * When a community's grids are coded for the first time, the sequence runs in reading order: rows from
 * north to south, and west to east within a row. Grids are irregular, so "a row" is built greedily:
 * taking grids from the northernmost down, a grid joins the current row while its representative point
 * lies within the latitude span of the row's first grid; otherwise it starts the next row.
 *
 * Later, a grid keeps its code while it keeps its identity (edits; the larger part of a split; the
 * largest grid of a merge) and grids without one get the next free numbers, never reusing a number the
 * community has used before (an old code in an archived layout must keep meaning that old grid).
 */

export interface CodableGrid {
  id: number;
  code: string | null;
  /** A point inside the grid (ST_PointOnSurface), `[lng, lat]`. */
  point: [number, number];
  /** `[minLng, minLat, maxLng, maxLat]`. */
  bbox: [number, number, number, number];
}

/** Order grids in reading order (north→south rows, west→east within a row); ties broken by id. */
export function readingOrder<T extends Pick<CodableGrid, 'id' | 'point' | 'bbox'>>(grids: readonly T[]): T[] {
  const byNorth = [...grids].sort((a, b) => b.point[1] - a.point[1] || a.point[0] - b.point[0] || a.id - b.id);
  const rows: T[][] = [];
  let rowMinLat = Number.POSITIVE_INFINITY;
  for (const grid of byNorth) {
    const current = rows.at(-1);
    if (current && grid.point[1] >= rowMinLat) {
      current.push(grid);
    } else {
      rows.push([grid]);
      rowMinLat = grid.bbox[1];
    }
  }
  return rows.flatMap((row) => row.sort((a, b) => a.point[0] - b.point[0] || a.id - b.id));
}

export function sequenceOf(code: string): number {
  return Number(code.slice(12));
}

export function formatGridCode(communityCode: string, sequence: number): string {
  if (!/^[0-9]{12}$/.test(communityCode)) throw new Error(`community code must have 12 digits: ${communityCode}`);
  if (!Number.isInteger(sequence) || sequence < 1 || sequence > 999) {
    throw new RangeError(`grid sequence ${sequence} is outside 001–999 for community ${communityCode}`);
  }
  return communityCode + String(sequence).padStart(3, '0');
}

/**
 * Codes for the grids that have none. `highestUsed` is the largest sequence the community has ever
 * used in any layout (0 when never coded), so numbers are not reused.
 * @example assignGridCodes('410105001001', grids, 0) // first coding: 001, 002, … in reading order
 */
export function assignGridCodes(communityCode: string, grids: readonly CodableGrid[], highestUsed: number): Map<number, string> {
  const uncoded = readingOrder(grids.filter((g) => g.code === null));
  const assigned = new Map<number, string>();
  let next = highestUsed;
  for (const grid of uncoded) {
    next += 1;
    assigned.set(grid.id, formatGridCode(communityCode, next));
  }
  return assigned;
}
