// Convex hull of planar points (Andrew's monotone chain, O(n log n)), shaped as PostGIS
// ST_ConvexHull shapes it: a Point for one distinct position, a LineString for collinear ones, else a
// counter-clockwise closed Polygon. Computed here rather than with ST_Collect + ST_ConvexHull per
// cluster because that GROUP BY more than doubled the cost of ST_ClusterDBSCAN on 100k points.

export type HullGeometry =
  | { type: 'Point'; coordinates: [number, number] }
  | { type: 'LineString'; coordinates: [number, number][] }
  | { type: 'Polygon'; coordinates: [number, number][][] };

const cross = (o: [number, number], a: [number, number], b: [number, number]): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);

export function convexHull(points: readonly [number, number][]): HullGeometry {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const unique = pts.filter((p, k) => k === 0 || p[0] !== pts[k - 1]![0] || p[1] !== pts[k - 1]![1]);
  if (unique.length === 1) return { type: 'Point', coordinates: unique[0]! };
  const lower: [number, number][] = [];
  for (const p of unique) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: [number, number][] = [];
  for (let k = unique.length - 1; k >= 0; k--) {
    const p = unique[k]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  const ring = [...lower.slice(0, -1), ...upper.slice(0, -1)];
  if (ring.length < 3) return { type: 'LineString', coordinates: [unique[0]!, unique[unique.length - 1]!] };
  return { type: 'Polygon', coordinates: [[...ring, ring[0]!]] };
}
