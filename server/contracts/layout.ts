import { Type, type Static } from 'typebox';
import { GridFeatureSchema, GridInputSchema } from './grid';
import { PG_INT_MAX } from './common';

export const LayoutStatusSchema = Type.Union([Type.Literal('draft'), Type.Literal('published'), Type.Literal('archived')]);
export type LayoutStatus = Static<typeof LayoutStatusSchema>;

export const LayoutSchema = Type.Object(
  {
    id: Type.Integer(),
    communityCode: Type.String(),
    status: LayoutStatusSchema,
    name: Type.String(),
    basedOnLayoutId: Type.Union([Type.Integer(), Type.Null()]),
    effectiveFrom: Type.Union([Type.String(), Type.Null()]),
    effectiveTo: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String(),
    publishedAt: Type.Union([Type.String(), Type.Null()]),
    gridCount: Type.Integer(),
  },
);
export type Layout = Static<typeof LayoutSchema>;

export const LayoutListSchema = Type.Object({ layouts: Type.Array(LayoutSchema) });

export const CommunityParamsSchema = Type.Object({ code: Type.String({ pattern: '^[0-9]{12}$' }) });

/** A layout's name, as planners tell drafts apart: something to read, not only spaces. */
const LayoutNameSchema = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'shown in the editor beside the status and creation time' });

export const CreateLayoutBodySchema = Type.Object({
  from: Type.Optional(Type.Union([Type.Literal('empty'), Type.Literal('published')], { description: 'empty draft, or a copy of the published layout (default)' })),
  name: Type.Optional(LayoutNameSchema),
});

/** A layout as GeoJSON: its grids as features and the layout itself as a foreign member. */
export const LayoutCollectionSchema = Type.Object(
  {
    type: Type.Literal('FeatureCollection'),
    layout: LayoutSchema,
    features: Type.Array(GridFeatureSchema),
  },
);
export type LayoutCollection = Static<typeof LayoutCollectionSchema>;

export const ImportLayoutBodySchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  name: Type.Optional(LayoutNameSchema),
  features: Type.Array(GridInputSchema, { maxItems: 20_000 }),
});

export const PublishBodySchema = Type.Object({
  strict: Type.Optional(Type.Boolean({ description: 'also refuse gaps and warnings' })),
});

export const FillGapBodySchema = Type.Object({
  gap: Type.Object({ type: Type.Literal('Polygon'), coordinates: Type.Array(Type.Array(Type.Array(Type.Number()), { minItems: 4 }), { minItems: 1 }) }),
  gridId: Type.Optional(Type.Integer({ minimum: 1, maximum: PG_INT_MAX, description: 'grid to absorb the gap; default the neighbour sharing the longest edge' })),
});

export const AssignCodesResultSchema = Type.Object({
  assigned: Type.Array(Type.Object({ id: Type.Integer(), code: Type.String() })),
});
export type AssignCodesResult = Static<typeof AssignCodesResultSchema>;

export const LayoutDownloadQuerySchema = Type.Object({
  download: Type.Optional(Type.Boolean({ description: 'send as a .geojson file attachment' })),
});
