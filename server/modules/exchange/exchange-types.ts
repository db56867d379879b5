/**
 * The format layer's one data model, independent of any entity: a layer is a name, an ordered field
 * list and features whose geometry is GeoJSON in WGS-84 (or null) and whose properties are plain JSON
 * values. Layouts, divisions (and later buildings or events) map their rows to this and back.
 */
import type { Geometry } from 'geojson';
import type { ExchangeCrs, ExchangeFormat } from '../../contracts/exchange';

/** Column types every format can carry (CSV as text, typed back by the reader). */
export type FieldType = 'integer' | 'real' | 'boolean' | 'text' | 'json';

export interface FieldSpec {
  name: string;
  type: FieldType;
}

export interface ExchangeFeature {
  /** WGS-84 lon/lat GeoJSON geometry; null when the feature has none. */
  geometry: Geometry | null;
  /** Property values: null/undefined become empty cells / NULLs and are absent again after reading. */
  properties: Record<string, unknown>;
  /** CSV read: the line its row starts on (the header is line 1), for errors that point into the file. */
  line?: number;
}

export interface ExchangeLayer {
  /** Layer (GeoPackage table, FlatGeobuf header) name; also the default file name stem. */
  name: string;
  /** Fields written first, in this order and with these types (e.g. code, name, kind); others are inferred. */
  fields?: readonly FieldSpec[];
  features: readonly ExchangeFeature[];
}

export interface WriteOptions {
  /** Coordinates of the file (default wgs84). */
  crs?: ExchangeCrs;
  /** CSV: a WKT column (default) or lon/lat columns for point layers. */
  csvGeometry?: 'wkt' | 'lonlat';
}

export interface ReadLimits {
  maxFeatures: number;
  /** Largest vertex count of one feature. */
  maxVerticesPerFeature: number;
  /** Largest vertex count of the whole file. */
  maxVertices: number;
  /** Largest number of attribute fields. */
  maxFields: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = { maxFeatures: 20_000, maxVerticesPerFeature: 50_000, maxVertices: 2_000_000, maxFields: 500 };

export interface ReadOptions {
  /** Coordinates of the file; default the CRS the file declares, else wgs84. */
  crs?: ExchangeCrs;
  csvGeometry?: 'wkt' | 'lonlat';
  /** CSV: fields to keep as text whatever they look like (codes with digits only, names). */
  textFields?: readonly string[];
  limits?: Partial<ReadLimits>;
}

export interface ReadResult {
  /** The format the file was read as (named, or sniffed). */
  format: ExchangeFormat;
  /** The file's layer name, when it has one. */
  name: string | null;
  /** The column holding the geometry, as the file names it (CSV: the WKT or lon column; GeoPackage: its geometry column). */
  geometryField?: string;
  fields: FieldSpec[];
  /** Features converted to WGS-84. */
  features: ExchangeFeature[];
  /** The CRS the coordinates were read in (the requested one, else the declared one, else wgs84). */
  crs: ExchangeCrs;
}

/** What a format reader hands back before the CRS conversion. */
export interface RawRead {
  name: string | null;
  geometryField?: string;
  fields: FieldSpec[];
  features: ExchangeFeature[];
  /** A CRS the file states about itself; undefined when it states none. */
  declaredCrs?: ExchangeCrs;
}
