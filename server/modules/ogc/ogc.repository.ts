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

/**
 * When more than MATCH_COUNT_LIMIT features match, a page is first looked for among this many rows in
 * key order (see queryItems): at most a few tens of milliseconds of filtering.
 */
export const KEY_WALK_BUDGET = 50_000;

export interface ItemsPage {
  /** Null when more than the count limit (MATCH_COUNT_LIMIT) of features match. */
  numberMatched: number | null;
  features: unknown[];
  /** Whether features follow this page (the `next` link). */
  more: boolean;
  /** Which plan found the page (see queryItems): the first rows in key order, or every match sorted. */
  via: 'key-walk' | 'sorted';
}

export interface ItemsPlan {
  /** numberMatched is counted up to this (default MATCH_COUNT_LIMIT). */
  countLimit?: number;
  /** Rows walked in key order before falling back to sorting every match (default KEY_WALK_BUDGET). */
  walkBudget?: number;
}

/**
 * A page of features in key order and the (capped) number of matches, from one snapshot.
 *
 * Which plan reads the page depends on how many features match, and PostgreSQL cannot tell: PostGIS
 * underestimated the matches of a bbox 12-fold at 1M events, so the planner fetched and sorted every
 * match (83k: 318 ms a page) instead of walking the primary key. The capped count says which case this
 * is. Up to the count limit, sorting the matches is cheap, and the planner chooses. Above it, matches are
 * frequent, so the page is first looked for among the first `walkBudget` rows in key order: that is
 * exact whenever those rows hold the whole page (no later row can come before them), and it stops as
 * soon as it has the page. When they do not (a page far in, or matches that all lie late in key order),
 * the planner's query answers, in the same statement.
 *
 * Five round trips a page: BEGIN, the settings for the count, the count (which also restores the
 * setting the page needs), the page, COMMIT.
 */
export async function queryItems(db: Database, collection: OgcCollection, ctx: SourceContext, q: ItemsQuery, plan: ItemsPlan = {}): Promise<ItemsPage> {
  const countLimit = plan.countLimit ?? MATCH_COUNT_LIMIT;
  const walkBudget = plan.walkBudget ?? KEY_WALK_BUDGET;
  const where = whereClause(collection, q);
  const source = collection.source(ctx);
  const features = featureJson(collection, q.flip);
  // A page of `rows` takes one row more than asked, to know whether another follows.
  const page = (rows: RawBuilder<unknown>): RawBuilder<unknown> => sql`(SELECT * FROM ${rows} src WHERE ${where} ORDER BY src.sort_key LIMIT ${q.limit + 1} OFFSET ${q.offset})`;
  const pageFeatures = (name: string): RawBuilder<unknown> =>
    sql`(SELECT json_agg(${features} ORDER BY src.sort_key) FROM (SELECT * FROM ${sql.table(name)} ORDER BY sort_key LIMIT ${q.limit}) src)`;
  // One snapshot for the count and the page.
  return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(async (trx) => {
    // JIT: PostgreSQL prices a walk over 1M events high enough to compile it, and compiling took 160 ms
    // for a 12 ms query. Bitmap scans, for the count only: the count stops after countLimit + 1 matches
    // only if the index hands them over one by one, while a bitmap scan first collects every match (a
    // 1 km bbox at 1M events, 83k matches: 94 ms against 35 ms). Both are read when a statement is
    // planned, so they are set by a statement of their own before the count; the count's own
    // set_config runs when it executes (its plan made), turning bitmap scans back on for the page.
    await sql`SELECT set_config('jit', 'off', true), set_config('enable_bitmapscan', 'off', true)`.execute(trx);
    const { rows } = await sql<{ matched: number }>`
      SELECT (SELECT count(*)::int FROM (SELECT 1 FROM (${source}) src WHERE ${where} LIMIT ${countLimit + 1}) hits) AS matched,
             set_config('enable_bitmapscan', 'on', true) AS bitmapscan`.execute(trx);
    const matched = rows[0]?.matched ?? 0;
    const numberMatched = matched > countLimit ? null : matched;
    // Above the count limit the key walk is tried first; the sorted page is read only when the walk did
    // not hold it (a CASE evaluates the subquery of the branch it takes, and only that one).
    const walk = numberMatched === null;
    const { rows: r } = await sql<{ via: ItemsPage['via']; features: unknown[] | null; fetched: number }>`
      WITH walked AS (SELECT * FROM ${walk ? page(sql`(SELECT * FROM (${source}) s ORDER BY s.sort_key LIMIT ${walkBudget})`) : sql`(SELECT * FROM (${source}) s WHERE false)`} w),
           sorted AS (SELECT * FROM ${page(sql`(${source})`)} p),
           found AS (SELECT (SELECT count(*)::int FROM walked) > ${q.limit} AS walked)
      SELECT CASE WHEN found.walked THEN 'key-walk' ELSE 'sorted' END AS via,
             CASE WHEN found.walked THEN ${pageFeatures('walked')} ELSE ${pageFeatures('sorted')} END AS features,
             CASE WHEN found.walked THEN ${q.limit + 1} ELSE (SELECT count(*)::int FROM sorted) END AS fetched
      FROM found`.execute(trx);
    const row = r[0];
    const fetched = row?.fetched ?? 0;
    return { numberMatched, features: row?.features ?? [], more: fetched > q.limit, via: row?.via ?? 'sorted' };
  });
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
