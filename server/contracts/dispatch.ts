/**
 * Dispatch wire schemas: "who is responsible here, and who is on duty now?" by point, address or batch.
 * Isomorphic (the web app imports these types).
 */
import { Type, type Static } from 'typebox';

export const DISPATCH_BATCH_MAX = 10_000;

export const DispatchCrsSchema = Type.Union([Type.Literal('wgs84'), Type.Literal('gcj02'), Type.Literal('bd09')], {
  description: 'CRS of lon/lat: wgs84 (GPS, default), gcj02 (Amap, Tencent), bd09 (Baidu)',
});
export type DispatchCrs = Static<typeof DispatchCrsSchema>;

const Lon = Type.Number({ minimum: -180, maximum: 180, description: 'longitude, degrees' });
const Lat = Type.Number({ minimum: -90, maximum: 90, description: 'latitude, degrees' });
const At = Type.String({ minLength: 1, maxLength: 40, description: 'ISO 8601 instant (default: now); past instants use the layouts and roster valid then' });

export const DispatchLookupQuerySchema = Type.Object(
  {
    lon: Type.Optional(Lon),
    lat: Type.Optional(Lat),
    address: Type.Optional(Type.String({ maxLength: 200, description: 'free Chinese text: a building, organisation or named place' })),
    at: Type.Optional(At),
    crs: Type.Optional(DispatchCrsSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, description: 'address candidates (default 10)' })),
  },
  { additionalProperties: false },
);
export type DispatchLookupQuery = Static<typeof DispatchLookupQuerySchema>;

export const DispatchBatchBodySchema = Type.Object(
  {
    points: Type.Array(Type.Object({ lon: Lon, lat: Lat }, { additionalProperties: false }), { minItems: 1, maxItems: DISPATCH_BATCH_MAX }),
    at: Type.Optional(At),
    crs: Type.Optional(DispatchCrsSchema),
  },
  { additionalProperties: false },
);
export type DispatchBatchBody = Static<typeof DispatchBatchBodySchema>;

const CodeName = Type.Object({ code: Type.String(), name: Type.String() });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const DispatchGridSchema = Type.Object({
  id: Type.Integer(),
  code: Type.String(),
  name: Type.String(),
  kind: Type.String({ description: 'general | dedicated' }),
  layoutId: Type.Integer(),
  layoutEffectiveFrom: Type.String({ description: 'start of the layout version that holds this grid' }),
  match: Type.Union([Type.Literal('covers'), Type.Literal('nearest')]),
  distanceM: Type.Number({ description: '0 when the grid covers the point; else metres to its boundary (WGS 84 ellipsoid)' }),
});

export const DispatchStaffSchema = Type.Object({
  staffId: Type.Integer(),
  staffCode: Type.String(),
  name: Type.String(),
  phone: Nullable(Type.String()),
  role: Type.String(),
});

export const DispatchOnDutySchema = Type.Object({
  staffId: Type.Integer(),
  staffCode: Type.String(),
  name: Type.String(),
  phone: Nullable(Type.String()),
  role: Type.String(),
  level: Type.String({ description: 'grid | community | street' }),
  via: Type.String({ description: 'weekly shift or extra duty' }),
  scopeCode: Type.String(),
});

export const DispatchStepSchema = Type.Union([
  Type.Literal('grid_on_duty'),
  Type.Literal('grid_leader'),
  Type.Literal('community_duty_officer'),
  Type.Literal('street_duty_officer'),
  Type.Literal('community_contact'),
  Type.Literal('street_contact'),
]);
export type DispatchStep = Static<typeof DispatchStepSchema>;

export const DispatchFallbackEntrySchema = Type.Object({
  step: DispatchStepSchema,
  outcome: Type.Union([Type.Literal('used'), Type.Literal('none'), Type.Literal('skipped')]),
  reason: Type.String(),
});

export const DispatchStatusSchema = Type.Union([
  Type.Literal('in_grid'),
  Type.Literal('nearest_grid'),
  Type.Literal('community_only'),
  Type.Literal('outside'),
]);

export const DispatchResultSchema = Type.Object({
  position: Type.Object({
    lon: Type.Number({ description: 'WGS 84 longitude used for the lookup (after conversion)' }),
    lat: Type.Number(),
    crs: DispatchCrsSchema,
  }),
  at: Type.String(),
  status: DispatchStatusSchema,
  message: Type.String(),
  district: Nullable(CodeName),
  street: Nullable(CodeName),
  community: Nullable(CodeName),
  grid: Nullable(DispatchGridSchema),
  ambiguous: Type.Boolean({ description: 'the point lies on a shared edge or vertex: `grid` is the lowest code, `candidates` the others' }),
  candidates: Type.Array(Type.Object({ id: Type.Integer(), code: Type.String(), name: Type.String(), layoutId: Type.Integer() })),
  staff: Type.Array(DispatchStaffSchema, { description: 'staff assigned to the grid on that date, by role' }),
  onDuty: Type.Array(DispatchOnDutySchema, { description: 'everyone on duty for the grid, its community and street, in dispatch order' }),
  responder: Nullable(Type.Object({ ...DispatchStaffSchema.properties, step: DispatchStepSchema })),
  fallback: Type.Array(DispatchFallbackEntrySchema, { description: 'the chain as walked, up to the step used' }),
  source: Type.Union([Type.Literal('memory'), Type.Literal('postgis')], { description: 'memory: the live index; postgis: a past instant before the live layouts' }),
});
export type DispatchResult = Static<typeof DispatchResultSchema>;

export const DispatchBatchResponseSchema = Type.Object({ results: Type.Array(DispatchResultSchema) });

export const DispatchAddressCandidateSchema = Type.Object({
  kind: Type.Union([Type.Literal('building'), Type.Literal('organisation'), Type.Literal('place')]),
  id: Type.Integer(),
  name: Type.String(),
  address: Type.String(),
  score: Type.Number({ description: 'pg_trgm similarity of the query to the text, 0–1' }),
  lon: Type.Number(),
  lat: Type.Number(),
  grid: Nullable(Type.Object({ code: Type.String(), name: Type.String() })),
  community: Nullable(CodeName),
});

export const DispatchAddressResponseSchema = Type.Object({
  address: Type.String(),
  candidates: Type.Array(DispatchAddressCandidateSchema),
  best: Nullable(DispatchResultSchema),
});

export const DispatchLookupResponseSchema = Type.Union([DispatchResultSchema, DispatchAddressResponseSchema]);
