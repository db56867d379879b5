/**
 * FlatGeobuf through the official `flatgeobuf` package's generated FlatBuffers tables and geometry
 * codecs. Its high-level `serialize` takes the column list and types from the first feature only and
 * writes the CRS as a bare code, so the header and the property buffers are built here (columns and
 * types from the whole layer, null values skipped, the CRS with its name and WKT). Its high-level
 * reader trusts the file (a truncated file or a declared feature count of 2^40 is read as garbage or
 * loops), so reading walks the size prefixes itself, checks each against the bytes that remain and the
 * declared counts against the limits, and only then hands a feature to the package's decoders.
 */
import * as flatbuffers from 'flatbuffers';
import { ColumnType } from 'flatgeobuf/lib/mjs/flat-geobuf/column-type.js';
import { Column } from 'flatgeobuf/lib/mjs/flat-geobuf/column.js';
import { Crs } from 'flatgeobuf/lib/mjs/flat-geobuf/crs.js';
import { Feature } from 'flatgeobuf/lib/mjs/flat-geobuf/feature.js';
import type { Geometry as FgbGeometry } from 'flatgeobuf/lib/mjs/flat-geobuf/geometry.js';
import { GeometryType } from 'flatgeobuf/lib/mjs/flat-geobuf/geometry-type.js';
import { Header } from 'flatgeobuf/lib/mjs/flat-geobuf/header.js';
import { parseProperties } from 'flatgeobuf/lib/mjs/generic/feature.js';
import { buildGeometry } from 'flatgeobuf/lib/mjs/generic/geometry.js';
import { fromGeometry, parseGeometry } from 'flatgeobuf/lib/mjs/geojson/geometry.js';
import { fromByteBuffer } from 'flatgeobuf/lib/mjs/header-meta.js';
import type { Geometry } from 'geojson';
import { canonicalCrs, FILE_CRS, recogniseDeclaredCrs, toFileCrs } from './exchange-crs';
import { asCorrupt, fileRejected } from './exchange-error';
import { encodeValue } from './exchange-fields';
import { checkedGeometry, layerGeometryType, promote, VertexBudget, type SimpleType } from './exchange-geometry';
import type { ExchangeFeature, ExchangeLayer, FieldSpec, FieldType, RawRead, ReadLimits, WriteOptions } from './exchange-types';
import { columnNames } from './exchange-fields';

const MAGIC = new Uint8Array([0x66, 0x67, 0x62, 0x03, 0x66, 0x67, 0x62, 0x00]);
const NODE_ITEM_BYTES = 40;
const encoder = new TextEncoder();

const COLUMN_TYPES: Record<FieldType, ColumnType> = {
  integer: ColumnType.Long,
  real: ColumnType.Double,
  boolean: ColumnType.Bool,
  text: ColumnType.String,
  json: ColumnType.Json,
};

const GEOMETRY_TYPES: Record<SimpleType, GeometryType> = {
  Point: GeometryType.Point,
  LineString: GeometryType.LineString,
  Polygon: GeometryType.Polygon,
  MultiPoint: GeometryType.MultiPoint,
  MultiLineString: GeometryType.MultiLineString,
  MultiPolygon: GeometryType.MultiPolygon,
};

function buildHeader(layer: ExchangeLayer, columns: Array<{ name: string; type: ColumnType }>, geometryType: GeometryType, opts: WriteOptions): Uint8Array {
  const b = new flatbuffers.Builder(1024);
  const columnOffsets = columns.map((c) => {
    const name = b.createString(c.name);
    Column.startColumn(b);
    Column.addName(b, name);
    Column.addType(b, c.type);
    Column.addNullable(b, true);
    return Column.endColumn(b);
  });
  const columnsVector = Header.createColumnsVector(b, columnOffsets);
  const crs = FILE_CRS[canonicalCrs(opts.crs)];
  const epsg = crs.organization === 'EPSG';
  const org = b.createString(crs.organization);
  const crsName = b.createString(crs.name);
  const crsDescription = b.createString(crs.description);
  const wkt = epsg ? 0 : b.createString(crs.wkt);
  Crs.startCrs(b);
  Crs.addOrg(b, org);
  Crs.addCode(b, epsg ? crs.srsId : 0);
  Crs.addName(b, crsName);
  Crs.addDescription(b, crsDescription);
  if (wkt) Crs.addWkt(b, wkt);
  const crsOffset = Crs.endCrs(b);
  const name = b.createString(layer.name);
  Header.startHeader(b);
  Header.addName(b, name);
  Header.addGeometryType(b, geometryType);
  Header.addColumns(b, columnsVector);
  Header.addFeaturesCount(b, BigInt(layer.features.length));
  // No spatial index: files are exchanged whole, and readers (GDAL, QGIS) scan them sequentially.
  Header.addIndexNodeSize(b, 0);
  Header.addCrs(b, crsOffset);
  b.finishSizePrefixed(Header.endHeader(b));
  return b.asUint8Array();
}

/** The FlatGeobuf property buffer: (uint16 column index, value) for every non-null value. */
function encodeProperties(values: unknown[], types: FieldType[]): Uint8Array {
  const out: Uint8Array[] = [];
  let size = 0;
  const push = (bytes: Uint8Array): void => {
    out.push(bytes);
    size += bytes.length;
  };
  values.forEach((raw, i) => {
    const type = types[i] ?? 'text';
    const v = encodeValue(raw, type);
    if (v === null) return;
    const head = new DataView(new ArrayBuffer(2));
    head.setUint16(0, i, true);
    push(new Uint8Array(head.buffer));
    if (type === 'boolean') push(new Uint8Array([v ? 1 : 0]));
    else if (type === 'integer') {
      const d = new DataView(new ArrayBuffer(8));
      d.setBigInt64(0, BigInt(Math.trunc(Number(v))), true);
      push(new Uint8Array(d.buffer));
    } else if (type === 'real') {
      const d = new DataView(new ArrayBuffer(8));
      d.setFloat64(0, Number(v), true);
      push(new Uint8Array(d.buffer));
    } else {
      const str = encoder.encode(typeof v === 'object' ? JSON.stringify(v) : String(v));
      const d = new DataView(new ArrayBuffer(4));
      d.setUint32(0, str.length, true);
      push(new Uint8Array(d.buffer));
      push(str);
    }
  });
  const bytes = new Uint8Array(size);
  let off = 0;
  for (const o of out) {
    bytes.set(o, off);
    off += o.length;
  }
  return bytes;
}

function buildFeature(geometry: Geometry | null, properties: Uint8Array): Uint8Array {
  const b = new flatbuffers.Builder(1024);
  const props = properties.length > 0 ? Feature.createPropertiesVector(b, properties) : 0;
  const geom = geometry ? buildGeometry(b, parseGeometry(geometry as Parameters<typeof parseGeometry>[0])) : 0;
  Feature.startFeature(b);
  if (geom) Feature.addGeometry(b, geom);
  if (props) Feature.addProperties(b, props);
  b.finishSizePrefixed(Feature.endFeature(b));
  return b.asUint8Array();
}

export function writeFgb(layer: ExchangeLayer, fields: readonly FieldSpec[], opts: WriteOptions): Uint8Array {
  const geometries = layer.features.map((f) => (f.geometry ? toFileCrs(f.geometry, opts.crs) : null));
  const layerType = layerGeometryType(geometries);
  const names = columnNames(fields, []);
  const columns = fields.map((f) => ({ name: names.get(f.name) ?? f.name, type: COLUMN_TYPES[f.type] }));
  const types = fields.map((f) => f.type);
  const parts = [MAGIC, buildHeader(layer, columns, layerType ? GEOMETRY_TYPES[layerType] : GeometryType.Unknown, opts)];
  layer.features.forEach((f, i) => {
    const g = geometries[i] ?? null;
    parts.push(buildFeature(g ? promote(g, layerType) : null, encodeProperties(fields.map((field) => f.properties[field.name]), types)));
  });
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const FIELD_TYPES: Partial<Record<ColumnType, FieldType>> = {
  [ColumnType.Bool]: 'boolean',
  [ColumnType.Byte]: 'integer',
  [ColumnType.UByte]: 'integer',
  [ColumnType.Short]: 'integer',
  [ColumnType.UShort]: 'integer',
  [ColumnType.Int]: 'integer',
  [ColumnType.UInt]: 'integer',
  [ColumnType.Long]: 'integer',
  [ColumnType.ULong]: 'integer',
  [ColumnType.Float]: 'real',
  [ColumnType.Double]: 'real',
  [ColumnType.String]: 'text',
  [ColumnType.DateTime]: 'text',
  [ColumnType.Json]: 'json',
};

/** Vector lengths of a geometry must fit in its feature's bytes before anything is decoded. */
function checkGeometryBounds(g: FgbGeometry, budget: number, depth: number): void {
  if (depth > 3) throw new Error('geometry parts nested too deep');
  if (g.xyLength() * 8 > budget || g.endsLength() * 4 > budget || g.zLength() * 8 > budget || g.mLength() * 8 > budget) {
    throw new Error('a geometry declares more coordinates than its feature holds');
  }
  const parts = g.partsLength();
  if (parts * 4 > budget) throw new Error('a geometry declares more parts than its feature holds');
  for (let i = 0; i < parts; i += 1) {
    const part = g.parts(i);
    if (!part) throw new Error('a geometry part is missing');
    checkGeometryBounds(part, budget, depth + 1);
  }
}

export function readFgb(bytes: Uint8Array, limits: ReadLimits): RawRead {
  if (bytes.length < 12 || !MAGIC.subarray(0, 3).every((v, i) => bytes[i] === v)) {
    throw fileRejected('FILE_CORRUPT', 'This is not a FlatGeobuf file (its first bytes are not "fgb").');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw fileRejected('FILE_CORRUPT', 'The FlatGeobuf file is truncated: its header is incomplete.');
  let header: ReturnType<typeof fromByteBuffer>;
  let layerName: string | null;
  try {
    // A fresh copy: FlatBuffers vectors are read through typed arrays that need 8-byte alignment.
    const bb = new flatbuffers.ByteBuffer(bytes.slice(8, 12 + headerLength));
    header = fromByteBuffer(bb);
    layerName = Header.getSizePrefixedRootAsHeader(bb).name();
  } catch (err) {
    throw asCorrupt('FlatGeobuf header', err);
  }
  const declared = header.featuresCount;
  if (!Number.isFinite(declared) || declared < 0 || declared > limits.maxFeatures) {
    throw fileRejected('TOO_MANY_FEATURES', `The file declares ${declared} features; the limit is ${limits.maxFeatures}.`, { features: declared, limit: limits.maxFeatures });
  }
  if (header.columns && header.columns.length > limits.maxFields) {
    throw fileRejected('TOO_MANY_FIELDS', `The file has ${header.columns.length} columns; the limit is ${limits.maxFields}.`, { limit: limits.maxFields });
  }
  const declaredCrs = header.crs ? recogniseDeclaredCrs({ organization: header.crs.org, code: header.crs.code, name: header.crs.name }) : undefined;
  let offset = 12 + headerLength;
  if (header.indexNodeSize > 0) {
    // The index is skipped, but its size is computed from counts the file declares: check them first.
    if (declared === 0 || header.indexNodeSize < 2) throw fileRejected('FILE_CORRUPT', 'The FlatGeobuf index is declared without features or with a node size below 2.');
    let n = declared;
    let nodes = n;
    do {
      n = Math.ceil(n / header.indexNodeSize);
      nodes += n;
    } while (n > 1);
    offset += nodes * NODE_ITEM_BYTES;
    if (offset > bytes.length) throw fileRejected('FILE_CORRUPT', 'The FlatGeobuf file is truncated: its spatial index is incomplete.');
  }
  const fields: FieldSpec[] = (header.columns ?? []).map((c) => ({ name: c.name, type: FIELD_TYPES[c.type] ?? 'text' }));
  const binaryColumns = new Set((header.columns ?? []).filter((c) => c.type === ColumnType.Binary).map((c) => c.name));
  const budget = new VertexBudget(limits.maxVerticesPerFeature, limits.maxVertices);
  const features: ExchangeFeature[] = [];
  while (offset < bytes.length) {
    const index = features.length;
    if (index >= limits.maxFeatures) throw fileRejected('TOO_MANY_FEATURES', `The file has more than ${limits.maxFeatures} features.`, { limit: limits.maxFeatures });
    if (offset + 4 > bytes.length) throw fileRejected('FILE_CORRUPT', `The FlatGeobuf file is truncated inside feature ${index}.`, { featureIndex: index });
    const length = view.getUint32(offset, true);
    if (offset + 4 + length > bytes.length) throw fileRejected('FILE_CORRUPT', `The FlatGeobuf file is truncated inside feature ${index}.`, { featureIndex: index });
    let feature: ExchangeFeature;
    try {
      const bb = new flatbuffers.ByteBuffer(bytes.slice(offset, offset + 4 + length));
      const f = Feature.getSizePrefixedRootAsFeature(bb);
      const g = f.geometry();
      if (g) checkGeometryBounds(g, length, 0);
      const raw = g ? (fromGeometry(g, header.geometryType) as unknown) : null;
      const { geometry, vertices } = checkedGeometry(raw, index);
      budget.take(vertices, index);
      if (f.propertiesLength() > length) throw new Error('the properties declare more bytes than the feature holds');
      const props = parseProperties(f, header.columns) as Record<string, unknown>;
      const properties = Object.fromEntries(Object.entries(props).filter(([k, v]) => v !== null && v !== undefined && !binaryColumns.has(k)));
      feature = { geometry, properties };
    } catch (err) {
      throw asCorrupt(`FlatGeobuf feature ${index}`, err);
    }
    features.push(feature);
    offset += 4 + length;
  }
  if (declared > 0 && features.length !== declared) {
    throw fileRejected('FILE_CORRUPT', `The FlatGeobuf file declares ${declared} features but holds ${features.length}: it is truncated.`, { declared, found: features.length });
  }
  return { name: layerName, fields, features, ...(declaredCrs ? { declaredCrs } : {}) };
}
