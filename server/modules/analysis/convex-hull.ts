// Convex hull of planar points (Andrew's monotone chain, O(n log n)), shaped as PostGIS
// ST_ConvexHull shapes it: a Point for one distinct position, a LineString for collinear ones, else a
// counter-clockwise closed Polygon. Computed here rather than with ST_Collect + ST_ConvexHull per
// cluster because that GROUP BY more than doubled the cost of ST_ClusterDBSCAN on 100k points.

export type HullGeometry =
  | { type: 'Point'; coordinates: [number, number] }
  | { type: 'LineString'; coordinates: [number, number][] }
  | { type: 'Polygon'; coordinates: [number, number][][] };

/**
 * The convex hull of the points `idx` of interleaved coordinates `xy` (x of point k at 2k): points
 * sorted by (x, y), duplicates dropped, lower then upper chain. Works on indices, with tuples only
 * for the hull's vertices (DBSCAN's hulls: most points are inside).
 */
export function convexHullOfIndices(xy: Float64Array, idx: Int32Array): HullGeometry {
  const order = Int32Array.from(idx).sort((a, b) => xy[2 * a]! - xy[2 * b]! || xy[2 * a + 1]! - xy[2 * b + 1]!);
  const unique: number[] = [];
  for (let k = 0; k < order.length; k++) {
    const p = order[k]!;
    const q = order[k - 1];
    if (k === 0 || xy[2 * p] !== xy[2 * q!] || xy[2 * p + 1] !== xy[2 * q! + 1]) unique.push(p);
  }
  const at = (p: number): [number, number] => [xy[2 * p]!, xy[2 * p + 1]!];
  if (unique.length === 1) return { type: 'Point', coordinates: at(unique[0]!) };
  const turn = (o: number, a: number, b: number): number =>
    (xy[2 * a]! - xy[2 * o]!) * (xy[2 * b + 1]! - xy[2 * o + 1]!) - (xy[2 * a + 1]! - xy[2 * o + 1]!) * (xy[2 * b]! - xy[2 * o]!);
  const lower: number[] = [];
  for (const p of unique) {
    while (lower.length >= 2 && turn(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: number[] = [];
  for (let k = unique.length - 1; k >= 0; k--) {
    const p = unique[k]!;
    while (upper.length >= 2 && turn(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  const ring = [...lower.slice(0, -1), ...upper.slice(0, -1)];
  if (ring.length < 3) return { type: 'LineString', coordinates: [at(unique[0]!), at(unique[unique.length - 1]!)] };
  return { type: 'Polygon', coordinates: [[...ring, ring[0]!].map(at)] };
}
