/**
 * Bulk import of historical events (e.g. another city's 311 history) with their real reported/closed
 * times: each is routed in SQL to the grid in force at its reported time (same rule as intake: ST_Covers,
 * first by code), its closing deadline computed on the working calendar from the taxonomy, and its
 * report/close transitions written, so reports and KPIs treat it like any other event.
 */
import { sql } from 'kysely';
import type { Database } from '../../db/database';
import { findActiveTaxonomyVersion, findTaxonomy, loadWorkingCalendar } from './event.repository';
import { addDeadlineHours } from './working-calendar';

export interface HistoricalEvent {
  categoryCode: string;
  description: string;
  channel: 'patrol' | 'hotline' | 'resident' | 'video' | 'assigned';
  reportedAt: Date;
  closedAt: Date | null;
  lon: number;
  lat: number;
  address: string | null;
}

export async function importHistoricalEvents(db: Database, events: readonly HistoricalEvent[]): Promise<{ imported: number; routed: number }> {
  const version = await findActiveTaxonomyVersion(db);
  const taxonomy = version === undefined ? undefined : await findTaxonomy(db, version);
  if (!taxonomy || version === undefined) throw new Error('no active event taxonomy');
  const categories = new Map(taxonomy.categories.map((c) => [c.code, c]));
  const calendar = await loadWorkingCalendar(db);
  const due = events.map((e) => {
    const c = categories.get(e.categoryCode);
    if (!c?.hours) throw new Error(`unknown sub-type ${e.categoryCode}`);
    const h = c.hours;
    return addDeadlineHours(e.reportedAt, h.accept + h.dispatch + h.handle + h.verify, c.urgent, calendar).toISOString();
  });
  const { rows } = await sql<{ imported: number; routed: number }>`
    WITH x AS (
      SELECT * FROM unnest(${events.map((e) => e.categoryCode)}::text[], ${events.map((e) => e.description)}::text[], ${events.map((e) => e.channel)}::text[],
                           ${events.map((e) => e.reportedAt.toISOString())}::timestamptz[], ${events.map((e) => e.closedAt?.toISOString() ?? null)}::timestamptz[],
                           ${events.map((e) => e.lon)}::float8[], ${events.map((e) => e.lat)}::float8[], ${events.map((e) => e.address)}::text[], ${due}::timestamptz[])
        AS x(category, description, channel, reported, closed, lon, lat, address, due)
    ),
    routed AS (
      SELECT x.*, p.g, r.id AS grid_id, r.code AS grid_code, r.name AS grid_name, r.layout_id, r.community_code
      FROM x CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326) AS g) p
      LEFT JOIN LATERAL (
        SELECT g.id, g.code, g.name, g.layout_id, l.community_code FROM grids g JOIN layouts l ON l.id = g.layout_id
        WHERE l.effective_from IS NOT NULL AND tstzrange(l.effective_from, l.effective_to, '[)') @> x.reported
          AND g.geom && p.g AND ST_Covers(g.geom, p.g)
        ORDER BY g.code NULLS LAST, g.id LIMIT 1
      ) r ON true
    ),
    ins AS (
      INSERT INTO events (taxonomy_version, category_code, description, channel, source, occurred_at, reported_at, address, geom,
                          grid_id, grid_code, grid_name, layout_id, community_code, street_code, routing, state, stage, due_at, resolved_at, closed_at, updated_at)
      SELECT ${version}, category, description, channel, 'import', reported, reported, address, g,
             grid_id, grid_code, grid_name, layout_id, community_code, left(community_code, 9),
             jsonb_build_object('gridId', grid_id, 'gridCode', grid_code, 'gridName', grid_name, 'layoutId', layout_id, 'communityCode', community_code,
                                'streetCode', left(community_code, 9), 'responsibleStaff', NULL, 'via', CASE WHEN grid_id IS NULL THEN 'unrouted' ELSE 'grid' END,
                                'distanceM', NULL, 'note', 'imported history'),
             CASE WHEN closed IS NULL THEN 'dispatched' ELSE 'closed' END, CASE WHEN closed IS NULL THEN 'handle' END, due, closed, closed, coalesce(closed, reported)
      FROM routed
      RETURNING id, reported_at, closed_at, grid_id
    ),
    t1 AS (
      INSERT INTO event_transitions (event_id, action, from_state, to_state, at, actor_name, details)
      SELECT id, 'report', NULL, 'reported', reported_at, 'import', '{}'::jsonb FROM ins
      UNION ALL
      SELECT id, 'close', 'reported', 'closed', closed_at, 'import', '{"imported": true}'::jsonb FROM ins WHERE closed_at IS NOT NULL
      RETURNING 1
    )
    SELECT count(*)::int AS imported, count(grid_id)::int AS routed FROM ins`.execute(db);
  return rows[0] ?? { imported: 0, routed: 0 };
}
