/**
 * OGC API – Features (Part 1 Core with GeoJSON and OpenAPI 3.0, Part 2 CRS): landing page,
 * conformance, collections, items with bbox/limit/offset/datetime/property filters and paging links.
 */
import { can, type Principal } from '../../auth/principal';
import type { Database } from '../../db/database';
import { AppError } from '../../http/errors';
import { findCollection, OGC_COLLECTIONS, type OgcCollection, type SourceContext } from './ogc-collections';
import { CRS84, latFirst, parseCrs, SUPPORTED_CRS, type SupportedCrs } from './ogc-crs';
import { collectionExtent, queryItem, queryItems } from './ogc.repository';
import { isRealDate } from '../../contracts/calendar';

export const CONFORMANCE = [
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30',
  'http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs',
];

const GEOJSON = 'application/geo+json';
const JSON_TYPE = 'application/json';
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;

interface Link {
  href: string;
  rel: string;
  type?: string;
  title?: string;
}

export function landingPage(base: string): Record<string, unknown> {
  return {
    title: 'Wangge (网格) OGC API – Features',
    description: 'Administrative divisions, community grids, buildings, organisations and (signed in, with events:read) events. No personal data is published here.',
    links: [
      { href: `${base}/ogc`, rel: 'self', type: JSON_TYPE, title: 'This document' },
      { href: `${base}/openapi.json`, rel: 'service-desc', type: 'application/vnd.oai.openapi+json;version=3.0', title: 'The API definition' },
      { href: `${base}/docs`, rel: 'service-doc', type: 'text/html', title: 'The API documentation' },
      { href: `${base}/ogc/conformance`, rel: 'conformance', type: JSON_TYPE, title: 'Conformance classes' },
      { href: `${base}/ogc/collections`, rel: 'data', type: JSON_TYPE, title: 'Feature collections' },
    ] satisfies Link[],
  };
}

/** Whether the principal may read the collection (public ones: everyone). */
export function mayRead(principal: Principal, c: OgcCollection): boolean {
  return c.permission === undefined || can(principal, c.permission);
}

/** The rows a principal sees of a collection: their scope (only restricted collections narrow by it). */
export function sourceContext(principal: Principal): SourceContext {
  return { scopePrefixes: principal.scope.all ? null : principal.scope.prefixes };
}

export function requireCollection(id: string, principal: Principal): OgcCollection {
  const c = findCollection(id);
  if (!c) throw new AppError('NOT_FOUND', 404, `No collection "${id}". Collections: ${OGC_COLLECTIONS.map((x) => x.id).join(', ')}.`, { in: 'params', field: 'collectionId', collection: id });
  if (!mayRead(principal, c)) {
    if (principal.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', 401, `Collection "${id}" needs signing in.`, { reason: 'missing' });
    throw new AppError('FORBIDDEN', 403, `Collection "${id}" needs the permission ${c.permission ?? ''}.`, { permission: c.permission });
  }
  return c;
}

export async function describeCollection(db: Database, base: string, c: OgcCollection, ctx: SourceContext): Promise<Record<string, unknown>> {
  const extent = await collectionExtent(db, c, ctx);
  return {
    id: c.id,
    title: c.title,
    description: c.description,
    itemType: 'feature',
    crs: [...SUPPORTED_CRS],
    storageCrs: CRS84,
    extent: {
      spatial: { bbox: [extent.bbox ?? [-180, -90, 180, 90]], crs: CRS84 },
      ...(c.temporal ? { temporal: { interval: [[extent.start, extent.end]], trs: 'http://www.opengis.net/def/uom/ISO-8601/0/Gregorian' } } : {}),
    },
    links: [
      { href: `${base}/ogc/collections/${c.id}`, rel: 'self', type: JSON_TYPE },
      { href: `${base}/ogc/collections/${c.id}/items`, rel: 'items', type: GEOJSON, title: c.title },
      { href: `${base}/ogc/collections/${c.id}/queryables`, rel: 'http://www.opengis.net/def/rel/ogc/1.0/queryables', type: 'application/schema+json' },
    ],
  };
}

/** The collections this principal may read: restricted ones (events) only with their permission. */
export async function listCollections(db: Database, base: string, principal: Principal): Promise<Record<string, unknown>> {
  const ctx = sourceContext(principal);
  return {
    links: [{ href: `${base}/ogc/collections`, rel: 'self', type: JSON_TYPE }],
    crs: [...SUPPORTED_CRS],
    collections: await Promise.all(OGC_COLLECTIONS.filter((c) => mayRead(principal, c)).map((c) => describeCollection(db, base, c, ctx))),
  };
}

export function queryables(base: string, c: OgcCollection): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2019-09/schema',
    $id: `${base}/ogc/collections/${c.id}/queryables`,
    type: 'object',
    title: c.title,
    properties: Object.fromEntries(Object.entries(c.properties).map(([name, p]) => [name, { title: p.title, type: p.type }])),
  };
}

/** RFC 3339 instant or interval (`a/b`, `../b`, `a/..`). */
export function parseDatetime(value: string): { start: Date | null; end: Date | null } {
  const parse = (s: string): Date | null => {
    if (s === '..' || s === '') return null;
    const d = new Date(s);
    // Date rolls 2026-02-30 over to 2 March: the calendar date itself must exist.
    const ymd = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
    const realDay = !ymd || isRealDate(Number(ymd[1]), Number(ymd[2]), Number(ymd[3]));
    if (Number.isNaN(d.getTime()) || !realDay) throw new AppError('VALIDATION_FAILED', 400, `datetime "${value}" is not an RFC 3339 instant or interval.`, { in: 'querystring', field: 'datetime', value });
    return d;
  };
  const parts = value.split('/');
  if (parts.length === 1) {
    const t = parse(parts[0] ?? '');
    return { start: t, end: t };
  }
  if (parts.length !== 2) throw new AppError('VALIDATION_FAILED', 400, `datetime "${value}" has too many "/".`, { in: 'querystring', field: 'datetime' });
  const start = parse(parts[0] ?? '');
  const end = parse(parts[1] ?? '');
  if (start && end && start > end) throw new AppError('VALIDATION_FAILED', 400, `datetime "${value}" ends before it starts.`, { in: 'querystring', field: 'datetime', value });
  return { start, end };
}

function parseBbox(value: string, crs: SupportedCrs): [number, number, number, number] {
  const n = value.split(',').map(Number);
  if ((n.length !== 4 && n.length !== 6) || !n.every(Number.isFinite)) {
    throw new AppError('VALIDATION_FAILED', 400, 'bbox must be four numbers (or six with heights).', { in: 'querystring', field: 'bbox', value });
  }
  const [a = 0, b = 0, c = 0, d = 0] = n.length === 6 ? [n[0], n[1], n[3], n[4]] : n;
  // In a latitude-first CRS the corners arrive as lat,lon.
  const [w, s, e, north] = latFirst(crs) ? [b, a, d, c] : [a, b, c, d];
  if (w < -180 || e > 180 || s < -90 || north > 90 || s > north) {
    throw new AppError('VALIDATION_FAILED', 400, 'bbox is outside the valid ranges or its corners are swapped.', { in: 'querystring', field: 'bbox', value });
  }
  return [w, s, e, north];
}

export interface ItemsRequest {
  bbox?: string;
  bboxCrs?: string;
  crs?: string;
  datetime?: string;
  limit?: number;
  offset?: number;
  /** Other query parameters: simple property filters. */
  extra: Record<string, unknown>;
}

export async function getItems(db: Database, base: string, c: OgcCollection, ctx: SourceContext, req: ItemsRequest): Promise<{ body: Record<string, unknown>; crs: SupportedCrs }> {
  const crs = parseCrs(req.crs, 'crs');
  const bboxCrs = parseCrs(req.bboxCrs, 'bbox-crs');
  const limit = Math.min(req.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
  const offset = req.offset ?? 0;
  const filters: Array<{ column: string; value: string }> = [];
  for (const [key, value] of Object.entries(req.extra)) {
    // Own keys only: `in` would also accept "constructor" or "toString" from the prototype (then a 500).
    if (!Object.hasOwn(c.properties, key)) {
      throw new AppError('VALIDATION_FAILED', 400, `Unknown query parameter "${key}". Filters: ${Object.keys(c.properties).join(', ')}.`, { in: 'querystring', field: key });
    }
    filters.push({ column: key, value: String(value) });
  }
  const result = await queryItems(db, c, ctx, {
    ...(req.bbox === undefined ? {} : { bbox: parseBbox(req.bbox, bboxCrs) }),
    ...(req.datetime === undefined ? {} : { datetime: parseDatetime(req.datetime) }),
    filters,
    limit,
    offset,
    flip: latFirst(crs),
  });
  const query = (o: number): string => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ bbox: req.bbox, 'bbox-crs': req.bboxCrs, crs: req.crs, datetime: req.datetime, ...req.extra })) if (v !== undefined) params.set(k, String(v));
    params.set('limit', String(limit));
    params.set('offset', String(o));
    return `${base}/ogc/collections/${c.id}/items?${params.toString()}`;
  };
  const links: Link[] = [{ href: query(offset), rel: 'self', type: GEOJSON }];
  if (result.more) links.push({ href: query(offset + limit), rel: 'next', type: GEOJSON });
  if (offset > 0) links.push({ href: query(Math.max(0, offset - limit)), rel: 'prev', type: GEOJSON });
  return {
    crs,
    body: {
      type: 'FeatureCollection',
      timeStamp: new Date().toISOString(),
      ...(result.numberMatched === null ? {} : { numberMatched: result.numberMatched }),
      numberReturned: result.features.length,
      features: result.features,
      links,
    },
  };
}

export async function getItem(db: Database, base: string, c: OgcCollection, ctx: SourceContext, fid: string, crsParam?: string): Promise<{ body: Record<string, unknown>; crs: SupportedCrs }> {
  const crs = parseCrs(crsParam, 'crs');
  const feature = (await queryItem(db, c, ctx, fid, latFirst(crs))) as Record<string, unknown> | undefined;
  if (!feature) throw new AppError('NOT_FOUND', 404, `No feature "${fid}" in ${c.id}.`, { in: 'params', field: 'featureId', collection: c.id, featureId: fid });
  return {
    crs,
    body: {
      ...feature,
      links: [
        { href: `${base}/ogc/collections/${c.id}/items/${encodeURIComponent(fid)}`, rel: 'self', type: GEOJSON },
        { href: `${base}/ogc/collections/${c.id}`, rel: 'collection', type: JSON_TYPE },
      ],
    },
  };
}
