/**
 * The one lattice every polygon is built from. Vertices (i, j) sit on a regular 100 m grid (i east,
 * j north) displaced by a smooth-ish field: each lattice line gets an offset and a slight tilt, and each
 * vertex a small jitter. District, streets, communities and grids are all rectangles in lattice index
 * space whose rings walk every lattice vertex along their edges, so neighbours share edges vertex for
 * vertex, children tile parents exactly and the union of a community's grids is its boundary.
 *
 * Distances are metres in a local equirectangular frame centred on the district; at 10 km across
 * the error against a proper projection is far below the jitter, and it keeps everything linear.
 */
import type { Polygon, Position } from 'geojson';
import { type Rng } from './random';

/** Nominal lattice spacing (m). */
export const CELL_M = 100;
/** District centre, Zhengzhou-like. */
export const ORIGIN_LNG = 113.6;
export const ORIGIN_LAT = 34.75;
/** Metres per degree at 34.75°N: 111 320·cos(34.75°) for longitude, WGS84 meridian arc for latitude. */
export const M_PER_DEG_LNG = 91_465.737;
export const M_PER_DEG_LAT = 110_950;

/** Upper bound of any vertex's displacement from its nominal position along one axis (m); see Lattice. */
export const MAX_DISPLACEMENT_M = 6 + 5 + 2.5;

/** Half-open rectangle of lattice cells [i0, i1) × [j0, j1); its corner vertices are (i0, j0) … (i1, j1). */
export interface CellRect {
  i0: number;
  j0: number;
  i1: number;
  j1: number;
}

/** Coordinates are stored at 1e-7° (~1 cm): identical vertices stay identical and files stay small. */
export function round7(value: number): number {
  return Math.round(value * 1e7) / 1e7;
}

export class Lattice {
  readonly nx: number;
  readonly ny: number;
  private readonly dx: Float64Array;
  private readonly dy: Float64Array;
  private readonly lng: Float64Array;
  private readonly lat: Float64Array;

  /** nx × ny cells, i.e. (nx + 1) × (ny + 1) vertices. */
  constructor(nx: number, ny: number, rng: Rng) {
    this.nx = nx;
    this.ny = ny;
    // Per-line offsets (±6 m) and tilts (±5 m over the whole line) keep roads straight-looking but
    // irregular; per-vertex jitter (±2.5 m) gives the hand-drawn look. The sum stays under
    // MAX_DISPLACEMENT_M, well below half a cell, so every cell stays a convex quad.
    const lineShift = (count: number, span: number) =>
      Array.from({ length: count + 1 }, () => ({ offset: rng.float(-6, 6), tiltPerCell: rng.float(-5, 5) / Math.max(1, span / 2) }));
    const columns = lineShift(nx, ny);
    const rows = lineShift(ny, nx);
    const size = (nx + 1) * (ny + 1);
    this.dx = new Float64Array(size);
    this.dy = new Float64Array(size);
    this.lng = new Float64Array(size);
    this.lat = new Float64Array(size);
    for (let j = 0; j <= ny; j++) {
      for (let i = 0; i <= nx; i++) {
        const k = this.index(i, j);
        const column = columns[i];
        const row = rows[j];
        if (!column || !row) throw new RangeError('lattice line out of range');
        this.dx[k] = column.offset + column.tiltPerCell * (j - ny / 2) + rng.float(-2.5, 2.5);
        this.dy[k] = row.offset + row.tiltPerCell * (i - nx / 2) + rng.float(-2.5, 2.5);
        const [lng = 0, lat = 0] = this.metresToLngLat(i * CELL_M + (this.dx[k] ?? 0), j * CELL_M + (this.dy[k] ?? 0));
        this.lng[k] = round7(lng);
        this.lat[k] = round7(lat);
      }
    }
  }

  private index(i: number, j: number): number {
    if (i < 0 || i > this.nx || j < 0 || j > this.ny) throw new RangeError(`vertex (${i}, ${j}) outside lattice`);
    return j * (this.nx + 1) + i;
  }

  /** Local metres (origin at the lattice's nominal south-west corner) → [lng, lat], unrounded. */
  metresToLngLat(x: number, y: number): Position {
    return [ORIGIN_LNG + (x - (this.nx * CELL_M) / 2) / M_PER_DEG_LNG, ORIGIN_LAT + (y - (this.ny * CELL_M) / 2) / M_PER_DEG_LAT];
  }

  vertex(i: number, j: number): Position {
    const k = this.index(i, j);
    return [this.lng[k] ?? 0, this.lat[k] ?? 0];
  }

  /** Displacement at a nominal point: bilinear between the surrounding cell's vertices. */
  private displacement(x: number, y: number): [number, number] {
    const u = x / CELL_M;
    const v = y / CELL_M;
    const i = Math.min(this.nx - 1, Math.max(0, Math.floor(u)));
    const j = Math.min(this.ny - 1, Math.max(0, Math.floor(v)));
    const fu = u - i;
    const fv = v - j;
    const k00 = this.index(i, j);
    const k10 = this.index(i + 1, j);
    const k01 = this.index(i, j + 1);
    const k11 = this.index(i + 1, j + 1);
    const mix = (a: Float64Array) =>
      (a[k00] ?? 0) * (1 - fu) * (1 - fv) + (a[k10] ?? 0) * fu * (1 - fv) + (a[k01] ?? 0) * (1 - fu) * fv + (a[k11] ?? 0) * fu * fv;
    return [mix(this.dx), mix(this.dy)];
  }

  /** A nominal point moved with the lattice, as [lng, lat] rounded like the vertices. */
  pointAt(x: number, y: number): Position {
    const [ddx, ddy] = this.displacement(x, y);
    const [lng = 0, lat = 0] = this.metresToLngLat(x + ddx, y + ddy);
    return [round7(lng), round7(lat)];
  }

  /** A nominal point moved with the lattice, in local metres (unrounded). */
  private warp(x: number, y: number): [number, number] {
    const [ddx, ddy] = this.displacement(x, y);
    return [x + ddx, y + ddy];
  }

  /**
   * A rigid rectangle (building footprint) standing in for the nominal axis-aligned rectangle
   * [x0, x1] × [y0, y1] (metres). The nominal rectangle's warped image is a near-rectangular convex
   * quad that stays inside the grid the nominal rectangle was inside (the warp moves grid edges and
   * the points near them alike); we take a true rectangle centred in that quad, aligned with its
   * south edge, and shrink it until all four corners are inside the quad. So footprints are exact
   * rectangles, rotated by a few degrees, inside their grid and disjoint when their nominal
   * rectangles are. Counter-clockwise ring.
   */
  footprint(x0: number, y0: number, x1: number, y1: number): Polygon {
    const quad = [this.warp(x0, y0), this.warp(x1, y0), this.warp(x1, y1), this.warp(x0, y1)] as const;
    const [sw, se, ne, nw] = quad;
    const cx = (sw[0] + se[0] + ne[0] + nw[0]) / 4;
    const cy = (sw[1] + se[1] + ne[1] + nw[1]) / 4;
    const angle = Math.atan2(se[1] - sw[1] + ne[1] - nw[1], se[0] - sw[0] + ne[0] - nw[0]);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const inside = ([px, py]: [number, number]) =>
      quad.every(([ax, ay], k) => {
        const [bx, by] = quad[(k + 1) % 4] ?? quad[0];
        return (bx - ax) * (py - ay) - (by - ay) * (px - ax) >= 0;
      });
    let halfLength = (x1 - x0) / 2;
    let halfDepth = (y1 - y0) / 2;
    const corner = (sx: number, sy: number): [number, number] => [
      cx + sx * halfLength * cos - sy * halfDepth * sin,
      cy + sx * halfLength * sin + sy * halfDepth * cos,
    ];
    const signs = [[-1, -1], [1, -1], [1, 1], [-1, 1]] as const;
    for (let attempt = 0; attempt < 40 && !signs.every(([sx, sy]) => inside(corner(sx, sy))); attempt++) {
      halfLength *= 0.97;
      halfDepth *= 0.97;
    }
    const ring = signs.map(([sx, sy]) => {
      const [mx, my] = corner(sx, sy);
      const [lng = 0, lat = 0] = this.metresToLngLat(mx, my);
      return [round7(lng), round7(lat)];
    });
    return { type: 'Polygon', coordinates: [[...ring, ring[0] ?? [0, 0]]] };
  }

  /**
   * The warped image of a nominal rectangle as a polygon, with a vertex every half cell along each
   * edge so it bends with the lattice lines (compound outlines of schools and hospitals).
   */
  outline(x0: number, y0: number, x1: number, y1: number): Polygon {
    const step = CELL_M / 2;
    const ring: Position[] = [];
    const along = (ax: number, ay: number, bx: number, by: number) => {
      const n = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / step));
      for (let k = 0; k < n; k++) ring.push(this.pointAt(ax + ((bx - ax) * k) / n, ay + ((by - ay) * k) / n));
    };
    along(x0, y0, x1, y0);
    along(x1, y0, x1, y1);
    along(x1, y1, x0, y1);
    along(x0, y1, x0, y0);
    ring.push(ring[0] ?? [0, 0]);
    return { type: 'Polygon', coordinates: [ring] };
  }

  /**
   * Counter-clockwise closed ring around a cell rectangle through every lattice vertex on its edges,
   * starting at the south-west corner.
   */
  rectRing(rect: CellRect): Position[] {
    const ring: Position[] = [];
    for (let i = rect.i0; i < rect.i1; i++) ring.push(this.vertex(i, rect.j0));
    for (let j = rect.j0; j < rect.j1; j++) ring.push(this.vertex(rect.i1, j));
    for (let i = rect.i1; i > rect.i0; i--) ring.push(this.vertex(i, rect.j1));
    for (let j = rect.j1; j > rect.j0; j--) ring.push(this.vertex(rect.i0, j));
    ring.push(this.vertex(rect.i0, rect.j0));
    return ring;
  }

  /** Lattice vertices along the north–south line i from j0 to j1 (inclusive). */
  verticalLine(i: number, j0: number, j1: number): Position[] {
    const line: Position[] = [];
    for (let j = j0; j <= j1; j++) line.push(this.vertex(i, j));
    return line;
  }

  /** Lattice vertices along the east–west line j from i0 to i1 (inclusive). */
  horizontalLine(j: number, i0: number, i1: number): Position[] {
    const line: Position[] = [];
    for (let i = i0; i <= i1; i++) line.push(this.vertex(i, j));
    return line;
  }
}

function canHold(width: number, height: number, parts: number, minSide: number): boolean {
  return Math.floor(width / minSide) * Math.floor(height / minSide) >= parts;
}

/**
 * Guillotine partition of a rectangle (in whatever integer units) into `parts` rectangles, each at
 * least minSide on both axes, with areas roughly proportional to their share of parts. Cuts go
 * across the longer side first, near the proportional position plus some jitter.
 */
export function splitRect(rect: CellRect, parts: number, rng: Rng, minSide = 1): CellRect[] {
  if (parts <= 1) return [rect];
  const width = rect.i1 - rect.i0;
  const height = rect.j1 - rect.j0;
  const first = Math.floor(parts / 2);
  const second = parts - first;
  const axes: ('x' | 'y')[] = width >= height ? ['x', 'y'] : ['y', 'x'];
  for (const axis of axes) {
    const length = axis === 'x' ? width : height;
    const across = axis === 'x' ? height : width;
    const ideal = (length * first) / parts + rng.float(-0.15, 0.15) * length;
    const candidates = Array.from({ length: length - 1 }, (_, k) => k + 1).sort(
      (a, b) => Math.abs(a - ideal) - Math.abs(b - ideal) || a - b,
    );
    for (const cut of candidates) {
      if (!canHold(cut, across, first, minSide) || !canHold(length - cut, across, second, minSide)) continue;
      const [a, b]: [CellRect, CellRect] =
        axis === 'x'
          ? [{ ...rect, i1: rect.i0 + cut }, { ...rect, i0: rect.i0 + cut }]
          : [{ ...rect, j1: rect.j0 + cut }, { ...rect, j0: rect.j0 + cut }];
      return [...splitRect(a, first, rng, minSide), ...splitRect(b, second, rng, minSide)];
    }
  }
  throw new RangeError(`cannot split ${width}×${height} into ${parts} parts of side ≥ ${minSide}`);
}

/** Bounding-box centre of a polygon's exterior ring, [lng, lat]. */
export function bboxCentre(polygon: Polygon): Position {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x = 0, y = 0] of polygon.coordinates[0] ?? []) {
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  return [(minX + maxX) / 2, (minY + maxY) / 2];
}

/** `[minLng, minLat, maxLng, maxLat]` of a polygon's exterior ring. */
export function polygonBbox(polygon: Polygon): [number, number, number, number] {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x = 0, y = 0] of polygon.coordinates[0] ?? []) {
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  return [minX, minY, maxX, maxY];
}
