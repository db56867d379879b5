import { sql } from 'kysely';
import type { Layout, LayoutStatus } from '../../contracts/layout';
import type { Database } from '../../db/database';
import type { CodableGrid } from '../grids/grid-codes';

interface LayoutRow {
  id: number;
  community_code: string;
  status: LayoutStatus;
  name: string;
  based_on_layout_id: number | null;
  effective_from: Date | null;
  effective_to: Date | null;
  created_at: Date;
  published_at: Date | null;
  grid_count: number;
}

const layoutColumns = sql`l.id, l.community_code, l.status, l.name, l.based_on_layout_id, l.effective_from, l.effective_to,
  l.created_at, l.published_at, (SELECT count(*) FROM grids g WHERE g.layout_id = l.id)::int AS grid_count`;

function toLayout(row: LayoutRow): Layout {
  return {
    id: row.id,
    communityCode: row.community_code,
    status: row.status,
    name: row.name,
    basedOnLayoutId: row.based_on_layout_id,
    effectiveFrom: row.effective_from?.toISOString() ?? null,
    effectiveTo: row.effective_to?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    publishedAt: row.published_at?.toISOString() ?? null,
    gridCount: row.grid_count,
  };
}

export async function findCommunity(db: Database, code: string): Promise<{ code: string; level: string; name: string } | undefined> {
  return db.selectFrom('divisions').select(['code', 'level', 'name']).where('code', '=', code).executeTakeFirst();
}

export async function listLayouts(db: Database, communityCode: string): Promise<Layout[]> {
  const { rows } = await sql<LayoutRow>`SELECT ${layoutColumns} FROM layouts l WHERE l.community_code = ${communityCode} ORDER BY l.id DESC`.execute(db);
  return rows.map(toLayout);
}

export async function findLayout(db: Database, id: number, lock?: 'update'): Promise<Layout | undefined> {
  // FOR UPDATE cannot be combined with the aggregate subquery, so lock first, then read.
  if (lock === 'update') await sql`SELECT 1 FROM layouts WHERE id = ${id} FOR UPDATE`.execute(db);
  const { rows } = await sql<LayoutRow>`SELECT ${layoutColumns} FROM layouts l WHERE l.id = ${id}`.execute(db);
  return rows[0] ? toLayout(rows[0]) : undefined;
}

export async function findPublishedLayoutId(db: Database, communityCode: string): Promise<number | undefined> {
  const row = await db.selectFrom('layouts').select('id').where('community_code', '=', communityCode).where('status', '=', 'published').executeTakeFirst();
  return row?.id;
}

export async function insertDraftLayout(db: Database, communityCode: string, name: string, basedOnLayoutId: number | null): Promise<number> {
  const row = await db
    .insertInto('layouts')
    .values({ community_code: communityCode, status: 'draft', name, based_on_layout_id: basedOnLayoutId })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Copy every grid of `fromLayoutId` into `toLayoutId`, keeping codes and remembering the source grid. */
export async function copyGrids(db: Database, fromLayoutId: number, toLayoutId: number): Promise<number> {
  const result = await sql`
    INSERT INTO grids (layout_id, code, name, kind, properties, geom, source_grid_id)
    SELECT ${toLayoutId}, code, name, kind, properties, geom, id FROM grids WHERE layout_id = ${fromLayoutId} ORDER BY id`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

export async function deleteLayout(db: Database, id: number): Promise<void> {
  await db.deleteFrom('layouts').where('id', '=', id).execute();
}

/** Serialises publishes of one community (transaction-scoped advisory lock). */
export async function lockCommunityForPublish(db: Database, communityCode: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${'layout-publish:' + communityCode}, 0))`.execute(db);
}

/**
 * Archive the published layout (if any) and publish `layoutId`, effective from the same instant.
 * `clock_timestamp()` rather than `now()`: a publish that waited for the lock must not start before the
 * one it waited for (now() is the transaction's start).
 */
export async function switchPublishedLayout(db: Database, communityCode: string, layoutId: number): Promise<Date> {
  const { rows } = await sql<{ t: Date }>`SELECT clock_timestamp() AS t`.execute(db);
  const t = rows[0]?.t;
  if (!t) throw new Error('clock_timestamp() returned nothing');
  await sql`UPDATE layouts SET status = 'archived', effective_to = ${t} WHERE community_code = ${communityCode} AND status = 'published'`.execute(db);
  await sql`UPDATE layouts SET status = 'published', effective_from = ${t}, published_at = ${t} WHERE id = ${layoutId}`.execute(db);
  return t;
}

export async function listCodableGrids(db: Database, layoutId: number): Promise<CodableGrid[]> {
  const { rows } = await sql<{ id: number; code: string | null; x: number; y: number; minx: number; miny: number; maxx: number; maxy: number }>`
    SELECT id, code, ST_X(p) AS x, ST_Y(p) AS y, ST_XMin(geom) AS minx, ST_YMin(geom) AS miny, ST_XMax(geom) AS maxx, ST_YMax(geom) AS maxy
    FROM (SELECT id, code, geom, ST_PointOnSurface(geom) AS p FROM grids WHERE layout_id = ${layoutId}) g`.execute(db);
  return rows.map((r) => ({ id: r.id, code: r.code, point: [r.x, r.y], bbox: [r.minx, r.miny, r.maxx, r.maxy] }));
}

/** Largest grid sequence this community has ever used, in any layout (0 when never coded). */
export async function highestCodeSequence(db: Database, communityCode: string): Promise<number> {
  const { rows } = await sql<{ max: number | null }>`
    SELECT max(substr(g.code, 13)::int) AS max
    FROM grids g JOIN layouts l ON l.id = g.layout_id
    WHERE l.community_code = ${communityCode} AND g.code IS NOT NULL`.execute(db);
  return rows[0]?.max ?? 0;
}

export async function setGridCodes(db: Database, codes: ReadonlyMap<number, string>): Promise<void> {
  if (codes.size === 0) return;
  const ids = [...codes.keys()];
  const values = ids.map((id) => codes.get(id) ?? '');
  await sql`
    UPDATE grids g SET code = c.code, version = g.version + 1, updated_at = now()
    FROM unnest(${ids}::int[], ${values}::text[]) AS c(id, code)
    WHERE g.id = c.id`.execute(db);
}
