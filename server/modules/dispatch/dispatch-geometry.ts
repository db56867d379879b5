/**
 * Exact point-in-polygon and point-to-polygon distance for the in-memory dispatch index.
 *
 * Polygons arrive as WKB (`ST_AsBinary`), so every coordinate is the very double PostGIS holds — a
 * GeoJSON round trip with a fixed number of decimals could move a vertex by one ulp and flip a point
 * lying exactly on an edge. On-edge and crossing decisions use Shewchuk's adaptive-precision orient2d
 * (robust-predicates), so a point on an edge or vertex is recognised exactly and, like `ST_Covers`,
 * counts as covered.
 */
import { orient2d } from 'robust-predicates';

/** One polygon: rings as flat [x0, y0, x1, y1, …] lon/lat arrays, closed (last = first); ring 0 is the shell. */
export type FlatPolygon = Float64Array[];

export interface FlatGeometry {
  polygons: FlatPolygon[];
  /** [minLon, minLat, maxLon, maxLat] */
  bbox: [number, number, number, number];
}

/** Parse WKB of a Polygon or MultiPolygon (2D; Z/M ordinates are skipped). */
export function parseWkbPolygonal(wkb: Uint8Array): FlatGeometry {
  const view = new DataView(wkb.buffer, wkb.byteOffset, wkb.byteLength);
  let offset = 0;
  const bbox: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];

  const header = (): { little: boolean; type: number; dims: number } => {
    const little = view.getUint8(offset) === 1;
    offset += 1;
    let type = view.getUint32(offset, little);
    offset += 4;
    let dims = 2;
    // EWKB flags (SRID, Z, M) and ISO 1000/2000/3000 types.
    const hasZ = (type & 0x80000000) !== 0;
    const hasM = (type & 0x40000000) !== 0;
    if ((type & 0x20000000) !== 0) offset += 4;
    type &= 0x0fffffff;
    if (hasZ) dims += 1;
    if (hasM) dims += 1;
    if (type >= 1000) {
      const iso = Math.floor(type / 1000);
      type %= 1000;
      dims = iso === 3 ? 4 : 3;
    }
    return { little, type, dims };
  };

  const polygon = (little: boolean, dims: number): FlatPolygon => {
    const rings = view.getUint32(offset, little);
    offset += 4;
    const out: FlatPolygon = [];
    for (let r = 0; r < rings; r++) {
      const n = view.getUint32(offset, little);
      offset += 4;
      const ring = new Float64Array(n * 2);
      for (let i = 0; i < n; i++) {
        const x = view.getFloat64(offset, little);
        const y = view.getFloat64(offset + 8, little);
        offset += 8 * dims;
        ring[2 * i] = x;
        ring[2 * i + 1] = y;
        if (x < bbox[0]) bbox[0] = x;
        if (y < bbox[1]) bbox[1] = y;
        if (x > bbox[2]) bbox[2] = x;
        if (y > bbox[3]) bbox[3] = y;
      }
      out.push(ring);
    }
    return out;
  };

  const { little, type, dims } = header();
  const polygons: FlatPolygon[] = [];
  if (type === 3) polygons.push(polygon(little, dims));
  else if (type === 6) {
    const n = view.getUint32(offset, little);
    offset += 4;
    for (let i = 0; i < n; i++) {
      const h = header();
      if (h.type !== 3) throw new Error(`WKB MultiPolygon member of type ${h.type}`);
      polygons.push(polygon(h.little, h.dims));
    }
  } else throw new Error(`WKB geometry type ${type} is not polygonal`);
  return { polygons, bbox };
}

/**
 * Whether a polygonal geometry covers a point (interior or boundary), exactly.
 *
 * Winding number over all rings with exact orientation tests; any ring edge containing the point
 * (orient2d = 0 and within the edge's extent) means "on the boundary", which ST_Covers counts as covered.
 */
export function coversPoint(geom: FlatGeometry, x: number, y: number): boolean {
  const b = geom.bbox;
  if (x < b[0] || x > b[2] || y < b[1] || y > b[3]) return false;
  for (const polygon of geom.polygons) {
    let inside = false;
    for (const ring of polygon) {
      const r = ringRelation(ring, x, y);
      if (r === 0) return true;
      // Rings of a valid polygon do not cross: parity over shell and holes is the containment.
      if (r > 0) inside = !inside;
    }
    if (inside) return true;
  }
  return false;
}

/** 0 = on the ring, 1 = inside it, -1 = outside (rings of any orientation). */
function ringRelation(ring: Float64Array, x: number, y: number): number {
  let winding = 0;
  const n = ring.length - 2;
  for (let i = 0; i < n; i += 2) {
    const ax = ring[i]!;
    const ay = ring[i + 1]!;
    const bx = ring[i + 2]!;
    const by = ring[i + 3]!;
    // Edges entirely on one side of the point's row and column cannot matter.
    if ((ay > y && by > y) || (ay < y && by < y)) {
      continue;
    }
    // Entirely left of the point: the rightward ray never meets it, and it cannot contain the point.
    if (ax < x && bx < x) continue;
    // robust-predicates' orient2d is negative when (x, y) lies left of a→b.
    const o = orient2d(ax, ay, bx, by, x, y);
    if (o === 0) {
      if (x >= Math.min(ax, bx) && x <= Math.max(ax, bx) && y >= Math.min(ay, by) && y <= Math.max(ay, by)) return 0;
      continue;
    }
    if (ay <= y) {
      if (by > y && o < 0) winding += 1;
    } else if (by <= y && o > 0) winding -= 1;
  }
  return winding !== 0 ? 1 : -1;
}

/** WGS 84 semi-major axis (m) and first eccentricity squared. */
const A = 6_378_137;
const E2 = 0.00669437999014;

/**
 * Metres per degree of longitude and latitude at a latitude, from the WGS 84 ellipsoid's radii of
 * curvature (prime vertical N, meridian M). Within a few hundred metres of the point this local
 * equirectangular frame matches geodesic distances to well under a millimetre per metre.
 */
export function metresPerDegree(lat: number): { kx: number; ky: number } {
  const phi = (lat * Math.PI) / 180;
  const s = Math.sin(phi);
  const w = Math.sqrt(1 - E2 * s * s);
  const n = A / w;
  const m = (A * (1 - E2)) / (w * w * w);
  return { kx: (n * Math.cos(phi) * Math.PI) / 180, ky: (m * Math.PI) / 180 };
}

/** Distance (m, local ellipsoidal frame at the point) from a point to a polygonal geometry's boundary. */
export function distanceToGeometryM(geom: FlatGeometry, x: number, y: number, k: { kx: number; ky: number }): number {
  let best = Infinity;
  for (const polygon of geom.polygons) {
    for (const ring of polygon) {
      const n = ring.length - 2;
      for (let i = 0; i < n; i += 2) {
        const ax = (ring[i]! - x) * k.kx;
        const ay = (ring[i + 1]! - y) * k.ky;
        const bx = (ring[i + 2]! - x) * k.kx;
        const by = (ring[i + 3]! - y) * k.ky;
        const dx = bx - ax;
        const dy = by - ay;
        const len2 = dx * dx + dy * dy;
        let t = len2 === 0 ? 0 : -(ax * dx + ay * dy) / len2;
        if (t < 0) t = 0;
        else if (t > 1) t = 1;
        const px = ax + t * dx;
        const py = ay + t * dy;
        const d = px * px + py * py;
        if (d < best) best = d;
      }
    }
  }
  return Math.sqrt(best);
}
