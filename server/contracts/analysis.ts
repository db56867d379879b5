/**
 * Wire schemas of the analysis endpoints over supplied data (`POST /api/v1/analysis/…`): hot spots
 * (Getis-Ord Gi / Gi*), local and global Moran's I, spatial weights, DBSCAN clusters, counts per
 * hexagon / square cell and quartic kernel density.
 *
 * Input is a GeoJSON FeatureCollection of points or polygons. Positions are plain numbers here because
 * `crs: 'none'` carries projected data in arbitrary units (the classic reference sets); lon/lat ranges
 * are checked by the service when `crs` is `EPSG:4326`.
 */
import { Type, type Static } from 'typebox';

/** Largest number of features one request may analyse (schema and service both enforce it). */
export const MAX_ANALYSIS_FEATURES = 50_000;
/**
 * Upper bound of every distance and size parameter (metres for EPSG:4326, data units for crs none):
 * far beyond any real extent, and it keeps a JSON 1e999 (parsed as Infinity, still a "number") out.
 */
export const MAX_LENGTH = 1e9;
/** Largest number of cells a counts or density answer may hold. */
export const MAX_ANALYSIS_CELLS = 250_000;

const Position = Type.Array(Type.Number(), { minItems: 2, maxItems: 3 });
const Ring = Type.Array(Position, { minItems: 4 });

export const AnalysisGeometrySchema = Type.Union([
  Type.Object({ type: Type.Literal('Point'), coordinates: Position }),
  Type.Object({ type: Type.Literal('Polygon'), coordinates: Type.Array(Ring, { minItems: 1 }) }),
  Type.Object({ type: Type.Literal('MultiPolygon'), coordinates: Type.Array(Type.Array(Ring, { minItems: 1 }), { minItems: 1 }) }),
]);
export type AnalysisGeometry = Static<typeof AnalysisGeometrySchema>;

export const FeatureIdSchema = Type.Union([Type.String(), Type.Number()]);
export type FeatureId = Static<typeof FeatureIdSchema>;

export const AnalysisFeatureSchema = Type.Object({
  type: Type.Literal('Feature'),
  id: Type.Optional(FeatureIdSchema),
  geometry: AnalysisGeometrySchema,
  properties: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});
export type AnalysisFeature = Static<typeof AnalysisFeatureSchema>;

export const AnalysisFeatureCollectionSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  features: Type.Array(AnalysisFeatureSchema, { minItems: 1 }),
});
export type AnalysisFeatureCollection = Static<typeof AnalysisFeatureCollectionSchema>;

export const AnalysisCrsSchema = Type.Union([Type.Literal('EPSG:4326'), Type.Literal('none')], {
  description:
    "EPSG:4326: lon/lat, distances in metres through a local equirectangular projection centred on the data (see local-projection.ts); none: planar coordinates in arbitrary units, distances in those units",
});
export type AnalysisCrs = Static<typeof AnalysisCrsSchema>;

const TransformSchema = Type.Union([Type.Literal('B'), Type.Literal('R')], { description: "B binary, R row-standardised (spdep style 'W')" });
const SelfSchema = Type.Boolean({ description: 'include each unit as its own neighbour (Gi*); default true for hotspots, must be false for Moran' });

export const WeightsSpecSchema = Type.Union([
  Type.Object({
    type: Type.Literal('distance'),
    max: Type.Number({ exclusiveMinimum: 0, maximum: MAX_LENGTH, description: 'band: 0 < d ≤ max (metres for EPSG:4326)' }),
    binary: Type.Optional(Type.Boolean({ description: 'only binary bands are supported (true)' })),
    self: Type.Optional(SelfSchema),
    transform: Type.Optional(TransformSchema),
  }),
  Type.Object({ type: Type.Literal('knn'), k: Type.Integer({ minimum: 1 }), self: Type.Optional(SelfSchema), transform: Type.Optional(TransformSchema) }),
  Type.Object({ type: Type.Literal('queen'), self: Type.Optional(SelfSchema), transform: Type.Optional(TransformSchema) }),
  Type.Object({ type: Type.Literal('rook'), self: Type.Optional(SelfSchema), transform: Type.Optional(TransformSchema) }),
  Type.Object({
    type: Type.Literal('explicit'),
    gal: Type.Optional(Type.String({ description: 'GAL text; ids are the feature ids' })),
    neighbours: Type.Optional(Type.Record(Type.String(), Type.Array(FeatureIdSchema), { description: 'feature id → neighbour ids' })),
    self: Type.Optional(SelfSchema),
    transform: Type.Optional(TransformSchema),
  }),
]);
export type WeightsSpec = Static<typeof WeightsSpecSchema>;

const idPropertyField = Type.Optional(Type.String({ minLength: 1, description: 'property holding the feature id; default feature.id, else the 0-based index' }));

export const WeightsRequestSchema = Type.Object({
  data: AnalysisFeatureCollectionSchema,
  crs: AnalysisCrsSchema,
  weights: WeightsSpecSchema,
  idProperty: idPropertyField,
});
export type WeightsRequest = Static<typeof WeightsRequestSchema>;

export const StatisticRequestSchema = Type.Object({
  data: AnalysisFeatureCollectionSchema,
  crs: AnalysisCrsSchema,
  value: Type.String({ minLength: 1, description: 'numeric property analysed' }),
  weights: WeightsSpecSchema,
  idProperty: idPropertyField,
});
export type StatisticRequest = Static<typeof StatisticRequestSchema>;

export const HotspotRequestSchema = Type.Intersect([
  StatisticRequestSchema,
  Type.Object({ fdr: Type.Optional(Type.Boolean({ description: 'also report Benjamini–Hochberg adjusted p and bins' })) }),
]);
export type HotspotRequest = Static<typeof HotspotRequestSchema>;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const NullableNumber = Nullable(Type.Number());

export const WeightsUsedSchema = Type.Object({
  type: Type.String(),
  transform: TransformSchema,
  self: Type.Boolean(),
  max: Type.Optional(Type.Number()),
  k: Type.Optional(Type.Integer()),
  links: Type.Integer({ description: 'directed links, self-links excluded' }),
  islands: Type.Integer(),
  symmetric: Type.Boolean(),
});

/** A warning about an analysis: a stable code with numeric parameters, and the same in English words. */
export const AnalysisWarningSchema = Type.Object({
  code: Type.String({ description: 'projection_scale | latitude_span | unrouted_events | units_without_residents | units_without_households | few_features | no_statistic | islands | undefined_variance | from_ignored | truncated' }),
  params: Type.Record(Type.String(), Type.Number()),
  message: Type.String({ description: 'the warning in English' }),
});
export type AnalysisWarning = Static<typeof AnalysisWarningSchema>;

export const AnalysisSummarySchema = Type.Object({
  n: Type.Integer(),
  crs: AnalysisCrsSchema,
  projection: Type.Optional(Type.String({ description: 'how EPSG:4326 was projected to metres' })),
  parameters: Type.Record(Type.String(), Type.Unknown()),
  weights: Type.Optional(WeightsUsedSchema),
  warnings: Type.Array(AnalysisWarningSchema),
});
export type AnalysisSummary = Static<typeof AnalysisSummarySchema>;

export const ConfidenceBinSchema = Type.Integer({ minimum: -3, maximum: 3, description: 'ArcGIS Gi_Bin: ±3/±2/±1 = 99/95/90 % hot (+) or cold (−)' });

export const HotspotResultSchema = Type.Object({
  id: FeatureIdSchema,
  neighbours: Type.Integer({ description: 'neighbour count, self excluded' }),
  statistic: NullableNumber,
  expectation: NullableNumber,
  variance: NullableNumber,
  z: NullableNumber,
  p: NullableNumber,
  bin: ConfidenceBinSchema,
  pFdr: Type.Optional(NullableNumber),
  binFdr: Type.Optional(ConfidenceBinSchema),
});
export const HotspotResponseSchema = Type.Object({
  summary: AnalysisSummarySchema,
  features: Type.Array(HotspotResultSchema),
});
export type HotspotResponse = Static<typeof HotspotResponseSchema>;

export const LocalMoranResultSchema = Type.Object({
  id: FeatureIdSchema,
  neighbours: Type.Integer(),
  statistic: Type.Union([Type.Number(), Type.Null()], { description: 'spdep Ii' }),
  expectation: Type.Union([Type.Number(), Type.Null()], { description: 'spdep E.Ii' }),
  variance: Type.Union([Type.Number(), Type.Null()], { description: 'spdep Var.Ii' }),
  z: Type.Union([Type.Number(), Type.Null()], { description: 'spdep Z.Ii' }),
  p: Type.Union([Type.Number(), Type.Null()], { description: 'two-sided, spdep Pr(z != E(Ii))' }),
  quadrant: Type.Union([Type.Literal('HH'), Type.Literal('LL'), Type.Literal('HL'), Type.Literal('LH'), Type.Null()]),
});
export const LocalMoranResponseSchema = Type.Object({
  summary: AnalysisSummarySchema,
  features: Type.Array(LocalMoranResultSchema),
});
export type LocalMoranResponse = Static<typeof LocalMoranResponseSchema>;

export const GlobalMoranResponseSchema = Type.Object({
  summary: AnalysisSummarySchema,
  result: Type.Object({
    statistic: Type.Union([Type.Number(), Type.Null()], { description: "Moran's I" }),
    expectation: Type.Union([Type.Number(), Type.Null()], { description: 'E[I] = −1/(n − 1)' }),
    variance: Type.Union([Type.Number(), Type.Null()], { description: 'Var[I] under randomisation (VI_rand)' }),
    z: NullableNumber,
    p: Type.Union([Type.Number(), Type.Null()], { description: 'two-sided' }),
    varianceNormal: NullableNumber,
    zNormal: NullableNumber,
    pNormal: NullableNumber,
    n: Type.Integer({ description: 'units counted (islands excluded)' }),
  }),
});
export type GlobalMoranResponse = Static<typeof GlobalMoranResponseSchema>;

export const WeightsResponseSchema = Type.Object({
  summary: AnalysisSummarySchema,
  features: Type.Array(
    Type.Object({
      id: FeatureIdSchema,
      neighbours: Type.Array(FeatureIdSchema),
      weights: Type.Array(Type.Number()),
    }),
  ),
});
export type WeightsResponse = Static<typeof WeightsResponseSchema>;

export const ClusterRequestSchema = Type.Object({
  data: AnalysisFeatureCollectionSchema,
  crs: AnalysisCrsSchema,
  eps: Type.Number({ exclusiveMinimum: 0, maximum: MAX_LENGTH, description: 'neighbourhood radius (metres for EPSG:4326)' }),
  minPoints: Type.Integer({ minimum: 1, maximum: 10000, description: 'a core point has ≥ minPoints points within eps, itself included' }),
  timeProperty: Type.Optional(Type.String({ minLength: 1, description: 'ISO 8601 time property for each cluster’s time span' })),
  idProperty: idPropertyField,
});
export type ClusterRequest = Static<typeof ClusterRequestSchema>;

export const ClusterResponseSchema = Type.Object({
  summary: AnalysisSummarySchema,
  features: Type.Array(Type.Object({ id: FeatureIdSchema, cluster: Type.Union([Type.Integer(), Type.Null()], { description: 'null = noise' }) })),
  clusters: Type.Object({
    type: Type.Literal('FeatureCollection'),
    features: Type.Array(
      Type.Object({
        type: Type.Literal('Feature'),
        id: Type.Integer(),
        geometry: Type.Object({ type: Type.String(), coordinates: Type.Unknown() }, { additionalProperties: true, description: 'convex hull (a point or line for degenerate clusters)' }),
        properties: Type.Object({
          cluster: Type.Integer(),
          count: Type.Integer(),
          start: Type.Union([Type.String(), Type.Null()]),
          end: Type.Union([Type.String(), Type.Null()]),
        }),
      }),
    ),
  }),
});
export type ClusterResponse = Static<typeof ClusterResponseSchema>;

const OriginSchema = Type.Tuple([Type.Number(), Type.Number()], {
  description: 'projection / lattice origin [lng, lat] (EPSG:4326) or [x, y]; default the centre of the data’s bounding box. Fix it to keep cells stable across requests.',
});

export const CountsRequestSchema = Type.Object({
  data: AnalysisFeatureCollectionSchema,
  crs: AnalysisCrsSchema,
  shape: Type.Union([Type.Literal('hex'), Type.Literal('square')]),
  size: Type.Number({ exclusiveMinimum: 0, maximum: MAX_LENGTH, description: 'hexagon edge length (as ST_HexagonGrid) or square side; metres for EPSG:4326' }),
  origin: Type.Optional(OriginSchema),
  weightProperty: Type.Optional(Type.String({ minLength: 1, description: 'sum this numeric property instead of counting' })),
});
export type CountsRequest = Static<typeof CountsRequestSchema>;

export const DensityRequestSchema = Type.Object({
  data: AnalysisFeatureCollectionSchema,
  crs: AnalysisCrsSchema,
  radius: Type.Number({ exclusiveMinimum: 0, maximum: MAX_LENGTH, description: 'kernel bandwidth r (metres for EPSG:4326)' }),
  cellSize: Type.Number({ exclusiveMinimum: 0, maximum: MAX_LENGTH, description: 'side of the square output cells' }),
  origin: Type.Optional(OriginSchema),
  weightProperty: Type.Optional(Type.String({ minLength: 1 })),
});
export type DensityRequest = Static<typeof DensityRequestSchema>;

export const CellCollectionSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  summary: AnalysisSummarySchema,
  features: Type.Array(
    Type.Object({
      type: Type.Literal('Feature'),
      id: Type.String({ description: '"i,j" lattice index' }),
      geometry: Type.Object({ type: Type.Literal('Polygon'), coordinates: Type.Array(Type.Array(Type.Array(Type.Number()))) }),
      properties: Type.Object({
        i: Type.Integer(),
        j: Type.Integer(),
        count: Type.Optional(Type.Number()),
        density: Type.Optional(Type.Number({ description: 'points (or weight) per square unit: per m² for EPSG:4326' })),
      }),
    }),
  ),
});
export type CellCollection = Static<typeof CellCollectionSchema>;

/** Why a request was refused (`error.details.reason`, with error code VALIDATION_FAILED, status 422). */
export type AnalysisRejection =
  | 'TOO_MANY_FEATURES'
  | 'TOO_FEW_FEATURES'
  | 'TOO_MANY_CELLS'
  | 'VALUE_MISSING'
  | 'VALUE_NOT_NUMERIC'
  | 'MIXED_GEOMETRY_TYPES'
  | 'POINTS_REQUIRED'
  | 'CONTIGUITY_NEEDS_POLYGONS'
  | 'WEIGHTS_INVALID'
  | 'WEIGHTS_UNSUPPORTED'
  | 'DUPLICATE_ID'
  | 'COORDINATE_OUT_OF_RANGE'
  | 'EMPTY_GEOMETRY'
  | 'GEOMETRY_INVALID'
  | 'TIME_INVALID';
