/**
 * The feature collections served by OGC API – Features. Each names its table query, id column,
 * queryable properties (simple equality filters) and temporal property. Resident data is never a
 * collection; properties are listed explicitly so a new column cannot leak.
 */
import { sql, type RawBuilder } from 'kysely';

export interface Queryable {
  type: 'string' | 'integer' | 'number';
  title: string;
  /** SQL expression of the property in `src` rows. */
  column: string;
}

export interface OgcCollection {
  id: string;
  title: string;
  description: string;
  /** SELECT with at least `fid` (text), `geom` (4326), the listed properties and optional `t` (timestamptz). */
  source(): RawBuilder<unknown>;
  properties: Record<string, Queryable>;
  /** Name of the temporal column (`t`) or null when features have no time. */
  temporal: 'interval' | null;
}

export const OGC_COLLECTIONS: OgcCollection[] = [
  {
    id: 'divisions',
    title: '行政区划 Divisions',
    description: 'District (区), street (街道) and community (社区) boundaries with GB/T 2260 and statistical codes.',
    source: () => sql`SELECT d.code AS fid, d.geom, d.code, d.name, d.level, d.parent_code FROM divisions d WHERE d.geom IS NOT NULL`,
    properties: {
      code: { type: 'string', title: 'Division code', column: 'code' },
      name: { type: 'string', title: 'Name', column: 'name' },
      level: { type: 'string', title: 'district | street | community', column: 'level' },
      parent_code: { type: 'string', title: 'Parent division code', column: 'parent_code' },
    },
    temporal: null,
  },
  {
    id: 'grids',
    title: '网格 Grids',
    description: 'Grids of the published layouts (and, with datetime, of the layouts in force then).',
    source: () => sql`
      SELECT g.id::text AS fid, g.geom, g.id, g.code, g.name, g.kind, l.community_code, g.layout_id,
             round(g.area_m2::numeric, 1)::float8 AS area_m2, l.effective_from, l.effective_to, l.status
      FROM grids g JOIN layouts l ON l.id = g.layout_id WHERE l.status <> 'draft'`,
    properties: {
      code: { type: 'string', title: 'Grid code (15 digits)', column: 'code' },
      name: { type: 'string', title: 'Name', column: 'name' },
      kind: { type: 'string', title: 'general (综合) | dedicated (专属)', column: 'kind' },
      community_code: { type: 'string', title: 'Community code', column: 'community_code' },
      layout_id: { type: 'integer', title: 'Layout id', column: 'layout_id' },
      area_m2: { type: 'number', title: 'Area, m²', column: 'area_m2' },
    },
    temporal: 'interval',
  },
];

export function findCollection(id: string): OgcCollection | undefined {
  return OGC_COLLECTIONS.find((c) => c.id === id);
}
