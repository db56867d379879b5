/**
 * Wire schemas of the analysis endpoints over stored events (`GET /api/v1/analysis/{counts|density|
 * hotspots|local-moran|clusters|emerging|points}`, issue #8).
 *
 * Every answer is a GeoJSON FeatureCollection whose features carry the statistics as properties, plus a
 * `summary` ({ n, events, unit, parameters, warnings, … }). Units: `grid` (the grids in force, events
 * counted by the grid they were routed to at intake), `hex` / `square` (cells of `size` metres on a
 * lattice in a local metric projection whose origin is stable across requests, see `origin`).
 *
 * Rates (`rate=residents|households`): events per 1,000 present residents / per 100 households of the
 * unit, from the registry (residents and households by their grid; for hex/square cells by the
 * location of their building). Population counts below 5 are never shown ("<5") and the rate of such a
 * unit is null. The statistics (hotspots, local-moran) then run on the **Empirical Bayes smoothed rate**
 * (Marshall 1991, as PySAL esda `Empirical_Bayes`, GeoDa "EB rate"): each raw rate shrunk towards the
 * overall rate by how unreliable its population makes it, so a unit is neither hot merely for having
 * many residents (counts) nor for having very few (raw rates). Units with no population are left out
 * of the statistics (null) with a warning. With `rate=none` they run on counts.
 */
import { Type, type Static } from 'typebox';
import { AnalysisWarningSchema } from './analysis';

const CategoryCode = Type.String({ pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)?$', maxLength: 64, description: 'a category (all its sub-types) or one sub-type' });
const Channel = Type.Union([Type.Literal('patrol'), Type.Literal('hotline'), Type.Literal('resident'), Type.Literal('video'), Type.Literal('assigned')]);

/** Largest number of stored events one density or clusters request may read. */
export const MAX_EVENTS_PER_ANALYSIS = 500_000;
/** Default and largest `limit` of `GET /api/v1/analysis/points`. */
export const POINTS_DEFAULT_LIMIT = 10_000;
export const POINTS_MAX_LIMIT = 50_000;

export const EventFilterQuery = {
  from: Type.Optional(Type.String({ format: 'date-time', description: 'reported at or after (ISO 8601)' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'reported before (ISO 8601)' })),
  category: Type.Optional(CategoryCode),
  state: Type.Optional(Type.String({ pattern: '^[a-z_]+(,[a-z_]+)*$', description: 'comma-separated workflow states' })),
  channel: Type.Optional(Channel),
  community: Type.Optional(Type.String({ pattern: '^[0-9]{12}$', description: '12-digit community code' })),
  bbox: Type.Optional(Type.String({ pattern: '^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$', description: 'minLng,minLat,maxLng,maxLat' })),
};

const UnitQuery = {
  unit: Type.Optional(Type.Union([Type.Literal('grid'), Type.Literal('hex'), Type.Literal('square')], { default: 'hex', description: 'aggregation unit' })),
  size: Type.Optional(Type.Number({ minimum: 10, maximum: 20_000, description: 'hex edge length / square side in metres (default 250); ignored for grid' })),
  origin: Type.Optional(
    Type.String({ pattern: '^-?[0-9.]+,-?[0-9.]+$', description: 'lattice origin lng,lat; default the centre of all stored events rounded to 0.01° (stable across requests)' }),
  ),
  rate: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('residents'), Type.Literal('households')], { default: 'none' })),
};

const WeightsQuery = {
  weights: Type.Optional(
    Type.Union([Type.Literal('adjacent'), Type.Literal('distance'), Type.Literal('knn')], {
      default: 'adjacent',
      description: 'adjacent: touching cells (hex: 6, square: 8) or queen-contiguous grids; distance: centres within `distance` m; knn: `k` nearest centres',
    }),
  ),
  distance: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100_000, description: 'band in metres (weights=distance)' })),
  k: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, description: 'neighbours (weights=knn)' })),
};

export const EventCountsQuerySchema = Type.Object({ ...EventFilterQuery, ...UnitQuery });
export type EventCountsQuery = Static<typeof EventCountsQuerySchema>;

export const EventHotspotsQuerySchema = Type.Object({
  ...EventFilterQuery,
  ...UnitQuery,
  ...WeightsQuery,
  fdr: Type.Optional(Type.Boolean({ description: 'bin on Benjamini–Hochberg adjusted p-values (ArcGIS "Apply FDR correction")' })),
  star: Type.Optional(Type.Boolean({ default: true, description: 'Gi* (the unit itself counted among its neighbours, default) or Gi' })),
});
export type EventHotspotsQuery = Static<typeof EventHotspotsQuerySchema>;

export const EventLocalMoranQuerySchema = Type.Object({ ...EventFilterQuery, ...UnitQuery, ...WeightsQuery });
export type EventLocalMoranQuery = Static<typeof EventLocalMoranQuerySchema>;

export const EventDensityQuerySchema = Type.Object({
  ...EventFilterQuery,
  origin: UnitQuery.origin,
  radius: Type.Optional(Type.Number({ minimum: 10, maximum: 20_000, description: 'kernel bandwidth r in metres (default 500)' })),
  cell: Type.Optional(Type.Number({ minimum: 5, maximum: 5_000, description: 'output cell side in metres (default 100)' })),
  format: Type.Optional(Type.Union([Type.Literal('geojson'), Type.Literal('png')], { default: 'geojson', description: 'png: an RGBA overlay; its lon/lat bounds are in the X-Bounds header' })),
});
export type EventDensityQuery = Static<typeof EventDensityQuerySchema>;

export const EventClustersQuerySchema = Type.Object({
  ...EventFilterQuery,
  eps: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_000, description: 'DBSCAN neighbourhood radius in metres (default 50)' })),
  minPoints: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'a core event has ≥ minPoints events within eps, itself included (default 5)' })),
});
export type EventClustersQuery = Static<typeof EventClustersQuerySchema>;

export const EventEmergingQuerySchema = Type.Object({
  ...EventFilterQuery,
  ...UnitQuery,
  ...WeightsQuery,
  slice: Type.Optional(Type.Union([Type.Literal('month'), Type.Literal('week')], { default: 'month', description: 'time step (calendar months / ISO weeks in Asia/Shanghai)' })),
  slices: Type.Optional(Type.Integer({ minimum: 3, maximum: 60, default: 12, description: 'number of time steps ending at `to`' })),
  timeStep: Type.Optional(Type.Integer({ minimum: 0, maximum: 6, default: 1, description: 'neighbourhood time step: earlier steps counted as neighbours (ArcGIS default 1)' })),
  fdr: Type.Optional(Type.Boolean({ default: true, description: 'significance on FDR-adjusted p-values, as ArcGIS Pro does' })),
});
export type EventEmergingQuery = Static<typeof EventEmergingQuerySchema>;

export const EventPointsQuerySchema = Type.Object({
  ...EventFilterQuery,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: POINTS_MAX_LIMIT, default: POINTS_DEFAULT_LIMIT, description: `newest first; at most ${POINTS_MAX_LIMIT}` })),
});
export type EventPointsQuery = Static<typeof EventPointsQuerySchema>;

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const SuppressedCount = Type.Union([Type.Integer({ minimum: 5 }), Type.Literal('<5'), Type.Null()], { description: 'population of the unit; "<5" below 5; null unknown' });

export const EventAnalysisSummarySchema = Type.Object({
  n: Type.Integer({ description: 'features in the answer' }),
  events: Type.Integer({ description: 'stored events analysed (after filters and scope)' }),
  unit: Type.Optional(Type.String()),
  value: Type.Optional(Type.String({ description: 'what the statistics ran on: count, or eb_rate (Empirical Bayes smoothed rate)' })),
  projection: Type.Optional(Type.String()),
  parameters: Type.Record(Type.String(), Type.Unknown()),
  warnings: Type.Array(AnalysisWarningSchema),
});
export type EventAnalysisSummary = Static<typeof EventAnalysisSummarySchema>;

const Geometry = Type.Object({ type: Type.String(), coordinates: Type.Unknown() }, { additionalProperties: true });

const UnitProperties = {
  unit: Type.String({ description: 'grid code, or "i,j" lattice index' }),
  name: Type.Optional(Type.String()),
  count: Type.Integer(),
  rate: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: 'events per 1,000 residents / per 100 households; null when the population is unknown, 0 or below 5' })),
  ebRate: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: 'Empirical Bayes smoothed rate, same unit' })),
  population: Type.Optional(SuppressedCount),
};

const collection = <P extends Record<string, Parameters<typeof Type.Object>[0][string]>>(properties: P) =>
  Type.Object({
    type: Type.Literal('FeatureCollection'),
    summary: EventAnalysisSummarySchema,
    features: Type.Array(
      Type.Object({
        type: Type.Literal('Feature'),
        id: Type.Union([Type.String(), Type.Integer()]),
        geometry: Geometry,
        properties: Type.Object(properties),
      }),
    ),
  });

export const EventCountsResponseSchema = collection(UnitProperties);
export type EventCountsResponse = Static<typeof EventCountsResponseSchema>;

export const EventHotspotsResponseSchema = collection({
  ...UnitProperties,
  gi: Type.Union([Type.Number(), Type.Null()], { description: 'G_i (share of the total in the neighbourhood)' }),
  z: NullableNumber,
  p: Type.Union([Type.Number(), Type.Null()], { description: 'two-sided' }),
  pFdr: Type.Optional(NullableNumber),
  bin: Type.Integer({ minimum: -3, maximum: 3, description: 'ArcGIS Gi_Bin: ±3/±2/±1 = 99/95/90 % hot (+) or cold (−); on FDR p when fdr=true' }),
});
export type EventHotspotsResponse = Static<typeof EventHotspotsResponseSchema>;

export const EventLocalMoranResponseSchema = collection({
  ...UnitProperties,
  Ii: NullableNumber,
  E: NullableNumber,
  Var: NullableNumber,
  Z: NullableNumber,
  p: NullableNumber,
  quadrant: Type.Union([Type.Literal('HH'), Type.Literal('LL'), Type.Literal('HL'), Type.Literal('LH'), Type.Null()]),
});
export type EventLocalMoranResponse = Static<typeof EventLocalMoranResponseSchema>;

export const EventDensityResponseSchema = collection({
  i: Type.Integer(),
  j: Type.Integer(),
  density: Type.Number({ description: 'events per km² (quartic kernel)' }),
});
export type EventDensityResponse = Static<typeof EventDensityResponseSchema>;

export const EventClustersResponseSchema = collection({
  cluster: Type.Integer(),
  count: Type.Integer(),
  first: Type.String({ description: 'earliest reportedAt' }),
  last: Type.String({ description: 'latest reportedAt' }),
});
export type EventClustersResponse = Static<typeof EventClustersResponseSchema>;

export const EmergingCategorySchema = Type.String({
  description:
    'new_hot_spot, consecutive_hot_spot, intensifying_hot_spot, persistent_hot_spot, diminishing_hot_spot, sporadic_hot_spot, oscillating_hot_spot, historical_hot_spot, the *_cold_spot analogues, or no_pattern',
});

export const EventEmergingResponseSchema = collection({
  unit: Type.String(),
  name: Type.Optional(Type.String()),
  count: Type.Integer({ description: 'events over all slices' }),
  category: EmergingCategorySchema,
  tau: Type.Union([Type.Number(), Type.Null()], { description: "Mann–Kendall trend of the slice z-scores: Kendall's tau-a = S / (n(n − 1)/2)" }),
  trendZ: NullableNumber,
  trendP: NullableNumber,
  hotSlices: Type.Integer(),
  coldSlices: Type.Integer(),
  z: Type.Array(NullableNumber, { description: 'space-time Gi* z per slice, oldest first' }),
  bins: Type.Array(Type.Integer(), { description: 'confidence bin per slice' }),
  counts: Type.Array(Type.Integer(), { description: 'events per slice' }),
});
export type EventEmergingResponse = Static<typeof EventEmergingResponseSchema>;

export const EventPointsResponseSchema = collection({
  id: Type.Integer(),
  category: Type.String(),
  state: Type.String(),
  reportedAt: Type.String(),
});
export type EventPointsResponse = Static<typeof EventPointsResponseSchema>;
