/**
 * Administrative divisions above the grids (GB/T 2260 codes): district 区/县 (6 digits) → street
 * 街道/乡镇 (9 = district + 3) → community 社区/村 (12 = street + 3). Boundaries are MultiPolygons in
 * EPSG:4326; an upper level without its own boundary is shown as the union of its children's.
 */
import { Type, type Static } from 'typebox';
import { AnyGeometrySchema, PolygonalSchema } from './geojson';

export const DIVISION_LEVELS = ['district', 'street', 'community'] as const;
export const DivisionLevelSchema = Type.Union([Type.Literal('district'), Type.Literal('street'), Type.Literal('community')], {
  description: 'district = 区/县 (6-digit code); street = 街道/乡镇 (9); community = 社区/村 (12)',
});
export type DivisionLevel = Static<typeof DivisionLevelSchema>;

/** Digits of a code at each level. */
export const DIVISION_CODE_LENGTH: Record<DivisionLevel, number> = { district: 6, street: 9, community: 12 };

/** A well-formed code of any level (for URLs and query strings). */
export const DivisionCodeSchema = Type.String({ pattern: '^([0-9]{6}|[0-9]{9}|[0-9]{12})$', description: 'GB/T 2260 code: 6, 9 or 12 digits' });

export const BoundarySourceSchema = Type.Union([Type.Literal('stored'), Type.Literal('derived'), Type.Literal('none')], {
  description: 'stored = its own boundary; derived = union of its children\'s (recursively); none = neither exists',
});
export type BoundarySource = Static<typeof BoundarySourceSchema>;

export const DivisionSummarySchema = Type.Object(
  {
    code: Type.String(),
    name: Type.String(),
    level: DivisionLevelSchema,
    parentCode: Type.Union([Type.String(), Type.Null()]),
    hasBoundary: Type.Boolean({ description: 'a stored boundary, or one derivable from descendants' }),
    childCount: Type.Integer({ minimum: 0 }),
  },
  { $id: 'DivisionSummary' },
);
export type DivisionSummary = Static<typeof DivisionSummarySchema>;

export const DivisionRefSchema = Type.Object({ code: Type.String(), name: Type.String(), level: DivisionLevelSchema });
export type DivisionRef = Static<typeof DivisionRefSchema>;

export const DivisionDetailSchema = Type.Object(
  {
    code: Type.String(),
    name: Type.String(),
    level: DivisionLevelSchema,
    parentCode: Type.Union([Type.String(), Type.Null()]),
    hasBoundary: Type.Boolean(),
    childCount: Type.Integer({ minimum: 0 }),
    boundary: Type.Union([AnyGeometrySchema, Type.Null()], { description: 'GeoJSON MultiPolygon (stored or derived), or null' }),
    boundarySource: BoundarySourceSchema,
    areaM2: Type.Union([Type.Number(), Type.Null()], { description: 'geodesic area of the boundary, m²' }),
    ancestors: Type.Array(DivisionRefSchema, { description: 'from the district down to the parent (breadcrumbs); empty for a district' }),
  },
  { $id: 'DivisionDetail' },
);
export type DivisionDetail = Static<typeof DivisionDetailSchema>;

export const DivisionListQuerySchema = Type.Object({
  parent: Type.Optional(DivisionCodeSchema),
  level: Type.Optional(DivisionLevelSchema),
});
export type DivisionListQuery = Static<typeof DivisionListQuerySchema>;

export const DivisionListSchema = Type.Object({
  parentCode: Type.Union([Type.String(), Type.Null()]),
  items: Type.Array(DivisionSummarySchema),
});
export type DivisionList = Static<typeof DivisionListSchema>;

export const DivisionCodeParamsSchema = Type.Object({ code: DivisionCodeSchema });

/**
 * Code and parent are checked by the service (not the schema) so that every mismatch between code,
 * level and parent is answered with DIVISION_INVALID and the exact reason.
 */
export const CreateDivisionBodySchema = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 32 }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    level: DivisionLevelSchema,
    parentCode: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 32 }), Type.Null()])),
    boundary: Type.Optional(Type.Union([PolygonalSchema, Type.Null()])),
  },
  { additionalProperties: false },
);
export type CreateDivisionBody = Static<typeof CreateDivisionBodySchema>;

export const UpdateDivisionBodySchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    boundary: Type.Optional(Type.Union([PolygonalSchema, Type.Null()], { description: 'null clears the stored boundary' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateDivisionBody = Static<typeof UpdateDivisionBodySchema>;

export const ImportModeSchema = Type.Union([Type.Literal('all-or-nothing'), Type.Literal('skip-bad-rows')], {
  description: 'all-or-nothing (default): any bad row rolls back the whole import; skip-bad-rows: import the good rows, report the bad',
});
export type ImportMode = Static<typeof ImportModeSchema>;

/**
 * Features are checked one by one by the service (not here), so one bad feature is reported with its
 * index instead of failing the whole request.
 */
export const ImportFeatureCollectionSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  features: Type.Array(Type.Unknown()),
});

export const ImportCsvBodySchema = Type.Object(
  {
    format: Type.Literal('csv'),
    content: Type.String({
      description:
        'RFC 4180 CSV with header code,name,level,parent_code (case-insensitive; level and parent_code may be empty: implied by the code), ' +
        'or the AreaCity layout id,pid,deep,name,full_name,stats_code_12,…',
    }),
    mode: Type.Optional(ImportModeSchema),
  },
  { additionalProperties: false },
);
export const ImportGeoJsonBodySchema = Type.Object(
  {
    format: Type.Literal('geojson'),
    content: ImportFeatureCollectionSchema,
    mode: Type.Optional(ImportModeSchema),
  },
  { additionalProperties: false },
);
export const ImportDivisionsBodySchema = Type.Union([ImportCsvBodySchema, ImportGeoJsonBodySchema]);
export type ImportDivisionsBody = Static<typeof ImportDivisionsBodySchema>;

export const ImportProblemSchema = Type.Object({
  line: Type.Optional(Type.Integer({ description: 'CSV: line where the record starts (header = 1)' })),
  featureIndex: Type.Optional(Type.Integer({ description: 'GeoJSON: 0-based index in features' })),
  code: Type.Optional(Type.String()),
  field: Type.String(),
  reason: Type.String(),
  message: Type.String(),
  location: Type.Optional(Type.Tuple([Type.Number(), Type.Number()], { description: '[lng, lat] of an invalid geometry\'s first problem' })),
});
export type ImportProblem = Static<typeof ImportProblemSchema>;

export const ImportResultSchema = Type.Object(
  {
    created: Type.Integer(),
    updated: Type.Integer(),
    unchanged: Type.Integer(),
    skipped: Type.Integer({ description: 'rows not imported: unmanaged levels (see notes) and, with skip-bad-rows, bad rows' }),
    errors: Type.Array(ImportProblemSchema),
    notes: Type.Array(ImportProblemSchema, { description: 'rows skipped on purpose, e.g. a city row of an AreaCity file' }),
  },
  { $id: 'DivisionImportResult' },
);
export type ImportResult = Static<typeof ImportResultSchema>;
