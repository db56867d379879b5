/**
 * One point inside a polygon to hang its label on, so a GeoJSON source labels each grid once (a symbol
 * layer over the polygons themselves labels every internal tile a polygon touches: "003 003").
 * The scan-line rule of GEOS's InteriorPointArea (what PostGIS's ST_PointOnSurface uses): across the
 * largest part, at the height halfway between its bounds, the middle of the widest stretch inside it.
 * Always inside (unlike a centroid of an L- or U-shaped grid).
 */
import type { MultiPolygon, Polygon, Position } from 'geojson';

function area(ring: readonly Position[]): number {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += (ring[j]![0]! - ring[i]![0]!) * (ring[j]![1]! + ring[i]![1]!);
  return Math.abs(a / 2);
}

function insidePolygonPoint(rings: readonly (readonly Position[])[]): [number, number] | null {
  const outer = rings[0];
  if (!outer || outer.length < 4) return null;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const p of outer) {
    minY = Math.min(minY, p[1]!);
    maxY = Math.max(maxY, p[1]!);
  }
  // Halfway up, nudged off any vertex height so the line never passes exactly through a vertex.
  let y = (minY + maxY) / 2;
  const heights = new Set(rings.flatMap((r) => r.map((p) => p[1]!)));
  for (let k = 1; heights.has(y) && k < 50; k++) y = minY + ((maxY - minY) * (k % 2 === 0 ? 50 + k : 50 - k)) / 100;
  const xs: number[] = [];
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [x1, y1] = ring[j]! as [number, number];
      const [x2, y2] = ring[i]! as [number, number];
      if ((y1 > y) !== (y2 > y)) xs.push(x1 + ((y - y1) * (x2 - x1)) / (y2 - y1));
    }
  }
  xs.sort((a, b) => a - b);
  let best: [number, number] | null = null;
  let widest = -1;
  for (let i = 0; i + 1 < xs.length; i += 2) {
    const width = xs[i + 1]! - xs[i]!;
    if (width > widest) {
      widest = width;
      best = [(xs[i]! + xs[i + 1]!) / 2, y];
    }
  }
  return best;
}

/** A point inside the polygon (the largest part of a multipolygon), or null for a degenerate one. */
export function labelPoint(geometry: Polygon | MultiPolygon): [number, number] | null {
  const parts = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let largest: Position[][] | undefined;
  let largestArea = -1;
  for (const part of parts) {
    const a = part[0] ? area(part[0]) : 0;
    if (a > largestArea) {
      largestArea = a;
      largest = part;
    }
  }
  return largest ? insidePolygonPoint(largest) : null;
}
