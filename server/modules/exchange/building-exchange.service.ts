/**
 * Buildings through the exchange formats. Export writes the live buildings a filter selects; import
 * reads a file (any of the four formats, any supported CRS) and hands every feature to the registry's
 * own import (server/modules/registry/import): the same row checks, placement in a community and grid
 * by PostGIS (the grid is always derived, a `gridCode` in the file is ignored), natural-key upsert
 * (external id, else community + code), scope checks per row and modes (all-or-nothing by default).
 */
import type { Geometry } from 'geojson';
import type { Principal } from '../../auth/principal';
import type { BuildingExportQuery, BuildingImportQuery } from '../../contracts/exchange';
import type { Database } from '../../db/database';
import { AppError } from '../../http/errors';
import { API_IMPORT_MAX_ROWS, importSmall, type ImportReport } from '../registry/import/import.service';
import type { RowError } from '../registry/import/import-rows';
import type { RegistryCipher } from '../registry/registry-crypto';
import { requirePermission } from '../registry/registry-access';
import { parseBbox } from '../registry/registry-input';
import { parseFormat, readUpload, textFieldNames, writeLayer, type ExchangeFeature, type ExchangeFile } from './exchange';
import { listBuildingsForExport } from './exchange.repository';

/** Most buildings one export writes; narrow by community, grid or bbox beyond that. */
export const MAX_BUILDING_EXPORT = 100_000;

/** Columns in this order; the import reads the same names (the registry import's aliases). */
const BUILDING_FIELDS = [
  { name: 'communityCode', type: 'text' },
  { name: 'code', type: 'text' },
  { name: 'externalId', type: 'text' },
  { name: 'name', type: 'text' },
  { name: 'address', type: 'text' },
  { name: 'use', type: 'text' },
  { name: 'floors', type: 'integer' },
  { name: 'gridCode', type: 'text' },
] as const;

/** Read as text whatever they look like (codes are digits; GDAL's CSV typing would make numbers of them). */
const TEXT_FIELDS = textFieldNames(BUILDING_FIELDS);

export async function exportBuildings(db: Database, principal: Principal, query: BuildingExportQuery): Promise<ExchangeFile> {
  requirePermission(principal, 'registry:read');
  const format = parseFormat(query.format);
  const rows = await listBuildingsForExport(db, {
    ...(query.community ? { communityCode: query.community } : {}),
    ...(query.grid ? { gridCode: query.grid } : {}),
    ...(query.bbox ? { bbox: parseBbox(query.bbox) } : {}),
    limit: MAX_BUILDING_EXPORT + 1,
  });
  if (rows.length > MAX_BUILDING_EXPORT) {
    throw new AppError('VALIDATION_FAILED', 400, `More than ${MAX_BUILDING_EXPORT} buildings match; narrow the export with community, grid or bbox.`, { in: 'querystring', max: MAX_BUILDING_EXPORT });
  }
  const features: ExchangeFeature[] = rows.map(({ geometry, ...p }) => ({ geometry: geometry as unknown as Geometry, properties: p }));
  const name = `buildings${query.community ? `_${query.community}` : query.grid ? `_${query.grid}` : ''}`;
  return writeLayer(format, { name, fields: BUILDING_FIELDS, features }, { crs: query.crs, csvGeometry: query.geometry });
}

export async function importBuildingsFile(
  db: Database,
  principal: Principal,
  cipher: RegistryCipher,
  file: { bytes: Uint8Array; contentType?: string },
  query: BuildingImportQuery,
  opts: { maxVertices: number },
): Promise<ImportReport & { errors: RowError[]; errorsTruncated: boolean }> {
  requirePermission(principal, 'registry:write');
  const read = await readUpload(file, query, { textFields: TEXT_FIELDS, limits: { maxFeatures: API_IMPORT_MAX_ROWS, maxVerticesPerFeature: opts.maxVertices } });
  // One NDJSON record per feature (line n = feature n - 1): the registry import's streaming reader.
  const ndjson = read.features.map((f) => JSON.stringify({ ...f.properties, geometry: f.geometry })).join('\n');
  // Its row errors name NDJSON lines; a CSV file's reader knows each feature's own line (the header and
  // quoted line breaks count), and that is where the user looks. Other formats keep the feature number.
  const inFile = (errors: RowError[]): RowError[] => (read.format === 'csv' ? errors.map((e) => ({ ...e, line: read.features[e.line - 1]?.line ?? e.line })) : errors);
  try {
    const report = await importSmall(db, principal, ndjson, {
      entity: 'buildings',
      format: 'ndjson',
      mode: query.mode ?? 'all-or-nothing',
      cipher,
      community: query.community ?? null,
      makeValid: query.makeValid ?? false,
    });
    return { ...report, errors: inFile(report.errors) };
  } catch (err) {
    const details = err instanceof AppError ? (err.details as { errors?: RowError[] } | undefined) : undefined;
    // The same error (its code and status as the import chose them), with the rows' lines of the file.
    if (details && Array.isArray(details.errors)) details.errors = inFile(details.errors);
    throw err;
  }
}
