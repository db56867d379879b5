/**
 * The monthly report (月报) from history: changes within the month, and states on its last day.
 * History rows are valid over [valid_from, valid_to), so the state on day d is the row with
 * valid_from ≤ d < valid_to. A scope code matches a row when its grid or community code starts with it.
 */
import { sql } from 'kysely';
import type { MonthlyReport } from '../../contracts/registry';
import type { Database } from '../../db/database';

export async function computeMonthlyReport(db: Database, month: string, scope: string): Promise<MonthlyReport> {
  const start = `${month}-01`;
  const { rows } = await sql<Omit<MonthlyReport, 'month' | 'scope'>>`
    WITH m AS (SELECT ${start}::date AS start, (${start}::date + interval '1 month')::date AS next),
    h AS (
      SELECT rh.* FROM resident_history rh
      WHERE starts_with(coalesce(rh.grid_code, ''), ${scope}) OR starts_with(coalesce(rh.community_code, ''), ${scope})
    ),
    changes AS (
      SELECT
        count(*) FILTER (WHERE change = 'birth')::int AS births,
        count(*) FILTER (WHERE change = 'death')::int AS deaths,
        count(*) FILTER (WHERE change = 'move_in')::int AS "movedIn",
        count(*) FILTER (WHERE change = 'move_out')::int AS "movedOut"
      FROM h, m WHERE h.valid_from >= m.start AND h.valid_from < m.next
    ),
    state AS (
      SELECT
        count(*)::int AS residents,
        count(*) FILTER (WHERE registration = 'floating')::int AS floating,
        count(*) FILTER (WHERE 'low_income' = ANY(tags))::int AS "lowIncome"
      FROM h, m
      WHERE h.valid_from < m.next AND (h.valid_to IS NULL OR h.valid_to >= m.next) AND h.status = 'present' AND h.change <> 'deleted'
    ),
    shops AS (
      SELECT count(*)::int AS shops, coalesce(sum(oh.employees), 0)::int AS "shopEmployees"
      FROM organisation_history oh JOIN organisations o ON o.id = oh.organisation_id, m
      WHERE oh.kind = 'shop' AND oh.valid_from < m.next AND (oh.valid_to IS NULL OR oh.valid_to >= m.next)
        AND o.opened_on < m.next AND (o.closed_on IS NULL OR o.closed_on >= m.next)
        AND (starts_with(coalesce(oh.grid_code, ''), ${scope}) OR starts_with(coalesce(oh.community_code, ''), ${scope}))
    )
    SELECT * FROM changes, state, shops`.execute(db);
  const r = rows[0];
  if (!r) throw new Error('monthly report returned nothing');
  return { month, scope, ...r };
}
