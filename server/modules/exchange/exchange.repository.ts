/** SQL for exports that no other module already answers: a division's descendants with boundaries. */
import { sql } from 'kysely';
import type { Database } from '../../db/database';
import { asGeoJson } from '../../db/postgis';

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
