import { sql } from 'kysely';
import type { Database } from '../../db/database';

export async function isDatabaseEmpty(db: Database): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`SELECT (SELECT count(*) FROM divisions)::int AS n`.execute(db);
  return (rows[0]?.n ?? 0) === 0;
}

export interface DivisionRow {
  code: string;
  level: string;
  name: string;
  parentCode: string | null;
  boundary: unknown;
}

/** Bulk insert in one statement per table: unnest of parallel arrays keeps it to one round trip. */
export async function insertDivisions(db: Database, rows: readonly DivisionRow[]): Promise<void> {
  await sql`
    INSERT INTO divisions (code, level, name, parent_code, geom)
    SELECT code, level, name, parent_code, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(boundary), 4326))
    FROM unnest(${rows.map((r) => r.code)}::text[], ${rows.map((r) => r.level)}::text[], ${rows.map((r) => r.name)}::text[],
                ${rows.map((r) => r.parentCode)}::text[], ${rows.map((r) => JSON.stringify(r.boundary))}::text[])
         AS t(code, level, name, parent_code, boundary)
    ORDER BY length(code)`.execute(db);
}

export async function insertRoads(db: Database, rows: ReadonlyArray<{ code: string; name: string; kind: string; geom: unknown }>): Promise<void> {
  await sql`
    INSERT INTO roads (code, name, kind, geom)
    SELECT code, name, kind, ST_SetSRID(ST_GeomFromGeoJSON(geom), 4326)
    FROM unnest(${rows.map((r) => r.code)}::text[], ${rows.map((r) => r.name)}::text[], ${rows.map((r) => r.kind)}::text[],
                ${rows.map((r) => JSON.stringify(r.geom))}::text[]) AS t(code, name, kind, geom)`.execute(db);
}

/** One published layout per community, effective from `effectiveFrom`; returns community → layout id. */
export async function insertPublishedLayouts(db: Database, communityCodes: readonly string[], effectiveFrom: string): Promise<Map<string, number>> {
  const { rows } = await sql<{ id: number; community_code: string }>`
    INSERT INTO layouts (community_code, status, name, effective_from, published_at)
    SELECT c, 'published', '初始网格划分', ${effectiveFrom}::timestamptz, ${effectiveFrom}::timestamptz
    FROM unnest(${[...communityCodes]}::text[]) AS c
    RETURNING id, community_code`.execute(db);
  return new Map(rows.map((r) => [r.community_code, r.id]));
}

export async function insertGridsBulk(
  db: Database,
  rows: ReadonlyArray<{ layoutId: number; code: string; name: string; kind: string; geom: unknown }>,
): Promise<void> {
  await sql`
    INSERT INTO grids (layout_id, code, name, kind, geom)
    SELECT layout_id, code, name, kind, ST_SetSRID(ST_GeomFromGeoJSON(geom), 4326)
    FROM unnest(${rows.map((r) => r.layoutId)}::int[], ${rows.map((r) => r.code)}::text[], ${rows.map((r) => r.name)}::text[],
                ${rows.map((r) => r.kind)}::text[], ${rows.map((r) => JSON.stringify(r.geom))}::text[]) AS t(layout_id, code, name, kind, geom)`.execute(db);
}
