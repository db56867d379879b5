/**
 * Gate 2 of the three GeoJSON gates (see STYLE.md §3): checks that a submitted grid boundary is a
 * polygon PostGIS will accept, and says what is wrong in words a planner understands.
 *
 * Isomorphic: the editor runs the same checks in the browser before submitting, so this file imports
 * nothing from Node, Fastify or Kysely.
 *
 * Decisions (documented here because the API, the editor and the database tests all depend on them):
 * - Accepted input: a `Polygon`, a `MultiPolygon`, or a `Feature` wrapping one of them (terra-draw and
 *   most desktop GIS exports hand out Features; their `properties` are ignored). A `FeatureCollection`
 *   or any other geometry type is `WRONG_TYPE`. Strings are not parsed: callers pass parsed JSON.
 * - Positions are `[lng, lat]` or `[lng, lat, altitude]`; the altitude is dropped because the grid
 *   columns are 2D and PostGIS refuses a Z geometry in them.
 * - Repeated consecutive positions (a double click in the editor) are accepted, as OGC and PostGIS
 *   accept them, and removed from the returned geometry. A ring left with fewer than three different
 *   corners after that is `RING_TOO_SHORT`.
 * - The returned geometry is a fresh copy: only `type` and `coordinates`, 2D, without repeated points,
 *   wound by the RFC 7946 right-hand rule. Foreign members and `bbox` are dropped.
 * - Rings of one polygon, and the parts of a multipolygon, may touch at single points (valid in OGC
 *   and PostGIS) but must not cross or share an edge.
 * - Self-intersection is found with a sort-and-sweep over segment bounding boxes rather than
 *   `turf.kinks`: kinks tests every pair of segments (O(n²); about a billion pairs at the default
 *   50,000-vertex limit, seconds of blocked event loop), misses collinear overlaps and reports false
 *   kinks around repeated points. The tests check that both agree on the fixtures.
 * - Left to PostGIS (gate 3): rings that cross exactly through a vertex of another ring without any
 *   segment crossing, and holes that cut a polygon's interior in two by touching the shell twice.
 *
 * Hostile input: every array level is walked with loops to the fixed depth its type allows (no
 * recursion, so nesting 100,000 arrays deep costs one step), and the vertex budget is checked against
 * each ring's length before the ring is walked, so a huge array is rejected without iterating it.
 */
import type { MultiPolygon, Polygon, Position } from 'geojson';
import Flatbush from 'flatbush';
import gjv from 'geojson-validation';

/** Every reason a geometry can be rejected for; the UI translates by this code. */
export const GEOMETRY_REJECTIONS = [
  'NOT_GEOJSON',
  'WRONG_TYPE',
  'SPEC_VIOLATION',
  'EMPTY',
  'NESTING_TOO_DEEP',
  'NESTING_TOO_SHALLOW',
  'POSITION_WRONG_LENGTH',
  'COORDINATE_NOT_NUMBER',
  'COORDINATE_NOT_FINITE',
  'LONGITUDE_OUT_OF_RANGE',
  'LATITUDE_OUT_OF_RANGE',
  'TOO_MANY_VERTICES',
  'RING_TOO_SHORT',
  'RING_NOT_CLOSED',
  'SPIKE',
  'SELF_INTERSECTION',
  'RINGS_INTERSECT',
  'HOLE_OUTSIDE_SHELL',
  'NESTED_HOLES',
  'PARTS_OVERLAP',
] as const;

export type GeometryRejection = (typeof GEOMETRY_REJECTIONS)[number];

export type GeometryValidation =
  | { valid: true; geometry: Polygon | MultiPolygon }
  | {
      valid: false;
      reason: GeometryRejection;
      message: string;
      /** `[lng, lat]` of the problem, where there is one place to show on the map. */
      location?: [number, number];
      /** Where in the submitted object, e.g. `coordinates[0][3]` (prefixed `geometry.` for a Feature). */
      path?: string;
    };

export type GeometryRejected = Extract<GeometryValidation, { valid: false }>;

export interface ValidatePolygonOptions {
  /** Most positions accepted over all rings, counting the closing position. Default 50,000. */
  maxVertices?: number;
}

/** Matches the `MAX_VERTICES` default of the server configuration. */
export const DEFAULT_MAX_VERTICES = 50_000;

type Lnglat = [number, number];

/** A ring after the structural checks: 2D, closed, consecutive duplicates removed. */
interface CheckedRing {
  coords: Lnglat[];
  /** Index of each kept position in the submitted ring, to report paths the planner can find. */
  sourceIndex: number[];
  path: string;
  part: number;
  isHole: boolean;
}

const GEOJSON_TYPES = new Set(['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon', 'GeometryCollection', 'Feature', 'FeatureCollection']);

/**
 * Checks that `input` is a polygon or multipolygon fit to be stored as a grid boundary.
 *
 * Checks run from cheap to expensive and the first failure is returned: shape of the object, nesting,
 * numbers and ranges, vertex budget, ring length and closure, geojson-validation's spec checks,
 * spikes, self-intersection, then how rings and parts sit inside each other.
 *
 * @example
 * ```ts
 * const result = validatePolygonGeometry({
 *   type: 'Polygon',
 *   coordinates: [[[113.6, 34.75], [113.6, 34.754], [113.605, 34.754], [113.605, 34.75], [113.6, 34.75]]],
 * });
 * if (result.valid) save(result.geometry); // counter-clockwise now, as RFC 7946 wants
 * else showError(result.reason, result.location);
 * ```
 */
export function validatePolygonGeometry(input: unknown, opts: ValidatePolygonOptions = {}): GeometryValidation {
  const maxVertices = opts.maxVertices ?? DEFAULT_MAX_VERTICES;

  if (!isPlainObject(input)) {
    return reject('NOT_GEOJSON', `Expected a GeoJSON object but got ${describe(input)}.`);
  }
  let geometryObject: Record<string, unknown> = input;
  let pathPrefix = '';
  if (input.type === 'Feature') {
    const inner = input.geometry;
    if (inner === null || inner === undefined) {
      return reject('EMPTY', 'The feature has no geometry: draw a shape first.', { path: 'geometry' });
    }
    if (!isPlainObject(inner)) {
      return reject('NOT_GEOJSON', `The feature's geometry should be an object but is ${describe(inner)}.`, { path: 'geometry' });
    }
    geometryObject = inner;
    pathPrefix = 'geometry.';
  }

  const type = geometryObject.type;
  if (typeof type !== 'string' || !GEOJSON_TYPES.has(type)) {
    return reject('NOT_GEOJSON', 'This is not GeoJSON: it has no recognised "type".', { path: `${pathPrefix}type` });
  }
  if (type !== 'Polygon' && type !== 'MultiPolygon') {
    return reject('WRONG_TYPE', `A grid must be an area (Polygon or MultiPolygon), not a ${type}.`, { path: `${pathPrefix}type` });
  }

  const structure = checkStructure(type, geometryObject.coordinates, `${pathPrefix}coordinates`, maxVertices);
  if ('reason' in structure) return structure;

  // Spec conformance by an independent implementation, once our walk has shown the nesting is sane
  // (geojson-validation throws on an empty ring and recurses without limit into collections). What it
  // can still catch here are members we do not look at, such as a malformed `bbox`.
  const specErrors = pathPrefix === '' ? (type === 'Polygon' ? gjv.isPolygon(geometryObject, true) : gjv.isMultiPolygon(geometryObject, true)) : gjv.isFeature(input, true);
  if (specErrors.length > 0) {
    return reject('SPEC_VIOLATION', `The shape does not follow the GeoJSON standard: ${specErrors.join('; ')}.`);
  }

  const rings = structure.rings;
  for (const ring of rings) {
    const spike = findSpike(ring);
    if (spike) return spike;
  }
  const crossing = findFirstIntersection(rings);
  if (crossing) return crossing;
  const nesting = checkRingNesting(rings);
  if (nesting) return nesting;

  return { valid: true, geometry: normaliseWinding(toGeometry(type, rings)) };
}

/**
 * Rewinds rings to the RFC 7946 right-hand rule: exterior rings counter-clockwise, holes clockwise
 * (in the lng/lat plane). Returns a new geometry; the input is not modified. Degenerate rings with
 * zero area are left as they are.
 *
 * @example
 * ```ts
 * const ccw = normaliseWinding({ type: 'Polygon', coordinates: [[[113.6, 34.75], [113.6, 34.754], [113.605, 34.75], [113.6, 34.75]]] });
 * // ccw.coordinates[0] is now [113.6, 34.75] → [113.605, 34.75] → [113.6, 34.754] → back
 * ```
 */
export function normaliseWinding(geometry: Polygon): Polygon;
export function normaliseWinding(geometry: MultiPolygon): MultiPolygon;
export function normaliseWinding(geometry: Polygon | MultiPolygon): Polygon | MultiPolygon;
export function normaliseWinding(geometry: Polygon | MultiPolygon): Polygon | MultiPolygon {
  if (geometry.type === 'Polygon') {
    return { ...geometry, coordinates: windPolygon(geometry.coordinates) };
  }
  return { ...geometry, coordinates: geometry.coordinates.map(windPolygon) };
}

function windPolygon(rings: Position[][]): Position[][] {
  return rings.map((ring, index) => {
    const area = signedAreaDeg2(ring);
    const wantCounterClockwise = index === 0;
    if (area === 0 || area > 0 === wantCounterClockwise) return ring.map((p) => [...p]);
    return ring.map((p) => [...p]).reverse();
  });
}

/** Shoelace sum in the lng/lat plane: positive when counter-clockwise. */
function signedAreaDeg2(ring: readonly Position[]): number {
  const first = ring[0];
  if (!first || ring.length < 4) return 0;
  // Relative to the first vertex: subtracting ~113° before multiplying keeps digits for small grids.
  const [x0 = 0, y0 = 0] = first;
  let sum = 0;
  for (let i = 0; i + 1 < ring.length; i++) {
    const a = ring[i] as Position;
    const b = ring[i + 1] as Position;
    sum += ((a[0] as number) - x0) * ((b[1] as number) - y0) - ((b[0] as number) - x0) * ((a[1] as number) - y0);
  }
  return sum / 2;
}

// ---------------------------------------------------------------------------------------------------
// Structure: nesting, numbers, ranges, vertex budget, ring length and closure.

function checkStructure(type: 'Polygon' | 'MultiPolygon', coordinates: unknown, path: string, maxVertices: number): { rings: CheckedRing[] } | GeometryRejected {
  if (coordinates === undefined) {
    return reject('NOT_GEOJSON', `A ${type} needs "coordinates".`, { path });
  }
  if (!Array.isArray(coordinates)) {
    return reject('NESTING_TOO_SHALLOW', `"coordinates" should be a list but is ${describe(coordinates)}.`, { path });
  }
  if (coordinates.length === 0) {
    return reject('EMPTY', 'The shape has no points: draw at least one area.', { path });
  }

  const polygons: { rings: unknown[]; path: string }[] = [];
  if (type === 'Polygon') {
    polygons.push({ rings: coordinates, path });
  } else {
    for (let p = 0; p < coordinates.length; p++) {
      const polygon: unknown = coordinates[p];
      const polygonPath = `${path}[${p}]`;
      if (!Array.isArray(polygon)) {
        return reject('NESTING_TOO_SHALLOW', `Part ${p + 1} should be a list of rings but is ${describe(polygon)}.`, { path: polygonPath });
      }
      if (polygon.length === 0) {
        return reject('EMPTY', `Part ${p + 1} of the shape has no points.`, { path: polygonPath });
      }
      polygons.push({ rings: polygon, path: polygonPath });
    }
  }

  const rings: CheckedRing[] = [];
  let vertexCount = 0;
  for (let p = 0; p < polygons.length; p++) {
    const polygon = polygons[p] as { rings: unknown[]; path: string };
    for (let r = 0; r < polygon.rings.length; r++) {
      const ring: unknown = polygon.rings[r];
      const ringPath = `${polygon.path}[${r}]`;
      if (!Array.isArray(ring)) {
        return reject('NESTING_TOO_SHALLOW', `Expected a list of points [longitude, latitude] but found ${describe(ring)}.`, { path: ringPath });
      }
      vertexCount += ring.length;
      if (vertexCount > maxVertices) {
        return reject('TOO_MANY_VERTICES', `The shape has more than ${maxVertices} points. Simplify it before saving.`, { path: ringPath });
      }
      const checked = checkRing(ring, ringPath, p, r > 0);
      if ('reason' in checked) return checked;
      rings.push(checked);
    }
  }
  return { rings };
}

function checkRing(ring: unknown[], path: string, part: number, isHole: boolean): CheckedRing | GeometryRejected {
  const positions: Lnglat[] = [];
  for (let i = 0; i < ring.length; i++) {
    const checked = checkPosition(ring[i], `${path}[${i}]`);
    if (!Array.isArray(checked)) return checked;
    positions.push(checked);
  }
  const what = isHole ? 'A hole' : 'The outline';
  if (positions.length < 4) {
    return reject('RING_TOO_SHORT', `${what} has only ${positions.length} point${positions.length === 1 ? '' : 's'}; an area needs at least three corners plus the closing point.`, { path });
  }
  const first = positions[0] as Lnglat;
  const last = positions[positions.length - 1] as Lnglat;
  if (first[0] !== last[0] || first[1] !== last[1]) {
    return reject('RING_NOT_CLOSED', `${what} is not closed: its last point must repeat its first point ${formatLngLat(first)}.`, {
      location: last,
      path: `${path}[${positions.length - 1}]`,
    });
  }

  const coords: Lnglat[] = [first];
  const sourceIndex: number[] = [0];
  for (let i = 1; i < positions.length; i++) {
    const point = positions[i] as Lnglat;
    const previous = coords[coords.length - 1] as Lnglat;
    if (point[0] === previous[0] && point[1] === previous[1]) continue;
    coords.push(point);
    sourceIndex.push(i);
  }
  if (coords.length < 4) {
    return reject('RING_TOO_SHORT', `${what} has fewer than three different corners, so it encloses no area.`, { location: first, path });
  }
  return { coords, sourceIndex, path, part, isHole };
}

function checkPosition(position: unknown, path: string): Lnglat | GeometryRejected {
  if (!Array.isArray(position)) {
    return reject('NESTING_TOO_SHALLOW', `Expected a point [longitude, latitude] but found ${describe(position)}.`, { path });
  }
  if (position.length > 0 && Array.isArray(position[0])) {
    return reject('NESTING_TOO_DEEP', 'The coordinates are nested one list too deep for this type (a MultiPolygon labelled as a Polygon?).', { path });
  }
  if (position.length < 2 || position.length > 3) {
    return reject('POSITION_WRONG_LENGTH', `A point must be [longitude, latitude] (optionally with altitude) but has ${position.length} value${position.length === 1 ? '' : 's'}.`, { path });
  }
  for (let k = 0; k < position.length; k++) {
    const value: unknown = position[k];
    if (Array.isArray(value)) {
      return reject('NESTING_TOO_DEEP', 'A point contains a list where a number was expected.', { path: `${path}[${k}]` });
    }
    if (typeof value !== 'number') {
      return reject('COORDINATE_NOT_NUMBER', `Coordinates must be numbers, but found ${describe(value)}.`, { path: `${path}[${k}]` });
    }
    if (!Number.isFinite(value)) {
      return reject('COORDINATE_NOT_FINITE', `A coordinate is ${String(value)}, not a real number.`, { path: `${path}[${k}]` });
    }
  }
  const lng = position[0] as number;
  const lat = position[1] as number;
  if (lng < -180 || lng > 180) {
    return reject('LONGITUDE_OUT_OF_RANGE', `Longitude ${lng} is outside -180…180. Are longitude and latitude swapped?`, { path: `${path}[0]` });
  }
  if (lat < -90 || lat > 90) {
    return reject('LATITUDE_OUT_OF_RANGE', `Latitude ${lat} is outside -90…90. Are longitude and latitude swapped?`, { path: `${path}[1]` });
  }
  return [lng, lat];
}

// ---------------------------------------------------------------------------------------------------
// Spikes: the boundary runs out along a line and straight back.

function findSpike(ring: CheckedRing): GeometryRejected | undefined {
  const { coords } = ring;
  const n = coords.length - 1; // distinct corners; coords[n] repeats coords[0]
  for (let i = 0; i < n; i++) {
    const previous = coords[(i - 1 + n) % n] as Lnglat;
    const vertex = coords[i] as Lnglat;
    const next = coords[i + 1] as Lnglat;
    const ux = vertex[0] - previous[0];
    const uy = vertex[1] - previous[1];
    const vx = next[0] - vertex[0];
    const vy = next[1] - vertex[1];
    const cross = ux * vy - uy * vx;
    const dot = ux * vx + uy * vy;
    // Doubling back = the two edges are parallel (|sin| below ~1e-10) and point in opposite directions.
    if (dot < 0 && Math.abs(cross) <= 1e-10 * Math.hypot(ux, uy) * Math.hypot(vx, vy)) {
      return reject('SPIKE', `The boundary runs out to ${formatLngLat(vertex)} and straight back along the same line. Remove that point.`, {
        location: vertex,
        path: `${ring.path}[${ring.sourceIndex[i] as number}]`,
      });
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Intersections: segment bounding boxes in an R-tree, exact tests on the candidates.

interface Segment {
  ring: number;
  index: number;
  ax: number;
  ay: number;
  bx: number;
  by: number;
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

type Contact = { kind: 'cross' | 'overlap' | 'touch'; at: Lnglat };

function findFirstIntersection(rings: CheckedRing[]): GeometryRejected | undefined {
  const segments: Segment[] = [];
  rings.forEach((ring, r) => {
    for (let i = 0; i + 1 < ring.coords.length; i++) {
      const [ax, ay] = ring.coords[i] as Lnglat;
      const [bx, by] = ring.coords[i + 1] as Lnglat;
      segments.push({ ring: r, index: i, ax, ay, bx, by, minX: Math.min(ax, bx), maxX: Math.max(ax, bx), minY: Math.min(ay, by), maxY: Math.max(ay, by) });
    }
  });
  if (segments.length === 0) return undefined;
  // Pairs are visited in the order of a sweep from west to east: each segment against the earlier ones
  // (by minX) whose boxes meet its own. Those are found with a packed R-tree over the boxes, not by
  // scanning the sweep's active list: when many edges overlap in x (a zig-zag or comb outline), that
  // list holds most of them and the scan was quadratic (16k vertices: 1.9 s on the event loop).
  segments.sort((s, t) => s.minX - t.minX);
  const index = new Flatbush(segments.length);
  for (const s of segments) index.add(s.minX, s.minY, s.maxX, s.maxY);
  index.finish();
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] as Segment;
    const earlier = index.search(s.minX, s.minY, s.maxX, s.maxY, (j) => j < i).sort((a, b) => a - b);
    for (const j of earlier) {
      const problem = classifyPair(rings, segments[j] as Segment, s);
      if (problem) return problem;
    }
  }
  return undefined;
}

function classifyPair(rings: CheckedRing[], s: Segment, t: Segment): GeometryRejected | undefined {
  const ringS = rings[s.ring] as CheckedRing;
  const ringT = rings[t.ring] as CheckedRing;
  if (s.ring === t.ring) {
    const segmentCount = ringS.coords.length - 1;
    const gap = Math.abs(s.index - t.index);
    if (gap === 1 || gap === segmentCount - 1) return undefined; // neighbours share a corner by construction
  }
  const contact = intersectSegments(s, t);
  if (!contact) return undefined;
  const location = contact.at;
  const path = `${ringS.path}[${ringS.sourceIndex[s.index] as number}]`;
  if (s.ring === t.ring) {
    const what = ringS.isHole ? 'The edge of a hole' : 'The boundary';
    const how = contact.kind === 'overlap' ? 'runs back over itself' : contact.kind === 'touch' ? 'touches itself' : 'crosses itself';
    return reject('SELF_INTERSECTION', `${what} ${how} near ${formatLngLat(location)}. Move the points so the line does not cross itself.`, { location, path });
  }
  if (contact.kind === 'touch') return undefined; // rings and parts may touch at single points
  if (ringS.part !== ringT.part) {
    return reject('PARTS_OVERLAP', `Two parts of the shape ${contact.kind === 'overlap' ? 'share an edge' : 'cross'} near ${formatLngLat(location)}. Merge them into one area or pull them apart.`, { location, path });
  }
  return reject('RINGS_INTERSECT', `A hole ${contact.kind === 'overlap' ? 'shares an edge with' : 'crosses'} the outline or another hole near ${formatLngLat(location)}.`, { location, path });
}

/** Orientation of c relative to a→b: positive left, negative right, zero collinear. */
function orient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}

function intersectSegments(s: Segment, t: Segment): Contact | undefined {
  const d1 = orient(t.ax, t.ay, t.bx, t.by, s.ax, s.ay);
  const d2 = orient(t.ax, t.ay, t.bx, t.by, s.bx, s.by);
  const d3 = orient(s.ax, s.ay, s.bx, s.by, t.ax, t.ay);
  const d4 = orient(s.ax, s.ay, s.bx, s.by, t.bx, t.by);

  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) {
    const f = d1 / (d1 - d2);
    return { kind: 'cross', at: [s.ax + f * (s.bx - s.ax), s.ay + f * (s.by - s.ay)] };
  }
  if (d1 === 0 && d2 === 0 && d3 === 0 && d4 === 0) {
    // Collinear: compare along the axis the segments extend most in.
    const useX = s.maxX - s.minX >= s.maxY - s.minY;
    const lo = useX ? Math.max(s.minX, t.minX) : Math.max(s.minY, t.minY);
    const hi = useX ? Math.min(s.maxX, t.maxX) : Math.min(s.maxY, t.maxY);
    if (lo > hi) return undefined;
    const at = pointOnSegmentAt(s, useX, lo);
    return { kind: lo < hi ? 'overlap' : 'touch', at };
  }
  if (d1 === 0 && within(s.ax, s.ay, t)) return { kind: 'touch', at: [s.ax, s.ay] };
  if (d2 === 0 && within(s.bx, s.by, t)) return { kind: 'touch', at: [s.bx, s.by] };
  if (d3 === 0 && within(t.ax, t.ay, s)) return { kind: 'touch', at: [t.ax, t.ay] };
  if (d4 === 0 && within(t.bx, t.by, s)) return { kind: 'touch', at: [t.bx, t.by] };
  return undefined;
}

function within(x: number, y: number, s: Segment): boolean {
  return x >= s.minX && x <= s.maxX && y >= s.minY && y <= s.maxY;
}

function pointOnSegmentAt(s: Segment, useX: boolean, value: number): Lnglat {
  if (useX) {
    const f = s.bx === s.ax ? 0 : (value - s.ax) / (s.bx - s.ax);
    return [value, s.ay + f * (s.by - s.ay)];
  }
  const f = s.by === s.ay ? 0 : (value - s.ay) / (s.by - s.ay);
  return [s.ax + f * (s.bx - s.ax), value];
}

// ---------------------------------------------------------------------------------------------------
// Nesting: holes inside their shell, not inside each other; parts not inside each other.
// Called only once no rings cross, so one point of a ring off the other ring's boundary decides.

type Side = 'inside' | 'outside' | 'boundary';

function checkRingNesting(rings: CheckedRing[]): GeometryRejected | undefined {
  const parts: { shell: CheckedRing; holes: CheckedRing[]; box: Box }[] = [];
  for (const ring of rings) {
    if (!ring.isHole) parts.push({ shell: ring, holes: [], box: boxOf(ring.coords) });
    else parts[parts.length - 1]?.holes.push(ring);
  }

  for (const { shell, holes } of parts) {
    for (const hole of holes) {
      const probe = probePoint(hole.coords, shell.coords);
      if (probe && sideOfRing(probe, shell.coords) === 'outside') {
        return reject('HOLE_OUTSIDE_SHELL', `A hole lies outside the outline it belongs to, near ${formatLngLat(probe)}. Draw holes inside the area.`, { location: probe, path: hole.path });
      }
    }
    const holeBoxes = holes.map((h) => boxOf(h.coords));
    for (let i = 0; i < holes.length; i++) {
      for (let j = 0; j < holes.length; j++) {
        if (i === j || !boxContains(holeBoxes[j] as Box, holeBoxes[i] as Box)) continue;
        const inner = holes[i] as CheckedRing;
        const outer = holes[j] as CheckedRing;
        const probe = probePoint(inner.coords, outer.coords);
        if (probe && sideOfRing(probe, outer.coords) === 'inside') {
          return reject('NESTED_HOLES', `A hole lies inside another hole near ${formatLngLat(probe)}.`, { location: probe, path: inner.path });
        }
      }
    }
  }

  for (let i = 0; i < parts.length; i++) {
    for (let j = 0; j < parts.length; j++) {
      const inner = parts[i] as (typeof parts)[number];
      const outer = parts[j] as (typeof parts)[number];
      if (i === j || !boxContains(outer.box, inner.box)) continue;
      const probe = probePoint(inner.shell.coords, outer.shell.coords);
      if (!probe || sideOfRing(probe, outer.shell.coords) !== 'inside') continue;
      // An island in a lake (a part inside another part's hole) is fine.
      const inHole = outer.holes.some((h) => sideOfRing(probe, h.coords) !== 'outside');
      if (!inHole) {
        return reject('PARTS_OVERLAP', `One part of the shape lies inside another near ${formatLngLat(probe)}. Merge them into one area.`, { location: probe, path: inner.shell.path });
      }
    }
  }
  return undefined;
}

/** A point of `ring` (a corner, else an edge midpoint) that is not on the boundary of `other`. */
function probePoint(ring: Lnglat[], other: Lnglat[]): Lnglat | undefined {
  for (let i = 0; i + 1 < ring.length; i++) {
    const p = ring[i] as Lnglat;
    if (sideOfRing(p, other) !== 'boundary') return p;
  }
  for (let i = 0; i + 1 < ring.length; i++) {
    const a = ring[i] as Lnglat;
    const b = ring[i + 1] as Lnglat;
    const mid: Lnglat = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
    if (sideOfRing(mid, other) !== 'boundary') return mid;
  }
  return undefined;
}

/** Even-odd ray casting, with points on an edge reported separately. */
function sideOfRing(p: Lnglat, ring: Lnglat[]): Side {
  const [x, y] = p;
  let inside = false;
  for (let i = 0; i + 1 < ring.length; i++) {
    const [ax, ay] = ring[i] as Lnglat;
    const [bx, by] = ring[i + 1] as Lnglat;
    if (orient(ax, ay, bx, by, x, y) === 0 && x >= Math.min(ax, bx) && x <= Math.max(ax, bx) && y >= Math.min(ay, by) && y <= Math.max(ay, by)) {
      return 'boundary';
    }
    if (ay > y !== by > y && x < ((bx - ax) * (y - ay)) / (by - ay) + ax) inside = !inside;
  }
  return inside ? 'inside' : 'outside';
}

type Box = [number, number, number, number];

function boxOf(coords: Lnglat[]): Box {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of coords) {
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  return [minX, minY, maxX, maxY];
}

function boxContains(outer: Box, inner: Box): boolean {
  return inner[0] >= outer[0] && inner[1] >= outer[1] && inner[2] <= outer[2] && inner[3] <= outer[3];
}

// ---------------------------------------------------------------------------------------------------

function toGeometry(type: 'Polygon' | 'MultiPolygon', rings: CheckedRing[]): Polygon | MultiPolygon {
  const polygons: Position[][][] = [];
  for (const ring of rings) {
    const coords = ring.coords.map((p): Position => [p[0], p[1]]);
    if (!ring.isHole) polygons.push([coords]);
    else polygons[polygons.length - 1]?.push(coords);
  }
  if (type === 'Polygon') return { type: 'Polygon', coordinates: polygons[0] ?? [] };
  return { type: 'MultiPolygon', coordinates: polygons };
}

function reject(reason: GeometryRejection, message: string, where: { location?: Lnglat; path?: string } = {}): GeometryRejected {
  return { valid: false, reason, message, ...where };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  return `a ${typeof value}`;
}

function formatLngLat([lng, lat]: Lnglat): string {
  return `${lng.toFixed(6)}, ${lat.toFixed(6)}`;
}
