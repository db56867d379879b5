/**
 * Analysis over supplied data: validation (analysis-input), weights (analysis-weights), the pure
 * statistics of ./stats, aggregation by arithmetic binning, and DBSCAN in PostGIS (repository).
 * Nothing here writes to the database.
 */
import { warn, type AnalysisWarning } from '../../contracts/analysis-warnings';
import type {
  AnalysisSummary,
  CellCollection,
  ClusterRequest,
  ClusterResponse,
  CountsRequest,
  DensityRequest,
  FeatureId,
  GlobalMoranResponse,
  HotspotRequest,
  HotspotResponse,
  LocalMoranResponse,
  StatisticRequest,
  WeightsRequest,
  WeightsResponse,
} from '../../contracts/analysis';
import type { Database } from '../../db/database';
import { binPoints, densityCellRing, hexRing, quarticDensity, squareRing } from './aggregation';
import { projectionNote, readInput, readValues, reject, unproject, type AnalysisInput } from './analysis-input';
import { buildWeights, type BuiltWeights } from './analysis-weights';
import { clusterDbscan } from './analysis.repository';
import { convexHullOfIndices, type HullGeometry } from './convex-hull';
import { confidenceBin, getisOrd, globalMoran, localMoran, neighboursOf } from './stats';
import { getisOrdMoments } from './stats/getis-ord-moments';

/** null for anything that is not a finite number: the wire never carries NaN or Infinity. */
const finite = (v: number | null | undefined): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : v);

function summary(input: AnalysisInput, parameters: Record<string, unknown>, weights: BuiltWeights | null, extraWarnings: AnalysisWarning[] = []): AnalysisSummary {
  return {
    n: input.n,
    crs: input.crs,
    ...projectionNote(input),
    parameters,
    ...(weights ? { weights: weights.used } : {}),
    warnings: [...input.warnings, ...(weights?.warnings ?? []), ...extraWarnings],
  };
}

function neighbourCount(w: BuiltWeights, i: number): number {
  return w.neighbours.offsets[i + 1]! - w.neighbours.offsets[i]!;
}

/** Getis-Ord Gi* (default, weights.self true) or Gi per feature, with ArcGIS bins and optional FDR bins. */
export function analyseHotspots(body: HotspotRequest): HotspotResponse {
  const input = readInput(body.data.features, body.crs, { idProperty: body.idProperty, minFeatures: 3 });
  const x = readValues(input, body.value);
  const built = buildWeights(body.weights, input, { self: true, transform: 'B', selfAllowed: true });
  const result = getisOrd(x, built.weights);
  const moments = getisOrdMoments(x, built.weights);
  const fdr = body.fdr === true;
  const features = input.ids.map((id, i) => {
    const z = finite(result.z[i]);
    const p = z === null ? null : finite(result.p[i]);
    const pFdr = z === null ? null : finite(result.pFdr[i]);
    return {
      id,
      neighbours: neighbourCount(built, i),
      statistic: z === null ? null : finite(result.g[i]),
      expectation: z === null ? null : finite(moments.expectation[i]),
      variance: z === null ? null : finite(moments.variance[i]),
      z,
      p,
      bin: confidenceBin(z, p),
      ...(fdr ? { pFdr, binFdr: confidenceBin(z, pFdr) } : {}),
    };
  });
  const statistic = result.star ? 'Gi*' : 'Gi';
  return { summary: summary(input, { statistic, value: body.value, fdr }, built), features };
}

/** Local Moran's I (spdep localmoran: conditional moments, mlvar) per feature. */
export function analyseLocalMoran(body: StatisticRequest): LocalMoranResponse {
  const input = readInput(body.data.features, body.crs, { idProperty: body.idProperty, minFeatures: 3 });
  const x = readValues(input, body.value);
  const built = buildWeights(body.weights, input, { self: false, transform: 'R', selfAllowed: false });
  const r = localMoran(x, built.weights);
  const features = input.ids.map((id, i) => {
    const z = finite(r.z[i]);
    return {
      id,
      neighbours: neighbourCount(built, i),
      statistic: finite(r.ii[i]),
      expectation: finite(r.expected[i]),
      variance: finite(r.variance[i]),
      z,
      p: z === null ? null : finite(r.p[i]),
      quadrant: r.quadrant[i] ?? null,
    };
  });
  return { summary: summary(input, { statistic: "local Moran's I", value: body.value }, built), features };
}

/** Global Moran's I with the randomisation variance (and the normality one). */
export function analyseGlobalMoran(body: StatisticRequest): GlobalMoranResponse {
  const input = readInput(body.data.features, body.crs, { idProperty: body.idProperty, minFeatures: 4 });
  const x = readValues(input, body.value);
  const built = buildWeights(body.weights, input, { self: false, transform: 'R', selfAllowed: false });
  const m = globalMoran(x, built.weights);
  const warnings = m.n < 4 ? [warn.undefinedVariance(4)] : [];
  return {
    summary: summary(input, { statistic: "global Moran's I", value: body.value }, built, warnings),
    result: {
      statistic: finite(m.i),
      expectation: finite(m.expected),
      variance: finite(m.varianceRandomisation),
      z: finite(m.zRandomisation),
      p: finite(m.pRandomisation),
      varianceNormal: finite(m.varianceNormal),
      zNormal: finite(m.zNormal),
      pNormal: finite(m.pNormal),
      n: m.n,
    },
  };
}

/** Neighbour lists (and weights) per feature, as the statistics would use them. */
export function describeWeights(body: WeightsRequest): WeightsResponse {
  const input = readInput(body.data.features, body.crs, { idProperty: body.idProperty });
  const built = buildWeights(body.weights, input, { self: false, transform: 'B', selfAllowed: true });
  const w = built.weights;
  const features = input.ids.map((id, i) => {
    const start = w.offsets[i]!;
    const end = w.offsets[i + 1]!;
    return {
      id,
      neighbours: Array.from(w.indices.subarray(start, end), (j) => input.ids[j]!),
      weights: Array.from(w.weights.subarray(start, end)),
    };
  });
  const card = input.ids.map((_, i) => neighboursOf(built.neighbours, i).length);
  return {
    summary: summary(input, { minNeighbours: Math.min(...card), maxNeighbours: Math.max(...card), meanNeighbours: card.reduce((s, c) => s + c, 0) / input.n }, built),
    features,
  };
}

function readTimes(input: AnalysisInput, property: string): (number | null)[] {
  return input.features.map((f, i) => {
    const v = f.properties?.[property];
    if (v === undefined || v === null) return null;
    const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
    if (!Number.isFinite(t)) throw reject('TIME_INVALID', `Feature ${String(input.ids[i])} has "${property}" = ${JSON.stringify(v)}, not an ISO 8601 time.`, { id: input.ids[i], property });
    return t;
  });
}

const isoOrNull = (t: number | null | undefined): string | null => (t === null || t === undefined ? null : new Date(t).toISOString());

/** A hull's planar coordinates mapped back to the request's CRS (lon/lat for EPSG:4326). */
function hullBack(hull: HullGeometry, back: (x: number, y: number) => [number, number]): HullGeometry {
  const map = (p: [number, number]): [number, number] => back(p[0], p[1]);
  if (hull.type === 'Point') return { type: 'Point', coordinates: map(hull.coordinates) };
  if (hull.type === 'LineString') return { type: 'LineString', coordinates: hull.coordinates.map(map) };
  return { type: 'Polygon', coordinates: hull.coordinates.map((ring) => ring.map(map)) };
}

/**
 * DBSCAN with PostGIS ST_ClusterDBSCAN semantics (core point: ≥ minPoints within ≤ eps, itself
 * included), run in PostGIS on the projected coordinates. Clusters are renumbered 0, 1, … in the
 * order of their first member in the input, so ids do not depend on PostgreSQL's scan order.
 */
export async function clusterFeatures(db: Database, body: ClusterRequest, limits: { maxFeatures?: number } = {}): Promise<ClusterResponse> {
  const input = readInput(body.data.features, body.crs, { idProperty: body.idProperty, ...limits });
  const times = body.timeProperty === undefined ? null : readTimes(input, body.timeProperty);
  const { labels } = await clusterDbscan(db, {
    kind: input.kind,
    xy: input.xy,
    polygons: input.polygons,
    eps: body.eps,
    minPoints: body.minPoints,
  });
  // PostGIS numbers clusters 0 … k − 1 (noise −1 here); renumbered by first member in input order.
  const n = labels.length;
  let maxLabel = -1;
  for (let i = 0; i < n; i++) if (labels[i]! > maxLabel) maxLabel = labels[i]!;
  const renumber = new Int32Array(maxLabel + 1).fill(-1);
  const cluster = new Int32Array(n);
  let clusterCount = 0;
  let noise = 0;
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (label < 0) {
      cluster[i] = -1;
      noise++;
      continue;
    }
    let id = renumber[label]!;
    if (id < 0) {
      id = clusterCount++;
      renumber[label] = id;
    }
    cluster[i] = id;
  }
  const count = new Array<number>(clusterCount).fill(0);
  const start = new Array<number | null>(clusterCount).fill(null);
  const end = new Array<number | null>(clusterCount).fill(null);
  for (let i = 0; i < n; i++) {
    const c = cluster[i]!;
    if (c < 0) continue;
    count[c]!++;
    const t = times?.[i];
    if (t === null || t === undefined) continue;
    const s = start[c] ?? null;
    const e = end[c] ?? null;
    start[c] = s === null ? t : Math.min(s, t);
    end[c] = e === null ? t : Math.max(e, t);
  }
  // The points whose hull is each cluster's: a point's position, or the exterior-ring vertices of a
  // polygon's parts; grouped by cluster (a counting sort, input order kept within a cluster).
  let coords: Float64Array;
  let owner: Int32Array;
  if (input.kind === 'point') {
    coords = input.xy;
    owner = cluster;
  } else {
    const vertices: number[] = [];
    const owners: number[] = [];
    for (let i = 0; i < n; i++) {
      if (cluster[i]! < 0) continue;
      for (const rings of input.polygons[i]!) {
        for (const p of rings[0] ?? []) {
          vertices.push(p[0], p[1]);
          owners.push(cluster[i]!);
        }
      }
    }
    coords = Float64Array.from(vertices);
    owner = Int32Array.from(owners);
  }
  const offsets = new Int32Array(clusterCount + 1);
  for (let v = 0; v < owner.length; v++) if (owner[v]! >= 0) offsets[owner[v]! + 1]!++;
  for (let c = 0; c < clusterCount; c++) offsets[c + 1]! += offsets[c]!;
  const members = new Int32Array(offsets[clusterCount]!);
  const next = offsets.slice(0, clusterCount);
  for (let v = 0; v < owner.length; v++) if (owner[v]! >= 0) members[next[owner[v]!]!++] = v;
  // Hulls in planar coordinates, then back to lon/lat: the projection is affine in (λ, φ), so the
  // hull of the projected points is exactly the projection of the lon/lat hull.
  const back = unproject(input);
  const hullFeatures = new Array<ClusterResponse['clusters']['features'][number]>(clusterCount);
  for (let id = 0; id < clusterCount; id++) {
    const hull = hullBack(convexHullOfIndices(coords, members.subarray(offsets[id], offsets[id + 1])), back);
    hullFeatures[id] = {
      type: 'Feature' as const,
      id,
      geometry: hull,
      properties: { cluster: id, count: count[id]!, start: isoOrNull(start[id]), end: isoOrNull(end[id]) },
    };
  }
  const features = new Array<{ id: FeatureId; cluster: number | null }>(n);
  for (let i = 0; i < n; i++) features[i] = { id: input.ids[i]!, cluster: cluster[i]! < 0 ? null : cluster[i]! };
  return {
    summary: summary(input, { eps: body.eps, minPoints: body.minPoints, clusters: clusterCount, noise, ...(body.timeProperty ? { timeProperty: body.timeProperty } : {}) }, null),
    features,
    clusters: { type: 'FeatureCollection', features: hullFeatures },
  };
}

function readWeightsProperty(input: AnalysisInput, property: string | undefined): Float64Array | undefined {
  return property === undefined ? undefined : readValues(input, property);
}

/** The default lattice origin for EPSG:4326 is the data's centre rounded to 0.01°, so nearby requests share cells. */
const ORIGIN_STEP_DEGREES = 0.01;

function requirePoints(input: AnalysisInput): void {
  if (input.kind !== 'point') throw reject('POINTS_REQUIRED', 'Counts and density take points; send polygon centroids as points if that is what you mean.');
}

/** Points (or a summed property) per hexagon or square cell, by arithmetic binning; only non-empty cells. */
export function countInCells(body: CountsRequest): CellCollection {
  const input = readInput(body.data.features, body.crs, { origin: body.origin, originStep: ORIGIN_STEP_DEGREES });
  requirePoints(input);
  const weights = readWeightsProperty(input, body.weightProperty);
  const cells = binPoints(input.xy, body.shape, body.size, weights);
  if (cells.i.length > 250_000) throw reject('TOO_MANY_CELLS', 'More than 250,000 non-empty cells: use a larger cell size.');
  const back = unproject(input, body.origin ?? [0, 0]);
  const ring = body.shape === 'hex' ? hexRing : squareRing;
  const features = Array.from(cells.i, (i, k) => {
    const j = cells.j[k]!;
    return {
      type: 'Feature' as const,
      id: `${i},${j}`,
      geometry: { type: 'Polygon' as const, coordinates: [ring(i, j, body.size).map(([x, y]) => back(x, y))] },
      properties: { i, j, count: cells.value[k]! },
    };
  });
  const origin = input.projection ? input.projection.origin : (body.origin ?? [0, 0]);
  return {
    type: 'FeatureCollection',
    summary: summary(input, { shape: body.shape, size: body.size, origin, cells: features.length, ...(body.weightProperty ? { weightProperty: body.weightProperty } : {}) }, null),
    features,
  };
}

/** Quartic kernel density on square cells centred on the lattice nodes (i · cellSize, j · cellSize). */
export function kernelDensity(body: DensityRequest): CellCollection {
  const input = readInput(body.data.features, body.crs, { origin: body.origin, originStep: ORIGIN_STEP_DEGREES });
  requirePoints(input);
  const weights = readWeightsProperty(input, body.weightProperty);
  let grid;
  try {
    grid = quarticDensity(input.xy, body.radius, body.cellSize, weights);
  } catch (err) {
    if (err instanceof RangeError && err.message.startsWith('TOO_MANY_CELLS')) throw reject('TOO_MANY_CELLS', `${err.message}: use a larger cell size.`);
    throw err;
  }
  const back = unproject(input, body.origin ?? [0, 0]);
  const features = Array.from(grid.i, (i, k) => {
    const j = grid.j[k]!;
    return {
      type: 'Feature' as const,
      id: `${i},${j}`,
      geometry: { type: 'Polygon' as const, coordinates: [densityCellRing(i, j, body.cellSize).map(([x, y]) => back(x, y))] },
      properties: { i, j, density: grid.density[k]! },
    };
  });
  const origin = input.projection ? input.projection.origin : (body.origin ?? [0, 0]);
  const unit = input.projection ? 'per m²' : 'per square unit';
  return {
    type: 'FeatureCollection',
    summary: summary(input, { kernel: 'quartic', radius: body.radius, cellSize: body.cellSize, origin, densityUnit: unit, cells: features.length }, null),
    features,
  };
}
