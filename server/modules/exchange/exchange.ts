/**
 * The format layer's entry points, for any module that exports or imports features (layouts and
 * divisions here; buildings and events can call the same): `writeLayer` turns a layer into a file,
 * `readLayer` a file back into WGS-84 features, with limits and CRS handled the same way everywhere.
 */
import { EXCHANGE_EXTENSIONS, EXCHANGE_FORMATS, EXCHANGE_MEDIA_TYPES, type ExchangeCrs, type ExchangeFormat } from '../../contracts/exchange';
import { readCsv, writeCsv } from './csv-format';
import { canonicalCrs, fromFileCrs } from './exchange-crs';
import { findNul } from '../../http/validation';
import { fileRejected, unsupportedFormat } from './exchange-error';
import { inferFields } from './exchange-fields';
import { DEFAULT_READ_LIMITS, type ExchangeLayer, type FieldSpec, type RawRead, type ReadLimits, type ReadOptions, type ReadResult, type WriteOptions } from './exchange-types';
import { readFgb, writeFgb } from './fgb-format';
import { readGeoJson, writeGeoJson } from './geojson-format';
import { readGpkg, writeGpkg } from './gpkg-format';

export type { ExchangeFeature, ExchangeLayer, FieldSpec, ReadLimits, ReadOptions, ReadResult, WriteOptions } from './exchange-types';

export interface ExchangeFile {
  bytes: Uint8Array;
  mediaType: string;
  /** `<layer name>.<extension>`, safe for a Content-Disposition header. */
  fileName: string;
}

/** A format name from a query string, or UNSUPPORTED_FORMAT. */
export function parseFormat(value: string | undefined, fallback: ExchangeFormat = 'geojson'): ExchangeFormat {
  if (value === undefined || value === '') return fallback;
  const v = value.toLowerCase() === 'flatgeobuf' ? 'fgb' : value.toLowerCase() === 'geopackage' ? 'gpkg' : value.toLowerCase();
  if (!(EXCHANGE_FORMATS as readonly string[]).includes(v)) throw unsupportedFormat(value);
  return v as ExchangeFormat;
}

/** The format a content type names, if any (application/octet-stream names none). */
export function formatOfMediaType(contentType: string | undefined): ExchangeFormat | undefined {
  const essence = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const found = EXCHANGE_FORMATS.find((f) => EXCHANGE_MEDIA_TYPES[f] === essence);
  if (found) return found;
  if (essence === 'application/json') return 'geojson';
  if (essence === 'application/vnd.sqlite3' || essence === 'application/x-sqlite3') return 'gpkg';
  return undefined;
}

/** The format a file's first bytes show: FlatGeobuf and SQLite by magic, JSON by its first character. */
export function sniffFormat(bytes: Uint8Array): ExchangeFormat | undefined {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 16));
  if (head.startsWith('fgb')) return 'fgb';
  if (head.startsWith('SQLite format 3')) return 'gpkg';
  const text = head.replace(/^(\u00ef\u00bb\u00bf)?\s*/, '');
  if (text.startsWith('{')) return 'geojson';
  return undefined;
}

export async function writeLayer(format: ExchangeFormat, layer: ExchangeLayer, opts: WriteOptions = {}): Promise<ExchangeFile> {
  const fields = inferFields(layer.features, layer.fields);
  let bytes: Uint8Array;
  switch (format) {
    case 'geojson':
      bytes = writeGeoJson(layer, fields, opts);
      break;
    case 'csv':
      bytes = writeCsv(layer, fields, opts);
      break;
    case 'fgb':
      bytes = writeFgb(layer, fields, opts);
      break;
    case 'gpkg':
      bytes = await writeGpkg(layer, fields, opts);
      break;
  }
  const crs = canonicalCrs(opts.crs);
  const stem = `${layer.name}${crs === 'wgs84' ? '' : `-${crs}`}`.replace(/[^\w.-]+/g, '_');
  return { bytes, mediaType: EXCHANGE_MEDIA_TYPES[format], fileName: `${stem}.${EXCHANGE_EXTENSIONS[format]}` };
}

/**
 * A file as WGS-84 features. `format` undefined: sniffed from the bytes (CSV when nothing else fits).
 * A named format whose bytes are plainly another format is FORMAT_MISMATCH, not a parse error.
 */
export async function readLayer(format: ExchangeFormat | undefined, bytes: Uint8Array, opts: ReadOptions & { layer?: string } = {}): Promise<ReadResult> {
  if (bytes.length === 0) throw fileRejected('FILE_EMPTY', 'The file is empty.');
  const sniffed = sniffFormat(bytes);
  const chosen = format ?? sniffed ?? 'csv';
  if (sniffed && sniffed !== chosen && (sniffed === 'fgb' || sniffed === 'gpkg')) {
    throw fileRejected('FORMAT_MISMATCH', `The file was sent as ${chosen} but is a ${sniffed === 'fgb' ? 'FlatGeobuf' : 'SQLite/GeoPackage'} file.`, { format: chosen, detected: sniffed });
  }
  const limits = { ...DEFAULT_READ_LIMITS, ...opts.limits };
  // A private, 8-byte-aligned copy: readers view it through typed arrays and never see the caller's buffer.
  const own = new Uint8Array(bytes);
  let raw: RawRead;
  switch (chosen) {
    case 'geojson':
      raw = readGeoJson(own, limits);
      break;
    case 'csv':
      raw = readCsv(own, limits, opts);
      break;
    case 'fgb':
      raw = readFgb(own, limits);
      break;
    case 'gpkg':
      raw = await readGpkg(own, limits, opts);
      break;
  }
  // NUL (U+0000) inside the file's text (a JSON "\u0000", a FlatGeobuf or GeoPackage string) is past the
  // request's own NUL check, and PostgreSQL's text types cannot store it: refused here, with where.
  raw.features.forEach((f, i) => {
    const path = findNul(f.properties);
    if (path !== undefined) throw fileRejected('TEXT_HOLDS_NUL', `Feature ${i + 1} has text with the NUL character (U+0000) at ${path}.`, { in: 'body', feature: i + 1, path });
  });
  // The caller's statement wins over the file's label: Chinese data labelled EPSG:4326 is often GCJ-02.
  const crs: ExchangeCrs = opts.crs ?? raw.declaredCrs ?? 'wgs84';
  const features = raw.features.map((f) => ({ geometry: f.geometry ? fromFileCrs(f.geometry, crs) : null, properties: f.properties, ...(f.line === undefined ? {} : { line: f.line }) }));
  return { format: chosen, name: raw.name, ...(raw.geometryField ? { geometryField: raw.geometryField } : {}), fields: raw.fields, features, crs };
}

/**
 * Where a feature's field (a property name, or `geometry`) lies in an uploaded file, in the words of its
 * format, for an error about that one feature: a CSV's `line` and column (as the registry import's row
 * errors say it), a FlatGeobuf's or GeoPackage's `featureIndex` (0-based, reading order) and field, a
 * GeoJSON file's path (`features/3/geometry`). The file is the body, so `in` is body; `field` is the
 * column as the file names it (its WKT or geometry column for the geometry).
 */
export function whereInFile(read: ReadResult, index: number, field: string): { in: 'body'; field: string; line?: number; featureIndex?: number } {
  if (read.format === 'geojson') return { in: 'body', field: field === 'geometry' ? `features/${index}/geometry` : `features/${index}/properties/${field}` };
  const column = field === 'geometry' ? (read.geometryField ?? 'geometry') : field;
  const line = read.features[index]?.line;
  return line === undefined ? { in: 'body', featureIndex: index, field: column } : { in: 'body', line, field: column };
}

/** What an upload's query string says about reading it (format, CRS, CSV geometry, GeoPackage layer). */
export interface UploadQuery {
  format?: string;
  crs?: ExchangeCrs;
  geometry?: 'wkt' | 'lonlat';
  layer?: string;
}

/**
 * An uploaded file's features, read by `readLayer` in the format `query.format` names, else the one its
 * content type names (else sniffed). A file without features is FILE_EMPTY.
 */
export async function readUpload(
  file: { bytes: Uint8Array; contentType?: string },
  query: UploadQuery,
  opts: { textFields: readonly string[]; limits: Partial<ReadLimits> },
): Promise<ReadResult> {
  const format = query.format !== undefined ? parseFormat(query.format) : formatOfMediaType(file.contentType);
  const read = await readLayer(format, file.bytes, {
    ...(query.crs ? { crs: query.crs } : {}),
    ...(query.geometry ? { csvGeometry: query.geometry } : {}),
    ...(query.layer ? { layer: query.layer } : {}),
    textFields: opts.textFields,
    limits: opts.limits,
  });
  if (read.features.length === 0) throw fileRejected('FILE_EMPTY', 'The file has no features.');
  return read;
}

/** The names of the text fields: a round trip reads them as text whatever they look like (digit-only codes). */
export function textFieldNames(fields: readonly FieldSpec[]): string[] {
  return fields.filter((f) => f.type === 'text').map((f) => f.name);
}
