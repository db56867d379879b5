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
  {
    id: 'buildings',
    title: '建筑 Buildings',
    description: 'Building footprints (or points) with address, use and floors, and the grid they lie in. No households or residents.',
    source: () => sql`
      SELECT b.id::text AS fid, b.geom, b.code, b.name, b.address, b.use, b.floors, b.community_code, b.grid_code
      FROM buildings b WHERE b.deleted_at IS NULL`,
    properties: {
      code: { type: 'string', title: 'Building code within the community (5 digits)', column: 'code' },
      name: { type: 'string', title: 'Name', column: 'name' },
      address: { type: 'string', title: 'Address', column: 'address' },
      use: { type: 'string', title: 'residential | commercial | mixed | public | industrial | other', column: 'use' },
      floors: { type: 'integer', title: 'Floors', column: 'floors' },
      community_code: { type: 'string', title: 'Community code', column: 'community_code' },
      grid_code: { type: 'string', title: 'Grid code', column: 'grid_code' },
    },
    temporal: null,
  },
  {
    id: 'organisations',
    title: '单位 Organisations',
    description: 'Shops (商业网点), schools, hospitals and agencies with their employee counts and grids.',
    source: () => sql`
      SELECT o.id::text AS fid, o.geom, o.code, o.name, o.kind, o.category, o.employees, o.address, o.community_code, o.grid_code
      FROM organisations o WHERE o.deleted_at IS NULL AND o.closed_on IS NULL`,
    properties: {
      code: { type: 'string', title: 'Organisation code', column: 'code' },
      name: { type: 'string', title: 'Name', column: 'name' },
      kind: { type: 'string', title: 'shop | school | hospital | agency | other', column: 'kind' },
      category: { type: 'string', title: 'Category', column: 'category' },
      employees: { type: 'integer', title: 'Employees', column: 'employees' },
      address: { type: 'string', title: 'Address', column: 'address' },
      community_code: { type: 'string', title: 'Community code', column: 'community_code' },
      grid_code: { type: 'string', title: 'Grid code', column: 'grid_code' },
    },
    temporal: null,
  },
];

export function findCollection(id: string): OgcCollection | undefined {
  return OGC_COLLECTIONS.find((c) => c.id === id);
}
