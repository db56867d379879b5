/**
 * Grids on the wire are GeoJSON Features: `id` is the grid id; `properties` holds the grid's own fields
 * (reserved keys below) plus the planner's free attributes flattened beside them, which is what QGIS and
 * ArcGIS read and write. Reserved keys are never stored as free attributes.
 */
import { Type, type Static } from 'typebox';
import { AnyGeometrySchema, LineStringSchema, PolygonalSchema } from './geojson';
import { PG_INT_MAX } from './common';

export const GRID_KINDS = ['general', 'dedicated'] as const;
export const GridKindSchema = Type.Union([Type.Literal('general'), Type.Literal('dedicated')], {
  description: 'general = 综合网格; dedicated = 专属网格 (a school, hospital or other compound)',
});
export type GridKind = Static<typeof GridKindSchema>;

/** Keys of a grid feature's properties that are the grid's own fields, not free attributes. */
export const RESERVED_GRID_PROPERTIES = ['id', 'layoutId', 'code', 'name', 'kind', 'areaM2', 'version'] as const;

export const GridPropertiesSchema = Type.Object(
  {
    layoutId: Type.Integer(),
    code: Type.Union([Type.String({ pattern: '^[0-9]{15}$' }), Type.Null()], { description: 'community code (12) + 3-digit sequence; null until coded' }),
    name: Type.String(),
    kind: GridKindSchema,
    areaM2: Type.Number(),
    version: Type.Integer({ description: 'send it back in If-Match to update' }),
  },
  { additionalProperties: true },
);

export const GridFeatureSchema = Type.Object(
  {
    type: Type.Literal('Feature'),
    id: Type.Integer(),
    geometry: AnyGeometrySchema,
    properties: GridPropertiesSchema,
  },
);
export type GridFeature = Static<typeof GridFeatureSchema>;

/** A grid as submitted: geometry plus name/kind and free attributes in properties. */
export const GridInputSchema = Type.Object(
  {
    type: Type.Literal('Feature'),
    id: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    geometry: PolygonalSchema,
    properties: Type.Optional(
      Type.Object(
        {
          name: Type.Optional(Type.String({ maxLength: 200 })),
          kind: Type.Optional(GridKindSchema),
          code: Type.Optional(Type.Union([Type.String({ pattern: '^[0-9]{15}$' }), Type.Null()])),
        },
        { additionalProperties: true },
      ),
    ),
  },
);
export type GridInput = Static<typeof GridInputSchema>;

export const GeometryFixQuerySchema = Type.Object({
  fix: Type.Optional(Type.Boolean({ description: 'repair an invalid geometry with ST_MakeValid and report what changed' })),
});

/** What `fix=true` changed, when it changed anything. */
export const GeometryRepairSchema = Type.Object({
  repaired: Type.Boolean(),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'what was wrong before the repair' }),
  areaBeforeM2: Type.Union([Type.Number(), Type.Null()]),
  areaAfterM2: Type.Number(),
  partsBefore: Type.Integer(),
  partsAfter: Type.Integer(),
});
export type GeometryRepair = Static<typeof GeometryRepairSchema>;

export const GridWriteResultSchema = Type.Object({
  grid: GridFeatureSchema,
  repair: Type.Optional(GeometryRepairSchema),
});
export type GridWriteResult = Static<typeof GridWriteResultSchema>;

export const SplitBodySchema = Type.Object({ line: LineStringSchema });
export const SplitResultSchema = Type.Object({
  kept: GridFeatureSchema,
  created: Type.Array(GridFeatureSchema),
});
export type SplitResult = Static<typeof SplitResultSchema>;

export const MergeBodySchema = Type.Object({
  ids: Type.Array(Type.Integer({ minimum: 1, maximum: PG_INT_MAX }), { minItems: 2, maxItems: 100, uniqueItems: true }),
});
export const MergeResultSchema = Type.Object({
  grid: GridFeatureSchema,
  removedIds: Type.Array(Type.Integer()),
});
export type MergeResult = Static<typeof MergeResultSchema>;

export const SnapBodySchema = Type.Object({
  toleranceM: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 50, description: 'snap distance in metres (default 1)' })),
});
export const EditResultSchema = Type.Object({
  grid: GridFeatureSchema,
  changed: Type.Boolean(),
  areaBeforeM2: Type.Number(),
  areaAfterM2: Type.Number(),
});
export type EditResult = Static<typeof EditResultSchema>;

export const GridAtQuerySchema = Type.Object({
  lon: Type.Number({ minimum: -180, maximum: 180 }),
  lat: Type.Number({ minimum: -90, maximum: 90 }),
  at: Type.Optional(Type.String({ format: 'date-time', description: 'instant to ask about; default now' })),
});
export const GridAtResultSchema = Type.Object({
  at: Type.String(),
  grid: Type.Union([GridFeatureSchema, Type.Null()]),
  ambiguous: Type.Boolean({ description: 'the point lies on a shared edge or vertex: other candidates are listed' }),
  candidates: Type.Array(Type.Object({ id: Type.Integer(), code: Type.Union([Type.String(), Type.Null()]), layoutId: Type.Integer() })),
});
export type GridAtResult = Static<typeof GridAtResultSchema>;

export const GridListQuerySchema = Type.Object({
  bbox: Type.Optional(Type.String({ pattern: '^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$', description: 'minLng,minLat,maxLng,maxLat' })),
  layout: Type.Optional(Type.Integer({ minimum: 1, maximum: PG_INT_MAX, description: 'a layout id; default: the published layouts' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 20_000, default: 5_000 })),
});
export const GridCollectionSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  features: Type.Array(GridFeatureSchema),
  numberReturned: Type.Integer(),
  truncated: Type.Boolean({ description: 'more grids match than `limit`' }),
});
export type GridCollection = Static<typeof GridCollectionSchema>;
