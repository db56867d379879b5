/**
 * A coverage raster over the published grids: the point lookup's shortcut for points well inside one
 * grid (issue #6, Speed).
 *
 * The grids' extent is cut into square-ish cells (about a thousand per grid, at most 2^20). A cell is
 * - `EXACT` when any ring edge of any grid comes near it (the edge's bounding box, widened by `PAD`
 *   degrees, touches the cell) or when more than one grid contains it: such points are decided by the
 *   exact test (flatbush + orient2d, dispatch-geometry.ts), as before;
 * - a grid's position in the index's grid list when that grid contains the cell's centre and no edge is
 *   near: then it covers every point of the cell, and no other grid covers any — a segment from any
 *   point of the cell to its centre would otherwise cross a boundary inside the cell;
 * - `NONE` when no grid contains the centre and no edge is near: no grid covers any point of the cell.
 *
 * The centre's containment comes from a scanline fill (crossings of the row's centre line, even–odd
 * over all rings). It is only trusted in cells no edge comes near, where every edge is at least half a
 * cell from the centre, so rounding cannot flip it. `PAD` (≈ 0.1 mm) is far larger than the rounding of
 * a point's cell number, so a point near a cell's side that is counted in the neighbouring cell is still
 * decided by a cell that no edge comes near. Points outside the raster go to the exact test.
 */
import type { FlatGeometry } from './dispatch-geometry';
import { runAll, type Steps } from './dispatch-steps';

/** Decide exactly (an edge is near, or several grids contain the cell). */
export const EXACT = -2;
/** No grid covers any point of the cell. */
export const NONE = -1;

/** Degrees every edge's bounding box is widened by before the cells it touches are marked EXACT. */
const PAD = 1e-9;
const CELLS_PER_ITEM = 1024;
const MAX_CELLS = 1 << 20;
/** Rows of one item filled per build step. */
const ROWS_PER_STEP = 32;

export class CoverageRaster {
  readonly x0: number;
  readonly y0: number;
  readonly nx: number;
  readonly ny: number;
  /** Cell width and height (degrees). */
  readonly w: number;
  readonly h: number;
  /** Per cell (row-major): an item's position, NONE or EXACT. */
  readonly cells: Int32Array;

  /** The raster of the geometries, built at once (see `build` for a build in steps). */
  constructor(geoms: ReadonlyArray<FlatGeometry | null>, filled = true) {
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const g of geoms) {
      if (!g) continue;
      x0 = Math.min(x0, g.bbox[0]);
      y0 = Math.min(y0, g.bbox[1]);
      x1 = Math.max(x1, g.bbox[2]);
      y1 = Math.max(y1, g.bbox[3]);
    }
    const width = x1 - x0;
    const height = y1 - y0;
    if (!(width > 0 && height > 0)) {
      // Nothing (or nothing with an area) to rasterise: every point goes to the exact test.
      this.x0 = this.y0 = this.w = this.h = 1;
      this.nx = this.ny = 0;
      this.cells = new Int32Array(0);
      return;
    }
    const total = Math.min(MAX_CELLS, Math.max(1, geoms.length) * CELLS_PER_ITEM);
    const side = Math.sqrt((width * height) / total);
    this.nx = Math.max(1, Math.min(total, Math.ceil(width / side)));
    this.ny = Math.max(1, Math.min(total, Math.ceil(height / side)));
    this.x0 = x0;
    this.y0 = y0;
    this.w = width / this.nx;
    this.h = height / this.ny;
    this.cells = new Int32Array(this.nx * this.ny).fill(NONE);
    if (filled) runAll(this.rasterise(geoms));
  }

  /**
   * The raster in steps (dispatch-steps.ts) of at most ROWS_PER_STEP rows of one geometry, or one
   * geometry's edges: the index rebuild yields to the event loop between them. Not used before it returns.
   */
  static *build(geoms: ReadonlyArray<FlatGeometry | null>): Steps<CoverageRaster> {
    const raster = new CoverageRaster(geoms, false);
    yield;
    yield* raster.rasterise(geoms);
    return raster;
  }

  /** Fill every geometry's cells, then mark the cells near edges. */
  private *rasterise(geoms: ReadonlyArray<FlatGeometry | null>): Steps<void> {
    if (this.cells.length === 0) return;
    for (let item = 0; item < geoms.length; item++) {
      const g = geoms[item];
      if (!g) continue;
      yield* this.fill(g, item);
    }
    for (const g of geoms) {
      if (!g) continue;
      this.markEdges(g);
      yield;
    }
  }

  /**
   * The item covering every point of the cell holding (x, y); NONE when no item covers it; EXACT when
   * only the exact test can tell (near an edge, several items, or outside the raster).
   */
  at(x: number, y: number): number {
    const cx = Math.floor((x - this.x0) / this.w);
    const cy = Math.floor((y - this.y0) / this.h);
    // Also false for NaN.
    if (!(cx >= 0 && cx < this.nx && cy >= 0 && cy < this.ny)) return EXACT;
    return this.cells[cy * this.nx + cx]!;
  }

  /**
   * Cells whose centre the item contains get the item (or EXACT when another item already has them).
   * A step per ROWS_PER_STEP rows (a large item among small ones can span many rows).
   */
  private *fill(g: FlatGeometry, item: number): Steps<void> {
    const rowFrom = Math.max(0, Math.floor((g.bbox[1] - this.y0) / this.h));
    const rowTo = Math.min(this.ny - 1, Math.floor((g.bbox[3] - this.y0) / this.h));
    const crossings: number[] = [];
    for (let row = rowFrom; row <= rowTo; row++) {
      const yc = this.y0 + (row + 0.5) * this.h;
      crossings.length = 0;
      for (const polygon of g.polygons) {
        for (const ring of polygon) {
          for (let i = 0; i + 3 < ring.length; i += 2) {
            const ay = ring[i + 1]!;
            const by = ring[i + 3]!;
            // Half-open in y: a vertex on the centre line counts once for the two edges meeting there.
            if (ay <= yc === by <= yc) continue;
            const ax = ring[i]!;
            const bx = ring[i + 2]!;
            crossings.push(ax + ((yc - ay) * (bx - ax)) / (by - ay));
          }
        }
      }
      crossings.sort((a, b) => a - b);
      const base = row * this.nx;
      for (let k = 0; k + 1 < crossings.length; k += 2) {
        // Cells whose centre x0 + (c + 0.5)·w lies between the two crossings.
        const from = Math.max(0, Math.ceil((crossings[k]! - this.x0) / this.w - 0.5));
        const to = Math.min(this.nx - 1, Math.floor((crossings[k + 1]! - this.x0) / this.w - 0.5));
        for (let c = from; c <= to; c++) {
          const cell = base + c;
          this.cells[cell] = this.cells[cell] === NONE ? item : EXACT;
        }
      }
      if ((row - rowFrom) % ROWS_PER_STEP === ROWS_PER_STEP - 1) yield;
    }
    yield;
  }

  /** Every cell an edge's widened bounding box touches is decided exactly. */
  private markEdges(g: FlatGeometry): void {
    for (const polygon of g.polygons) {
      for (const ring of polygon) {
        for (let i = 0; i + 3 < ring.length; i += 2) {
          const ax = ring[i]!;
          const ay = ring[i + 1]!;
          const bx = ring[i + 2]!;
          const by = ring[i + 3]!;
          const c0 = Math.max(0, Math.floor((Math.min(ax, bx) - PAD - this.x0) / this.w));
          const c1 = Math.min(this.nx - 1, Math.floor((Math.max(ax, bx) + PAD - this.x0) / this.w));
          const r0 = Math.max(0, Math.floor((Math.min(ay, by) - PAD - this.y0) / this.h));
          const r1 = Math.min(this.ny - 1, Math.floor((Math.max(ay, by) + PAD - this.y0) / this.h));
          for (let r = r0; r <= r1; r++) this.cells.fill(EXACT, r * this.nx + c0, r * this.nx + c1 + 1);
        }
      }
    }
  }
}
