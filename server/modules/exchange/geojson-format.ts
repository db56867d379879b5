/**
 * GeoJSON (RFC 7946): a FeatureCollection with the layer name as the `name` foreign member (GDAL and
 * QGIS show it as the layer name). Files in GCJ-02/BD-09 say so in a `coordinateSystem` foreign
 * member, which RFC 7946 readers ignore and our reader uses as the declared CRS.
 */
import type { ExchangeCrs } from '../../contracts/exchange';
import { canonicalCrs, toFileCrs } from './exchange-crs';
import { fileRejected } from './exchange-error';
import { checkedGeometry } from './exchange-geometry';
import type { ExchangeFeature, ExchangeLayer, FieldSpec, RawRead, ReadLimits, WriteOptions } from './exchange-types';
import { VertexBudget } from './exchange-geometry';
import { inferFields } from './exchange-fields';

const encoder = new TextEncoder();

export function writeGeoJson(layer: ExchangeLayer, fields: readonly FieldSpec[], opts: WriteOptions): Uint8Array {
  const crs = canonicalCrs(opts.crs);
  const parts: string[] = [];
  parts.push(`{"type":"FeatureCollection","name":${JSON.stringify(layer.name)}`);
  if (crs !== 'wgs84') parts.push(`,"coordinateSystem":${JSON.stringify(crs)}`);
  parts.push(',"features":[');
  layer.features.forEach((f, i) => {
    const properties: Record<string, unknown> = {};
    for (const field of fields) {
      const v = f.properties[field.name];
      properties[field.name] = v === undefined ? null : v;
    }
    const geometry = f.geometry ? toFileCrs(f.geometry, crs) : null;
    parts.push(`${i === 0 ? '' : ','}\n${JSON.stringify({ type: 'Feature', geometry, properties })}`);
  });
  parts.push('\n]}\n');
  return encoder.encode(parts.join(''));
}

export function readGeoJson(bytes: Uint8Array, limits: ReadLimits): RawRead {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, ''));
  } catch (err) {
    throw fileRejected('FILE_CORRUPT', `The GeoJSON is not valid UTF-8 JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw fileRejected('FILE_CORRUPT', 'The GeoJSON is not an object.');
  const root = doc as { type?: unknown; features?: unknown; name?: unknown; coordinateSystem?: unknown; crs?: unknown };
  let rawFeatures: unknown[];
  if (root.type === 'FeatureCollection' && Array.isArray(root.features)) rawFeatures = root.features;
  else if (root.type === 'Feature') rawFeatures = [root];
  else throw fileRejected('FILE_CORRUPT', 'The GeoJSON is neither a FeatureCollection nor a Feature.', { type: typeof root.type === 'string' ? root.type : null });
  if (rawFeatures.length > limits.maxFeatures) {
    throw fileRejected('TOO_MANY_FEATURES', `The file has ${rawFeatures.length} features; the limit is ${limits.maxFeatures}.`, { features: rawFeatures.length, limit: limits.maxFeatures });
  }
  const budget = new VertexBudget(limits.maxVerticesPerFeature, limits.maxVertices);
  const features: ExchangeFeature[] = rawFeatures.map((raw, index) => {
    if (raw === null || typeof raw !== 'object' || (raw as { type?: unknown }).type !== 'Feature') {
      throw fileRejected('FILE_CORRUPT', `Feature ${index} is not a GeoJSON Feature.`, { featureIndex: index });
    }
    const f = raw as { geometry?: unknown; properties?: unknown };
    const { geometry, vertices } = checkedGeometry(f.geometry, index);
    budget.take(vertices, index);
    const props = f.properties && typeof f.properties === 'object' && !Array.isArray(f.properties) ? (f.properties as Record<string, unknown>) : {};
    const properties = Object.fromEntries(Object.entries(props).filter(([, v]) => v !== null && v !== undefined));
    return { geometry, properties };
  });
  const fields = inferFields(features);
  if (fields.length > limits.maxFields) throw fileRejected('TOO_MANY_FIELDS', `The file has ${fields.length} properties; the limit is ${limits.maxFields}.`, { limit: limits.maxFields });
  return { name: typeof root.name === 'string' ? root.name : null, fields, features, declaredCrs: declaredGeoJsonCrs(root) };
}

/** Our own `coordinateSystem` member, else a legacy (2008) `crs` member naming EPSG/OGC codes. */
function declaredGeoJsonCrs(root: { coordinateSystem?: unknown; crs?: unknown }): ExchangeCrs | undefined {
  if (root.coordinateSystem === 'gcj02' || root.coordinateSystem === 'bd09' || root.coordinateSystem === 'wgs84') return root.coordinateSystem;
  const name = (root.crs as { properties?: { name?: unknown } } | undefined)?.properties?.name;
  if (typeof name !== 'string') return undefined;
  if (/CRS84$|EPSG:{1,2}4326$/i.test(name)) return 'wgs84';
  if (/EPSG:{1,2}4490$/i.test(name)) return 'cgcs2000';
  throw fileRejected('CRS_UNSUPPORTED', `The GeoJSON declares the CRS ${name}; send longitude/latitude in WGS 84 / CGCS2000, GCJ-02 or BD-09.`, { declared: name });
}
