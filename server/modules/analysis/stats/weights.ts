// Sparse spatial weights as neighbour lists in compressed-row form (CSR): the neighbours of
// unit i are `indices[offsets[i] .. offsets[i + 1])`, sorted ascending, with matching
// `weights`. Memory and every statistic built on it are O(n + links), which keeps 50,000
// hexagon cells with a few dozen distance-band neighbours each well within budget.

/** Binary neighbour relation (no weights yet). `i` never lists itself. */
export interface Neighbours {
  readonly n: number;
  /** Length n + 1; row i spans `offsets[i] .. offsets[i + 1]` of `indices`. */
  readonly offsets: Int32Array;
  /** Neighbour indices, ascending within each row. */
  readonly indices: Int32Array;
}

/** 'B' binary (w = 1), 'R' row-standardised (each row sums to 1), as spdep's styles "B" / "W". */
export type WeightsTransform = 'B' | 'R';

/** Neighbour lists with weights, ready for the statistics in this folder. */
export interface SpatialWeights extends Neighbours {
  readonly weights: Float64Array;
  readonly transform: WeightsTransform;
  /** True when each unit also lists itself (w_ii > 0): the Gi* form of Getis-Ord. */
  readonly selfIncluded: boolean;
  /**
   * Units with no neighbour other than themselves, ascending. Their local statistics are
   * reported as null: there is no neighbourhood to compare with.
   */
  readonly islands: readonly number[];
}

/** Planar point coordinates: `[x, y]` pairs, or interleaved `x0, y0, x1, y1, …`. */
export type PointCoordinates = ReadonlyArray<readonly number[]> | Float64Array;

function toInterleaved(points: PointCoordinates): Float64Array {
  if (points instanceof Float64Array) {
    if (points.length % 2 !== 0) throw new RangeError('interleaved coordinates need an even length');
    return points;
  }
  const xy = new Float64Array(points.length * 2);
  points.forEach((p, i) => {
    const x = p[0];
    const y = p[1];
    if (x === undefined || y === undefined || !Number.isFinite(x) || !Number.isFinite(y)) {
      throw new RangeError(`point ${i} has no finite [x, y]`);
    }
    xy[2 * i] = x;
    xy[2 * i + 1] = y;
  });
  return xy;
}

/**
 * Builds CSR neighbours from per-unit candidate lists, dropping self-links and duplicates and
 * sorting each row (so output never depends on hashing or scan order).
 */
export function neighboursFromLists(lists: ReadonlyArray<ArrayLike<number>>): Neighbours {
  const n = lists.length;
  const offsets = new Int32Array(n + 1);
  const rows: Int32Array[] = [];
  for (let i = 0; i < n; i++) {
    const list = lists[i] ?? [];
    const row = Int32Array.from(list).sort();
    let m = 0;
    for (let k = 0; k < row.length; k++) {
      const j = row[k]!;
      if (j < 0 || j >= n || !Number.isInteger(j)) throw new RangeError(`unit ${i}: neighbour index ${j} out of range`);
      if (j === i || (m > 0 && row[m - 1] === j)) continue;
      row[m++] = j;
    }
    rows.push(row.subarray(0, m));
    offsets[i + 1] = offsets[i]! + m;
  }
  const indices = new Int32Array(offsets[n]!);
  rows.forEach((row, i) => indices.set(row, offsets[i]));
  return { n, offsets, indices };
}

/** Number of directed links (Σ_i |N(i)|), e.g. 236 for Columbus queen contiguity. */
export function linkCount(nb: Neighbours): number {
  return nb.offsets[nb.n]!;
}

/** Neighbour indices of unit i (a view, not a copy). */
export function neighboursOf(nb: Neighbours, i: number): Int32Array {
  return nb.indices.subarray(nb.offsets[i], nb.offsets[i + 1]);
}

/** Neighbour counts (cardinalities) per unit. */
export function cardinalities(nb: Neighbours): Int32Array {
  const card = new Int32Array(nb.n);
  for (let i = 0; i < nb.n; i++) card[i] = nb.offsets[i + 1]! - nb.offsets[i]!;
  return card;
}

/** True when j ∈ N(i) ⇔ i ∈ N(j) (distance bands and contiguity are; k-nearest usually not). */
export function isSymmetric(nb: Neighbours): boolean {
  for (let i = 0; i < nb.n; i++) {
    for (let k = nb.offsets[i]!; k < nb.offsets[i + 1]!; k++) {
      if (!hasLink(nb, nb.indices[k]!, i)) return false;
    }
  }
  return true;
}

/** Binary search for j in the (sorted) row of i. Returns the position in `indices`, or -1. */
export function findLink(nb: Neighbours, i: number, j: number): number {
  let lo = nb.offsets[i]!;
  let hi = nb.offsets[i + 1]! - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = nb.indices[mid]!;
    if (v === j) return mid;
    if (v < j) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function hasLink(nb: Neighbours, i: number, j: number): boolean {
  return findLink(nb, i, j) >= 0;
}

/**
 * Uniform grid over the points with square cells of side `cell`: points sorted by cell, and a
 * map from occupied cell to its slice. Only occupied cells are stored, so a tiny cell size on
 * a wide extent costs memory in n, not in the extent.
 */
interface GridIndex {
  readonly cell: number;
  readonly minX: number;
  readonly minY: number;
  readonly rows: number;
  readonly cols: number;
  readonly order: Int32Array;
  readonly slices: Map<number, readonly [number, number]>;
}

function buildGrid(xy: Float64Array, cell: number): GridIndex {
  const n = xy.length / 2;
  let minX = Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    minX = Math.min(minX, xy[2 * i]!);
    minY = Math.min(minY, xy[2 * i + 1]!);
    maxY = Math.max(maxY, xy[2 * i + 1]!);
  }
  const rows = Math.floor((maxY - minY) / cell) + 3; // +3: room for the ±1 neighbour-cell probes
  const keyOf = (i: number): number => {
    const cx = Math.floor((xy[2 * i]! - minX) / cell) + 1;
    const cy = Math.floor((xy[2 * i + 1]! - minY) / cell) + 1;
    return cx * rows + cy;
  };
  let maxX = -Infinity;
  for (let i = 0; i < n; i++) maxX = Math.max(maxX, xy[2 * i]!);
  const cols = Math.floor((maxX - minX) / cell) + 3;
  if (!Number.isSafeInteger(cols * rows)) {
    throw new RangeError('grid index: extent / cell size too large for exact cell keys');
  }
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = keyOf(i);
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);
  const slices = new Map<number, readonly [number, number]>();
  let start = 0;
  for (let k = 1; k <= n; k++) {
    if (k === n || keys[order[k]!] !== keys[order[start]!]) {
      slices.set(keys[order[start]!]!, [start, k]);
      start = k;
    }
  }
  return { cell, minX, minY, rows, cols, order, slices };
}

/** Points in grid cell (cx, cy), or undefined when empty or outside the grid (keys would alias). */
function probe(grid: GridIndex, cx: number, cy: number): readonly [number, number] | undefined {
  if (cx < 0 || cy < 0 || cx >= grid.cols || cy >= grid.rows) return undefined;
  return grid.slices.get(cx * grid.rows + cy);
}

function cellOf(grid: GridIndex, x: number, y: number): [number, number] {
  return [Math.floor((x - grid.minX) / grid.cell) + 1, Math.floor((y - grid.minY) / grid.cell) + 1];
}

/**
 * Binary distance-band neighbours: j ∈ N(i) iff 0 < d(i, j) ≤ `threshold`, with d Euclidean
 * on planar coordinates (project lon/lat first, e.g. to a local metric CRS).
 *
 * Same relation as spdep `dnearneigh(coords, 0, threshold)` and libpysal `DistanceBand(…,
 * threshold, binary=True)`. Coincident points (d = 0) are not neighbours, as in both. The
 * comparison is made on squared distances, exact for the integer grids of the reference data.
 *
 * Uses a uniform grid of cell side `threshold`, so only the 3 × 3 surrounding cells are
 * scanned: O(n · average neighbours) instead of O(n²).
 */
export function distanceBandNeighbours(points: PointCoordinates, threshold: number): Neighbours {
  if (!(threshold > 0) || !Number.isFinite(threshold)) throw new RangeError('threshold must be a positive finite distance');
  const xy = toInterleaved(points);
  const n = xy.length / 2;
  const grid = buildGrid(xy, threshold);
  const t2 = threshold * threshold;
  const lists: number[][] = [];
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i]!;
    const y = xy[2 * i + 1]!;
    const [cx, cy] = cellOf(grid, x, y);
    const found: number[] = [];
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        const slice = probe(grid, cx + dx, cy + dy);
        if (!slice) continue;
        for (let k = slice[0]; k < slice[1]; k++) {
          const j = grid.order[k]!;
          if (j === i) continue;
          const ddx = xy[2 * j]! - x;
          const ddy = xy[2 * j + 1]! - y;
          const d2 = ddx * ddx + ddy * ddy;
          if (d2 > 0 && d2 <= t2) found.push(j);
        }
      }
    }
    lists.push(found);
  }
  return neighboursFromLists(lists);
}

/**
 * k-nearest-neighbour lists (Euclidean, planar): each unit's k closest other units, ties in
 * distance broken by the lower index so the result is deterministic. Not symmetric in general.
 *
 * Search widens ring by ring over a uniform grid (cell side from the mean point density) and
 * stops once the ring lies farther than the current k-th distance.
 */
export function knnNeighbours(points: PointCoordinates, k: number): Neighbours {
  const xy = toInterleaved(points);
  const n = xy.length / 2;
  if (!Number.isInteger(k) || k < 1 || k >= n) throw new RangeError(`k must be an integer in 1..${n - 1}`);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    minX = Math.min(minX, xy[2 * i]!);
    maxX = Math.max(maxX, xy[2 * i]!);
    minY = Math.min(minY, xy[2 * i + 1]!);
    maxY = Math.max(maxY, xy[2 * i + 1]!);
  }
  // Cells holding about k points on average: the first ring or two usually suffices.
  const area = Math.max((maxX - minX) * (maxY - minY), Number.MIN_VALUE);
  const span = Math.max(maxX - minX, maxY - minY);
  const cell = span > 0 ? Math.max(Math.sqrt((area * k) / n), span / 4096) : 1;
  const grid = buildGrid(xy, cell);
  const lists: number[][] = [];
  const candD = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i]!;
    const y = xy[2 * i + 1]!;
    const [cx, cy] = cellOf(grid, x, y);
    const cands: number[] = [];
    let scanned = 0;
    for (let ring = 0; ; ring++) {
      for (let dx = -ring; dx <= ring; dx++) {
        // Only the ring's border cells: the inner ones were scanned in earlier rings.
        const step = Math.abs(dx) === ring ? 1 : 2 * ring;
        for (let dy = -ring; dy <= ring; dy += Math.max(step, 1)) {
          const slice = probe(grid, cx + dx, cy + dy);
          if (!slice) continue;
          for (let s = slice[0]; s < slice[1]; s++) {
            const j = grid.order[s]!;
            if (j === i) continue;
            const ddx = xy[2 * j]! - x;
            const ddy = xy[2 * j + 1]! - y;
            candD[j] = ddx * ddx + ddy * ddy;
            cands.push(j);
            scanned++;
          }
        }
      }
      if (cands.length < k) continue;
      cands.sort((a, b) => candD[a]! - candD[b]! || a - b);
      cands.length = k; // farther candidates can never re-enter the k nearest
      // Every unscanned point lies outside this ring, at least ring · cell away; strict `<` keeps
      // exact ties (which the index tie-break must see) for the next ring.
      const reach = ring * cell;
      if (scanned >= n - 1 || candD[cands[k - 1]!]! < reach * reach) break;
    }
    lists.push(cands.slice(0, k));
  }
  return neighboursFromLists(lists);
}

export interface WeightsOptions {
  readonly transform?: WeightsTransform;
  /**
   * Include i itself with binary weight 1 before the transform, as spdep `include.self` (Gi*).
   * Self-links live only here: {@link Neighbours} never lists i among its own neighbours.
   */
  readonly includeSelf?: boolean;
}

/**
 * Attaches weights to a neighbour list.
 *
 * - 'B': w_ij = 1 for j ∈ N(i) (and w_ii = 1 if `includeSelf`).
 * - 'R': w_ij = 1 / |N(i)| (|N(i)| + 1 with self), so each non-island row sums to 1
 *   (spdep `nb2listw(style = "W")`, libpysal `transform = 'R'`).
 *
 * Units without neighbours (before adding self) are listed in `islands`; with `includeSelf` an
 * island keeps only its self-link, and its statistics are still reported as null.
 */
export function spatialWeights(nb: Neighbours, options: WeightsOptions = {}): SpatialWeights {
  const transform = options.transform ?? 'B';
  const self = options.includeSelf ?? false;
  const islands: number[] = [];
  for (let i = 0; i < nb.n; i++) if (nb.offsets[i + 1] === nb.offsets[i]) islands.push(i);
  let offsets = nb.offsets;
  let indices = nb.indices;
  if (self) {
    offsets = new Int32Array(nb.n + 1);
    indices = new Int32Array(nb.indices.length + nb.n);
    for (let i = 0; i < nb.n; i++) {
      const row = neighboursOf(nb, i);
      let pos = nb.offsets[i]! + i; // each earlier row grew by one
      offsets[i] = pos;
      let placed = false;
      for (const j of row) {
        if (!placed && j > i) {
          indices[pos++] = i;
          placed = true;
        }
        indices[pos++] = j;
      }
      if (!placed) indices[pos] = i;
    }
    offsets[nb.n] = indices.length;
  }
  const weights = new Float64Array(indices.length);
  for (let i = 0; i < nb.n; i++) {
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    const w = transform === 'R' ? 1 / (end - start) : 1;
    weights.fill(w, start, end);
  }
  return { n: nb.n, offsets, indices, weights, transform, selfIncluded: self, islands };
}

/** Row sums W_i = Σ_j w_ij and sums of squares S1_i = Σ_j w_ij² (Ord & Getis 1995 notation). */
export function rowMoments(w: SpatialWeights): { sum: Float64Array; sumSq: Float64Array } {
  const sum = new Float64Array(w.n);
  const sumSq = new Float64Array(w.n);
  for (let i = 0; i < w.n; i++) {
    let s = 0;
    let s2 = 0;
    for (let k = w.offsets[i]!; k < w.offsets[i + 1]!; k++) {
      const v = w.weights[k]!;
      s += v;
      s2 += v * v;
    }
    sum[i] = s;
    sumSq[i] = s2;
  }
  return { sum, sumSq };
}

/** Spatial lag (Wx)_i = Σ_j w_ij x_j. */
export function spatialLag(w: SpatialWeights, x: ArrayLike<number>): Float64Array {
  const lag = new Float64Array(w.n);
  for (let i = 0; i < w.n; i++) {
    let s = 0;
    for (let k = w.offsets[i]!; k < w.offsets[i + 1]!; k++) s += w.weights[k]! * x[w.indices[k]!]!;
    lag[i] = s;
  }
  return lag;
}
