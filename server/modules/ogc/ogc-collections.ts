/**
 * The feature collections served by OGC API – Features. Each names its table query, id column,
 * queryable properties (simple equality filters) and temporal property. Resident data is never a
 * collection; properties are listed explicitly so a new column cannot leak.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Permission } from '../../auth/principal';
import { eventWhere } from '../events/event.repository';

export interface Queryable {
  type: 'string' | 'integer' | 'number' | 'boolean';
  title: string;
  /** SQL expression of the property in `src` rows. */
  column: string;
}

export interface OgcCollection {
  id: string;
  title: string;
  description: string;
  /**
   * SELECT with at least `fid` (text), `geom` (4326) and the listed properties; `effective_from`/`effective_to`
   * for an 'interval' collection, `t` (timestamptz) for an 'instant' one. Restricted collections narrow
   * their rows to the caller's scope (`scopePrefixes` null = everything).
   */
  source(ctx: SourceContext): RawBuilder<unknown>;
  properties: Record<string, Queryable>;
  /** How `datetime` applies: a validity interval, an instant (`t`), or not at all. */
  temporal: 'interval' | 'instant' | null;
  /** Absent: public. Otherwise the permission its routes require (they are registered on their own paths). */
  permission?: Permission;
}

export interface SourceContext {
  scopePrefixes: readonly string[] | null;
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
  {
    id: 'events',
    title: '事件 Events',
    description:
      'Reported events (disputes, hazards, facility problems, urgent needs) with sub-type, state, channel, reported time, overdue flag and grid. ' +
      'No description, address, reporter or attachments. Needs events:read; your scope only. datetime filters the reported time.',
    source: ({ scopePrefixes }) => sql`
      SELECT e.id::text AS fid, e.geom, e.id, e.category_code AS category, c.name AS category_name, e.state, e.channel,
             e.reported_at AS t, to_char(e.reported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS reported_at,
             (e.state NOT IN ('closed', 'rejected') AND least(e.stage_due_at, e.due_at) < now()) AS overdue,
             e.grid_code, e.community_code
      FROM events e JOIN event_categories c ON c.taxonomy_version = e.taxonomy_version AND c.code = e.category_code
      WHERE ${eventWhere({ scopePrefixes: scopePrefixes === null ? null : [...scopePrefixes], limit: 0 })}`,
    properties: {
      id: { type: 'integer', title: 'Event id', column: 'id' },
      category: { type: 'string', title: 'Sub-type code (e.g. dispute.neighbour)', column: 'category' },
      category_name: { type: 'string', title: 'Sub-type name', column: 'category_name' },
      state: { type: 'string', title: 'reported | accepted | rejected | dispatched | in_progress | resolved | verified | closed', column: 'state' },
      channel: { type: 'string', title: 'patrol | hotline | resident | video | assigned', column: 'channel' },
      reported_at: { type: 'string', title: 'Reported at (UTC, RFC 3339)', column: 'reported_at' },
      overdue: { type: 'boolean', title: 'Past a deadline and not closed or rejected (computed now)', column: 'overdue' },
      grid_code: { type: 'string', title: 'Grid the event was routed to', column: 'grid_code' },
      community_code: { type: 'string', title: 'Community code', column: 'community_code' },
    },
    temporal: 'instant',
    permission: 'events:read',
  },
];

export function findCollection(id: string): OgcCollection | undefined {
  return OGC_COLLECTIONS.find((c) => c.id === id);
}
