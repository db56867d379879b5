import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../../db/database';
import type { OgcCollection, SourceContext } from './ogc-collections';

export interface ItemsQuery {
  /** lon/lat order (already un-flipped). */
  bbox?: [number, number, number, number];
  /** Inclusive interval; null ends are open. Absent: the current state (published layouts only). */
  datetime?: { start: Date | null; end: Date | null };
  filters: Array<{ column: string; value: string | number }>;
  limit: number;
  offset: number;
  /** Output latitude first (EPSG:4326 / 4490 axis order). */
  flip: boolean;
}

function whereClause(collection: OgcCollection, q: Omit<ItemsQuery, 'limit' | 'offset' | 'flip'>): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [sql`true`];
  if (q.bbox) parts.push(sql`src.geom && ST_MakeEnvelope(${q.bbox[0]}, ${q.bbox[1]}, ${q.bbox[2]}, ${q.bbox[3]}, 4326) AND ST_Intersects(src.geom, ST_MakeEnvelope(${q.bbox[0]}, ${q.bbox[1]}, ${q.bbox[2]}, ${q.bbox[3]}, 4326))`);
  if (collection.temporal === 'instant' && q.datetime) {
    const { start, end } = q.datetime;
    if (start) parts.push(sql`src.t >= ${start.toISOString()}::timestamptz`);
    if (end) parts.push(sql`src.t <= ${end.toISOString()}::timestamptz`);
  }
  if (collection.temporal === 'interval') {
    if (q.datetime) {
      const { start, end } = q.datetime;
      if (end) parts.push(sql`src.effective_from <= ${end.toISOString()}::timestamptz`);
      if (start) parts.push(sql`(src.effective_to IS NULL OR src.effective_to > ${start.toISOString()}::timestamptz)`);
    } else {
      parts.push(sql`src.status = 'published'`);
    }
  }
  for (const f of q.filters) parts.push(sql`${sql.ref(`src.${f.column}`)}::text = ${String(f.value)}`);
  return sql.join(parts, sql` AND `);
}

function featureJson(collection: OgcCollection, flip: boolean): RawBuilder<unknown> {
  const props = Object.keys(collection.properties).flatMap((name) => [sql.lit(name), sql.ref(`src.${name}`)]);
  const extra = collection.temporal === 'interval' ? [sql.lit('effective_from'), sql`src.effective_from`, sql.lit('effective_to'), sql`src.effective_to`] : [];
  const geom = flip ? sql`ST_FlipCoordinates(src.geom)` : sql`src.geom`;
  return sql`json_build_object('type', 'Feature', 'id', src.fid, 'geometry', ST_AsGeoJSON(${geom}, 9)::json,
                               'properties', json_build_object(${sql.join([...props, ...extra])}))`;
}

/**
 * numberMatched is counted up to this many matches (as search engines count hits, e.g. Elasticsearch's
 * 10,000); beyond it the count is left out — it is optional in OGC API – Features, Part 1 — so a page
 * of a million events does not count them all each time (1.6 s a page at 1M events before).
 */
export const MATCH_COUNT_LIMIT = 10_000;

export interface ItemsPage {
  /** Null when more than the count limit (MATCH_COUNT_LIMIT) of features match. */
  numberMatched: number | null;
  features: unknown[];
  /** Whether features follow this page (the `next` link). */
  more: boolean;
}

export async function queryItems(db: Database, collection: OgcCollection, ctx: SourceContext, q: ItemsQuery, countLimit = MATCH_COUNT_LIMIT): Promise<ItemsPage> {
  const where = whereClause(collection, q);
  // One statement, so the page and the count see the same snapshot. The page takes one row more than
  // asked, to know whether another follows; in primary-key order, it walks that key's index.
  const { rows } = await sql<{ matched: number; features: unknown[] | null; fetched: number }>`
    WITH page AS (SELECT * FROM (${collection.source(ctx)}) src WHERE ${where} ORDER BY src.sort_key LIMIT ${q.limit + 1} OFFSET ${q.offset})
    SELECT (SELECT count(*)::int FROM (SELECT 1 FROM (${collection.source(ctx)}) src WHERE ${where} LIMIT ${countLimit + 1}) hits) AS matched,
           (SELECT count(*)::int FROM page) AS fetched,
           (SELECT json_agg(${featureJson(collection, q.flip)} ORDER BY src.sort_key)
              FROM (SELECT * FROM page ORDER BY sort_key LIMIT ${q.limit}) src) AS features`.execute(db);
  const row = rows[0];
  const matched = row?.matched ?? 0;
  return { numberMatched: matched > countLimit ? null : matched, features: row?.features ?? [], more: (row?.fetched ?? 0) > q.limit };
}

export async function queryItem(db: Database, collection: OgcCollection, ctx: SourceContext, fid: string, flip: boolean): Promise<unknown> {
  const { rows } = await sql<{ feature: unknown }>`
    WITH src AS (${collection.source(ctx)})
    SELECT ${featureJson(collection, flip)} AS feature FROM src WHERE src.fid = ${fid}
    LIMIT 1`.execute(db);
  return rows[0]?.feature;
}

export async function collectionExtent(db: Database, collection: OgcCollection, ctx: SourceContext): Promise<{ bbox: [number, number, number, number] | null; start: string | null; end: string | null }> {
  const { rows } = await sql<{ w: number | null; s: number | null; e: number | null; n: number | null }>`
    WITH src AS (${collection.source(ctx)}), x AS (SELECT ST_Extent(src.geom) AS b FROM src)
    SELECT ST_XMin(b) AS w, ST_YMin(b) AS s, ST_XMax(b) AS e, ST_YMax(b) AS n FROM x`.execute(db);
  const r = rows[0];
  const bbox: [number, number, number, number] | null = r && r.w !== null && r.s !== null && r.e !== null && r.n !== null ? [r.w, r.s, r.e, r.n] : null;
  if (collection.temporal === null) return { bbox, start: null, end: null };
  if (collection.temporal === 'instant') {
    const { rows: i } = await sql<{ start: Date | null; end: Date | null }>`
      WITH src AS (${collection.source(ctx)}) SELECT min(src.t) AS start, max(src.t) AS end FROM src`.execute(db);
    return { bbox, start: i[0]?.start?.toISOString() ?? null, end: i[0]?.end?.toISOString() ?? null };
  }
  const { rows: t } = await sql<{ start: Date | null; end: Date | null; open: boolean | null }>`
    WITH src AS (${collection.source(ctx)})
    SELECT min(src.effective_from) AS start, max(src.effective_to) AS end, bool_or(src.effective_to IS NULL) AS open FROM src`.execute(db);
  const row = t[0];
  return { bbox, start: row?.start?.toISOString() ?? null, end: row?.open ? null : (row?.end?.toISOString() ?? null) };
}
