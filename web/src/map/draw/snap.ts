/**
 * Snapping while drawing: a pointer near a neighbouring grid's vertex goes onto that vertex; near an
 * edge, onto the closest point of the edge; vertices win over edges. Distances are screen pixels, so
 * snapping feels the same at every zoom. Pure (projection passed in), so it is unit-tested.
 */
import type { Position } from 'geojson';

export type Project = (lng: number, lat: number) => { x: number; y: number };

/** Rings (closed or open lines) to snap to, as [lng, lat] positions. */
export type SnapTargets = Position[][];

/**
 * The position to use for a pointer at screen `(x, y)`: a vertex within `tolerancePx`, else the closest
 * point on an edge within `tolerancePx`, else undefined (no snap).
 *
 * @example
 * snapPosition({ x: 10, y: 0 }, [[[0, 0], [0, 10]]], (lng, lat) => ({ x: lng, y: lat }), 12) // → [0, 0]
 */
export function snapPosition(pointer: { x: number; y: number }, targets: SnapTargets, project: Project, tolerancePx: number): Position | undefined {
  let best: Position | undefined;
  let bestD2 = tolerancePx * tolerancePx;
  const screen: Array<Array<{ x: number; y: number }>> = targets.map((ring) => ring.map(([lng, lat]) => project(lng!, lat!)));
  // Vertices first.
  screen.forEach((ring, r) =>
    ring.forEach((p, i) => {
      const d2 = (p.x - pointer.x) ** 2 + (p.y - pointer.y) ** 2;
      if (d2 <= bestD2) {
        bestD2 = d2;
        best = targets[r]![i];
      }
    }),
  );
  if (best) return best;
  // Then edges: the foot of the perpendicular, interpolated in lon/lat (fine over a few pixels).
  screen.forEach((ring, r) => {
    for (let i = 0; i + 1 < ring.length; i++) {
      const a = ring[i]!;
      const b = ring[i + 1]!;
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const len2 = dx * dx + dy * dy;
      if (len2 === 0) continue;
      const tt = Math.max(0, Math.min(1, ((pointer.x - a.x) * dx + (pointer.y - a.y) * dy) / len2));
      const d2 = (a.x + tt * dx - pointer.x) ** 2 + (a.y + tt * dy - pointer.y) ** 2;
      if (d2 <= bestD2) {
        bestD2 = d2;
        const pa = targets[r]![i]!;
        const pb = targets[r]![i + 1]!;
        best = [pa[0]! + tt * (pb[0]! - pa[0]!), pa[1]! + tt * (pb[1]! - pa[1]!)];
      }
    }
  });
  return best;
}

/** Every ring of Polygon/MultiPolygon geometries, for `snapPosition`. */
export function ringsOf(geometries: Array<{ type: string; coordinates: unknown }>): SnapTargets {
  const rings: SnapTargets = [];
  for (const g of geometries) {
    if (g.type === 'Polygon') rings.push(...(g.coordinates as Position[][]));
    else if (g.type === 'MultiPolygon') for (const poly of g.coordinates as Position[][][]) rings.push(...poly);
  }
  return rings;
}
