/**
 * SQL of dispatch: the snapshot the in-memory index is built from (published grids and community
 * boundaries as WKB, so coordinates are bit-identical to PostGIS's), the roster tables, grid
 * resolution at past instants (layouts valid then), and address search.
 */
import { sql, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from '../../db/database';
import type { DB } from '../../db/schema.gen';

/**
 * A query's rows read through a cursor, `pageRows` per round trip (inside a transaction).
 *
 * Why (issue #6): node-postgres parses a result's rows as the socket delivers them, and on loopback
 * the socket delivers a whole multi-megabyte result in one read burst, so a single query for the
 * roster's ~20,000 rows blocked the event loop for ~10 ms in one turn. Page by page, each page is
 * parsed in its own turn, with requests served between.
 */
async function fetchInPages<R>(trx: Transaction<DB>, cursor: string, query: RawBuilder<R>, pageRows: number): Promise<R[]> {
  await sql`DECLARE ${sql.id(cursor)} NO SCROLL CURSOR FOR ${query}`.execute(trx);
  const out: R[] = [];
  for (;;) {
    const { rows } = await sql<R>`FETCH FORWARD ${sql.lit(pageRows)} FROM ${sql.id(cursor)}`.execute(trx);
    for (const row of rows) out.push(row);
    if (rows.length < pageRows) break;
  }
  await sql`CLOSE ${sql.id(cursor)}`.execute(trx);
  return out;
}

/** One query read page by page in a transaction of its own (a cursor lives in a transaction). */
function readInPages<R>(db: Database, cursor: string, query: RawBuilder<R>, pageRows: number): Promise<R[]> {
  return db.transaction().execute((trx) => fetchInPages(trx, cursor, query, pageRows));
}

/** Rows per page of the snapshot reads: about a millisecond of parsing each. */
const GRID_PAGE_ROWS = 200;
const ROW_PAGE_ROWS = 2_000;

export interface GridSnapshotRow {
  id: number;
  code: string;
  name: string;
  kind: 'general' | 'dedicated';
  layoutId: number;
  communityCode: string;
  effectiveFrom: Date;
  wkb: Uint8Array;
}

export interface DivisionSnapshotRow {
  code: string;
  level: 'district' | 'street' | 'community';
  name: string;
  parentCode: string | null;
  wkb: Uint8Array | null;
}

export interface StaffRow {
  id: number;
  code: string;
  name: string;
  phone: string | null;
  role: string;
  unitCode: string;
  deleted: boolean;
}

export interface AssignmentRow {
  staffId: number;
  gridCode: string;
  role: string;
  fromDate: string;
  toDate: string | null;
}

export interface ShiftRow {
  staffId: number;
  scopeCode: string;
  weekday: number;
  /** Seconds after local midnight; end may be 86 400 (24:00). */
  startS: number;
  endS: number;
}

export interface ExceptionRow {
  kind: 'leave' | 'holiday' | 'extra';
  staffId: number | null;
  scopeCode: string | null;
  startsMs: number;
  endsMs: number;
}

/** The published grids, and the 'grids' data version they were read at. */
export interface PublishedGrids {
  /**
   * `data_versions.version` of 'grids', read in the same snapshot as the grids: every statement that
   * changes a layout or grid other than a draft's bumps it (migrations/0028_quiet_draft_edits.sql), so
   * while it stays the same, so do these grids.
   */
  version: number;
  grids: GridSnapshotRow[];
}

/** The 'grids' data version now: one row, to tell whether the published grids changed since they were read. */
export async function readGridsVersion(db: Database): Promise<number> {
  const { rows } = await sql<{ version: number }>`SELECT version FROM data_versions WHERE layer = 'grids'`.execute(db);
  // No row (never, after migration 0009): a version equal to none, so the grids are always read.
  return rows[0]?.version ?? NaN;
}

/** Grids of every published layout (the "now" the in-memory index serves), in code order, with their data version. */
export async function listPublishedGrids(db: Database, pageRows = GRID_PAGE_ROWS): Promise<PublishedGrids> {
  // Repeatable read: the version and the grids from one snapshot (a cursor lives in a transaction anyway).
  return db.transaction().setIsolationLevel('repeatable read').execute(async (trx) => {
    const version = await readGridsVersion(trx);
    const grids = await fetchInPages(
      trx,
      'dispatch_grids',
      sql<GridSnapshotRow>`
        SELECT g.id, g.code, g.name, g.kind, g.layout_id AS "layoutId", l.community_code AS "communityCode",
               l.effective_from AS "effectiveFrom", ST_AsBinary(g.geom) AS wkb
        FROM grids g JOIN layouts l ON l.id = g.layout_id
        WHERE l.status = 'published'
        ORDER BY g.code NULLS LAST, g.id`,
      pageRows,
    );
    return { version, grids };
  });
}

export async function listDivisions(db: Database, pageRows = GRID_PAGE_ROWS): Promise<DivisionSnapshotRow[]> {
  return readInPages(
    db,
    'dispatch_divisions',
    sql<DivisionSnapshotRow>`
      SELECT code, level, name, parent_code AS "parentCode",
             CASE WHEN level = 'community' AND geom IS NOT NULL THEN ST_AsBinary(geom) END AS wkb
      FROM divisions ORDER BY code`,
    pageRows,
  );
}

export interface RosterSnapshot {
  staff: StaffRow[];
  assignments: AssignmentRow[];
  shifts: ShiftRow[];
  exceptions: ExceptionRow[];
}

/** Staff, assignments, weekly shifts and dated exceptions: whole tables, read in one snapshot (page by page). */
export async function readRoster(db: Database, pageRows = ROW_PAGE_ROWS): Promise<RosterSnapshot> {
  return db.transaction().setIsolationLevel('repeatable read').execute(async (trx) => {
    const staff = await fetchInPages(
      trx,
      'dispatch_staff',
      sql<StaffRow>`SELECT id, code, name, phone, role, unit_code AS "unitCode", deleted_at IS NOT NULL AS deleted FROM staff ORDER BY code`,
      pageRows,
    );
    const assignments = await fetchInPages(
      trx,
      'dispatch_assignments',
      sql<AssignmentRow>`
        SELECT staff_id AS "staffId", grid_code AS "gridCode", role, from_date AS "fromDate", to_date AS "toDate"
        FROM staff_assignments ORDER BY grid_code, from_date`,
      pageRows,
    );
    const shifts = await fetchInPages(
      trx,
      'dispatch_shifts',
      sql<ShiftRow>`
        SELECT staff_id AS "staffId", scope_code AS "scopeCode", weekday,
               extract(epoch FROM start_time)::float8 AS "startS", extract(epoch FROM end_time)::float8 AS "endS"
        FROM roster_shifts`,
      pageRows,
    );
    const exceptions = await fetchInPages(
      trx,
      'dispatch_exceptions',
      sql<ExceptionRow>`
        SELECT kind, staff_id AS "staffId", scope_code AS "scopeCode",
               extract(epoch FROM starts_at)::float8 * 1000 AS "startsMs", extract(epoch FROM ends_at)::float8 * 1000 AS "endsMs"
        FROM roster_exceptions`,
      pageRows,
    );
    return { staff, assignments, shifts, exceptions };
  });
}

export interface HistoricalGridRow {
  id: number;
  code: string;
  name: string;
  kind: 'general' | 'dedicated';
  layoutId: number;
  communityCode: string;
  effectiveFrom: Date;
  /** 0 when the grid covers the point. */
  distanceM: number;
}

/**
 * Grids of the layouts valid at `at` that cover a point (code order, as gridsCoveringAt), or, when
 * none does, the nearest one within `maxDistanceM` (geodesic metres on the WGS 84 spheroid).
 */
export async function gridsAtInstant(db: Database, lon: number, lat: number, at: Date, maxDistanceM: number): Promise<HistoricalGridRow[]> {
  const { rows } = await sql<HistoricalGridRow>`
    WITH p AS (SELECT ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326) AS geom),
    live AS (
      SELECT g.*, l.community_code, l.effective_from
      FROM grids g JOIN layouts l ON l.id = g.layout_id
      WHERE l.effective_from IS NOT NULL AND tstzrange(l.effective_from, l.effective_to, '[)') @> ${at.toISOString()}::timestamptz
    ),
    covering AS (
      SELECT live.*, 0::float8 AS distance_m FROM live, p WHERE live.geom && p.geom AND ST_Covers(live.geom, p.geom)
    ),
    nearest AS (
      SELECT live.*, ST_Distance(live.geom::geography, p.geom::geography) AS distance_m
      FROM live, p
      WHERE NOT EXISTS (SELECT 1 FROM covering) AND ST_DWithin(live.geom::geography, p.geom::geography, ${maxDistanceM})
      ORDER BY distance_m, live.code NULLS LAST, live.id LIMIT 1
    )
    SELECT id, code, name, kind, layout_id AS "layoutId", community_code AS "communityCode", effective_from AS "effectiveFrom", distance_m AS "distanceM"
    FROM (SELECT * FROM covering UNION ALL SELECT * FROM nearest) x
    ORDER BY distance_m, code NULLS LAST, id`.execute(db);
  return rows;
}

export interface AddressMatchRow {
  kind: 'building' | 'organisation' | 'place';
  id: number;
  name: string;
  address: string;
  score: number;
  lon: number;
  lat: number;
}

/**
 * Buildings, organisations and named places matching free text, best first.
 *
 * Every whitespace-separated token must occur in the text; a token of 3+ characters is answered by the
 * pg_trgm GIN index (`ILIKE '%…%'`), a 2-character one by the bigram GIN index (`dispatch_bigrams @>`,
 * migration 0010), a 1-character one is checked on the rows the others found. Without any exact
 * match, a trigram similarity match (`%`, threshold 0.3) of the whole query is the fuzzy fallback.
 * Rank: similarity of the whole query to the text (pg_trgm), then shorter text, kind, id.
 */
export async function searchAddress(db: Database, query: string, limit: number): Promise<AddressMatchRow[]> {
  const tokens = query.split(/\s+/).filter((t) => t.length > 0);
  const compact = tokens.join(' ');
  const like = (t: string): string => `%${t.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const filter = (text: RawBuilder<unknown>) => {
    const parts = tokens.map((t) =>
      [...t].length === 2
        ? sql`dispatch_bigrams(${text}) @> ARRAY[${t.toLowerCase()}]::text[]`
        : sql`${text} ILIKE ${like(t)}`,
    );
    return sql.join(parts, sql` AND `);
  };
  const bText = sql`dispatch_building_text(b.name, b.address)`;
  const oText = sql`dispatch_building_text(o.name, o.address)`;
  const pText = sql`p.name`;
  const run = async (mode: 'exact' | 'fuzzy'): Promise<AddressMatchRow[]> => {
    const where = (text: typeof bText) => (mode === 'exact' ? filter(text) : sql`${text} % ${compact}`);
    const { rows } = await sql<AddressMatchRow>`
      SELECT kind, id, name, address, score, ST_X(pt) AS lon, ST_Y(pt) AS lat FROM (
        (SELECT 'building' AS kind, b.id, b.name, b.address, similarity(${bText}, ${compact}) AS score, ST_PointOnSurface(b.geom) AS pt, length(${bText}) AS len
         FROM buildings b WHERE b.deleted_at IS NULL AND ${where(bText)} ORDER BY score DESC, len, b.id LIMIT ${limit})
        UNION ALL
        (SELECT 'organisation', o.id, o.name, o.address, similarity(${oText}, ${compact}), ST_PointOnSurface(o.geom), length(${oText})
         FROM organisations o WHERE o.deleted_at IS NULL AND ${where(oText)} ORDER BY 5 DESC, 7, o.id LIMIT ${limit})
        UNION ALL
        (SELECT 'place', p.id, p.name, '', similarity(${pText}, ${compact}), p.geom, length(p.name)
         FROM named_places p WHERE ${where(pText)} ORDER BY 5 DESC, 7, p.id LIMIT ${limit})
      ) m
      ORDER BY score DESC, len, kind, id
      LIMIT ${limit}`.execute(db);
    return rows;
  };
  const exact = await run('exact');
  return exact.length > 0 ? exact : run('fuzzy');
}

export interface NamedPlaceInput {
  name: string;
  kind: 'place' | 'bus_stop' | 'landmark' | 'road' | 'other';
  source: string;
  externalId: string | null;
  lon: number;
  lat: number;
}

/** Insert named places; a (source, external id) already present is skipped. Returns rows inserted. */
export async function insertNamedPlaces(db: Database, places: readonly NamedPlaceInput[]): Promise<number> {
  if (places.length === 0) return 0;
  const { rows } = await sql<{ n: number }>`
    WITH ins AS (
      INSERT INTO named_places (name, kind, source, external_id, geom)
      SELECT t.name, t.kind, t.source, t.external_id, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326)
      FROM unnest(${places.map((p) => p.name)}::text[], ${places.map((p) => p.kind)}::text[], ${places.map((p) => p.source)}::text[],
                  ${places.map((p) => p.externalId)}::text[], ${places.map((p) => p.lon)}::float8[], ${places.map((p) => p.lat)}::float8[])
           AS t(name, kind, source, external_id, lon, lat)
      ON CONFLICT (source, external_id) DO NOTHING
      RETURNING 1
    ) SELECT count(*)::int AS n FROM ins`.execute(db);
  return rows[0]?.n ?? 0;
}
