/**
 * SQL shared by the registry's entities: system scope for RLS-protected tables, grid derivation after a
 * publish, and the re-division impact preview. The derivation rule itself lives in one SQL function,
 * `registry_grid_for(geom, layout)` (migrations/0006_registry.sql).
 */
import { sql } from 'kysely';
import type { Database } from '../../db/database';
import { shanghaiToday } from '../../contracts/calendar';
import { followHouseholdGrid } from './resident.repository';

/**
 * Let a system task (demo load, import, re-derivation) see and write every registry row in this
 * transaction. Households and residents FORCE Row Level Security, so without this a non-superuser owner
 * would see none of them. Transaction-local: it ends with the transaction.
 */
export async function asSystem(trx: Database): Promise<void> {
  await sql`SELECT set_config('wangge.scope_all', 'on', true)`.execute(trx);
}

export interface RederiveCounts {
  buildings: number;
  households: number;
  residents: number;
  organisations: number;
}

/**
 * Re-derive the grid of every building and organisation of a community from its (just) published
 * layout — a community's rows go to its own layout's grids, even at a boundary shared with a neighbour —
 * and carry the building's grid to its households and residents. Only rows whose grid changes are
 * written. Runs inside the publish transaction.
 */
export async function rederiveCommunity(trx: Database, communityCode: string, publishedLayoutId: number): Promise<RederiveCounts> {
  await asSystem(trx);
  const { rows } = await sql<RederiveCounts>`
    WITH b AS (
      UPDATE buildings t SET grid_id = d.grid_id, grid_code = d.grid_code, updated_at = now()
      FROM (
        SELECT b.id, g.id AS grid_id, g.code AS grid_code
        FROM buildings b
        LEFT JOIN grids g ON g.id = registry_grid_for(b.geom, ${publishedLayoutId}::int)
        WHERE b.community_code = ${communityCode}
      ) d
      WHERE t.id = d.id AND t.grid_id IS DISTINCT FROM d.grid_id
      RETURNING t.id
    ),
    o AS (
      UPDATE organisations t SET grid_id = d.grid_id, grid_code = d.grid_code, updated_at = now()
      FROM (
        SELECT o.id, g.id AS grid_id, g.code AS grid_code
        FROM organisations o
        LEFT JOIN grids g ON g.id = registry_grid_for(o.geom, ${publishedLayoutId}::int)
        WHERE o.community_code = ${communityCode}
      ) d
      WHERE t.id = d.id AND t.grid_id IS DISTINCT FROM d.grid_id
      RETURNING t.id
    )
    SELECT (SELECT count(*) FROM b)::int AS buildings, 0 AS households, 0 AS residents, (SELECT count(*) FROM o)::int AS organisations`.execute(trx);
  // A data-modifying CTE's effects are invisible to sibling statements; households follow in a second step.
  const { rows: h } = await sql<{ households: number }>`
    WITH u AS (
      UPDATE households t SET grid_id = b.grid_id, grid_code = b.grid_code, updated_at = now()
      FROM buildings b
      WHERE b.id = t.building_id AND b.community_code = ${communityCode} AND t.grid_id IS DISTINCT FROM b.grid_id
      RETURNING t.id
    ) SELECT count(*)::int AS households FROM u`.execute(trx);
  // Residents whose grid code changes get it as history (the monthly report by grid reads history).
  const residents = await followHouseholdGrid(trx, sql`h.community_code = ${communityCode}`, shanghaiToday(), { id: null, name: 'layout publish' });
  const first = rows[0] ?? { buildings: 0, households: 0, residents: 0, organisations: 0 };
  return { ...first, households: h[0]?.households ?? 0, residents };
}

export interface ImpactRow {
  fromGridCode: string | null;
  toGridId: number | null;
  toGridCode: string | null;
  buildings: number;
  households: number;
  residents: number;
}

/**
 * Where the community's buildings, households and present residents would go if `layoutId` were
 * published now, grouped by (current grid code, new grid). Grid codes, not ids, on the "from" side: a
 * grid that keeps its code keeps its people even though its id changes with the layout.
 */
export async function listLayoutImpact(trx: Database, layoutId: number, communityCode: string): Promise<ImpactRow[]> {
  await asSystem(trx);
  const { rows } = await sql<ImpactRow>`
    WITH placed AS MATERIALIZED (
      SELECT b.id, b.grid_code AS from_code, registry_grid_for(b.geom, ${layoutId}::int) AS to_id
      FROM buildings b
      WHERE b.community_code = ${communityCode} AND b.deleted_at IS NULL
    ),
    hh AS (
      SELECT h.building_id, count(*)::int AS households FROM households h
      WHERE h.deleted_at IS NULL AND h.community_code = ${communityCode} GROUP BY h.building_id
    ),
    rs AS (
      SELECT h.building_id, count(*)::int AS residents FROM residents r JOIN households h ON h.id = r.household_id
      WHERE r.deleted_at IS NULL AND r.status = 'present' AND r.community_code = ${communityCode} GROUP BY h.building_id
    )
    SELECT p.from_code AS "fromGridCode", p.to_id AS "toGridId", g.code AS "toGridCode",
           count(*)::int AS buildings, coalesce(sum(hh.households), 0)::int AS households, coalesce(sum(rs.residents), 0)::int AS residents
    FROM placed p
    LEFT JOIN grids g ON g.id = p.to_id
    LEFT JOIN hh ON hh.building_id = p.id
    LEFT JOIN rs ON rs.building_id = p.id
    GROUP BY p.from_code, p.to_id, g.code
    ORDER BY p.from_code NULLS FIRST, g.code NULLS FIRST, p.to_id NULLS FIRST`.execute(trx);
  return rows;
}
