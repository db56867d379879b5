/**
 * GeoJSON (RFC 7946) wire schemas: the first of the three gates (shape and ranges). Deeper checks —
 * ring closure, self-intersection, vertex totals — are in `server/geo/` (gate 2) and PostGIS (gate 3).
 */
import { Type, type Static } from 'typebox';

const Longitude = Type.Number({ minimum: -180, maximum: 180 });
const Latitude = Type.Number({ minimum: -90, maximum: 90 });
/** `[lng, lat]`, optionally with an altitude that is ignored. */
export const PositionSchema = Type.Union([Type.Tuple([Longitude, Latitude]), Type.Tuple([Longitude, Latitude, Type.Number()])]);
const LinearRing = Type.Array(PositionSchema, { minItems: 4 });

export const PolygonSchema = Type.Object(
  {
    type: Type.Literal('Polygon'),
    coordinates: Type.Array(LinearRing, { minItems: 1 }),
  },
);
export const MultiPolygonSchema = Type.Object(
  {
    type: Type.Literal('MultiPolygon'),
    coordinates: Type.Array(Type.Array(LinearRing, { minItems: 1 }), { minItems: 1 }),
  },
);
export const PolygonalSchema = Type.Union([PolygonSchema, MultiPolygonSchema]);
export const LineStringSchema = Type.Object(
  { type: Type.Literal('LineString'), coordinates: Type.Array(PositionSchema, { minItems: 2 }) },
);
export const PointSchema = Type.Object({ type: Type.Literal('Point'), coordinates: PositionSchema });

export type PolygonGeometry = Static<typeof PolygonSchema>;
export type MultiPolygonGeometry = Static<typeof MultiPolygonSchema>;
export type PolygonalGeometry = Static<typeof PolygonalSchema>;
export type LineStringGeometry = Static<typeof LineStringSchema>;

/** Response geometry: whatever PostGIS emits; not re-validated on the way out. */
export const AnyGeometrySchema = Type.Object({ type: Type.String(), coordinates: Type.Unknown() }, { additionalProperties: true });

/** Bounding box `[minLng, minLat, maxLng, maxLat]`. */
export const BboxSchema = Type.Tuple([Type.Number(), Type.Number(), Type.Number(), Type.Number()]);
