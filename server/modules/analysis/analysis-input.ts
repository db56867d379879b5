// The second gate of the analysis endpoints: everything the route schema cannot say about a
// supplied FeatureCollection (one geometry kind, unique ids, lon/lat ranges, numeric values), and its
// conversion to planar coordinates. Failures are AppError 422 with `details.reason` an
// AnalysisRejection, so clients can switch on it.

import { warn, type AnalysisWarning } from '../../contracts/analysis-warnings';
import type { Position } from 'geojson';
import { MAX_ANALYSIS_FEATURES, type AnalysisCrs, type AnalysisFeature, type AnalysisRejection, type FeatureId } from '../../contracts/analysis';
import { validatePolygonGeometry } from '../../geo/validate-geometry';
import { AppError } from '../../http/errors';
import { describeProjection, localProjection, maxScaleError, type LocalProjection } from './local-projection';

export function reject(reason: AnalysisRejection, message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError('VALIDATION_FAILED', 422, message, { in: 'body', reason, ...details });
}

/**
 * What is wrong with a polygon feature's outline (a ring unclosed or too short, a spike, a
 * self-intersection), by the checks of server/geo, or null. Planar data (crs none) is first scaled
 * into the unit square: a uniform scale and shift keep closure, crossings and spikes, and the
 * validator's lon/lat ranges then hold.
 */
function outlineProblem(geometry: AnalysisFeature['geometry'], crs: AnalysisCrs): { reason: string; message: string; location?: [number, number] } | null {
  if (geometry.type === 'Point') return null;
  let minX = 0;
  let minY = 0;
  let span = 1;
  let checked: unknown = geometry;
  if (crs !== 'EPSG:4326') {
    const positions = (geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates).flat(2);
    let maxX = -Infinity;
    let maxY = -Infinity;
    minX = Infinity;
    minY = Infinity;
    for (const p of positions) {
      minX = Math.min(minX, p[0]!);
      minY = Math.min(minY, p[1]!);
      maxX = Math.max(maxX, p[0]!);
      maxY = Math.max(maxY, p[1]!);
    }
    span = Math.max(maxX - minX, maxY - minY) || 1;
    const scale = (ring: Position[]): Position[] => ring.map((p) => [(p[0]! - minX) / span, (p[1]! - minY) / span]);
    checked = geometry.type === 'Polygon' ? { type: 'Polygon', coordinates: geometry.coordinates.map(scale) } : { type: 'MultiPolygon', coordinates: geometry.coordinates.map((rings) => rings.map(scale)) };
  }
  const check = validatePolygonGeometry(checked);
  if (check.valid) return null;
  const at = check.location;
  return { reason: check.reason, message: check.message, ...(at ? { location: [at[0] * span + minX, at[1] * span + minY] } : {}) };
}

export type GeometryKind = 'point' | 'polygon';

/** Polygon rings as planar coordinates (exterior first), one entry per part. */
type PlanarPolygon = [number, number][][];

export interface AnalysisInput {
  readonly n: number;
  readonly kind: GeometryKind;
  readonly ids: FeatureId[];
  readonly features: readonly AnalysisFeature[];
  /** Interleaved planar x, y of each feature's point (a polygon's area-weighted centroid). */
  readonly xy: Float64Array;
  /** Projected polygon parts per feature (empty for points). */
  readonly polygons: PlanarPolygon[][];
  /** Set for EPSG:4326: planar units are metres of this projection. */
  readonly projection: LocalProjection | null;
  readonly crs: AnalysisCrs;
  readonly warnings: AnalysisWarning[];
}

export interface InputOptions {
  readonly idProperty?: string | undefined;
  /** Projection origin ([lng, lat]); default the centre of the data's bounding box. */
  readonly origin?: readonly [number, number] | undefined;
  /** Round the default origin to this many degrees, so repeated requests share one lattice. */
  readonly originStep?: number;
  readonly minFeatures?: number;
  /** Override of MAX_ANALYSIS_FEATURES for trusted callers (benchmarks, stored-event jobs). */
  readonly maxFeatures?: number;
}

/** Polygon parts of a geometry, or null for a point. */
function partsOf(feature: AnalysisFeature): Position[][][] | null {
  const g = feature.geometry;
  if (g.type === 'Point') return null;
  return g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
}

function featureId(feature: AnalysisFeature, index: number, idProperty: string | undefined): FeatureId {
  if (idProperty !== undefined) {
    const v = feature.properties?.[idProperty];
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return v;
    throw reject('VALUE_MISSING', `Feature ${index} has no string or number "${idProperty}" to use as its id.`, { index, property: idProperty });
  }
  return feature.id ?? index;
}

/** Area-weighted centroid of planar polygon parts (holes subtract); the vertex mean if degenerate. */
export function planarCentroid(parts: PlanarPolygon[]): [number, number] {
  // Relative to the first vertex: keeps the shoelace sums small, so integer grids stay exact.
  const [ox, oy] = parts[0]![0]![0]!;
  let area = 0;
  let cx = 0;
  let cy = 0;
  let sx = 0;
  let sy = 0;
  let count = 0;
  for (const rings of parts) {
    for (const ring of rings) {
      for (let k = 0; k + 1 < ring.length; k++) {
        const x0 = ring[k]![0] - ox;
        const y0 = ring[k]![1] - oy;
        const x1 = ring[k + 1]![0] - ox;
        const y1 = ring[k + 1]![1] - oy;
        const cross = x0 * y1 - x1 * y0;
        area += cross;
        cx += (x0 + x1) * cross;
        cy += (y0 + y1) * cross;
        sx += x0;
        sy += y0;
        count++;
      }
    }
  }
  // Signed sums: a hole wound opposite to its shell subtracts. RFC 7946 asks for that winding; a
  // file wound the other way round everywhere still gives the right centroid (the signs cancel).
  if (Math.abs(area) > 0) return [ox + cx / (3 * area), oy + cy / (3 * area)];
  return [ox + sx / Math.max(count, 1), oy + sy / Math.max(count, 1)];
}

const NO_PARTS: PlanarPolygon[] = [];

/**
 * The common case of `readInput` in one pass: all Point features with valid ids and in-range
 * positions, projected straight into `xy`. Returns null at the first thing that is not that common
 * case (a polygon, an id to check, a position out of range, a malformed coordinate), and `readInput`
 * then runs its full checks, which reject bad input with their usual errors in their usual order.
 */
function readPointsFast(features: readonly AnalysisFeature[], crs: AnalysisCrs, options: InputOptions): AnalysisInput | null {
  const n = features.length;
  const lonLat = crs === 'EPSG:4326';
  const byIndex = options.idProperty === undefined;
  const raw = new Float64Array(2 * n);
  const ids: FeatureId[] = new Array<FeatureId>(n);
  // Ids other than the default index are checked for uniqueness (the index is unique by construction).
  let seen: Set<string> | null = null;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let index = 0; index < n; index++) {
    const f = features[index]!;
    const g = f.geometry;
    if (g.type !== 'Point') return null;
    const c = g.coordinates;
    const x = c[0];
    const y = c[1];
    if (typeof x !== 'number' || typeof y !== 'number') return null;
    if (lonLat && !(x >= -180 && x <= 180 && y >= -90 && y <= 90)) return null;
    let id: FeatureId;
    if (byIndex) {
      id = f.id ?? index;
      if (f.id !== undefined) {
        seen ??= new Set<string>();
        const key = String(id);
        if (seen.has(key)) return null;
        seen.add(key);
      }
    } else {
      const v = f.properties?.[options.idProperty];
      if (!(typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) return null;
      id = v;
      seen ??= new Set<string>();
      const key = String(id);
      if (seen.has(key)) return null;
      seen.add(key);
    }
    ids[index] = id;
    raw[2 * index] = x;
    raw[2 * index + 1] = y;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  // A mix of explicit ids and default indices can collide (id 3 and the 4th feature without an id).
  if (seen && byIndex) {
    for (let index = 0; index < n; index++) if (features[index]!.id === undefined && seen.has(String(index))) return null;
  }
  const { projection, warnings } = projectionOf(crs, options, minX, minY, maxX, maxY);
  // In place, without a tuple per point: (x − x0) · kx is `forward` for EPSG:4326 and, with kx = 1,
  // exactly the x − x0 of crs none.
  const [x0, y0] = projection ? projection.origin : (options.origin ?? [0, 0]);
  const kx = projection ? projection.kx : 1;
  const ky = projection ? projection.ky : 1;
  const xy = raw;
  for (let k = 0; k < n; k++) {
    xy[2 * k] = (xy[2 * k]! - x0) * kx;
    xy[2 * k + 1] = (xy[2 * k + 1]! - y0) * ky;
  }
  if (n < 30) warnings.push(warn.fewFeatures(n, 30));
  return { n, kind: 'point', ids, features, xy, polygons: new Array<PlanarPolygon[]>(n).fill(NO_PARTS), projection, crs, warnings };
}

/** The projection of the data (EPSG:4326: local metres around the origin), with its scale warning. */
function projectionOf(crs: AnalysisCrs, options: InputOptions, minX: number, minY: number, maxX: number, maxY: number): { projection: LocalProjection | null; warnings: AnalysisWarning[]; project: (p: Position) => [number, number] } {
  const warnings: AnalysisWarning[] = [];
  let projection: LocalProjection | null = null;
  let project: (p: Position) => [number, number];
  if (crs === 'EPSG:4326') {
    const step = options.originStep ?? 0;
    const round = (v: number): number => (step > 0 ? Math.round(v / step) * step : v);
    const origin = options.origin ?? [round((minX + maxX) / 2), round((minY + maxY) / 2)];
    projection = localProjection(origin);
    const error = maxScaleError(origin[1], minY, maxY);
    if (error > 0.005) {
      warnings.push(warn.latitudeSpan(maxY - minY, error));
    }
    const p = projection;
    project = (q) => p.forward(q[0]!, q[1]!);
  } else {
    const [ox, oy] = options.origin ?? [0, 0];
    project = (q) => [q[0]! - ox, q[1]! - oy];
  }
  return { projection, warnings, project };
}

/**
 * Validates the features and projects them. Points and polygons may not be mixed; ids must be
 * unique; EPSG:4326 positions must be lon/lat.
 */
export function readInput(features: readonly AnalysisFeature[], crs: AnalysisCrs, options: InputOptions = {}): AnalysisInput {
  const n = features.length;
  const maxFeatures = options.maxFeatures ?? MAX_ANALYSIS_FEATURES;
  if (n > maxFeatures) throw reject('TOO_MANY_FEATURES', `At most ${maxFeatures} features per request; got ${n}.`, { limit: maxFeatures, count: n });
  const minFeatures = options.minFeatures ?? 1;
  if (n < minFeatures) throw reject('TOO_FEW_FEATURES', `This analysis needs at least ${minFeatures} features; got ${n}.`, { minimum: minFeatures, count: n });

  const fast = readPointsFast(features, crs, options);
  if (fast) return fast;

  const first = features[0]!.geometry.type === 'Point' ? 'point' : 'polygon';
  features.forEach((f, index) => {
    const kind = f.geometry.type === 'Point' ? 'point' : 'polygon';
    if (kind !== first) {
      throw reject('MIXED_GEOMETRY_TYPES', `Features must be all points or all polygons; feature ${index} is a ${f.geometry.type} after a ${features[0]!.geometry.type}.`, { index });
    }
  });

  const ids = features.map((f, i) => featureId(f, i, options.idProperty));
  const seen = new Map<string, number>();
  ids.forEach((id, index) => {
    const key = String(id);
    const other = seen.get(key);
    if (other !== undefined) throw reject('DUPLICATE_ID', `Feature id ${key} is used by features ${other} and ${index}.`, { id, indices: [other, index] });
    seen.set(key, index);
  });

  // Bounding box (for the default origin and the projection error bound).
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const visit = (p: Position, index: number): void => {
    const x = p[0]!;
    const y = p[1]!;
    if (crs === 'EPSG:4326' && !(x >= -180 && x <= 180 && y >= -90 && y <= 90)) {
      throw reject('COORDINATE_OUT_OF_RANGE', `Feature ${index} has position [${x}, ${y}] outside lon/lat ranges; send crs "none" for projected data.`, { index, position: [x, y] });
    }
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  };
  features.forEach((f, index) => {
    const parts = partsOf(f);
    if (parts === null) visit((f.geometry as { coordinates: Position }).coordinates, index);
    else for (const rings of parts) for (const ring of rings) for (const p of ring) visit(p, index);
  });

  if (first === 'polygon') {
    features.forEach((f, index) => {
      const problem = outlineProblem(f.geometry, crs);
      if (problem) {
        throw reject('GEOMETRY_INVALID', `Feature ${index}: ${problem.message}`, { index, geometryReason: problem.reason, ...(problem.location ? { location: problem.location } : {}) });
      }
    });
  }

  const { projection, warnings, project } = projectionOf(crs, options, minX, minY, maxX, maxY);

  const xy = new Float64Array(2 * n);
  const polygons: PlanarPolygon[][] = [];
  features.forEach((f, index) => {
    const parts = partsOf(f);
    if (parts === null) {
      const [x, y] = project((f.geometry as { coordinates: Position }).coordinates);
      xy[2 * index] = x;
      xy[2 * index + 1] = y;
      polygons.push([]);
      return;
    }
    const planar = parts.map((rings) => rings.map((ring) => ring.map(project)));
    const [x, y] = planarCentroid(planar);
    xy[2 * index] = x;
    xy[2 * index + 1] = y;
    polygons.push(planar);
  });
  if (n < 30) warnings.push(warn.fewFeatures(n, 30));
  return { n, kind: first, ids, features, xy, polygons, projection, crs, warnings };
}

/** The numeric values of `property`, refusing missing and non-numeric ones (with the first offenders). */
export function readValues(input: AnalysisInput, property: string): Float64Array {
  const values = new Float64Array(input.n);
  const missing: FeatureId[] = [];
  const notNumeric: FeatureId[] = [];
  input.features.forEach((f, i) => {
    const v = f.properties?.[property];
    if (v === undefined || v === null) missing.push(input.ids[i]!);
    else if (typeof v !== 'number' || !Number.isFinite(v)) notNumeric.push(input.ids[i]!);
    else values[i] = v;
  });
  if (missing.length > 0) {
    throw reject('VALUE_MISSING', `${missing.length} feature(s) have no value for "${property}".`, { property, ids: missing.slice(0, 20) });
  }
  if (notNumeric.length > 0) {
    throw reject('VALUE_NOT_NUMERIC', `${notNumeric.length} feature(s) have a non-numeric "${property}" (send JSON numbers).`, { property, ids: notNumeric.slice(0, 20) });
  }
  return values;
}

export function projectionNote(input: AnalysisInput): { projection?: string } {
  return input.projection ? { projection: describeProjection(input.projection) } : {};
}

/** Back from planar coordinates to the request's CRS (lon/lat for EPSG:4326), 9 decimals for lon/lat. */
export function unproject(input: Pick<AnalysisInput, 'projection'>, originNone: readonly [number, number] = [0, 0]): (x: number, y: number) => [number, number] {
  const p = input.projection;
  if (p) {
    return (x, y) => {
      const [lng, lat] = p.inverse(x, y);
      return [Math.round(lng * 1e9) / 1e9, Math.round(lat * 1e9) / 1e9];
    };
  }
  return (x, y) => [x + originNone[0], y + originNone[1]];
}
