/** Small input helpers shared by the registry's services. */
import type { ListQuery } from '../../contracts/registry';
import { validatePolygonGeometry } from '../../geo/validate-geometry';
import { AppError, geometryInvalid } from '../../http/errors';

export function parseBbox(text: string): [number, number, number, number] {
  const parts = text.split(',').map(Number);
  const [w, s, e, n] = parts;
  if (parts.length !== 4 || w === undefined || s === undefined || e === undefined || n === undefined || parts.some((v) => !Number.isFinite(v)) || w > e || s > n) {
    throw new AppError('VALIDATION_FAILED', 400, 'bbox must be minLng,minLat,maxLng,maxLat with min ≤ max.', { in: 'querystring', field: 'bbox' });
  }
  return [w, s, e, n];
}

/**
 * Gate 2 for a record's area (building footprint, organisation premises): the checks the grid editor
 * runs, so an unclosed or self-intersecting ring is refused with where it fails instead of reaching
 * PostGIS (whose reader fails on an unclosed ring of a MultiPolygon). Points are left to the schema.
 */
export function assertRecordGeometry(geometry: unknown): void {
  const type = (geometry as { type?: unknown } | null)?.type;
  if (type !== 'Polygon' && type !== 'MultiPolygon') return;
  const check = validatePolygonGeometry(geometry);
  if (!check.valid) throw geometryInvalid(check, { in: 'body', field: 'geometry' });
}

/** Database constraint failures a client can fix, as AppErrors (invalid geometry, duplicates). */
export async function translateDbError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as { code?: string; constraint?: string; message?: string };
    if (e.code === '23514' && /geom/.test(e.constraint ?? '')) throw new AppError('GEOMETRY_INVALID', 422, 'The geometry is not valid (self-intersecting or empty).', { in: 'body', field: 'geometry', constraint: e.constraint });
    if (e.code === 'XX000' && /GeoJSON|geometry/i.test(e.message ?? '')) throw new AppError('GEOMETRY_INVALID', 422, `The geometry could not be read: ${e.message ?? ''}`, { in: 'body', field: 'geometry' });
    // The record written is the body's; the constraint names the rule (no one field is known here).
    if (e.code === '23505') throw new AppError('CONFLICT', 409, 'A record with the same natural key exists.', { in: 'body', constraint: e.constraint });
    if (e.code === '23514' || e.code === '23503') throw new AppError('VALIDATION_FAILED', 422, `The record breaks a rule: ${e.constraint ?? e.message ?? ''}.`, { in: 'body', constraint: e.constraint });
    throw err;
  }
}

/** The filters every registry list takes from its query: place, keyset cursor, deleted rows and page size. */
export interface ListFilter {
  limit: number;
  gridCode?: string;
  gridId?: number;
  communityCode?: string;
  after?: number;
  includeDeleted?: boolean;
}

/** The place, cursor and deleted-rows filters of `q`; the page size defaults to 50. */
export function listFilterOf(q: ListQuery): ListFilter {
  return {
    limit: q.limit ?? 50,
    ...(q.grid === undefined ? {} : { gridCode: q.grid }),
    ...(q.gridId === undefined ? {} : { gridId: q.gridId }),
    ...(q.community === undefined ? {} : { communityCode: q.community }),
    ...(q.after === undefined ? {} : { after: q.after }),
    ...(q.includeDeleted ? { includeDeleted: true } : {}),
  };
}

/** The box and text filters of `q`, for the lists that take them (a malformed bbox: 400). */
export function searchFilterOf(q: ListQuery): { bbox?: [number, number, number, number]; q?: string } {
  return {
    ...(q.bbox === undefined ? {} : { bbox: parseBbox(q.bbox) }),
    ...(q.q === undefined ? {} : { q: q.q }),
  };
}

/** A keyset page: `next` is the last id when the page is full (there may be more), otherwise null. */
export function pageOf<T extends { id: number }>(items: T[], limit: number): { items: T[]; next: number | null } {
  return { items, next: items.length === limit ? (items[items.length - 1]?.id ?? null) : null };
}
