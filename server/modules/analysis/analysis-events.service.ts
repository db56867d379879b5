/**
 * Analysis over stored events (issue #8): counts and rates per unit, kernel density, Getis-Ord hot
 * spots, local Moran, DBSCAN clusters, emerging hot spots and bare points.
 *
 * The filters and the scope rule are the events listing's (`eventWhere`); aggregation happens in SQL
 * (analysis-events.repository); the statistics are the pure core in ./stats, with weights built by
 * the same `buildWeights` as the supplied-data endpoints. Nothing here writes.
 *
 * Units and what the statistics run on are described in contracts/analysis-events.ts.
 */
import { warn, type AnalysisWarning } from '../../contracts/analysis-warnings';
import type { MultiPolygon, Polygon } from 'geojson';
import { deflateSync, crc32 } from 'node:zlib';
import type { WeightsSpec } from '../../contracts/analysis';
import { MAX_ANALYSIS_CELLS } from '../../contracts/analysis';
import {
  MAX_EVENTS_PER_ANALYSIS,
  POINTS_DEFAULT_LIMIT,
  type EventAnalysisSummary,
  type EventClustersQuery,
  type EventClustersResponse,
  type EventCountsQuery,
  type EventCountsResponse,
  type EventDensityQuery,
  type EventDensityResponse,
  type EventEmergingQuery,
  type EventEmergingResponse,
  type EventHotspotsQuery,
  type EventHotspotsResponse,
  type EventLocalMoranQuery,
  type EventLocalMoranResponse,
  type EventPointsQuery,
  type EventPointsResponse,
} from '../../contracts/analysis-events';
import type { SuppressedCount } from '../../contracts/population';
import type { Principal } from '../../auth/principal';
import { requireInScope } from '../../auth/scope-check';
import type { Database } from '../../db/database';
import { withScope } from '../../db/scoped';
import { AppError } from '../../http/errors';
import type { EventFilter } from '../events/event.repository';
import { parseEventBbox } from '../events/event.service';
import { binLonLat, densityCellRing, fillHexLattice, hexCentre, latticeNeighbours, quarticDensity, type BinnedCells } from './aggregation';
import { unproject, type AnalysisInput } from './analysis-input';
import { buildWeights, type BuiltWeights } from './analysis-weights';
import {
  clusterStoredEvents,
  countEventCells,
  countEventCellSlices,
  countEventsByGrid,
  countEventsByGridSlice,
  eventLonLat,
  listEventPoints,
  listGridsInForce,
  populationByCell,
  populationByGrid,
  projectedEventPoints,
  sliceBounds,
  storedEventsExtent,
  type GridUnit,
  type LatticeShape,
} from './analysis-events.repository';
import { describeProjection, localProjection, maxScaleError, type LocalProjection } from './local-projection';
import { DISCLOSURE_THRESHOLD, suppress } from './population.service';
import { classifyEmergingHotSpot, empiricalBayesRates, getisOrd, localMoran, spatialWeights, type Neighbours } from './stats';

const DEFAULT_SIZE_M = 250;
const ORIGIN_STEP_DEGREES = 0.01;
/** ArcGIS warns below 30 features: the z-scores' normal approximation needs some. */
const FEW_FEATURES = 30;
const WORKFLOW_STATES = new Set(['reported', 'accepted', 'rejected', 'dispatched', 'in_progress', 'resolved', 'verified', 'closed']);

function badQuery(field: string, message: string, value?: unknown, reason?: string): AppError {
  return new AppError('VALIDATION_FAILED', 400, message, { in: 'querystring', field, ...(value === undefined ? {} : { value }), ...(reason ? { reason } : {}) });
}

/** null for anything that is not a finite number: the wire never carries NaN or Infinity. */
const finite = (v: number | null | undefined): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : v);

// ---- filters and projection ----

type FilterQuery = Pick<EventCountsQuery, 'from' | 'to' | 'category' | 'state' | 'channel' | 'community' | 'bbox'>;

/** The events listing's filter for these query parameters, inside the caller's scope. */
export function eventFilterOf(principal: Principal, q: FilterQuery): EventFilter {
  const states = q.state?.split(',');
  const bad = states?.find((s) => !WORKFLOW_STATES.has(s));
  if (bad) throw badQuery('state', `Unknown state "${bad}"; states are ${[...WORKFLOW_STATES].join(', ')}.`, bad);
  const from = q.from ? new Date(q.from) : undefined;
  const to = q.to ? new Date(q.to) : undefined;
  if (from && to && !(from < to)) throw badQuery('from', '"from" must be before "to".', { from: q.from, to: q.to });
  if (q.community) requireInScope(principal.scope, q.community, 'That community', { in: 'querystring', field: 'community' });
  return {
    scopePrefixes: principal.scope.all ? null : principal.scope.prefixes,
    limit: 0,
    ...(q.community ? { community: q.community } : {}),
    ...(states ? { states } : {}),
    ...(q.category ? { category: q.category } : {}),
    ...(q.channel ? { channel: q.channel } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(q.bbox ? { bbox: parseEventBbox(q.bbox) } : {}),
  };
}

function parseOrigin(text: string): [number, number] {
  const [lng = NaN, lat = NaN] = text.split(',').map(Number);
  if (!(lng >= -180 && lng <= 180 && lat >= -85 && lat <= 85)) throw badQuery('origin', 'origin must be lng,lat in degrees.', text);
  return [lng, lat];
}

/** Rounded to a multiple of `step`, without binary noise such as 113.65000000000001. */
const roundTo = (v: number, step: number): number => Number((Math.round(v / step) * step).toFixed(9));

/**
 * The local metric projection of an analysis. Its origin is the lattice origin, so it must not move
 * between requests that should share cells: by default the centre of ALL stored events (not of the
 * filtered ones, nor of the bbox) rounded to 0.01°.
 */
async function projectionFor(db: Database, origin: string | undefined, filter: EventFilter, warnings: AnalysisWarning[]): Promise<LocalProjection> {
  const extent = await storedEventsExtent(db);
  let centre: [number, number];
  if (origin) centre = parseOrigin(origin);
  else if (extent) centre = [roundTo((extent[0] + extent[2]) / 2, ORIGIN_STEP_DEGREES), roundTo((extent[1] + extent[3]) / 2, ORIGIN_STEP_DEGREES)];
  else if (filter.bbox) centre = [(filter.bbox[0] + filter.bbox[2]) / 2, (filter.bbox[1] + filter.bbox[3]) / 2];
  else centre = [0, 0];
  const south = filter.bbox ? filter.bbox[1] : extent?.[1];
  const north = filter.bbox ? filter.bbox[3] : extent?.[3];
  if (south !== undefined && north !== undefined) {
    const error = maxScaleError(centre[1], Math.max(south, -85), Math.min(north, 85));
    if (error > 0.005) warnings.push(warn.projectionScale(error));
  }
  return localProjection(centre);
}

// ---- units ----

type UnitKind = 'grid' | LatticeShape;

interface Units {
  kind: UnitKind;
  /** Lattice cell size in metres (hex / square). */
  size: number;
  ids: string[];
  names: (string | undefined)[];
  geometries: (Polygon | MultiPolygon)[];
  /** Centres in metres (grid: a point on its surface). */
  xy: Float64Array;
  /** Lattice indices of the cells (hex / square units). */
  cells?: { i: Int32Array; j: Int32Array };
  count: Float64Array;
  events: number;
  projection: LocalProjection;
  warnings: AnalysisWarning[];
}

function latticeUnits(cells: BinnedCells, shape: LatticeShape, size: number, projection: LocalProjection): Pick<Units, 'ids' | 'names' | 'geometries' | 'xy' | 'count' | 'cells'> {
  const back = unproject({ projection });
  const lng = (x: number): number => back(x, 0)[0];
  const lat = (y: number): number => back(0, y)[1];
  const n = cells.i.length;
  const xy = new Float64Array(2 * n);
  const geometries: Polygon[] = new Array<Polygon>(n);
  const ids: string[] = new Array<string>(n);
  // The rings of `hexRing` / `squareRing` mapped through `back`, with each distinct vertex longitude
  // and latitude computed once (`back` is separable: lng from x only, lat from y only).
  const h = (size * Math.sqrt(3)) / 2;
  const half = size / 2;
  for (let k = 0; k < n; k++) {
    const i = cells.i[k]!;
    const j = cells.j[k]!;
    ids[k] = `${i},${j}`;
    let ring: [number, number][];
    if (shape === 'hex') {
      const [cx, cy] = hexCentre(i, j, size);
      xy[2 * k] = cx;
      xy[2 * k + 1] = cy;
      const [w, wm, em, e] = [lng(cx - size), lng(cx - half), lng(cx + half), lng(cx + size)];
      const [s, m, nn] = [lat(cy - h), lat(cy), lat(cy + h)];
      ring = [[w, m], [wm, s], [em, s], [e, m], [em, nn], [wm, nn], [w, m]];
    } else {
      xy[2 * k] = (i + 0.5) * size;
      xy[2 * k + 1] = (j + 0.5) * size;
      const x0 = i * size;
      const y0 = j * size;
      const [w, e] = [lng(x0), lng(x0 + size)];
      const [s, nn] = [lat(y0), lat(y0 + size)];
      ring = [[w, s], [e, s], [e, nn], [w, nn], [w, s]];
    }
    geometries[k] = { type: 'Polygon', coordinates: [ring] };
  }
  return { ids, names: new Array<undefined>(n).fill(undefined), geometries, xy, count: Float64Array.from(cells.value), cells: { i: cells.i, j: cells.j } };
}

/** Grids as units: ids, names, polygons and a point inside each, in metres. */
function gridUnits(grids: GridUnit[], projection: LocalProjection): Pick<Units, 'ids' | 'names' | 'geometries' | 'xy'> {
  const xy = new Float64Array(2 * grids.length);
  grids.forEach((g, k) => {
    const [x, y] = projection.forward(g.lng, g.lat);
    xy[2 * k] = x;
    xy[2 * k + 1] = y;
  });
  return { ids: grids.map((g) => g.code), names: grids.map((g) => g.name), geometries: grids.map((g) => g.geometry as Polygon | MultiPolygon), xy };
}

function checkLatticeSize(cells: BinnedCells, fill: boolean): void {
  let cellCount = cells.i.length;
  if (fill && cellCount > 0) {
    // A loop, not Math.max(...cells): a spread of 100k+ arguments overflows the call stack.
    let [iMin, iMax, jMin, jMax] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let k = 0; k < cells.i.length; k++) {
      iMin = Math.min(iMin, cells.i[k]!);
      iMax = Math.max(iMax, cells.i[k]!);
      jMin = Math.min(jMin, cells.j[k]!);
      jMax = Math.max(jMax, cells.j[k]!);
    }
    cellCount = (iMax - iMin + 1) * (jMax - jMin + 1);
  }
  if (cellCount > MAX_ANALYSIS_CELLS) {
    throw badQuery('size', `This would make ${cellCount.toLocaleString('en')} cells (at most ${MAX_ANALYSIS_CELLS.toLocaleString('en')}); use a larger size or a smaller area.`, undefined, 'TOO_MANY_CELLS');
  }
}

function toBinned(rows: { i: number; j: number; count: number }[]): BinnedCells {
  const sorted = [...rows].sort((a, b) => a.i - b.i || a.j - b.j);
  return { i: Int32Array.from(sorted, (r) => r.i), j: Int32Array.from(sorted, (r) => r.j), value: Float64Array.from(sorted, (r) => r.count) };
}

/**
 * Up to this many matching events are binned in JS from their coordinates (`eventLonLat` +
 * `binLonLat`: at a million events about 0.5 s of CPU, ours and PostgreSQL's, instead of 0.8 s, and
 * ~70 MB of transient memory); beyond it, in SQL (`countEventCells`, the same cells, bounded memory).
 */
export const MAX_EVENTS_BINNED_IN_JS = 2_000_000;

/**
 * Stored events matching `filter` per lattice cell (non-empty cells, ordered by (i, j)); in JS up to
 * `maxInJs` events, in SQL beyond (the same cells either way).
 */
export async function countEventsPerCell(db: Database, filter: EventFilter, projection: LocalProjection, shape: LatticeShape, size: number, maxInJs = MAX_EVENTS_BINNED_IN_JS): Promise<BinnedCells> {
  const points = await eventLonLat(db, filter, maxInJs);
  if (points) return binLonLat(points.lng, points.lat, projection, shape, size);
  return toBinned(await countEventCells(db, filter, projection, shape, size));
}

interface UnitQuery {
  unit?: UnitKind;
  size?: number;
  origin?: string;
}

/**
 * Events per unit. `fill`: lattice cells between busy ones are included with a count of 0 (a zero is
 * data for a statistic); grids always include every grid in force in the area.
 */
async function aggregateUnits(db: Database, principal: Principal, q: UnitQuery, filter: EventFilter, fill: boolean): Promise<Units> {
  const kind = q.unit ?? 'hex';
  const size = q.size ?? DEFAULT_SIZE_M;
  const warnings: AnalysisWarning[] = [];
  const projection = await projectionFor(db, q.origin, filter, warnings);
  if (kind === 'grid') {
    const [grids, counts] = await Promise.all([
      listGridsInForce(db, { ...(filter.community ? { community: filter.community } : {}), ...(filter.bbox ? { bbox: filter.bbox } : {}), scopePrefixes: filter.scopePrefixes }),
      countEventsByGrid(db, filter),
    ]);
    const byCode = new Map(counts.map((c) => [c.code, c.count]));
    const events = counts.reduce((s, c) => s + c.count, 0);
    const count = Float64Array.from(grids, (g) => byCode.get(g.code) ?? 0);
    const inUnits = count.reduce((s, c) => s + c, 0);
    if (inUnits < events) warnings.push(warn.unroutedEvents(events - inUnits));
    return { kind, size, ...gridUnits(grids, projection), count, events, projection, warnings };
  }
  const cells = await countEventsPerCell(db, filter, projection, kind, size);
  checkLatticeSize(cells, fill);
  const events = cells.value.reduce((s, c) => s + c, 0);
  return { kind, size, ...latticeUnits(fill ? fillHexLattice(cells) : cells, kind, size, projection), events, projection, warnings };
}

// ---- rates ----

interface Rates {
  per: number;
  population: (number | null)[];
  rate: (number | null)[];
  ebRate: (number | null)[];
}

async function ratesFor(db: Database, principal: Principal, units: Units, rate: 'none' | 'residents' | 'households' | undefined): Promise<Rates | null> {
  if (!rate || rate === 'none') return null;
  // The registry tables force Row Level Security: counts are read inside the caller's scope only.
  const byUnit = await withScope(
    db,
    principal.scope,
    (trx) => (units.kind === 'grid' ? populationByGrid(trx, rate, units.ids) : populationByCell(trx, rate, units.projection, units.kind, units.size)),
    principal,
  );
  const population = units.ids.map((id) => byUnit.get(id) ?? 0);
  const per = rate === 'residents' ? 1000 : 100;
  const eb = empiricalBayesRates(units.count, population);
  return {
    per,
    population,
    rate: population.map((b, k) => (b > 0 ? (units.count[k]! / b) * per : null)),
    ebRate: eb.map((r) => (r === null ? null : r * per)),
  };
}

/** Rate properties of unit k, with the project's small-count suppression: populations below 5 show "<5" and no rate. */
function rateProperties(rates: Rates | null, k: number): { rate?: number | null; ebRate?: number | null; population?: SuppressedCount | null } {
  if (!rates) return {};
  const b = rates.population[k]!;
  const hidden = b < DISCLOSURE_THRESHOLD;
  return {
    population: b === 0 ? null : suppress(b),
    rate: hidden ? null : finite(rates.rate[k]),
    ebRate: hidden ? null : finite(rates.ebRate[k]),
  };
}

// ---- weights ----

interface WeightsQuery {
  weights?: 'adjacent' | 'distance' | 'knn';
  distance?: number;
  k?: number;
}

function weightsSpecOf(q: WeightsQuery, units: Pick<Units, 'kind' | 'size'>, self: boolean): WeightsSpec {
  const kind = q.weights ?? 'adjacent';
  if (kind === 'distance') {
    if (q.distance === undefined) throw badQuery('distance', 'weights=distance needs distance=<metres>.');
    return { type: 'distance', max: q.distance, binary: true, self, transform: 'B' };
  }
  if (kind === 'knn') {
    if (q.k === undefined) throw badQuery('k', 'weights=knn needs k=<neighbours>.');
    return { type: 'knn', k: q.k, self, transform: 'B' };
  }
  if (units.kind === 'grid') return { type: 'queen', self, transform: 'B' };
  // Adjacent lattice cells: hexagon centres are √3·size apart (6 neighbours), square centres size and
  // √2·size apart (8, queen); 1 % slack absorbs rounding.
  const band = units.kind === 'hex' ? Math.sqrt(3) * units.size * 1.01 : Math.SQRT2 * units.size * 1.01;
  return { type: 'distance', max: band, binary: true, self, transform: 'B' };
}

/** The units `keep` selects, as the AnalysisInput that `buildWeights` reads. */
function inputOf(units: Units, keep: number[]): AnalysisInput {
  const xy = new Float64Array(2 * keep.length);
  keep.forEach((k, m) => {
    xy[2 * m] = units.xy[2 * k]!;
    xy[2 * m + 1] = units.xy[2 * k + 1]!;
  });
  return {
    n: keep.length,
    kind: 'polygon',
    ids: keep.map((k) => units.ids[k]!),
    features: keep.map((k) => ({ type: 'Feature', geometry: units.geometries[k]!, properties: null })),
    xy,
    polygons: [],
    projection: units.projection,
    crs: 'EPSG:4326',
    warnings: [],
  };
}

/**
 * Adjacent lattice cells (the default weights on hex / square units) by index arithmetic: exactly
 * the neighbours of the distance band `weightsSpecOf` reports, without measuring distances.
 */
function latticeAdjacency(q: WeightsQuery, units: Units, keep: number[]): Neighbours | undefined {
  if ((q.weights ?? 'adjacent') !== 'adjacent' || units.kind === 'grid' || !units.cells) return undefined;
  const { i, j } = units.cells;
  return latticeNeighbours(Int32Array.from(keep, (k) => i[k]!), Int32Array.from(keep, (k) => j[k]!), units.kind);
}

function buildUnitWeights(q: WeightsQuery, units: Units, keep: number[], self: boolean): BuiltWeights {
  const input = inputOf(units, keep);
  const spec = weightsSpecOf(q, units, self);
  if (spec.type === 'knn' && spec.k >= input.n) throw badQuery('k', `k must be less than the number of units (${input.n}).`, spec.k);
  return buildWeights(spec, input, { self, transform: 'B', selfAllowed: self }, latticeAdjacency(q, units, keep));
}

// ---- answers ----

function summaryOf(units: Pick<Units, 'kind' | 'size' | 'events' | 'projection' | 'warnings'> | null, n: number, events: number, parameters: Record<string, unknown>, extra: { value?: string; warnings?: AnalysisWarning[] } = {}): EventAnalysisSummary {
  return {
    n,
    events,
    ...(units ? { unit: units.kind === 'grid' ? 'grid' : `${units.kind} ${units.size} m`, projection: describeProjection(units.projection) } : {}),
    ...(extra.value ? { value: extra.value } : {}),
    parameters,
    warnings: [...(units?.warnings ?? []), ...(extra.warnings ?? [])],
  };
}

function unitParameters(q: FilterQuery & UnitQuery & { rate?: string }, units: Units): Record<string, unknown> {
  return {
    unit: units.kind,
    ...(units.kind === 'grid' ? {} : { size: units.size, origin: units.projection.origin }),
    rate: q.rate ?? 'none',
    filters: Object.fromEntries(Object.entries({ from: q.from, to: q.to, category: q.category, state: q.state, channel: q.channel, community: q.community, bbox: q.bbox }).filter(([, v]) => v !== undefined)),
  };
}

const unitFeature = <P>(units: Units, k: number, properties: P) => ({
  type: 'Feature' as const,
  id: units.ids[k]!,
  geometry: units.geometries[k]! as { type: string; coordinates: unknown },
  properties,
});

const baseProperties = (units: Units, rates: Rates | null, k: number) => ({
  unit: units.ids[k]!,
  ...(units.names[k] !== undefined ? { name: units.names[k] } : {}),
  count: units.count[k]!,
  ...rateProperties(rates, k),
});

/** Events per unit (only non-empty lattice cells; every grid in force), with rates on request. */
export async function eventCounts(db: Database, principal: Principal, q: EventCountsQuery): Promise<EventCountsResponse> {
  const filter = eventFilterOf(principal, q);
  const units = await aggregateUnits(db, principal, q, filter, false);
  const rates = await ratesFor(db, principal, units, q.rate);
  const features = units.ids.map((_, k) => unitFeature(units, k, baseProperties(units, rates, k)));
  return { type: 'FeatureCollection', summary: summaryOf(units, features.length, units.events, unitParameters(q, units), { value: 'count' }), features };
}

/**
 * The values the statistics run on: counts, or Empirical Bayes rates with units of no population
 * left out (`keep` lists the units analysed).
 */
function statisticValues(units: Units, rates: Rates | null): { keep: number[]; x: Float64Array; value: string; warnings: AnalysisWarning[] } {
  if (!rates) return { keep: units.ids.map((_, k) => k), x: Float64Array.from(units.count), value: 'count', warnings: [] };
  const keep = units.ids.map((_, k) => k).filter((k) => rates.ebRate[k] !== null);
  const dropped = units.ids.length - keep.length;
  return {
    keep,
    x: Float64Array.from(keep, (k) => rates.ebRate[k]!),
    value: `eb_rate per ${rates.per === 1000 ? '1,000 residents' : '100 households'} (Empirical Bayes smoothed, Marshall 1991)`,
    warnings: dropped > 0 ? [warn.unitsWithoutPopulation(dropped, rates.per === 1000 ? 'residents' : 'households')] : [],
  };
}

function fewWarning(n: number): AnalysisWarning[] {
  return n < FEW_FEATURES ? [warn.fewFeatures(n, FEW_FEATURES)] : [];
}

/** Getis-Ord Gi* (or Gi) per unit with ArcGIS bins, on counts or Empirical Bayes rates. */
export async function eventHotspots(db: Database, principal: Principal, q: EventHotspotsQuery): Promise<EventHotspotsResponse> {
  const filter = eventFilterOf(principal, q);
  const units = await aggregateUnits(db, principal, q, filter, true);
  const rates = await ratesFor(db, principal, units, q.rate);
  const { keep, x, value, warnings } = statisticValues(units, rates);
  const star = q.star ?? true;
  const fdr = q.fdr === true;
  const at = new Map(keep.map((k, m) => [k, m]));
  let built: BuiltWeights | null = null;
  let gi = null;
  if (keep.length >= 3) {
    built = buildUnitWeights(q, units, keep, star);
    gi = getisOrd(x, built.weights, { fdr });
  }
  const features = units.ids.map((_, k) => {
    const m = at.get(k);
    const z = m === undefined || !gi ? null : finite(gi.z[m]);
    return unitFeature(units, k, {
      ...baseProperties(units, rates, k),
      gi: z === null || m === undefined || !gi ? null : finite(gi.g[m]),
      z,
      p: z === null || m === undefined || !gi ? null : finite(gi.p[m]),
      ...(fdr ? { pFdr: z === null || m === undefined || !gi ? null : finite(gi.pFdr[m]) } : {}),
      bin: m === undefined || !gi ? 0 : gi.bin[m]!,
    });
  });
  return {
    type: 'FeatureCollection',
    summary: summaryOf(units, features.length, units.events, { ...unitParameters(q, units), statistic: star ? 'Gi*' : 'Gi', fdr, ...(built ? { weights: built.used } : {}) }, {
      value,
      warnings: [...warnings, ...(built?.warnings ?? []), ...fewWarning(keep.length), ...(keep.length < 3 ? [warn.noStatistic(3)] : [])],
    }),
    features,
  };
}

/** Local Moran's I (spdep localmoran conditional moments) per unit, row-standardised weights. */
export async function eventLocalMoran(db: Database, principal: Principal, q: EventLocalMoranQuery): Promise<EventLocalMoranResponse> {
  const filter = eventFilterOf(principal, q);
  const units = await aggregateUnits(db, principal, q, filter, true);
  const rates = await ratesFor(db, principal, units, q.rate);
  const { keep, x, value, warnings } = statisticValues(units, rates);
  const at = new Map(keep.map((k, m) => [k, m]));
  let built: BuiltWeights | null = null;
  let r = null;
  if (keep.length >= 3) {
    const input = inputOf(units, keep);
    const spec = { ...weightsSpecOf(q, units, false), transform: 'R' as const };
    if (spec.type === 'knn' && spec.k >= input.n) throw badQuery('k', `k must be less than the number of units (${input.n}).`, spec.k);
    built = buildWeights(spec, input, { self: false, transform: 'R', selfAllowed: false }, latticeAdjacency(q, units, keep));
    r = localMoran(x, built.weights);
  }
  const features = units.ids.map((_, k) => {
    const m = at.get(k);
    const z = m === undefined || !r ? null : finite(r.z[m]);
    return unitFeature(units, k, {
      ...baseProperties(units, rates, k),
      Ii: m === undefined || !r ? null : finite(r.ii[m]),
      E: m === undefined || !r ? null : finite(r.expected[m]),
      Var: m === undefined || !r ? null : finite(r.variance[m]),
      Z: z,
      p: z === null || m === undefined || !r ? null : finite(r.p[m]),
      quadrant: m === undefined || !r ? null : (r.quadrant[m] ?? null),
    });
  });
  return {
    type: 'FeatureCollection',
    summary: summaryOf(units, features.length, units.events, { ...unitParameters(q, units), statistic: "local Moran's I", ...(built ? { weights: built.used } : {}) }, {
      value,
      warnings: [...warnings, ...(built?.warnings ?? []), ...fewWarning(keep.length), ...(keep.length < 3 ? [warn.noStatistic(3)] : [])],
    }),
    features,
  };
}

// ---- density ----

export type DensityAnswer = { kind: 'geojson'; body: EventDensityResponse } | { kind: 'png'; png: Buffer; bounds: [number, number, number, number]; maxDensity: number; events: number };

/** Quartic kernel density (events per km²) on square cells of `cell` metres. */
export async function eventDensity(db: Database, principal: Principal, q: EventDensityQuery): Promise<DensityAnswer> {
  const filter = eventFilterOf(principal, q);
  const radius = q.radius ?? 500;
  const cell = q.cell ?? 100;
  const warnings: AnalysisWarning[] = [];
  const projection = await projectionFor(db, q.origin, filter, warnings);
  const xy = await projectedEventPoints(db, filter, projection, MAX_EVENTS_PER_ANALYSIS);
  if (!xy) {
    throw badQuery('from', `More than ${MAX_EVENTS_PER_ANALYSIS.toLocaleString('en')} events match; narrow the filters (time range, bbox, community, category).`, undefined, 'TOO_MANY_EVENTS');
  }
  const events = xy.length / 2;
  let grid;
  try {
    grid = quarticDensity(xy, radius, cell);
  } catch (err) {
    if (err instanceof RangeError && err.message.startsWith('TOO_MANY_CELLS')) throw badQuery('cell', `${err.message}: use a larger cell or a smaller area.`, cell, 'TOO_MANY_CELLS');
    throw err;
  }
  const perKm2 = Float64Array.from(grid.density, (d) => d * 1e6);
  const back = unproject({ projection });
  if (q.format === 'png') return { kind: 'png', events, ...densityPng(grid.i, grid.j, perKm2, cell, back) };
  const features = Array.from(grid.i, (i, k) => {
    const j = grid.j[k]!;
    return {
      type: 'Feature' as const,
      id: `${i},${j}`,
      geometry: { type: 'Polygon', coordinates: [densityCellRing(i, j, cell).map(([x, y]) => back(x, y))] },
      properties: { i, j, density: perKm2[k]! },
    };
  });
  return {
    kind: 'geojson',
    body: {
      type: 'FeatureCollection',
      summary: {
        n: features.length,
        events,
        projection: describeProjection(projection),
        value: 'events per km²',
        parameters: { kernel: 'quartic', radius, cell, origin: projection.origin },
        warnings,
      },
      features,
    },
  };
}

/** Colour ramp: transparent → blue → yellow → red, opacity growing with density. */
function ramp(t: number): [number, number, number, number] {
  const stops: [number, number, number][] = [
    [49, 54, 149],
    [254, 224, 144],
    [215, 48, 39],
  ];
  const u = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const a = stops[Math.floor(Math.min(u, stops.length - 1.0001))]!;
  const b = stops[Math.ceil(Math.min(u, stops.length - 1))]!;
  const f = u - Math.floor(Math.min(u, stops.length - 1.0001));
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f), Math.round(60 + 180 * Math.min(t, 1))];
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * An RGBA PNG of the density grid, one pixel per cell, north up, zero cells transparent. The bounds
 * are the outer edges of the cells in lon/lat; the projection is affine in lon/lat, so the pixels are
 * exactly the cells (MapLibre places the image by its four corners).
 */
function densityPng(iIdx: Int32Array, jIdx: Int32Array, density: Float64Array, cell: number, back: (x: number, y: number) => [number, number]): { png: Buffer; bounds: [number, number, number, number]; maxDensity: number } {
  if (iIdx.length === 0) {
    const [w, s] = back(0, 0);
    return { png: encodePng(1, 1, Buffer.alloc(4)), bounds: [w, s, w, s], maxDensity: 0 };
  }
  let i0 = Infinity;
  let i1 = -Infinity;
  let j0 = Infinity;
  let j1 = -Infinity;
  let max = 0;
  for (let k = 0; k < iIdx.length; k++) {
    i0 = Math.min(i0, iIdx[k]!);
    i1 = Math.max(i1, iIdx[k]!);
    j0 = Math.min(j0, jIdx[k]!);
    j1 = Math.max(j1, jIdx[k]!);
    max = Math.max(max, density[k]!);
  }
  const width = i1 - i0 + 1;
  const height = j1 - j0 + 1;
  const rgba = Buffer.alloc(width * height * 4);
  for (let k = 0; k < iIdx.length; k++) {
    const px = iIdx[k]! - i0;
    const py = j1 - jIdx[k]!;
    const [r, g, b, a] = ramp(density[k]! / max);
    rgba.set([r, g, b, a], (py * width + px) * 4);
  }
  const [west, south] = back((i0 - 0.5) * cell, (j0 - 0.5) * cell);
  const [east, north] = back((i1 + 0.5) * cell, (j1 + 0.5) * cell);
  return { png: encodePng(width, height, rgba), bounds: [west, south, east, north], maxDensity: max };
}

function encodePng(width: number, height: number, rgba: Buffer): Buffer {
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, deflate, no filter method extensions, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw, { level: 6 })), pngChunk('IEND', Buffer.alloc(0))]);
}

// ---- clusters ----

/**
 * DBSCAN (ST_ClusterDBSCAN semantics) over the stored events, one SQL statement; clusters numbered
 * 0, 1, … by their smallest event id, so the numbering does not depend on PostgreSQL's scan order.
 */
export async function eventClusters(db: Database, principal: Principal, q: EventClustersQuery): Promise<EventClustersResponse> {
  const filter = eventFilterOf(principal, q);
  const eps = q.eps ?? 50;
  const minPoints = q.minPoints ?? 5;
  const warnings: AnalysisWarning[] = [];
  const projection = await projectionFor(db, undefined, filter, warnings);
  const rows = await clusterStoredEvents(db, filter, projection, eps, minPoints, MAX_EVENTS_PER_ANALYSIS + 1);
  const events = rows.reduce((s, r) => s + r.count, 0);
  if (events > MAX_EVENTS_PER_ANALYSIS) {
    throw badQuery('from', `More than ${MAX_EVENTS_PER_ANALYSIS.toLocaleString('en')} events match; narrow the filters (time range, bbox, community, category).`, undefined, 'TOO_MANY_EVENTS');
  }
  const clusters = rows.filter((r) => r.cid !== null).sort((a, b) => a.firstId - b.firstId);
  const noise = rows.find((r) => r.cid === null)?.count ?? 0;
  const features = clusters.map((c, id) => ({
    type: 'Feature' as const,
    id,
    geometry: c.hull!,
    properties: { cluster: id, count: c.count, first: c.first.toISOString(), last: c.last.toISOString() },
  }));
  return {
    type: 'FeatureCollection',
    summary: { n: features.length, events, projection: describeProjection(projection), parameters: { eps, minPoints, clusters: features.length, noise }, warnings },
    features,
  };
}

// ---- emerging hot spots ----

/**
 * Space-time neighbours of a cube of `n` locations × `slices` steps (bin b = t · n + i): the spatial
 * neighbours of i and i itself, in steps t − timeStep … t (ArcGIS "neighborhood time step"), minus
 * the bin itself (Gi* adds it back as self). Rows come out sorted: by step, then by location.
 */
export function spaceTimeNeighbours(spatial: Neighbours, slices: number, timeStep: number): Neighbours {
  const n = spatial.n;
  const offsets = new Int32Array(n * slices + 1);
  const rows: Int32Array[] = [];
  for (let i = 0; i < n; i++) {
    const own = Array.from(spatial.indices.subarray(spatial.offsets[i], spatial.offsets[i + 1]));
    own.push(i);
    rows.push(Int32Array.from(own).sort());
  }
  let total = 0;
  for (let t = 0; t < slices; t++) {
    const span = Math.min(t, timeStep) + 1;
    for (let i = 0; i < n; i++) {
      total += rows[i]!.length * span - 1;
      offsets[t * n + i + 1] = total;
    }
  }
  const indices = new Int32Array(total);
  let at = 0;
  for (let t = 0; t < slices; t++) {
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      for (let s = Math.max(0, t - timeStep); s <= t; s++) {
        for (let m = 0; m < row.length; m++) {
          const j = row[m]!;
          if (s === t && j === i) continue;
          indices[at++] = s * n + j;
        }
      }
    }
  }
  return { n: n * slices, offsets, indices };
}

/**
 * Emerging hot spots as ArcGIS's Emerging Hot Spot Analysis computes them: events counted per
 * (unit, slice), the space-time Gi* of every bin (spatial neighbours within the current and
 * `timeStep` earlier slices; mean and variance over the whole cube), FDR-corrected bins by default,
 * then each location's series of bins and a Mann–Kendall trend of its z-scores classified by
 * `classifyEmergingHotSpot`. Lattice cells between busy ones enter the cube with zeros; the answer
 * lists the locations with at least one event (as ArcGIS does).
 */
export async function eventEmerging(db: Database, principal: Principal, q: EventEmergingQuery): Promise<EventEmergingResponse> {
  if (q.rate && q.rate !== 'none') throw badQuery('rate', 'Emerging hot spots analyse counts per slice; rate is not supported here.', q.rate);
  const filter = eventFilterOf(principal, q);
  const slice = q.slice ?? 'month';
  const slices = q.slices ?? 12;
  const timeStep = q.timeStep ?? 1;
  const fdr = q.fdr ?? true;
  const extraWarnings: AnalysisWarning[] = [];
  if (filter.from) {
    extraWarnings.push(warn.fromIgnored());
    delete filter.from;
  }
  const bounds = await sliceBounds(db, slice, slices, filter.to ?? null);
  delete filter.to;
  const kind = q.unit ?? 'hex';
  const size = q.size ?? DEFAULT_SIZE_M;
  const warnings: AnalysisWarning[] = [];
  const projection = await projectionFor(db, q.origin, filter, warnings);

  // Counts per (location, slice).
  let units: Units;
  let cube: Float64Array;
  if (kind === 'grid') {
    const [grids, rows] = await Promise.all([
      listGridsInForce(db, { ...(filter.community ? { community: filter.community } : {}), ...(filter.bbox ? { bbox: filter.bbox } : {}), scopePrefixes: filter.scopePrefixes }),
      countEventsByGridSlice(db, filter, bounds),
    ]);
    const index = new Map(grids.map((g, k) => [g.code, k]));
    const n = grids.length;
    cube = new Float64Array(n * slices);
    let events = 0;
    for (const r of rows) {
      events += r.count;
      const k = r.code === null ? undefined : index.get(r.code);
      if (k !== undefined) cube[r.slice * n + k] = r.count;
    }
    units = { kind, size, ...gridUnits(grids, projection), count: new Float64Array(n), events, projection, warnings };
  } else {
    const rows = await countEventCellSlices(db, filter, projection, kind, size, bounds);
    const totals = new Map<string, { i: number; j: number; count: number }>();
    for (const r of rows) {
      const key = `${r.i},${r.j}`;
      const t = totals.get(key);
      if (t) t.count += r.count;
      else totals.set(key, { i: r.i, j: r.j, count: r.count });
    }
    const cells = toBinned([...totals.values()]);
    checkLatticeSize(cells, true);
    const filled = fillHexLattice(cells);
    const lattice = latticeUnits(filled, kind, size, projection);
    const index = new Map(lattice.ids.map((id, k) => [id, k]));
    const n = lattice.ids.length;
    cube = new Float64Array(n * slices);
    for (const r of rows) cube[r.slice * n + index.get(`${r.i},${r.j}`)!] = r.count;
    units = { kind, size, ...lattice, events: rows.reduce((s, r) => s + r.count, 0), projection, warnings };
  }
  const n = units.ids.length;
  for (let k = 0; k < n; k++) {
    let total = 0;
    for (let t = 0; t < slices; t++) total += cube[t * n + k]!;
    units.count[k] = total;
  }

  const locations = units.ids.map((_, k) => k).filter((k) => units.count[k]! > 0);
  let built: BuiltWeights | null = null;
  let gi = null;
  if (n >= 3) {
    built = buildUnitWeights(q, units, units.ids.map((_, k) => k), false);
    const st = spatialWeights(spaceTimeNeighbours(built.neighbours, slices, timeStep), { transform: 'B', includeSelf: true });
    gi = getisOrd(cube, st, { fdr });
  }
  const features = locations.map((k) => {
    const series = Array.from({ length: slices }, (_, t) => ({ z: gi ? finite(gi.z[t * n + k]) : null, bin: gi ? gi.bin[t * n + k]! : 0 }));
    const result = classifyEmergingHotSpot(series);
    const trend = result.trend;
    return unitFeature(units, k, {
      unit: units.ids[k]!,
      ...(units.names[k] !== undefined ? { name: units.names[k] } : {}),
      count: units.count[k]!,
      category: result.pattern,
      tau: trend ? finite(trend.s / ((trend.n * (trend.n - 1)) / 2)) : null,
      trendZ: trend ? finite(trend.z) : null,
      trendP: trend ? finite(trend.p) : null,
      hotSlices: result.hotSteps,
      coldSlices: result.coldSteps,
      z: series.map((s) => s.z),
      bins: series.map((s) => s.bin),
      counts: Array.from({ length: slices }, (_, t) => cube[t * n + k]!),
    });
  });
  return {
    type: 'FeatureCollection',
    summary: summaryOf(
      units,
      features.length,
      units.events,
      {
        unit: units.kind,
        ...(units.kind === 'grid' ? {} : { size: units.size, origin: projection.origin }),
        slice,
        slices,
        sliceBounds: bounds.map((b) => b.toISOString()),
        timeStep,
        fdr,
        statistic: 'space-time Gi*',
        ...(built ? { weights: built.used } : {}),
      },
      { value: 'count', warnings: [...extraWarnings, ...(built?.warnings ?? []), ...fewWarning(locations.length)] },
    ),
    features,
  };
}

// ---- points ----

/**
 * Where the points of users who may not read events are rounded to (degrees, ≈ 55 m north–south and
 * 45 m east–west in China): enough for a city heatmap, too coarse to single out the flat of a family
 * dispute. Those who may read the events themselves (`events:read`) get the stored coordinates.
 */
export const COARSE_POINT_STEP_DEG = 0.0005;
const coarsen = (v: number): number => Math.round(Math.round(v / COARSE_POINT_STEP_DEG) * COARSE_POINT_STEP_DEG * 1e7) / 1e7;

/** Events as points for a client-side heatmap: id, category, state and time only, newest first, capped. */
export async function eventPoints(db: Database, principal: Principal, q: EventPointsQuery): Promise<EventPointsResponse> {
  const filter = eventFilterOf(principal, q);
  const limit = q.limit ?? POINTS_DEFAULT_LIMIT;
  const rows = await listEventPoints(db, filter, limit + 1);
  const truncated = rows.length > limit;
  const exact = principal.permissions.has('events:read');
  const features = rows.slice(0, limit).map((r) => ({
    type: 'Feature' as const,
    id: r.id,
    geometry: { type: 'Point', coordinates: exact ? [r.lng, r.lat] : [coarsen(r.lng), coarsen(r.lat)] },
    properties: { id: r.id, category: r.category, state: r.state, reportedAt: r.reportedAt.toISOString() },
  }));
  return {
    type: 'FeatureCollection',
    summary: {
      n: features.length,
      events: features.length,
      parameters: { limit, truncated, coordinates: exact ? 'exact' : `rounded to ${COARSE_POINT_STEP_DEG}°` },
      warnings: truncated ? [warn.truncated(limit)] : [],
    },
    features,
  };
}
