/**
 * Import SQL: a transaction-local staging table, loaded by COPY (CLI) or batched INSERT (API), then
 * checked and upserted on natural keys set-based, in PostgreSQL:
 *
 *   buildings      external id, else community + code     (new ones numbered in file order)
 *   households     building + unit + room
 *   residents      keyed hash of the ID number
 *   organisations  code
 *   staff          code
 *
 * Unchanged rows are not written (no version bump, no history), so importing the same file twice
 * changes nothing the second time.
 *
 * The functions take a `SqlRunner` instead of `Kysely<DB>`: the CLI streams COPY through a raw pg
 * client, which Kysely cannot lend out, and both paths must run the very same statements.
 */
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Database } from '../../../db/database';
import type { ImportEntity, RowError, StagingColumn, StagingValue } from './import-rows';

export interface SqlRunner {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
}

/** `onTiming` (CLI --timings) hears every statement's duration: where a large import spends its time. */
export function runnerOfClient(client: pg.ClientBase, onTiming?: (ms: number, text: string) => void): SqlRunner {
  return {
    async query<R>(text: string, params: readonly unknown[] = []) {
      const t0 = performance.now();
      const rows = (await client.query(text, params as unknown[])).rows as R[];
      onTiming?.(performance.now() - t0, text);
      return rows;
    },
  };
}

/**
 * A Kysely transaction as a runner (the API's imports). Kysely is loaded on first use: the CLI never
 * needs it, and its ~300 modules cost the CLI's start-up about 0.4 s of CPU under tsx.
 */
export async function runnerOfKysely(db: Database): Promise<SqlRunner> {
  const { CompiledQuery } = await import('kysely');
  return {
    async query<R>(text: string, params: readonly unknown[] = []) {
      return (await db.executeQuery<R>(CompiledQuery.raw(text, [...params]))).rows;
    },
  };
}

const STAGING = 'import_staging';

const PG_TYPE: Record<StagingColumn['type'], string> = { text: 'text', int: 'integer', date: 'date', bytea: 'bytea', 'text[]': 'text[]' };

/**
 * The staging table of one import, dropped at commit or rollback. Besides the source columns it holds
 * the row's first SQL-side problem (`err_*`), the resolved references and the placement. A footprint
 * checked while the file was still being read (import-geometry.ts) arrives as `g` (the checked, maybe
 * repaired geometry) or `geom_err` (why it was rejected) instead of as WKB in `geom`.
 */
export async function createStaging(q: SqlRunner, columns: readonly StagingColumn[]): Promise<void> {
  await q.query(`CREATE TEMP TABLE ${STAGING} (
    line integer NOT NULL,
    ${columns.map((c) => `${c.name} ${PG_TYPE[c.type]}`).join(',\n    ')},
    err_field text, err_reason text,
    geom_err text,
    target_id integer, action text,
    g geometry, ref_id integer, ref_grid_id integer, ref_grid_code text, ref_community_code text
  ) ON COMMIT DROP`);
}

// COPY text format: backslash escapes for the delimiter (tab), line breaks and backslash itself.
const escapeText = (s: string): string => s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));

function copyValue(v: StagingValue): string {
  if (v === null) return '\\N';
  if (Buffer.isBuffer(v)) return `\\\\x${v.toString('hex')}`;
  if (Array.isArray(v)) return escapeText(`{${(v as readonly string[]).map((s) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`);
  return escapeText(String(v));
}

/** One staging row as a line of COPY text. */
export function copyLine(line: number, values: readonly StagingValue[]): string {
  return `${line}\t${values.map(copyValue).join('\t')}\n`;
}

/** Hex EWKB (SRID 4326) of little-endian ISO WKB: what the geometry type's text input reads. */
export function ewkbHex(wkb: Buffer): string {
  const type = (wkb.readUInt32LE(1) | 0x20000000) >>> 0;
  const head = Buffer.alloc(9);
  head.writeUInt8(1, 0);
  head.writeUInt32LE(type, 1);
  head.writeUInt32LE(4326, 5);
  return head.toString('hex') + wkb.toString('hex', 5);
}

/**
 * One staging row whose geometry (at `geomIndex`, WKB) was checked before staging: the WKB column
 * stays empty, `g` gets the geometry (`repaired` when the check repaired it, else the WKB as it was),
 * or `geom_err` the reason it was rejected.
 */
export function checkedCopyLine(line: number, values: readonly StagingValue[], geomIndex: number, check: { reason: string | null; repaired: string | null } | undefined): string {
  const wkb = values[geomIndex];
  const rest = values.map((v, i) => (i === geomIndex ? '\\N' : copyValue(v))).join('\t');
  if (check?.reason) return `${line}\t${rest}\t\\N\t${escapeText(check.reason)}\n`;
  const g = check?.repaired ?? (Buffer.isBuffer(wkb) && wkb.length >= 5 ? ewkbHex(wkb) : null);
  // No geometry at all: left unchecked, the SQL check (checkGeometry) rejects it as it always did.
  return g === null ? `${line}\t${values.map(copyValue).join('\t')}\t\\N\t\\N\n` : `${line}\t${rest}\t${g}\t\\N\n`;
}

/** The columns a pre-checked geometry adds to each COPY line (see {@link checkedCopyLine}). */
export const CHECKED_GEOMETRY_COLUMNS = ['g', 'geom_err'] as const;

/**
 * COPY the lines (strings or chunks of them) into the staging table through a raw client; with
 * `checkedGeometry`, each line ends with the {@link CHECKED_GEOMETRY_COLUMNS}.
 */
export async function copyIntoStaging(client: pg.ClientBase, columns: readonly StagingColumn[], lines: AsyncIterable<string>, checkedGeometry = false): Promise<void> {
  const names = [...columns.map((c) => c.name), ...(checkedGeometry ? CHECKED_GEOMETRY_COLUMNS : [])];
  const stream = client.query(copyFrom(`COPY ${STAGING} (line, ${names.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from(lines), stream);
}

/** Batched INSERT of staging rows (the API's small imports; a Kysely transaction has no COPY). */
export async function insertIntoStaging(q: SqlRunner, columns: readonly StagingColumn[], rows: ReadonlyArray<{ line: number; values: readonly StagingValue[] }>): Promise<void> {
  const width = columns.length + 1;
  const batch = Math.max(1, Math.floor(30_000 / width));
  for (let start = 0; start < rows.length; start += batch) {
    const slice = rows.slice(start, start + batch);
    const params: unknown[] = [];
    const tuples = slice.map((r) => {
      params.push(r.line, ...r.values);
      const base = params.length - width;
      return `($${base + 1}::int, ${columns.map((c, i) => `$${base + i + 2}::${PG_TYPE[c.type]}`).join(', ')})`;
    });
    await q.query(`INSERT INTO ${STAGING} (line, ${columns.map((c) => c.name).join(', ')}) VALUES ${tuples.join(', ')}`, params);
  }
}

export interface ImportOptions {
  /** Scope prefixes a row's place must start with; null = everywhere (CLI, system). */
  scopePrefixes: readonly string[] | null;
  /** YYYY-MM-DD the imported state takes effect (history rows). */
  effectiveDate: string;
  /** Repair invalid footprints with ST_MakeValid instead of rejecting them. */
  makeValid: boolean;
  actor: string;
  actorId: number | null;
  /**
   * `auto` (CLI): when an import inserts many rows relative to the table, drop the non-unique indexes
   * and foreign keys of the tables it writes and rebuild them after the upsert, in the same
   * transaction (see {@link deferIndexesForBulkLoad}). `never`: maintain them row by row (the API).
   */
  bulkLoad: 'auto' | 'never';
  /** The fewest new rows worth a bulk load; default {@link BULK_LOAD_MIN_ROWS} (tests lower it). */
  bulkLoadMinRows?: number;
}

export interface UpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

// New rows keep action NULL (target_id NULL means insert): labelling a million of them would rewrite the table once more.

/** Mark rows failing `where` (only rows without an earlier problem). */
async function reject(q: SqlRunner, field: string, reason: string, where: string, params: readonly unknown[] = []): Promise<void> {
  const n = params.length;
  await q.query(`UPDATE ${STAGING} s SET err_field = $${n + 1}, err_reason = ${reason} WHERE s.err_reason IS NULL AND (${where})`, [...params, field]);
}

/**
 * Later lines repeating an earlier line's natural key. `among`: only rows matching it can share a key
 * (the others' keys are unique by construction, e.g. 'line:' || line), so the window sorts only them.
 */
async function rejectDuplicates(q: SqlRunner, field: string, key: string, among = 'true'): Promise<void> {
  await q.query(`
    UPDATE ${STAGING} s SET err_field = $1, err_reason = 'duplicate of line ' || d.first
    FROM (SELECT line, min(line) OVER (PARTITION BY ${key}) AS first FROM ${STAGING} WHERE err_reason IS NULL AND (${among})) d
    WHERE s.line = d.line AND d.first < d.line AND s.err_reason IS NULL`, [field]);
}

async function rejectOutOfScope(q: SqlRunner, opts: ImportOptions, gridCol: string, communityCol: string): Promise<void> {
  if (opts.scopePrefixes === null) return;
  await reject(
    q,
    'place',
    `'OUT_OF_SCOPE: the row lies outside your grids'`,
    `NOT EXISTS (SELECT 1 FROM unnest($1::text[]) p WHERE starts_with(coalesce(${gridCol}, ''), p) OR starts_with(coalesce(${communityCol}, ''), p))`,
    [opts.scopePrefixes],
  );
}

/**
 * A known building or organisation is changed only where it lies now too: else a file could move one
 * from another grid into the caller's (and with a building its households and residents, which the
 * caller could then read), as PUT /buildings/:id refuses.
 */
async function rejectKnownOutOfScope(q: SqlRunner, opts: ImportOptions, table: 'buildings' | 'organisations'): Promise<void> {
  if (opts.scopePrefixes === null) return;
  await reject(
    q,
    'place',
    `'OUT_OF_SCOPE: the ${table === 'buildings' ? 'building' : 'organisation'} lies outside your grids'`,
    `s.target_id IS NOT NULL AND EXISTS (SELECT 1 FROM ${table} t WHERE t.id = s.target_id
       AND NOT EXISTS (SELECT 1 FROM unnest($1::text[]) p WHERE starts_with(coalesce(t.grid_code, ''), p) OR starts_with(coalesce(t.community_code, ''), p)))`,
    [opts.scopePrefixes],
  );
}

/**
 * WKB → geometry checked, as a subquery of one row (g, ok, bad): `ok` the WKB was valid as it came,
 * `bad` it is rejected; `g` the geometry to store (repaired when $1, the make-valid flag, is set).
 * Every `OFFSET 0` keeps the planner from inlining a subquery, which would evaluate its expression
 * once per reference (ST_MakeValid three times for one repaired footprint). Repairs keep the polygonal
 * part (a bow-tie becomes two triangles), a single polygon stays one. The one rule for both the
 * import's own statement (checkGeometry) and the checks made ahead on other connections
 * ({@link checkGeometriesAhead}).
 */
function checkedGeometry(wkb: string): string {
  return `(SELECT b.y AS g, b.ok, b.y IS NULL OR ST_IsEmpty(b.y) OR (NOT b.ok AND (NOT $1::boolean OR NOT ST_IsValid(b.y))) AS bad
      FROM (SELECT CASE WHEN a.ok OR NOT $1::boolean OR GeometryType(a.x) = 'POINT' THEN a.x
                        ELSE ST_CollectionHomogenize(ST_CollectionExtract(ST_MakeValid(a.x, 'method=structure'), 3)) END AS y, a.ok
            FROM (SELECT p.x, ST_IsValid(p.x) AS ok FROM (SELECT ST_GeomFromWKB(${wkb}, 4326) AS x OFFSET 0) p OFFSET 0) a OFFSET 0) b OFFSET 0)`;
}

const geometryRejection = (g: string): string => `'GEOMETRY_INVALID: ' || coalesce(ST_IsValidReason(${g}), 'empty')`;

/**
 * The geometry check of a batch of WKBs on a connection of its own, outside the import's transaction
 * (it reads no table): only the rows not valid as they came, by 1-based position, each with the
 * reason it is rejected or its repair (hex EWKB). Valid ones are stored as they came.
 *
 * The WKBs travel as one bytea parameter (node-pg sends a Buffer in binary) cut by their lengths: as a
 * bytea[] they would go as hex text, which PostgreSQL parses ten times slower (85k footprints: 0.9 s
 * instead of 0.09 s).
 */
export async function checkGeometriesAhead(q: SqlRunner, wkbs: ReadonlyArray<Buffer | null>, makeValid: boolean): Promise<Array<{ i: number; reason: string | null; repaired: string | null }>> {
  const parts = wkbs.map((w) => w ?? Buffer.alloc(0));
  const starts: number[] = [];
  let at = 1;
  for (const p of parts) {
    starts.push(at);
    at += p.length;
  }
  return q.query(`SELECT u.i::int AS i, CASE WHEN r.bad THEN ${geometryRejection('r.g')} END AS reason,
      CASE WHEN NOT r.bad THEN encode(ST_AsEWKB(r.g), 'hex') END AS repaired
    FROM (SELECT x.i, nullif(substring($2::bytea FROM x.start FOR x.len), ''::bytea) AS wkb FROM unnest($3::int[], $4::int[]) WITH ORDINALITY AS x(start, len, i)) u,
      LATERAL ${checkedGeometry('u.wkb')} r
    WHERE r.bad OR NOT r.ok`, [makeValid, Buffer.concat(parts), `{${starts.join(',')}}`, `{${parts.map((p) => p.length).join(',')}}`]);
}

/**
 * Staged WKB → geometry; invalid ones rejected (or repaired with makeValid), each row rewritten once.
 * 85,304 real SF footprints, 18,602 of them invalid: 7 s instead of 31 s for parse + check + repair.
 * Rows checked ahead (`g` or `geom_err` staged) are skipped here; their problems are reported in the
 * same place in the order of checks, after the community check.
 */
async function checkGeometry(q: SqlRunner, opts: ImportOptions): Promise<void> {
  await q.query(`UPDATE ${STAGING} s SET (g, err_field, err_reason) = (
      SELECT r.g, CASE WHEN r.bad THEN 'geometry' END, CASE WHEN r.bad THEN ${geometryRejection('r.g')} END FROM ${checkedGeometry('s.geom')} r)
    WHERE s.err_reason IS NULL AND s.g IS NULL AND s.geom_err IS NULL`, [opts.makeValid]);
  await q.query(`UPDATE ${STAGING} s SET err_field = 'geometry', err_reason = s.geom_err WHERE s.err_reason IS NULL AND s.geom_err IS NOT NULL`);
}

async function checkCommunity(q: SqlRunner): Promise<void> {
  await reject(q, 'communityCode', `'unknown community ' || s.community_code`, `s.community_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM divisions d WHERE d.code = s.community_code AND d.level = 'community')`);
}

async function actionCounts(q: SqlRunner): Promise<UpsertCounts> {
  const rows = await q.query<{ inserted: number; updated: number; unchanged: number }>(`
    SELECT count(*) FILTER (WHERE target_id IS NULL)::int AS inserted, count(*) FILTER (WHERE action = 'update')::int AS updated,
           count(*) FILTER (WHERE action = 'unchanged')::int AS unchanged
    FROM ${STAGING} WHERE err_reason IS NULL`);
  return rows[0] ?? { inserted: 0, updated: 0, unchanged: 0 };
}

/**
 * registry_place (migration 0006) set-based: the community (kept for a known row, else given, else the
 * covering one), then the grid of that community's published layout (registry_grid_for), or for rows
 * outside every community any published grid and its community. Calling registry_place per row costs
 * ~0.5 ms of SQL-function overhead (85k footprints: 40 s); this calls the two rule functions only where
 * they can find something, so the rules themselves still live in one place.
 */
async function placeStaged(q: SqlRunner, table: 'buildings' | 'organisations', keepCommunity: boolean): Promise<void> {
  const known = `(SELECT t.community_code FROM ${table} t WHERE t.id = s.target_id)`;
  // Nothing to set when no row is known or given a community and no community boundary reaches the
  // staged footprints (e.g. a foreign data set): skip the per-row rule calls and a rewrite of the table.
  const [reach] = await q.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${STAGING} s WHERE s.err_reason IS NULL AND (s.target_id IS NOT NULL OR s.community_code IS NOT NULL))
      OR EXISTS (SELECT 1 FROM divisions d WHERE d.level = 'community' AND d.geom && (SELECT ST_SetSRID(ST_Extent(s.g)::geometry, 4326) FROM ${STAGING} s WHERE s.err_reason IS NULL)) AS any`);
  if (reach?.any !== false) await q.query(`UPDATE ${STAGING} s SET ref_community_code = ${keepCommunity ? `CASE WHEN s.target_id IS NOT NULL THEN ${known} ELSE coalesce(s.community_code, registry_community_for(s.g)) END` : `coalesce(s.community_code, ${known}, registry_community_for(s.g))`}
    WHERE s.err_reason IS NULL`);
  await q.query(`UPDATE ${STAGING} s SET ref_grid_id = registry_grid_for(s.g, l.id) FROM layouts l
    WHERE s.err_reason IS NULL AND l.community_code = s.ref_community_code AND l.status = 'published'`);
  await q.query(`UPDATE ${STAGING} s SET ref_grid_id = registry_grid_for(s.g)
    WHERE s.err_reason IS NULL AND s.ref_community_code IS NULL
      AND EXISTS (SELECT 1 FROM grids g JOIN layouts l ON l.id = g.layout_id WHERE l.status = 'published' AND g.geom && s.g)`);
  await q.query(`UPDATE ${STAGING} s SET ref_grid_code = g.code, ref_community_code = coalesce(s.ref_community_code, l.community_code)
    FROM grids g JOIN layouts l ON l.id = g.layout_id WHERE s.err_reason IS NULL AND g.id = s.ref_grid_id`);
}

/** Check every staged row in SQL; problems are left in err_field/err_reason. */
export async function validateStaged(q: SqlRunner, entity: ImportEntity, opts: ImportOptions): Promise<void> {
  await q.query(`CREATE INDEX ON ${STAGING} (line)`);
  // A temp table has no statistics until analysed; without them the joins below go nested-loop.
  await q.query(`ANALYZE ${STAGING}`);
  switch (entity) {
    case 'buildings': {
      await checkCommunity(q);
      await checkGeometry(q, opts);
      // A code is numbered within a community: one named without its community is looked up in the
      // community its footprint lies in (where a new one would be placed), not among community-less
      // buildings; else the insert hit the unique code (a 500) or another building was overwritten.
      await q.query(`UPDATE ${STAGING} s SET community_code = registry_community_for(s.g)
        WHERE s.err_reason IS NULL AND s.code IS NOT NULL AND s.community_code IS NULL AND s.g IS NOT NULL`);
      await rejectDuplicates(q, 'externalId', 'external_id', 'external_id IS NOT NULL');
      await rejectDuplicates(q, 'code', 'community_code, code', 'code IS NOT NULL');
      await q.query(`UPDATE ${STAGING} s SET target_id = b.id FROM buildings b WHERE s.err_reason IS NULL AND s.external_id IS NOT NULL AND b.external_id = s.external_id`);
      await q.query(`UPDATE ${STAGING} s SET target_id = b.id FROM buildings b
        WHERE s.err_reason IS NULL AND s.target_id IS NULL AND s.code IS NOT NULL AND b.community_code IS NOT DISTINCT FROM s.community_code AND b.code = s.code`);
      await reject(q, 'code', `'code ' || s.code || ' belongs to a building with another external id'`,
        `s.target_id IS NOT NULL AND s.external_id IS NOT NULL AND EXISTS (SELECT 1 FROM buildings b WHERE b.id = s.target_id AND b.external_id IS DISTINCT FROM s.external_id)`);
      // Placement: a known building keeps its community; a new one takes the given one, else the covering one.
      await placeStaged(q, 'buildings', true);
      await rejectKnownOutOfScope(q, opts, 'buildings');
      await rejectOutOfScope(q, opts, 's.ref_grid_code', 's.ref_community_code');
      break;
    }
    case 'organisations': {
      await checkCommunity(q);
      await checkGeometry(q, opts);
      await rejectDuplicates(q, 'code', 'code');
      await q.query(`UPDATE ${STAGING} s SET target_id = o.id FROM organisations o WHERE s.err_reason IS NULL AND o.code = s.code`);
      await placeStaged(q, 'organisations', false);
      await rejectKnownOutOfScope(q, opts, 'organisations');
      await rejectOutOfScope(q, opts, 's.ref_grid_code', 's.ref_community_code');
      await reject(q, 'openedOn', `'the organisation opened after closedOn'`,
        `s.target_id IS NOT NULL AND EXISTS (SELECT 1 FROM organisations o WHERE o.id = s.target_id AND s.opened_on IS NULL AND s.closed_on < o.opened_on)`);
      break;
    }
    case 'households': {
      // One statement per way of naming the building: an OR of the three in one join condition
      // cannot be hashed and became a nested loop (410k households × 13.6k buildings: 6.5 minutes).
      const setBuilding = `UPDATE ${STAGING} s SET ref_id = b.id, ref_grid_id = b.grid_id, ref_grid_code = b.grid_code, ref_community_code = b.community_code
        FROM buildings b WHERE s.err_reason IS NULL AND b.deleted_at IS NULL AND `;
      await q.query(`${setBuilding} s.building_id IS NOT NULL AND b.id = s.building_id`);
      await q.query(`${setBuilding} s.building_id IS NULL AND s.building_external_id IS NOT NULL AND b.external_id = s.building_external_id`);
      await q.query(`${setBuilding} s.building_id IS NULL AND s.building_external_id IS NULL AND b.community_code = s.community_code AND b.code = s.building_code`);
      await reject(q, 'building', `'no such building'`, 's.ref_id IS NULL');
      await rejectOutOfScope(q, opts, 's.ref_grid_code', 's.ref_community_code');
      await rejectDuplicates(q, 'room', 'ref_id, unit, room');
      await q.query(`UPDATE ${STAGING} s SET target_id = h.id FROM households h WHERE s.err_reason IS NULL AND h.building_id = s.ref_id AND h.unit = s.unit AND h.room = s.room`);
      await reject(q, 'room', `'the household was deleted'`, `s.target_id IS NOT NULL AND EXISTS (SELECT 1 FROM households h WHERE h.id = s.target_id AND h.deleted_at IS NOT NULL)`);
      break;
    }
    case 'residents': {
      // As for households: one hashable join per way of naming the building, never an OR of them.
      const setHousehold = `UPDATE ${STAGING} s SET ref_id = h.id, ref_grid_id = h.grid_id, ref_grid_code = h.grid_code, ref_community_code = h.community_code
        FROM households h JOIN buildings b ON b.id = h.building_id
        WHERE s.err_reason IS NULL AND s.household_id IS NULL AND h.deleted_at IS NULL AND h.unit = s.unit AND h.room = s.room AND `;
      await q.query(`${setHousehold} s.building_external_id IS NOT NULL AND b.external_id = s.building_external_id`);
      await q.query(`${setHousehold} s.building_external_id IS NULL AND b.community_code = s.community_code AND b.code = s.building_code`);
      await q.query(`UPDATE ${STAGING} s SET ref_id = h.id, ref_grid_id = h.grid_id, ref_grid_code = h.grid_code, ref_community_code = h.community_code
        FROM households h WHERE s.err_reason IS NULL AND s.household_id IS NOT NULL AND h.id = s.household_id AND h.deleted_at IS NULL`);
      await reject(q, 'household', `'no such household'`, 's.ref_id IS NULL');
      await rejectOutOfScope(q, opts, 's.ref_grid_code', 's.ref_community_code');
      await reject(q, 'tags', `'unknown or retired tag(s): ' || array_to_string(ARRAY(SELECT t FROM unnest(s.tags) t EXCEPT SELECT code FROM resident_tags WHERE retired_in IS NULL), ', ')`,
        `cardinality(s.tags) > 0 AND EXISTS (SELECT t FROM unnest(s.tags) t EXCEPT SELECT code FROM resident_tags WHERE retired_in IS NULL)`);
      await rejectDuplicates(q, 'idNumber', 'id_hmac');
      await q.query(`UPDATE ${STAGING} s SET target_id = r.id FROM residents r WHERE s.err_reason IS NULL AND r.id_number_hmac = s.id_hmac`);
      await reject(q, 'idNumber', `'the resident with this ID number was deleted'`, `s.target_id IS NOT NULL AND EXISTS (SELECT 1 FROM residents r WHERE r.id = s.target_id AND r.deleted_at IS NOT NULL)`);
      if (opts.scopePrefixes !== null) {
        await reject(q, 'idNumber', `'OUT_OF_SCOPE: this ID number is registered outside your grids'`,
          `s.target_id IS NOT NULL AND EXISTS (SELECT 1 FROM residents r WHERE r.id = s.target_id AND NOT EXISTS (SELECT 1 FROM unnest($1::text[]) p WHERE starts_with(coalesce(r.grid_code, ''), p) OR starts_with(coalesce(r.community_code, ''), p)))`,
          [opts.scopePrefixes]);
      }
      break;
    }
    case 'staff': {
      await rejectDuplicates(q, 'code', 'code');
      await q.query(`UPDATE ${STAGING} s SET target_id = st.id FROM staff st WHERE s.err_reason IS NULL AND st.code = s.code`);
      await rejectOutOfScope(q, opts, 's.unit_code', 's.unit_code');
      if (opts.scopePrefixes !== null) {
        await reject(q, 'code', `'OUT_OF_SCOPE: this staff member belongs outside your area'`,
          `s.target_id IS NOT NULL AND EXISTS (SELECT 1 FROM staff st WHERE st.id = s.target_id AND NOT EXISTS (SELECT 1 FROM unnest($1::text[]) p WHERE starts_with(st.unit_code, p)))`, [opts.scopePrefixes]);
      }
      break;
    }
  }
}

/** The tables an entity's upsert inserts into: the registry table and its history. */
const LOADED_TABLES: Record<ImportEntity, readonly string[]> = {
  buildings: ['buildings'],
  households: ['households', 'household_history'],
  residents: ['residents', 'resident_history'],
  organisations: ['organisations', 'organisation_history'],
  staff: ['staff'],
};

/** Below this many new rows a bulk load is not worth an exclusive lock. */
export const BULK_LOAD_MIN_ROWS = 50_000;

/**
 * Bulk load: maintaining indexes and foreign keys row by row dominates a large insert (1M residents
 * into the 7-index table plus 1M history rows: 36 s, of which non-unique indexes ~17 s and the three
 * foreign keys' per-row checks ~8 s), while building them afresh over the loaded table costs ~6 s (one
 * sort per index, one anti-join per foreign key). So when an import inserts at least a quarter as many
 * rows as the table holds (and at least {@link BULK_LOAD_MIN_ROWS}), this drops the non-unique indexes
 * and the outgoing foreign keys of the tables the upsert writes; `restore` re-creates them from their
 * own catalogue definitions (the migrations stay their single source). Both run inside the import's
 * transaction: a rollback (all-or-nothing, or any error) restores the originals untouched, and the
 * re-added foreign keys are validated over the whole table, so every guarantee holds at commit. Unique
 * indexes and primary keys stay (natural keys). The price: DROP INDEX takes an ACCESS EXCLUSIVE lock,
 * so readers of these tables wait for the import's commit (`--keep-indexes` avoids that).
 * Returns null (nothing dropped) when the import is small, or the importing role does not own the tables.
 */
export async function deferIndexesForBulkLoad(q: SqlRunner, entity: ImportEntity, minRows = BULK_LOAD_MIN_ROWS): Promise<{ dropped: number; restore(): Promise<void> } | null> {
  const tables = LOADED_TABLES[entity];
  const [plan] = await q.query<{ inserting: number; existing: number; owned: boolean }>(`
    SELECT (SELECT count(*)::int FROM ${STAGING} WHERE target_id IS NULL AND err_reason IS NULL) AS inserting,
           (SELECT CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint END FROM pg_class c WHERE c.oid = $1::regclass) AS existing,
           (SELECT bool_and(pg_has_role(c.relowner, 'USAGE')) FROM pg_class c WHERE c.oid = ANY($2::regclass[])) AS owned`, [tables[0], tables]);
  if (!plan || !plan.owned || plan.inserting < minRows) return null;
  // Never analysed or vacuumed (reltuples -1): count.
  const existing = plan.existing ?? (await q.query<{ n: number }>(`SELECT count(*)::bigint AS n FROM ${tables[0]}`))[0]?.n ?? 0;
  if (plan.inserting * 4 < Number(existing)) return null;
  const indexes = await q.query<{ name: string; def: string }>(`
    SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
    FROM pg_index i
    WHERE i.indrelid = ANY($1::regclass[]) AND NOT i.indisunique AND NOT i.indisprimary AND i.indisvalid
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    ORDER BY i.indexrelid`, [tables]);
  const foreignKeys = await q.query<{ tbl: string; name: string; def: string }>(`
    SELECT c.conrelid::regclass::text AS tbl, quote_ident(c.conname) AS name, pg_get_constraintdef(c.oid) AS def
    FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = ANY($1::regclass[]) ORDER BY c.oid`, [tables]);
  for (const fk of foreignKeys) await q.query(`ALTER TABLE ${fk.tbl} DROP CONSTRAINT ${fk.name}`);
  if (indexes.length > 0) await q.query(`DROP INDEX ${indexes.map((i) => i.name).join(', ')}`);
  return {
    dropped: indexes.length + foreignKeys.length,
    async restore() {
      for (const i of indexes) await q.query(i.def);
      for (const fk of foreignKeys) await q.query(`ALTER TABLE ${fk.tbl} ADD CONSTRAINT ${fk.name} ${fk.def}`);
    },
  };
}

/** SQL-side problems in line order, a page after `afterLine`. */
export async function listStagedErrors(q: SqlRunner, afterLine: number, limit: number): Promise<RowError[]> {
  return q.query<RowError>(`SELECT line, err_field AS field, err_reason AS reason FROM ${STAGING} WHERE err_reason IS NOT NULL AND line > $1 ORDER BY line LIMIT $2`, [afterLine, limit]);
}

export async function countStaged(q: SqlRunner): Promise<{ staged: number; rejected: number }> {
  const rows = await q.query<{ staged: number; rejected: number }>(`SELECT count(*)::int AS staged, count(*) FILTER (WHERE err_reason IS NOT NULL)::int AS rejected FROM ${STAGING}`);
  return rows[0] ?? { staged: 0, rejected: 0 };
}

/**
 * Known buildings that change, and the households and residents that follow one changing grid (the
 * residents whose grid code changes with a 'regrid' history row, as resident.repository.ts
 * followHouseholdGrid: the monthly report by grid reads history).
 */
async function updateStagedBuildings(q: SqlRunner, opts: ImportOptions): Promise<void> {
  await q.query(`UPDATE buildings b SET name = s.name, address = s.address, use = s.use, floors = s.floors, geom = s.g,
      grid_id = s.ref_grid_id, grid_code = s.ref_grid_code, deleted_at = NULL, deleted_reason = NULL, version = b.version + 1, updated_at = now()
    FROM ${STAGING} s WHERE s.action = 'update' AND b.id = s.target_id AND s.err_reason IS NULL`);
  // Households and residents follow a building that changed grid.
  await q.query(`UPDATE households h SET grid_id = b.grid_id, grid_code = b.grid_code, community_code = b.community_code, updated_at = now()
    FROM buildings b JOIN ${STAGING} s ON s.target_id = b.id AND s.action = 'update' AND s.err_reason IS NULL
    WHERE h.building_id = b.id AND h.grid_id IS DISTINCT FROM b.grid_id`);
  await q.query(`
    WITH u AS (
      UPDATE residents r SET grid_id = h.grid_id, grid_code = h.grid_code, community_code = h.community_code, updated_at = now()
      FROM households h JOIN ${STAGING} s ON s.target_id = h.building_id AND s.action = 'update' AND s.err_reason IS NULL
      WHERE r.household_id = h.id AND r.grid_id IS DISTINCT FROM h.grid_id
      RETURNING r.id, r.household_id, r.registration, r.tags, r.status, r.grid_code, r.community_code
    ),
    moved AS (
      SELECT u.* FROM u JOIN residents r ON r.id = u.id WHERE r.grid_code IS DISTINCT FROM u.grid_code AND r.deleted_at IS NULL
    ),
    closed AS (
      UPDATE resident_history rh SET valid_to = greatest($1::date, rh.valid_from) FROM moved m WHERE rh.resident_id = m.id AND rh.valid_to IS NULL
    )
    INSERT INTO resident_history (resident_id, valid_from, change, household_id, registration, tags, status, grid_code, community_code, actor_id, actor)
    SELECT m.id, greatest($1::date, (SELECT max(x.valid_from) FROM resident_history x WHERE x.resident_id = m.id)), 'regrid', m.household_id, m.registration, m.tags, m.status, m.grid_code, m.community_code, $2::int, $3::text FROM moved m`,
  [opts.effectiveDate, opts.actorId, opts.actor]);
}

/** Write the valid staged rows to the registry. Runs after validateStaged, in the same transaction. */
export async function upsertStaged(q: SqlRunner, entity: ImportEntity, opts: ImportOptions): Promise<UpsertCounts> {
  const on = opts.effectiveDate;
  switch (entity) {
    case 'buildings': {
      await q.query(`UPDATE ${STAGING} s SET action = CASE
          WHEN b.name = s.name AND b.address = s.address AND b.use = s.use AND b.floors IS NOT DISTINCT FROM s.floors
               AND ST_AsEWKB(b.geom) = ST_AsEWKB(s.g) AND b.grid_id IS NOT DISTINCT FROM s.ref_grid_id AND b.deleted_at IS NULL THEN 'unchanged'
          ELSE 'update' END
        FROM buildings b WHERE b.id = s.target_id AND s.err_reason IS NULL`);
      // Nothing below but the insert when no known building changes (a first import, or one without changes).
      const [changing] = await q.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${STAGING} WHERE action = 'update' AND err_reason IS NULL) AS any`);
      if (changing?.any) await updateStagedBuildings(q, opts);
      // Codes are numbered per community in file order after the highest one in use; the table lock
      // (it admits readers) keeps concurrent creations from taking the same numbers.
      await q.query('LOCK TABLE buildings IN SHARE ROW EXCLUSIVE MODE');
      await q.query(`
        WITH base AS MATERIALIZED (
          SELECT c.community_code, greatest(
                   (SELECT max(code::int) FROM buildings b WHERE b.community_code IS NOT DISTINCT FROM c.community_code),
                   (SELECT max(code::int) FROM ${STAGING} x WHERE x.target_id IS NULL AND x.err_reason IS NULL AND x.code IS NOT NULL AND x.ref_community_code IS NOT DISTINCT FROM c.community_code)) AS top
          FROM (SELECT DISTINCT ref_community_code AS community_code FROM ${STAGING} WHERE target_id IS NULL AND err_reason IS NULL) c
        ),
        numbered AS (
          SELECT s.*, coalesce(s.code, lpad((coalesce(base.top, 0) + row_number() OVER (PARTITION BY s.ref_community_code, s.code IS NULL ORDER BY s.line))::text, 5, '0')) AS new_code
          FROM ${STAGING} s LEFT JOIN base ON base.community_code IS NOT DISTINCT FROM s.ref_community_code
          WHERE s.target_id IS NULL AND s.err_reason IS NULL
        )
        INSERT INTO buildings (community_code, code, external_id, name, address, use, floors, geom, grid_id, grid_code)
        SELECT n.ref_community_code, n.new_code, n.external_id, n.name, n.address, n.use, n.floors, n.g, n.ref_grid_id, n.ref_grid_code
        FROM numbered n ORDER BY n.line`);
      return actionCounts(q);
    }
    case 'organisations': {
      await q.query(`UPDATE ${STAGING} s SET action = CASE
          WHEN o.name = s.name AND o.kind = s.kind AND o.category = s.category AND o.employees = s.employees AND o.address = s.address
               AND o.opened_on = coalesce(s.opened_on, o.opened_on) AND o.closed_on IS NOT DISTINCT FROM s.closed_on
               AND ST_AsEWKB(o.geom) = ST_AsEWKB(s.g) AND o.grid_id IS NOT DISTINCT FROM s.ref_grid_id AND o.deleted_at IS NULL THEN 'unchanged'
          ELSE 'update' END
        FROM organisations o WHERE o.id = s.target_id AND s.err_reason IS NULL`);
      // Employee counts and kinds are history (the monthly report's shop employment): close and open.
      await q.query(`
        WITH changed AS (
          SELECT s.target_id AS id FROM ${STAGING} s JOIN organisations o ON o.id = s.target_id
          -- A deleted one brought back has no open history row (its deletion closed it): it needs one to count.
          WHERE s.action = 'update' AND s.err_reason IS NULL
            AND (o.employees <> s.employees OR o.kind <> s.kind OR o.grid_code IS DISTINCT FROM s.ref_grid_code OR o.deleted_at IS NOT NULL)
        ),
        closed AS (
          UPDATE organisation_history oh SET valid_to = greatest($1::date, oh.valid_from) FROM changed c WHERE oh.organisation_id = c.id AND oh.valid_to IS NULL RETURNING oh.organisation_id
        )
        INSERT INTO organisation_history (organisation_id, valid_from, kind, employees, grid_code, community_code, actor_id)
        SELECT s.target_id, greatest($1::date, coalesce((SELECT max(valid_from) FROM organisation_history x WHERE x.organisation_id = s.target_id), $1::date)),
               s.kind, s.employees, s.ref_grid_code, s.ref_community_code, $2::int
        FROM ${STAGING} s JOIN changed c ON c.id = s.target_id`, [on, opts.actorId]);
      await q.query(`UPDATE organisations o SET name = s.name, kind = s.kind, category = s.category, employees = s.employees, address = s.address,
          opened_on = coalesce(s.opened_on, o.opened_on), closed_on = s.closed_on, geom = s.g, grid_id = s.ref_grid_id, grid_code = s.ref_grid_code,
          community_code = s.ref_community_code, deleted_at = NULL, deleted_reason = NULL, version = o.version + 1, updated_at = now()
        FROM ${STAGING} s WHERE s.action = 'update' AND o.id = s.target_id AND s.err_reason IS NULL`);
      await q.query(`
        WITH ins AS (
          INSERT INTO organisations (code, name, kind, category, employees, address, geom, opened_on, closed_on, grid_id, grid_code, community_code)
          SELECT s.code, s.name, s.kind, s.category, s.employees, s.address, s.g, coalesce(s.opened_on, $1::date), s.closed_on, s.ref_grid_id, s.ref_grid_code, s.ref_community_code
          FROM ${STAGING} s WHERE s.target_id IS NULL AND s.err_reason IS NULL ORDER BY s.line
          RETURNING id, kind, employees, opened_on, grid_code, community_code
        )
        INSERT INTO organisation_history (organisation_id, valid_from, kind, employees, grid_code, community_code, actor_id)
        SELECT id, opened_on, kind, employees, grid_code, community_code, $2::int FROM ins`, [on, opts.actorId]);
      return actionCounts(q);
    }
    case 'households': {
      await q.query(`UPDATE ${STAGING} s SET action = CASE WHEN h.tenure = s.tenure THEN 'unchanged' ELSE 'update' END
        FROM households h WHERE h.id = s.target_id AND s.err_reason IS NULL`);
      await q.query(`UPDATE households h SET tenure = s.tenure, version = h.version + 1, updated_at = now()
        FROM ${STAGING} s WHERE s.action = 'update' AND h.id = s.target_id AND s.err_reason IS NULL`);
      await q.query(`UPDATE household_history hh SET valid_to = greatest($1::date, hh.valid_from)
        FROM ${STAGING} s WHERE s.action = 'update' AND s.err_reason IS NULL AND hh.household_id = s.target_id AND hh.valid_to IS NULL`, [on]);
      await q.query(`INSERT INTO household_history (household_id, valid_from, change, building_id, tenure, grid_code, community_code, actor_id, actor)
        SELECT h.id, $1::date, 'details', h.building_id, h.tenure, h.grid_code, h.community_code, $2::int, $3::text
        FROM ${STAGING} s JOIN households h ON h.id = s.target_id WHERE s.action = 'update' AND s.err_reason IS NULL`, [on, opts.actorId, opts.actor]);
      await q.query(`
        WITH ins AS (
          INSERT INTO households (building_id, unit, room, tenure, grid_id, grid_code, community_code)
          SELECT s.ref_id, s.unit, s.room, s.tenure, s.ref_grid_id, s.ref_grid_code, s.ref_community_code
          FROM ${STAGING} s WHERE s.target_id IS NULL AND s.err_reason IS NULL ORDER BY s.line
          RETURNING id, building_id, tenure, grid_code, community_code
        )
        INSERT INTO household_history (household_id, valid_from, change, building_id, tenure, grid_code, community_code, actor_id, actor)
        SELECT id, $1::date, 'registered', building_id, tenure, grid_code, community_code, $2::int, $3::text FROM ins`, [on, opts.actorId, opts.actor]);
      return actionCounts(q);
    }
    case 'residents': {
      // The change an update records: the most significant thing it changes (as resident.service.ts).
      await q.query(`UPDATE ${STAGING} s SET action = CASE
          WHEN r.household_id IS DISTINCT FROM s.ref_id THEN 'household'
          WHEN r.registration <> s.registration THEN 'registration'
          WHEN NOT (r.tags @> s.tags AND r.tags <@ s.tags) THEN 'tags'
          WHEN r.name <> s.name OR r.relation <> s.relation OR r.phone_hmac IS DISTINCT FROM s.phone_hmac THEN 'details'
          ELSE 'unchanged' END
        FROM residents r WHERE r.id = s.target_id AND s.err_reason IS NULL`);
      await q.query(`UPDATE residents r SET household_id = s.ref_id, grid_id = s.ref_grid_id, grid_code = s.ref_grid_code, community_code = s.ref_community_code,
          name = s.name, relation = s.relation, registration = s.registration, tags = s.tags,
          phone_enc = CASE WHEN r.phone_hmac IS NOT DISTINCT FROM s.phone_hmac THEN r.phone_enc ELSE s.phone_enc END, phone_hmac = s.phone_hmac,
          version = r.version + 1, updated_at = now()
        FROM ${STAGING} s WHERE s.action <> 'unchanged' AND r.id = s.target_id AND s.err_reason IS NULL`);
      await q.query(`UPDATE resident_history rh SET valid_to = greatest($1::date, rh.valid_from)
        FROM ${STAGING} s WHERE s.action <> 'unchanged' AND s.err_reason IS NULL AND rh.resident_id = s.target_id AND rh.valid_to IS NULL`, [on]);
      await q.query(`INSERT INTO resident_history (resident_id, valid_from, change, household_id, registration, tags, status, grid_code, community_code, actor_id, actor)
        SELECT r.id, greatest($1::date, (SELECT max(x.valid_from) FROM resident_history x WHERE x.resident_id = r.id)), s.action, r.household_id, r.registration, r.tags, r.status,
               r.grid_code, r.community_code, $2::int, $3::text
        FROM ${STAGING} s JOIN residents r ON r.id = s.target_id WHERE s.action <> 'unchanged' AND s.err_reason IS NULL`, [on, opts.actorId, opts.actor]);
      await q.query(`
        WITH ins AS (
          INSERT INTO residents (household_id, name, gender, birth_date, id_number_enc, id_number_hmac, phone_enc, phone_hmac,
                                 relation, registration, tags, grid_id, grid_code, community_code)
          SELECT s.ref_id, s.name, s.gender, s.birth_date, s.id_enc, s.id_hmac, s.phone_enc, s.phone_hmac, s.relation, s.registration,
                 coalesce(s.tags, '{}'), s.ref_grid_id, s.ref_grid_code, s.ref_community_code
          FROM ${STAGING} s WHERE s.target_id IS NULL AND s.err_reason IS NULL ORDER BY s.line
          RETURNING id, household_id, registration, tags, status, grid_code, community_code
        )
        INSERT INTO resident_history (resident_id, valid_from, change, household_id, registration, tags, status, grid_code, community_code, actor_id, actor)
        SELECT id, $1::date, 'registered', household_id, registration, tags, status, grid_code, community_code, $2::int, $3::text FROM ins`, [on, opts.actorId, opts.actor]);
      await q.query(`UPDATE ${STAGING} SET action = 'update' WHERE action <> 'unchanged'`);
      return actionCounts(q);
    }
    case 'staff': {
      await q.query(`UPDATE ${STAGING} s SET action = CASE
          WHEN st.name = s.name AND st.gender IS NOT DISTINCT FROM s.gender AND st.phone IS NOT DISTINCT FROM s.phone AND st.role = s.role
               AND st.unit_code = s.unit_code AND st.deleted_at IS NULL THEN 'unchanged' ELSE 'update' END
        FROM staff st WHERE st.id = s.target_id AND s.err_reason IS NULL`);
      await q.query(`UPDATE staff st SET name = s.name, gender = s.gender, phone = s.phone, role = s.role, unit_code = s.unit_code,
          deleted_at = NULL, deleted_reason = NULL, version = st.version + 1, updated_at = now()
        FROM ${STAGING} s WHERE s.action = 'update' AND st.id = s.target_id AND s.err_reason IS NULL`);
      await q.query(`INSERT INTO staff (code, name, gender, phone, role, unit_code)
        SELECT s.code, s.name, s.gender, s.phone, s.role, s.unit_code FROM ${STAGING} s WHERE s.target_id IS NULL AND s.err_reason IS NULL ORDER BY s.line`);
      return actionCounts(q);
    }
  }
}
