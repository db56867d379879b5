/** SQL for exports that no other module already answers: a division's descendants with boundaries, buildings and events as files. */
import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../../db/database';
import { asGeoJson } from '../../db/postgis';
import { eventWhere, type EventFilter } from '../events/event.repository';

export interface DivisionExportRow {
  code: string;
  name: string;
  level: string;
  parentCode: string | null;
  boundarySource: 'stored' | 'derived' | 'none';
  geometry: { type: string; coordinates: unknown } | null;
}

/**
 * Descendants of `code` (codes extend their parent's: GB/T 2260), codes ascending. A division without
 * a stored boundary gets the union of its descendants' stored boundaries (null when there are none).
 */
export async function listDivisionDescendants(db: Database, code: string, level?: 'street' | 'community'): Promise<DivisionExportRow[]> {
  const { rows } = await sql<DivisionExportRow>`
    SELECT d.code, d.name, d.level, d.parent_code AS "parentCode",
           CASE WHEN d.geom IS NOT NULL THEN 'stored' WHEN x.g IS NOT NULL THEN 'derived' ELSE 'none' END AS "boundarySource",
           ${asGeoJson(sql`COALESCE(d.geom, x.g)`)} AS geometry
    FROM divisions d
    LEFT JOIN LATERAL (
      SELECT ST_Multi(ST_CollectionExtract(ST_Union(c.geom), 3)) AS g
      FROM divisions c
      WHERE d.geom IS NULL AND c.code LIKE d.code || '%' AND c.code <> d.code AND c.geom IS NOT NULL
    ) x ON TRUE
    WHERE d.code LIKE ${`${code}%`} AND d.code <> ${code} ${level ? sql`AND d.level = ${level}` : sql``}
    ORDER BY d.code`.execute(db);
  return rows;
}

export interface BuildingExportRow {
  externalId: string | null;
  communityCode: string | null;
  code: string;
  name: string;
  address: string;
  use: string;
  floors: number | null;
  gridCode: string | null;
  geometry: { type: string; coordinates: unknown };
}

/**
 * Decimals of exported building coordinates: enough for any double in degrees (the 9 of API responses
 * rounded footprints drawn at full precision, so re-importing an export changed every one of them).
 */
const FULL_PRECISION = sql.lit(15);

/** Live buildings matching the filter, by id; at most `limit` rows (the caller checks for more). */
export async function listBuildingsForExport(
  db: Database,
  f: { communityCode?: string; gridCode?: string; bbox?: [number, number, number, number]; limit: number },
): Promise<BuildingExportRow[]> {
  const where: RawBuilder<unknown>[] = [sql`b.deleted_at IS NULL`];
  if (f.communityCode) where.push(sql`b.community_code = ${f.communityCode}`);
  if (f.gridCode) where.push(sql`starts_with(b.grid_code, ${f.gridCode})`);
  if (f.bbox) where.push(sql`b.geom && ST_MakeEnvelope(${f.bbox[0]}, ${f.bbox[1]}, ${f.bbox[2]}, ${f.bbox[3]}, 4326)`);
  const { rows } = await sql<BuildingExportRow>`
    SELECT b.external_id AS "externalId", b.community_code AS "communityCode", b.code, b.name, b.address, b.use, b.floors,
           b.grid_code AS "gridCode", ST_AsGeoJSON(b.geom, ${FULL_PRECISION})::json AS geometry
    FROM buildings b WHERE ${sql.join(where, sql` AND `)} ORDER BY b.id LIMIT ${f.limit}`.execute(db);
  return rows;
}

export interface EventExportRow {
  id: number;
  category: string;
  categoryName: string;
  state: string;
  channel: string;
  source: string;
  description: string;
  address: string | null;
  occurredAt: Date;
  reportedAt: Date;
  dueAt: Date;
  closedAt: Date | null;
  overdue: boolean;
  gridCode: string | null;
  communityCode: string | null;
  reporterMasked: { name: string | null; phone: string | null } | null;
  reporterNameEnc: Buffer | null;
  reporterPhoneEnc: Buffer | null;
  geometry: { type: 'Point'; coordinates: [number, number] };
}

/** Events matching the listing's filter (scope included), oldest first; ciphertexts only when asked for. */
export async function listEventsForExport(db: Database, f: EventFilter, withCiphertexts: boolean): Promise<EventExportRow[]> {
  const { rows } = await sql<EventExportRow>`
    SELECT e.id::int AS id, e.category_code AS category, c.name AS "categoryName", e.state, e.channel, e.source, e.description, e.address,
           e.occurred_at AS "occurredAt", e.reported_at AS "reportedAt", e.due_at AS "dueAt", e.closed_at AS "closedAt",
           (e.state NOT IN ('closed', 'rejected') AND least(e.stage_due_at, e.due_at) < now()) AS overdue,
           e.grid_code AS "gridCode", e.community_code AS "communityCode", e.reporter_masked AS "reporterMasked",
           ${withCiphertexts ? sql`e.reporter_name_enc` : sql`NULL::bytea`} AS "reporterNameEnc",
           ${withCiphertexts ? sql`e.reporter_phone_enc` : sql`NULL::bytea`} AS "reporterPhoneEnc",
           ${asGeoJson(sql`e.geom`)} AS geometry
    FROM events e JOIN event_categories c ON c.taxonomy_version = e.taxonomy_version AND c.code = e.category_code
    WHERE ${eventWhere(f)} ORDER BY e.id LIMIT ${f.limit}`.execute(db);
  return rows;
}
