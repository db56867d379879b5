import { sql } from 'kysely';
import type { Database } from '../../db/database';

export interface PopulationCounts {
  code: string;
  residents: number;
  households: number;
  floating: number;
  foreign: number;
  aged65Plus: number;
  lowIncome: number;
  elderlyAlone: number;
}

/**
 * Present residents counted per grid or community code under `within`. Runs inside a transaction whose
 * RLS scope covers the area (the caller decides); only counts leave this function.
 */
export async function countPopulation(db: Database, unit: 'grid' | 'community', within: string, asOf: string): Promise<PopulationCounts[]> {
  const key = unit === 'grid' ? sql`r.grid_code` : sql`r.community_code`;
  const { rows } = await sql<PopulationCounts>`
    SELECT ${key} AS code,
           count(*)::int AS residents,
           count(DISTINCT r.household_id)::int AS households,
           count(*) FILTER (WHERE r.registration = 'floating')::int AS floating,
           count(*) FILTER (WHERE r.registration = 'foreign')::int AS foreign,
           count(*) FILTER (WHERE r.birth_date <= (${asOf}::date - interval '65 years'))::int AS "aged65Plus",
           count(*) FILTER (WHERE 'low_income' = ANY (r.tags))::int AS "lowIncome",
           count(*) FILTER (WHERE 'elderly_alone' = ANY (r.tags))::int AS "elderlyAlone"
    FROM residents r
    WHERE r.deleted_at IS NULL AND r.status = 'present' AND ${key} IS NOT NULL AND starts_with(${key}, ${within})
    GROUP BY 1 ORDER BY 1`.execute(db);
  return rows;
}
