/**
 * Exchange formats (issue #9): files that GIS tools (QGIS, ArcGIS, GDAL) read and write, in and out of
 * the API. Isomorphic: the web app may import these names for its download/upload menus.
 *
 * Coordinates are WGS-84 longitude/latitude unless `crs` says otherwise: `gcj02` (Amap, Tencent) and
 * `bd09` (Baidu) are converted on the way out and back on the way in. `cgcs2000` is accepted as a name
 * for the same numbers as WGS-84 (they differ by centimetres; see README "Data and coordinates").
 */
import { Type, type Static } from 'typebox';

export const EXCHANGE_FORMATS = ['geojson', 'csv', 'fgb', 'gpkg'] as const;
export type ExchangeFormat = (typeof EXCHANGE_FORMATS)[number];

export const EXCHANGE_CRS = ['wgs84', 'gcj02', 'bd09', 'cgcs2000'] as const;
export type ExchangeCrs = (typeof EXCHANGE_CRS)[number];

/** Media types sent with each format, and accepted as an upload's content type. */
export const EXCHANGE_MEDIA_TYPES: Record<ExchangeFormat, string> = {
  geojson: 'application/geo+json',
  csv: 'text/csv',
  fgb: 'application/flatgeobuf',
  gpkg: 'application/geopackage+sqlite3',
};

export const EXCHANGE_EXTENSIONS: Record<ExchangeFormat, string> = { geojson: 'geojson', csv: 'csv', fgb: 'fgb', gpkg: 'gpkg' };

/**
 * Why a file was refused, in `error.details.reason` of an `IMPORT_FAILED` (422) answer; an unknown
 * `format` is `UNSUPPORTED_FORMAT` (400) instead.
 */
export const EXCHANGE_REJECTIONS = [
  'FILE_EMPTY',
  'FILE_CORRUPT',
  'FORMAT_MISMATCH',
  'NOT_A_GEOPACKAGE',
  'LAYER_AMBIGUOUS',
  'CSV_MALFORMED',
  'CRS_UNSUPPORTED',
  'GEOMETRY_MISSING',
  'GEOMETRY_TYPE',
  'TOO_MANY_FEATURES',
  'TOO_MANY_VERTICES',
  'TOO_MANY_FIELDS',
  'TEXT_HOLDS_NUL',
] as const;
export type ExchangeRejection = (typeof EXCHANGE_REJECTIONS)[number];

const FormatParam = Type.String({ maxLength: 32, description: `one of ${EXCHANGE_FORMATS.join(', ')}` });
const CrsParam = Type.Union(
  EXCHANGE_CRS.map((c) => Type.Literal(c)),
  { description: 'coordinates of the file: wgs84 (default; cgcs2000 is the same numbers), gcj02 (Amap/Tencent) or bd09 (Baidu)' },
);
const CsvGeometryParam = Type.Union([Type.Literal('wkt'), Type.Literal('lonlat')], {
  description: 'CSV only: geometry as a WKT column (default), or lon/lat columns (point layers only)',
});

export const ExportQuerySchema = Type.Object({
  format: Type.Optional(FormatParam),
  crs: Type.Optional(CrsParam),
  geometry: Type.Optional(CsvGeometryParam),
});
export type ExportQuery = Static<typeof ExportQuerySchema>;

export const DivisionExportQuerySchema = Type.Object({
  ...ExportQuerySchema.properties,
  level: Type.Optional(Type.Union([Type.Literal('street'), Type.Literal('community')], { description: 'only descendants of this level' })),
});
export type DivisionExportQuery = Static<typeof DivisionExportQuerySchema>;

export const LayoutImportQuerySchema = Type.Object({
  format: Type.Optional(Type.String({ maxLength: 32, description: `one of ${EXCHANGE_FORMATS.join(', ')}; default from the content type, else from the file's first bytes` })),
  crs: Type.Optional(Type.Union(EXCHANGE_CRS.map((c) => Type.Literal(c)), { description: 'coordinates of the file; default the CRS the file declares, else wgs84' })),
  geometry: Type.Optional(CsvGeometryParam),
  name: Type.Optional(Type.String({ maxLength: 200, description: 'name of the new draft; default the file\'s layer name' })),
  fix: Type.Optional(Type.Boolean({ description: 'repair invalid geometries with ST_MakeValid' })),
});
export type LayoutImportQuery = Static<typeof LayoutImportQuerySchema>;

const ImportFormatParam = Type.String({ maxLength: 32, description: `one of ${EXCHANGE_FORMATS.join(', ')}; default from the content type, else from the file's first bytes` });
const ImportCrsParam = Type.Union(EXCHANGE_CRS.map((c) => Type.Literal(c)), { description: 'coordinates of the file; default the CRS the file declares, else wgs84' });
const LayerParam = Type.String({ maxLength: 200, description: 'GeoPackage: the feature layer to read when it has several' });

export const BuildingExportQuerySchema = Type.Object({
  ...ExportQuerySchema.properties,
  community: Type.Optional(Type.String({ pattern: '^[0-9]{12}$' })),
  grid: Type.Optional(Type.String({ pattern: '^[0-9]{12,15}$', description: 'a grid code (or a prefix of one)' })),
  bbox: Type.Optional(Type.String({ pattern: '^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$', description: 'minLng,minLat,maxLng,maxLat' })),
});
export type BuildingExportQuery = Static<typeof BuildingExportQuerySchema>;

export const BuildingImportQuerySchema = Type.Object({
  format: Type.Optional(ImportFormatParam),
  crs: Type.Optional(ImportCrsParam),
  geometry: Type.Optional(CsvGeometryParam),
  layer: Type.Optional(LayerParam),
  mode: Type.Optional(Type.Union([Type.Literal('all-or-nothing'), Type.Literal('skip-bad-rows')], { default: 'all-or-nothing' })),
  community: Type.Optional(Type.String({ pattern: '^[0-9]{12}$', description: 'community of features without a communityCode' })),
  makeValid: Type.Optional(Type.Boolean({ description: 'repair invalid footprints with ST_MakeValid' })),
});
export type BuildingImportQuery = Static<typeof BuildingImportQuerySchema>;

export const EventExportQuerySchema = Type.Object({
  ...ExportQuerySchema.properties,
  grid: Type.Optional(Type.String({ pattern: '^[0-9]{15}$' })),
  community: Type.Optional(Type.String({ pattern: '^[0-9]{12}$' })),
  street: Type.Optional(Type.String({ pattern: '^[0-9]{9}$' })),
  state: Type.Optional(Type.String({ pattern: '^[a-z_]+(,[a-z_]+)*$', description: 'comma-separated states' })),
  category: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)?$', maxLength: 64 })),
  channel: Type.Optional(Type.Union(['patrol', 'hotline', 'resident', 'video', 'assigned'].map((c) => Type.Literal(c)))),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'reported at or after' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'reported before' })),
  bbox: Type.Optional(Type.String({ pattern: '^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$', description: 'minLng,minLat,maxLng,maxLat' })),
  reporter: Type.Optional(Type.Union([Type.Literal('masked'), Type.Literal('full'), Type.Literal('none')], {
    description: 'reporter name and phone: masked (default), full (needs registry:unmask and a purpose) or none',
  })),
  purpose: Type.Optional(Type.String({ minLength: 2, maxLength: 500, description: 'why the full reporter contacts are needed (audited)' })),
});
export type EventExportQuery = Static<typeof EventExportQuerySchema>;

export const EventImportQuerySchema = Type.Object({
  format: Type.Optional(ImportFormatParam),
  crs: Type.Optional(ImportCrsParam),
  geometry: Type.Optional(CsvGeometryParam),
  layer: Type.Optional(LayerParam),
});
export type EventImportQuery = Static<typeof EventImportQuerySchema>;

export const EventImportReportSchema = Type.Object({
  features: Type.Integer({ description: 'features read from the file' }),
  created: Type.Integer(),
  replayed: Type.Integer({ description: 'already imported before (same Idempotency-Key): nothing created' }),
  failed: Type.Integer(),
  events: Type.Array(Type.Object({ featureIndex: Type.Integer(), id: Type.Integer(), replayed: Type.Boolean() })),
  errors: Type.Array(Type.Object({ featureIndex: Type.Integer(), code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) })),
});
export type EventImportReport = Static<typeof EventImportReportSchema>;
