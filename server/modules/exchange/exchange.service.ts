/**
 * Layouts and divisions through the exchange formats. Export maps rows to an ExchangeLayer; import
 * reads the file (limits, CRS), maps features to grid inputs (the same checks the JSON route schema
 * makes, per feature, so every bad feature is listed at once) and hands them to the layout import
 * service, which validates geometry and creates the draft in one transaction: all or nothing.
 */
import type { Geometry } from 'geojson';
import type { Scope } from '../../auth/principal';
import type { DivisionExportQuery, ExportQuery, LayoutImportQuery } from '../../contracts/exchange';
import { GRID_KINDS, type GridInput, type GridKind } from '../../contracts/grid';
import type { LayoutCollection } from '../../contracts/layout';
import type { Database } from '../../db/database';
import { AppError } from '../../http/errors';
import { getDivision } from '../divisions/division.service';
import { getLayoutCollection, importLayout, type ImportFeatureError } from '../layouts/layout.service';
import { fileRejected } from './exchange-error';
import { formatOfMediaType, parseFormat, readLayer, whereInFile, writeLayer, type ExchangeFeature, type ExchangeFile, type ReadResult } from './exchange';
import { listDivisionDescendants } from './exchange.repository';

/** Grid fields written first, in this order; free attributes follow. */
const GRID_FIELDS = [
  { name: 'id', type: 'integer' },
  { name: 'code', type: 'text' },
  { name: 'name', type: 'text' },
  { name: 'kind', type: 'text' },
  { name: 'areaM2', type: 'real' },
] as const;

/** Keys of the JSON export that are bookkeeping, not part of an exchanged grid. */
const NOT_EXPORTED = new Set(['layoutId', 'version']);

/** Drafts only inside the caller's scope; published and archived layouts are public history. */
export async function exportLayout(db: Database, id: number, query: ExportQuery, scope: Scope): Promise<ExchangeFile> {
  const format = parseFormat(query.format);
  const collection = await getLayoutCollection(db, id, scope);
  const features: ExchangeFeature[] = collection.features.map((f) => ({
    geometry: f.geometry as unknown as Geometry,
    properties: { id: f.id, ...Object.fromEntries(Object.entries(f.properties).filter(([k]) => !NOT_EXPORTED.has(k))) },
  }));
  const name = `layout_${collection.layout.communityCode}_${collection.layout.id}`;
  return writeLayer(format, { name, fields: GRID_FIELDS, features }, { crs: query.crs, csvGeometry: query.geometry });
}

export async function exportDivisions(db: Database, code: string, query: DivisionExportQuery): Promise<ExchangeFile> {
  const format = parseFormat(query.format);
  await getDivision(db, code);
  const rows = await listDivisionDescendants(db, code, query.level);
  const features: ExchangeFeature[] = rows.map((r) => ({
    geometry: r.geometry as unknown as Geometry | null,
    properties: { code: r.code, name: r.name, level: r.level, parentCode: r.parentCode, boundarySource: r.boundarySource },
  }));
  const fields = [
    { name: 'code', type: 'text' },
    { name: 'name', type: 'text' },
    { name: 'level', type: 'text' },
    { name: 'parentCode', type: 'text' },
    { name: 'boundarySource', type: 'text' },
  ] as const;
  return writeLayer(format, { name: `divisions_${code}`, fields, features }, { crs: query.crs, csvGeometry: query.geometry });
}

const GRID_CODE = /^[0-9]{15}$/;

/** A file feature as a grid input, or the reason it cannot be one (where in the file: whereInFile). */
function toGridInput(read: ReadResult, f: ExchangeFeature, index: number): GridInput | ImportFeatureError {
  const problem = (code: string, message: string, field: string, details: Record<string, unknown> = {}): ImportFeatureError => ({
    featureIndex: index,
    code,
    message,
    details: { ...whereInFile(read, index, field), ...details },
  });
  if (!f.geometry) return problem('GEOMETRY_MISSING', 'The feature has no geometry.', 'geometry');
  if (f.geometry.type !== 'Polygon' && f.geometry.type !== 'MultiPolygon') {
    return problem('GEOMETRY_TYPE', `A grid is a Polygon or MultiPolygon, not a ${f.geometry.type}.`, 'geometry', { type: f.geometry.type });
  }
  const { name, kind, code, ...free } = f.properties;
  // Other producers type digit-only codes as integers (GDAL's CSV autodetection, QGIS field calculators).
  const codeText = typeof code === 'number' && Number.isSafeInteger(code) ? String(code) : code;
  if (codeText !== undefined && (typeof codeText !== 'string' || !GRID_CODE.test(codeText))) {
    return problem('VALIDATION_FAILED', 'code must be 15 digits (community code + 3-digit sequence).', 'code', { value: code });
  }
  const nameText = typeof name === 'number' ? String(name) : name;
  if (nameText !== undefined && (typeof nameText !== 'string' || nameText.length > 200)) {
    return problem('VALIDATION_FAILED', 'name must be text of at most 200 characters.', 'name');
  }
  if (kind !== undefined && !(GRID_KINDS as readonly unknown[]).includes(kind)) {
    return problem('VALIDATION_FAILED', `kind must be one of ${GRID_KINDS.join(', ')}.`, 'kind', { value: kind });
  }
  return {
    type: 'Feature',
    geometry: f.geometry as GridInput['geometry'],
    properties: {
      ...free,
      ...(nameText === undefined ? {} : { name: nameText }),
      ...(kind === undefined ? {} : { kind: kind as GridKind }),
      ...(codeText === undefined ? {} : { code: codeText }),
    },
  };
}

export async function importLayoutFile(
  db: Database,
  communityCode: string,
  file: { bytes: Uint8Array; contentType?: string },
  query: LayoutImportQuery & { layer?: string },
  opts: { maxVertices: number; maxFeatures: number; scope: Scope },
): Promise<LayoutCollection> {
  const format = query.format !== undefined ? parseFormat(query.format) : formatOfMediaType(file.contentType);
  const read = await readLayer(format, file.bytes, {
    crs: query.crs,
    csvGeometry: query.geometry,
    textFields: ['code', 'name', 'kind'],
    layer: query.layer,
    limits: { maxFeatures: opts.maxFeatures, maxVerticesPerFeature: opts.maxVertices },
  });
  if (read.features.length === 0) throw fileRejected('FILE_EMPTY', 'The file has no features.');
  const inputs: GridInput[] = [];
  const errors: ImportFeatureError[] = [];
  read.features.forEach((f, i) => {
    const r = toGridInput(read, f, i);
    if ('featureIndex' in r) errors.push(r);
    else inputs.push(r);
  });
  if (errors.length > 0) {
    const reason = errors.every((e) => e.code === 'GEOMETRY_MISSING') ? 'GEOMETRY_MISSING' : errors.every((e) => e.code.startsWith('GEOMETRY_')) ? 'GEOMETRY_TYPE' : undefined;
    throw new AppError('IMPORT_FAILED', 422, `${errors.length} feature(s) cannot be grids; nothing was created.`, { in: 'body', ...(reason ? { reason } : {}), errors: errors.slice(0, 100) });
  }
  const name = query.name ?? read.name ?? 'import';
  const featureWhere = (index: number, field: 'geometry' | 'code'): { in: 'body'; field: string } => whereInFile(read, index, field);
  return importLayout(db, communityCode, { name: name.slice(0, 200), features: inputs }, { fix: query.fix === true, maxVertices: opts.maxVertices, scope: opts.scope, featureWhere });
}
