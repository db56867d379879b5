// Aggregation of points to cells by arithmetic on projected coordinates (no spatial join): hexagons
// and squares on the lattices of PostGIS ST_HexagonGrid / ST_SquareGrid, and quartic kernel density
// on a regular grid. Pure functions over planar coordinates (metres after `localProjection`).
//
// Binning a point is O(1) (a floor, or a cube rounding for hexagons), so counting a million points
// is a single pass over them, where a join probes an index of cells per point.

import { MAX_ANALYSIS_CELLS } from '../../contracts/analysis';

const SQRT3 = Math.sqrt(3);

/** Lattice index of a cell: `(i, j)` exactly as ST_HexagonGrid / ST_SquareGrid number them. */
export interface CellIndex {
  readonly i: number;
  readonly j: number;
}

/**
 * Hexagon containing (x, y) on the flat-topped lattice of PostGIS `ST_HexagonGrid(size, …)` with
 * origin (0, 0): hexagon (i, j) is centred at (1.5 · size · i, h · (2j + (i mod 2))) with
 * h = size · √3 / 2 (size = edge length = circumradius). Uses axial coordinates and cube rounding
 * (Red Blob Games, "Hexagonal Grids"), then converts axial (q, r) to the odd-column offset (i, j).
 * A point exactly on an edge goes to one hexagon (a join with ST_Intersects counts it in both).
 *
 * @example hexCell(15, 8.66, 10) // { i: 1, j: 0 }
 */
export function hexCell(x: number, y: number, size: number): CellIndex {
  const q = ((2 / 3) * x) / size;
  const r = ((-1 / 3) * x + (SQRT3 / 3) * y) / size;
  const s = -q - r;
  let rq = Math.round(q);
  let rr = Math.round(r);
  const rs = Math.round(s);
  const dq = Math.abs(rq - q);
  const dr = Math.abs(rr - r);
  const ds = Math.abs(rs - s);
  if (dq > dr && dq > ds) rq = -rr - rs;
  else if (dr > ds) rr = -rq - rs;
  // `+ 0` turns a -0 from the rounding into 0, so equal cells compare equal everywhere.
  return { i: rq + 0, j: rr + (rq - (rq & 1)) / 2 + 0 };
}

/** Centre of hexagon (i, j) (see {@link hexCell}). */
export function hexCentre(i: number, j: number, size: number): [number, number] {
  const h = (size * SQRT3) / 2;
  return [1.5 * size * i, h * (2 * j + (i & 1))];
}

/** Closed counter-clockwise ring of hexagon (i, j), vertices in ST_HexagonGrid's order. */
export function hexRing(i: number, j: number, size: number): [number, number][] {
  const [cx, cy] = hexCentre(i, j, size);
  const h = (size * SQRT3) / 2;
  const half = size / 2;
  return [
    [cx - size, cy],
    [cx - half, cy - h],
    [cx + half, cy - h],
    [cx + size, cy],
    [cx + half, cy + h],
    [cx - half, cy + h],
    [cx - size, cy],
  ];
}

/** Square cell (i, j) = [i·size, (i+1)·size) × [j·size, (j+1)·size), as ST_SquareGrid with origin (0, 0). */
export function squareCell(x: number, y: number, size: number): CellIndex {
  return { i: Math.floor(x / size), j: Math.floor(y / size) };
}

/** Closed counter-clockwise ring of square cell (i, j). */
export function squareRing(i: number, j: number, size: number): [number, number][] {
  const x0 = i * size;
  const y0 = j * size;
  return [
    [x0, y0],
    [x0 + size, y0],
    [x0 + size, y0 + size],
    [x0, y0 + size],
    [x0, y0],
  ];
}

export interface BinnedCells {
  readonly i: Int32Array;
  readonly j: Int32Array;
  /** Count (or summed weight) per cell. */
  readonly value: Float64Array;
}

/**
 * Counts points (or sums `weights`) per cell; only non-empty cells are returned, ordered by (i, j).
 * `xy` is interleaved x0, y0, x1, y1, … in the lattice's units.
 */
export function binPoints(xy: Float64Array, shape: 'hex' | 'square', size: number, weights?: ArrayLike<number>): BinnedCells {
  if (!(size > 0)) throw new RangeError('cell size must be positive');
  const n = xy.length / 2;
  const cells = new Map<string, { i: number; j: number; v: number }>();
  const locate = shape === 'hex' ? hexCell : squareCell;
  for (let k = 0; k < n; k++) {
    const { i, j } = locate(xy[2 * k]!, xy[2 * k + 1]!, size);
    const key = `${i},${j}`;
    const w = weights ? weights[k]! : 1;
    const cell = cells.get(key);
    if (cell) cell.v += w;
    else cells.set(key, { i, j, v: w });
  }
  const sorted = [...cells.values()].sort((a, b) => a.i - b.i || a.j - b.j);
  return {
    i: Int32Array.from(sorted, (c) => c.i),
    j: Int32Array.from(sorted, (c) => c.j),
    value: Float64Array.from(sorted, (c) => c.v),
  };
}

/** The origin and scale of a `localProjection` (what `binLonLat` needs of it). */
export interface LinearProjection {
  readonly origin: readonly [number, number];
  readonly kx: number;
  readonly ky: number;
}

/** Above this many lattice cells in the points' bounding rectangle, `binLonLat` counts in a Map. */
const DENSE_BIN_LIMIT = 4_000_000;

/**
 * Counts lon/lat points per lattice cell in metres (only non-empty cells, ordered by (i, j)), with
 * exactly the double arithmetic of the SQL binning of stored events (`cellKeyLateral` in
 * analysis-events.repository), operation for operation, so both give the same cell to every point,
 * points on an edge included:
 *
 * - x = (lng − lng0) · kx, y = (lat − lat0) · ky (`localProjection`);
 * - squares: (floor(x / size), floor(y / size)), as ST_SquareGrid;
 * - hexagons (the ST_HexagonGrid lattice of `hexCell`): the nearer of the nearest even-column centre
 *   (3s·a, √3s·b) and the nearest odd-column centre (3s·c + 1.5s, √3s·d + √3s/2), the even one on a
 *   tie. (`hexCell`'s cube rounding finds the same hexagon except on edges, where it may pick the
 *   other one; supplied data keeps using it.)
 *
 * One pass computes the cells, a second counts them in a dense array over their bounding rectangle
 * (a Map when that rectangle is huge): 30–40 ms per million points here, where PostgreSQL's
 * HashAggregate over the same keys takes 0.3 s.
 */
export function binLonLat(lng: Float64Array, lat: Float64Array, projection: LinearProjection, shape: 'hex' | 'square', size: number): BinnedCells {
  if (!(size > 0)) throw new RangeError('cell size must be positive');
  const n = lng.length;
  const [lng0, lat0] = projection.origin;
  const { kx, ky } = projection;
  const ci = new Int32Array(n);
  const cj = new Int32Array(n);
  let iMin = Infinity;
  let iMax = -Infinity;
  let jMin = Infinity;
  let jMax = -Infinity;
  const colW = 3 * size;
  const rowH = Math.sqrt(3) * size;
  const halfW = colW / 2;
  const halfH = rowH / 2;
  for (let k = 0; k < n; k++) {
    const x = (lng[k]! - lng0) * kx;
    const y = (lat[k]! - lat0) * ky;
    let i: number;
    let j: number;
    if (shape === 'square') {
      i = Math.floor(x / size);
      j = Math.floor(y / size);
    } else {
      const ax = Math.floor(x / colW + 0.5);
      const ay = Math.floor(y / rowH + 0.5);
      const bx = Math.floor((x - halfW) / colW + 0.5);
      const by = Math.floor((y - halfH) / rowH + 0.5);
      const dax = x - colW * ax;
      const day = y - rowH * ay;
      const dbx = x - colW * bx - halfW;
      const dby = y - rowH * by - halfH;
      if (dax * dax + day * day <= dbx * dbx + dby * dby) {
        i = 2 * ax;
        j = ay;
      } else {
        i = 2 * bx + 1;
        j = by;
      }
    }
    ci[k] = i;
    cj[k] = j;
    if (i < iMin) iMin = i;
    if (i > iMax) iMax = i;
    if (j < jMin) jMin = j;
    if (j > jMax) jMax = j;
  }
  if (n === 0) return { i: new Int32Array(0), j: new Int32Array(0), value: new Float64Array(0) };
  const rows = jMax - jMin + 1;
  const area = (iMax - iMin + 1) * rows;
  const cellI: number[] = [];
  const cellJ: number[] = [];
  const value: number[] = [];
  if (area <= DENSE_BIN_LIMIT) {
    const counts = new Int32Array(area);
    for (let k = 0; k < n; k++) counts[(ci[k]! - iMin) * rows + (cj[k]! - jMin)]! += 1;
    // Row-major over (i, j): the cells come out ordered by i, then j.
    for (let c = 0; c < area; c++) {
      if (counts[c] === 0) continue;
      cellI.push(iMin + Math.floor(c / rows));
      cellJ.push(jMin + (c % rows));
      value.push(counts[c]!);
    }
  } else {
    const counts = new Map<number, number>();
    for (let k = 0; k < n; k++) {
      const key = (ci[k]! - iMin) * rows + (cj[k]! - jMin);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const key of [...counts.keys()].sort((a, b) => a - b)) {
      cellI.push(iMin + Math.floor(key / rows));
      cellJ.push(jMin + (key % rows));
      value.push(counts.get(key)!);
    }
  }
  return { i: Int32Array.from(cellI), j: Int32Array.from(cellJ), value: Float64Array.from(value) };
}

/**
 * Completes binned hexagon counts with the empty cells of their bounding lattice rectangle, so a
 * hot-spot statistic sees the zeros between busy cells (a count of 0 is data, not missing).
 */
export function fillHexLattice(cells: BinnedCells): BinnedCells {
  if (cells.i.length === 0) return cells;
  let iMin = Infinity;
  let iMax = -Infinity;
  let jMin = Infinity;
  let jMax = -Infinity;
  for (let k = 0; k < cells.i.length; k++) {
    iMin = Math.min(iMin, cells.i[k]!);
    iMax = Math.max(iMax, cells.i[k]!);
    jMin = Math.min(jMin, cells.j[k]!);
    jMax = Math.max(jMax, cells.j[k]!);
  }
  const cols = iMax - iMin + 1;
  const rows = jMax - jMin + 1;
  if (cols * rows > MAX_ANALYSIS_CELLS * 4) throw new RangeError('lattice too large to fill');
  const value = new Float64Array(cols * rows);
  for (let k = 0; k < cells.i.length; k++) value[(cells.i[k]! - iMin) * rows + (cells.j[k]! - jMin)] = cells.value[k]!;
  const i = new Int32Array(cols * rows);
  const j = new Int32Array(cols * rows);
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < rows; r++) {
      i[c * rows + r] = iMin + c;
      j[c * rows + r] = jMin + r;
    }
  }
  return { i, j, value };
}

export interface DensityGrid {
  /** Lattice index of each non-zero node: the cell centred at (i · cellSize, j · cellSize). */
  readonly i: Int32Array;
  readonly j: Int32Array;
  /** Σ_p w_p · 3 / (π r²) · (1 − (d/r)²)² over points p with d < r: points (or weight) per square unit. */
  readonly density: Float64Array;
}

/**
 * Quartic (biweight) kernel density on the nodes (i · cellSize, j · cellSize) of a regular grid;
 * each output cell is the square of side `cellSize` centred on its node. The kernel
 * K(d) = 3 / (π r²) · (1 − (d/r)²)² for d < r integrates to 1 over the disc, so a lone point gives
 * 3 / (π r²) at its own node and the densities sum to ≈ n / cellSize².
 *
 * Work is O(n · (r / cellSize)²); the node count is checked against `maxCells` first.
 *
 * @throws {RangeError} with `.message` starting 'TOO_MANY_CELLS' when the grid would be larger.
 */
export function quarticDensity(xy: Float64Array, radius: number, cellSize: number, weights?: ArrayLike<number>, maxCells = MAX_ANALYSIS_CELLS): DensityGrid {
  if (!(radius > 0) || !(cellSize > 0)) throw new RangeError('radius and cell size must be positive');
  const n = xy.length / 2;
  if (n === 0) return { i: new Int32Array(0), j: new Int32Array(0), density: new Float64Array(0) };
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let k = 0; k < n; k++) {
    minX = Math.min(minX, xy[2 * k]!);
    maxX = Math.max(maxX, xy[2 * k]!);
    minY = Math.min(minY, xy[2 * k + 1]!);
    maxY = Math.max(maxY, xy[2 * k + 1]!);
  }
  const i0 = Math.floor((minX - radius) / cellSize);
  const j0 = Math.floor((minY - radius) / cellSize);
  const cols = Math.ceil((maxX + radius) / cellSize) - i0 + 1;
  const rows = Math.ceil((maxY + radius) / cellSize) - j0 + 1;
  if (cols * rows > maxCells) throw new RangeError(`TOO_MANY_CELLS: ${cols} × ${rows} grid nodes exceed ${maxCells}`);
  const grid = new Float64Array(cols * rows);
  const r2 = radius * radius;
  const norm = 3 / (Math.PI * r2);
  for (let k = 0; k < n; k++) {
    const x = xy[2 * k]!;
    const y = xy[2 * k + 1]!;
    const w = weights ? weights[k]! : 1;
    const ia = Math.ceil((x - radius) / cellSize);
    const ib = Math.floor((x + radius) / cellSize);
    const ja = Math.ceil((y - radius) / cellSize);
    const jb = Math.floor((y + radius) / cellSize);
    for (let i = ia; i <= ib; i++) {
      const dx = i * cellSize - x;
      for (let j = ja; j <= jb; j++) {
        const dy = j * cellSize - y;
        const d2 = dx * dx + dy * dy;
        if (d2 >= r2) continue;
        const t = 1 - d2 / r2;
        grid[(i - i0) * rows + (j - j0)]! += w * norm * t * t;
      }
    }
  }
  const keep: number[] = [];
  for (let c = 0; c < grid.length; c++) if (grid[c]! !== 0) keep.push(c);
  return {
    i: Int32Array.from(keep, (c) => i0 + Math.floor(c / rows)),
    j: Int32Array.from(keep, (c) => j0 + (c % rows)),
    density: Float64Array.from(keep, (c) => grid[c]!),
  };
}

/** Closed counter-clockwise ring of the density cell centred on node (i, j). */
export function densityCellRing(i: number, j: number, cellSize: number): [number, number][] {
  const h = cellSize / 2;
  const cx = i * cellSize;
  const cy = j * cellSize;
  return [
    [cx - h, cy - h],
    [cx + h, cy - h],
    [cx + h, cy + h],
    [cx - h, cy + h],
    [cx - h, cy - h],
  ];
}

/**
 * Adjacent cells of a hexagon or square lattice by index arithmetic, as CSR neighbours (rows
 * ascending, no self-links): the same relation as a distance band just above the centre spacing
 * (√3·size for hexagons, √2·size for squares), without measuring a distance.
 *
 * - hex (odd-column offset, {@link hexCell}): (i, j ± 1), and in columns i ± 1 the rows j − 1, j for
 *   an even column i, j, j + 1 for an odd one — the 6 hexagons sharing an edge.
 * - square: the 8 cells around (i ± 1, j ± 1), queen adjacency.
 *
 * `i`, `j` list the units (any order, each cell once); cells missing from the list simply are not
 * neighbours. O(n) with a dense index over the bounding box when it is small, else a map.
 */
export function latticeNeighbours(i: Int32Array, j: Int32Array, shape: 'hex' | 'square'): { n: number; offsets: Int32Array; indices: Int32Array } {
  const n = i.length;
  const offsets = new Int32Array(n + 1);
  if (n === 0) return { n, offsets, indices: new Int32Array(0) };
  let iMin = Infinity;
  let iMax = -Infinity;
  let jMin = Infinity;
  let jMax = -Infinity;
  for (let k = 0; k < n; k++) {
    iMin = Math.min(iMin, i[k]!);
    iMax = Math.max(iMax, i[k]!);
    jMin = Math.min(jMin, j[k]!);
    jMax = Math.max(jMax, j[k]!);
  }
  // Cell → unit index + 1 (0: no unit), dense over the bounding box with a one-cell border so that
  // every probe is in range; a map when that box would be much larger than the units.
  const rows = jMax - jMin + 3;
  const size = (iMax - iMin + 3) * rows;
  const dense = size <= Math.max(4 * n, 1 << 20) ? new Int32Array(size) : null;
  const sparse = dense ? null : new Map<number, number>();
  const slot = (ci: number, cj: number): number => (ci - iMin + 1) * rows + (cj - jMin + 1);
  for (let k = 0; k < n; k++) {
    if (dense) dense[slot(i[k]!, j[k]!)] = k + 1;
    else sparse!.set(slot(i[k]!, j[k]!), k + 1);
  }
  // Probe offsets (di, dj): hexagons in an even column, hexagons in an odd column, squares.
  const hexEven = [0, -1, 0, 1, -1, -1, -1, 0, 1, -1, 1, 0];
  const hexOdd = [0, -1, 0, 1, -1, 0, -1, 1, 1, 0, 1, 1];
  const squares = [-1, -1, -1, 0, -1, 1, 0, -1, 0, 1, 1, -1, 1, 0, 1, 1];
  const max = shape === 'hex' ? 6 : 8;
  const indices = new Int32Array(n * max);
  const row = new Int32Array(max);
  let total = 0;
  for (let k = 0; k < n; k++) {
    const ci = i[k]!;
    const cj = j[k]!;
    const probes = shape === 'square' ? squares : ci & 1 ? hexOdd : hexEven;
    const base = slot(ci, cj);
    let m = 0;
    for (let p = 0; p < probes.length; p += 2) {
      const at = base + probes[p]! * rows + probes[p + 1]!;
      const v = dense ? dense[at]! : (sparse!.get(at) ?? 0);
      if (v > 0) row[m++] = v - 1;
    }
    // Insertion sort of at most 8 values: rows ascending, as every Neighbours row is.
    for (let p = 1; p < m; p++) {
      const v = row[p]!;
      let q = p - 1;
      while (q >= 0 && row[q]! > v) {
        row[q + 1] = row[q]!;
        q--;
      }
      row[q + 1] = v;
    }
    for (let p = 0; p < m; p++) indices[total + p] = row[p]!;
    total += m;
    offsets[k + 1] = total;
  }
  return { n, offsets, indices: indices.slice(0, total) };
}
