/**
 * CSV (RFC 4180, UTF-8 with a BOM so Excel shows Chinese text): geometry as a `WKT` column, which GDAL
 * and QGIS pick up by name, or as `lon`/`lat` columns for point layers. Reading uses the project's
 * RFC 4180 parser (divisions/division-csv.ts). CSV has no types, so the reader types each column by
 * what all its cells look like: numbers written as JavaScript writes them, true/false, JSON objects or
 * arrays; everything else (and every column named in `textFields`) stays text. Empty cells are absent.
 */
import type { Geometry } from 'geojson';
import { parseCsv } from '../divisions/division-csv';
import { toFileCrs } from './exchange-crs';
import { fileRejected } from './exchange-error';
import { encodeValue, isCanonicalNumber } from './exchange-fields';
import { checkedGeometry, geometryToWkt, VertexBudget, wktToGeometry } from './exchange-geometry';
import type { ExchangeFeature, ExchangeLayer, FieldSpec, FieldType, RawRead, ReadLimits, WriteOptions } from './exchange-types';
import { columnNames } from './exchange-fields';

const encoder = new TextEncoder();
const WKT_NAMES = ['wkt', 'geometry', 'geom', 'the_geom', 'wkt_geom'];
const LON_NAMES = ['lon', 'lng', 'longitude', 'x'];
const LAT_NAMES = ['lat', 'latitude', 'y'];

function cell(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replaceAll('"', '""')}"` : value;
}

function text(value: unknown, type: FieldType): string {
  const v = encodeValue(value, type);
  if (v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function writeCsv(layer: ExchangeLayer, fields: readonly FieldSpec[], opts: WriteOptions): Uint8Array {
  const lonlat = opts.csvGeometry === 'lonlat';
  if (lonlat && layer.features.some((f) => f.geometry !== null && f.geometry.type !== 'Point')) {
    throw fileRejected('GEOMETRY_TYPE', 'geometry=lonlat is for point layers; this layer has lines or polygons (use geometry=wkt).', { in: 'querystring', field: 'geometry' });
  }
  const geomColumns = lonlat ? ['lon', 'lat'] : ['WKT'];
  const names = columnNames(fields, geomColumns);
  const lines = [[...geomColumns, ...fields.map((f) => names.get(f.name) ?? f.name)].map(cell).join(',')];
  for (const f of layer.features) {
    const g = f.geometry ? toFileCrs(f.geometry, opts.crs) : null;
    const geom = lonlat
      ? g && g.type === 'Point' ? [String(g.coordinates[0]), String(g.coordinates[1])] : ['', '']
      : [g ? geometryToWkt(g) : ''];
    lines.push([...geom, ...fields.map((field) => text(f.properties[field.name], field.type))].map(cell).join(','));
  }
  return encoder.encode(`\uFEFF${lines.join('\r\n')}\r\n`);
}

function columnType(values: string[]): FieldType {
  const present = values.filter((v) => v !== '');
  if (present.length === 0) return 'text';
  if (present.every(isCanonicalNumber)) return present.every((v) => Number.isSafeInteger(Number(v))) ? 'integer' : 'real';
  if (present.every((v) => v === 'true' || v === 'false')) return 'boolean';
  if (present.every((v) => /^[[{]/.test(v) && isJsonContainer(v))) return 'json';
  return 'text';
}

function isJsonContainer(v: string): boolean {
  try {
    const parsed: unknown = JSON.parse(v);
    return parsed !== null && typeof parsed === 'object';
  } catch {
    return false;
  }
}

function typed(v: string, type: FieldType): unknown {
  switch (type) {
    case 'integer':
    case 'real':
      return Number(v);
    case 'boolean':
      return v === 'true';
    case 'json':
      return JSON.parse(v) as unknown;
    case 'text':
      return v;
  }
}

export function readCsv(bytes: Uint8Array, limits: ReadLimits, opts: { csvGeometry?: 'wkt' | 'lonlat'; textFields?: readonly string[] }): RawRead {
  let source: string;
  try {
    source = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw fileRejected('CSV_MALFORMED', 'The CSV is not UTF-8 text (save it as "CSV UTF-8").');
  }
  const parsed = parseCsv(source);
  if (!parsed.ok) throw fileRejected('CSV_MALFORMED', parsed.message, { line: parsed.line });
  const [header, ...rows] = parsed.records;
  if (!header) throw fileRejected('FILE_EMPTY', 'The CSV has no header row.');
  if (rows.length > limits.maxFeatures) {
    throw fileRejected('TOO_MANY_FEATURES', `The file has ${rows.length} rows; the limit is ${limits.maxFeatures}.`, { features: rows.length, limit: limits.maxFeatures });
  }
  // A repeated column would be read as one property, the later cell silently replacing the earlier.
  const seen = new Set<string>();
  for (const name of header.fields.map((h) => h.trim())) {
    if (seen.has(name)) throw fileRejected('CSV_MALFORMED', `The header names the column "${name}" twice.`, { line: header.line, field: name });
    seen.add(name);
  }
  const lower = header.fields.map((h) => h.trim().toLowerCase());
  const find = (candidates: string[]): number => candidates.map((c) => lower.indexOf(c)).find((i) => i >= 0) ?? -1;
  const wktAt = find(WKT_NAMES);
  const lonAt = find(LON_NAMES);
  const latAt = find(LAT_NAMES);
  const lonlat = opts.csvGeometry === 'lonlat' || (opts.csvGeometry === undefined && wktAt < 0 && lonAt >= 0 && latAt >= 0);
  if (lonlat ? lonAt < 0 || latAt < 0 : wktAt < 0) {
    throw fileRejected('GEOMETRY_MISSING', lonlat ? 'The CSV has no lon and lat columns.' : 'The CSV has no WKT column (or lon/lat columns for points).', { header: header.fields });
  }
  const geomAt = new Set(lonlat ? [lonAt, latAt] : [wktAt]);
  const propAt = header.fields.map((name, i) => ({ name: name.trim(), i })).filter((c) => !geomAt.has(c.i));
  if (propAt.length > limits.maxFields) throw fileRejected('TOO_MANY_FIELDS', `The CSV has ${propAt.length} columns; the limit is ${limits.maxFields}.`, { limit: limits.maxFields });
  for (const row of rows) {
    if (row.fields.length !== header.fields.length) {
      throw fileRejected('CSV_MALFORMED', `Line ${row.line} has ${row.fields.length} fields; the header has ${header.fields.length}.`, { line: row.line });
    }
  }
  const textFields = new Set(opts.textFields ?? []);
  const fields: FieldSpec[] = propAt.map((c) => ({ name: c.name, type: textFields.has(c.name) ? 'text' : columnType(rows.map((r) => r.fields[c.i] ?? '')) }));
  const budget = new VertexBudget(limits.maxVerticesPerFeature, limits.maxVertices);
  const features: ExchangeFeature[] = rows.map((row, index) => {
    let geometry: Geometry | null;
    if (lonlat) {
      const lon = (row.fields[lonAt] ?? '').trim();
      const lat = (row.fields[latAt] ?? '').trim();
      if (lon === '' && lat === '') geometry = null;
      else {
        // Number('') is 0: a missing coordinate would put the point on the equator or the meridian.
        const bad = [{ at: lonAt, v: lon }, { at: latAt, v: lat }].find((c) => !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(c.v));
        if (bad) {
          const column = (header.fields[bad.at] ?? '').trim();
          throw fileRejected('CSV_MALFORMED', `Line ${row.line}: ${column} must be a number in degrees${bad.v === '' ? ' (the cell is empty)' : ''}.`, { line: row.line, field: column });
        }
        const p = [Number(lon), Number(lat)];
        geometry = checkedGeometry({ type: 'Point', coordinates: p }, index).geometry;
      }
    } else {
      const wkt = (row.fields[wktAt] ?? '').trim();
      geometry = wkt === '' ? null : wktToGeometry(wkt, index);
    }
    const checked = checkedGeometry(geometry, index);
    budget.take(checked.vertices, index);
    const properties: Record<string, unknown> = {};
    propAt.forEach((c, k) => {
      const v = row.fields[c.i] ?? '';
      const field = fields[k];
      if (v !== '' && field) properties[c.name] = typed(v, field.type);
    });
    return { geometry: checked.geometry, properties, line: row.line };
  });
  return { name: null, geometryField: (header.fields[lonlat ? lonAt : wktAt] ?? '').trim(), fields, features };
}
