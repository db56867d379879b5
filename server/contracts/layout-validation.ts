/**
 * The layout topology report (gate 3 of the grid checks): overlaps, gaps, parts outside the community
 * boundary, slivers, multi-part grids and household balance of one layout. Every problem carries its
 * geometry as GeoJSON so the editor can highlight it. Areas and lengths are on the WGS 84 spheroid
 * (PostGIS geography), in m² and m.
 */
import { Type, type Static } from 'typebox';
import { AnyGeometrySchema } from './geojson';
import { PG_INT_MAX } from './common';

/** Defaults of every option; the querystring schema documents them and the service applies them. */
export const LAYOUT_VALIDATION_DEFAULTS = {
  overlapToleranceM2: 1,
  gapToleranceM2: 1,
  outsideToleranceM2: 1,
  minAreaM2: 100,
  minCompactness: 0.05,
  householdsMin: 300,
  householdsMax: 500,
  strict: false,
} as const;

const d = LAYOUT_VALIDATION_DEFAULTS;
const AreaM2 = (description: string, def: number) => Type.Number({ minimum: 0, maximum: 1e12, default: def, description });

/** All fields optional on the wire (a querystring); `validateLayout` fills in the defaults. */
export const LayoutValidationOptionsSchema = Type.Object(
  {
    overlapToleranceM2: Type.Optional(AreaM2('overlaps up to this area (m²) are floating-point noise, not problems', d.overlapToleranceM2)),
    gapToleranceM2: Type.Optional(AreaM2('gaps up to this area (m²) are ignored', d.gapToleranceM2)),
    outsideToleranceM2: Type.Optional(AreaM2('parts outside the boundary up to this area (m²) are ignored', d.outsideToleranceM2)),
    minAreaM2: Type.Optional(AreaM2('a grid part smaller than this (m²) is a sliver', d.minAreaM2)),
    minCompactness: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, default: d.minCompactness, description: 'a grid part whose Polsby–Popper compactness 4πA/P² is below this is a sliver' }),
    ),
    householdsMin: Type.Optional(Type.Integer({ minimum: 0, maximum: PG_INT_MAX, default: d.householdsMin, description: 'fewest households a grid should hold' })),
    householdsMax: Type.Optional(Type.Integer({ minimum: 0, maximum: PG_INT_MAX, default: d.householdsMax, description: 'most households a grid should hold' })),
    strict: Type.Optional(Type.Boolean({ default: d.strict, description: 'gaps become errors, and any warning makes the layout unpublishable' })),
  },
  { additionalProperties: false },
);
/** Resolved options: every field present. */
export type LayoutValidationOptions = Required<Static<typeof LayoutValidationOptionsSchema>>;

export const ProblemSeveritySchema = Type.Union([Type.Literal('error'), Type.Literal('warning')]);
export type ProblemSeverity = Static<typeof ProblemSeveritySchema>;

/** Fields every problem has: which grids, where, how bad. */
const problemBase = {
  severity: ProblemSeveritySchema,
  gridIds: Type.Array(Type.Integer(), { description: 'grids involved, ascending' }),
  gridCodes: Type.Array(Type.Union([Type.String(), Type.Null()]), { description: 'their codes, same order (null until coded)' }),
  geometry: AnyGeometrySchema,
} as const;

export const OverlapProblemSchema = Type.Object({
  kind: Type.Literal('overlap'),
  ...problemBase,
  areaM2: Type.Number({ description: 'area of the intersection of the two grids' }),
});

export const GapProblemSchema = Type.Object({
  kind: Type.Literal('gap'),
  ...problemBase,
  areaM2: Type.Number(),
  suggestedGridId: Type.Union([Type.Integer(), Type.Null()], { description: 'neighbour sharing the longest edge with the gap: the fill-gap default; null if no grid touches it' }),
  sharedEdgeM: Type.Union([Type.Number(), Type.Null()], { description: 'length of the edge the gap shares with the suggested grid' }),
});

export const OutsideProblemSchema = Type.Object({
  kind: Type.Literal('outside'),
  ...problemBase,
  areaM2: Type.Number({ description: 'area of the grid outside the community boundary' }),
});

export const SliverProblemSchema = Type.Object({
  kind: Type.Literal('sliver'),
  ...problemBase,
  part: Type.Integer({ minimum: 1, description: 'polygon number within the grid (1 for a plain polygon)' }),
  areaM2: Type.Number(),
  perimeterM: Type.Number(),
  compactness: Type.Number({ description: 'Polsby–Popper 4πA/P², 1 for a disc, towards 0 for a thin strip' }),
  reasons: Type.Array(Type.Union([Type.Literal('small'), Type.Literal('thin')])),
});

export const MultipartProblemSchema = Type.Object({
  kind: Type.Literal('multipart'),
  ...problemBase,
  parts: Type.Integer({ minimum: 2, description: 'number of disjoint polygons' }),
  areaM2: Type.Number(),
});

export const HouseholdsProblemSchema = Type.Object({
  kind: Type.Literal('households'),
  ...problemBase,
  households: Type.Integer(),
  status: Type.Union([Type.Literal('under'), Type.Literal('over')]),
});

export const LayoutProblemSchema = Type.Union([
  OverlapProblemSchema,
  GapProblemSchema,
  OutsideProblemSchema,
  SliverProblemSchema,
  MultipartProblemSchema,
  HouseholdsProblemSchema,
]);
export type LayoutProblem = Static<typeof LayoutProblemSchema>;
export type LayoutProblemKind = LayoutProblem['kind'];
export type OverlapProblem = Static<typeof OverlapProblemSchema>;
export type GapProblem = Static<typeof GapProblemSchema>;
export type OutsideProblem = Static<typeof OutsideProblemSchema>;
export type SliverProblem = Static<typeof SliverProblemSchema>;
export type MultipartProblem = Static<typeof MultipartProblemSchema>;
export type HouseholdsProblem = Static<typeof HouseholdsProblemSchema>;

export const GridHouseholdsSchema = Type.Object({
  gridId: Type.Integer(),
  gridCode: Type.Union([Type.String(), Type.Null()]),
  households: Type.Union([Type.Integer(), Type.Null()], { description: 'null while the household registry does not exist' }),
  status: Type.Union([Type.Literal('ok'), Type.Literal('under'), Type.Literal('over'), Type.Literal('unknown')]),
});
export type GridHouseholds = Static<typeof GridHouseholdsSchema>;

export const ValidationNoteSchema = Type.Object({
  code: Type.Union([Type.Literal('COMMUNITY_HAS_NO_BOUNDARY'), Type.Literal('HOUSEHOLDS_UNKNOWN')]),
  message: Type.String(),
});
export type ValidationNote = Static<typeof ValidationNoteSchema>;

export const LayoutValidationSummarySchema = Type.Object({
  overlaps: Type.Integer(),
  gaps: Type.Union([Type.Integer(), Type.Null()], { description: 'null: the community has no boundary, so coverage was not checked (see notes)' }),
  outside: Type.Integer({ description: '0 when the community has no boundary (see notes)' }),
  slivers: Type.Integer(),
  multipart: Type.Integer(),
  households: Type.Union([Type.Integer(), Type.Null()], { description: 'grids outside the household range; null while households are unknown' }),
  errors: Type.Integer(),
  warnings: Type.Integer(),
  publishable: Type.Boolean({ description: 'no overlaps and nothing outside the boundary; in strict mode also no gaps and no warnings' }),
  timingMs: Type.Number({ description: 'time spent computing the report (for a batch, the whole batch)' }),
});
export type LayoutValidationSummary = Static<typeof LayoutValidationSummarySchema>;

export const LayoutValidationReportSchema = Type.Object({
  layoutId: Type.Integer(),
  communityCode: Type.String(),
  gridCount: Type.Integer(),
  options: Type.Object({
    overlapToleranceM2: Type.Number(),
    gapToleranceM2: Type.Number(),
    outsideToleranceM2: Type.Number(),
    minAreaM2: Type.Number(),
    minCompactness: Type.Number(),
    householdsMin: Type.Integer(),
    householdsMax: Type.Integer(),
    strict: Type.Boolean(),
  }),
  summary: LayoutValidationSummarySchema,
  /** Errors first, then warnings; within a severity by kind, then by grid ids. */
  problems: Type.Array(LayoutProblemSchema),
  households: Type.Array(GridHouseholdsSchema, { description: 'one entry per grid, by grid id' }),
  notes: Type.Array(ValidationNoteSchema),
});
export type LayoutValidationReport = Static<typeof LayoutValidationReportSchema>;
