/**
 * The feature collections served by OGC API – Features. Each names its source query, queryable
 * properties (simple equality filters) and temporal property. Resident data is never a collection;
 * properties are listed explicitly so a new column cannot leak.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Permission } from '../../auth/principal';
import { eventWhere } from '../events/event.repository';

export interface Queryable {
  type: 'string' | 'integer' | 'number' | 'boolean';
  title: string;
}

export interface OgcCollection {
  id: string;
  title: string;
  description: string;
  /**
   * SELECT with at least `fid` (text), `sort_key` (the primary key, typed: pages follow it, so a page
   * walks an index instead of sorting every match), `geom` (4326) and a column named as each property; `effective_from`/
   * `effective_to` for an 'interval' collection, `t` (timestamptz) for an 'instant' one. Restricted
   * collections narrow their rows to the caller's scope (`scopePrefixes` null = everything).
   */
  source(ctx: SourceContext): RawBuilder<unknown>;
  /** The features' properties in output order; each is also a filter (`?name=value`, compared as text). */
  properties: Record<string, Queryable>;
  /** How `datetime` applies: a validity interval, an instant (`t`), or not at all. */
  temporal: 'interval' | 'instant' | null;
  /** Absent: public. Otherwise the permission its routes require (they are registered on their own paths). */
  permission?: Permission;
}

export interface SourceContext {
  scopePrefixes: readonly string[] | null;
}

const text = (title: string): Queryable => ({ type: 'string', title });
const integer = (title: string): Queryable => ({ type: 'integer', title });
const NAME = text('Name');
const ADDRESS = text('Address');
const COMMUNITY_CODE = text('Community code');

/**
 * A collection read straight from one table: `fid` is `idColumn` as text, and each property is the
 * column of the same name, of the rows `where` keeps.
 */
function tableCollection(c: Omit<OgcCollection, 'source'> & { table: 'divisions' | 'buildings' | 'organisations'; idColumn: string; where: RawBuilder<unknown> }): OgcCollection {
  const { table, idColumn, where, ...collection } = c;
  const columns = sql.join(Object.keys(c.properties).map((name) => sql.ref(name)));
  return { ...collection, source: () => sql`SELECT ${sql.ref(idColumn)}::text AS fid, ${sql.ref(idColumn)} AS sort_key, geom, ${columns} FROM ${sql.table(table)} WHERE ${where}` };
}

export const OGC_COLLECTIONS: OgcCollection[] = [
  tableCollection({
    id: 'divisions',
    title: '行政区划 Divisions',
    description: 'District (区), street (街道) and community (社区) boundaries with GB/T 2260 and statistical codes.',
    table: 'divisions',
    idColumn: 'code',
    where: sql`geom IS NOT NULL`,
    properties: {
      code: text('Division code'),
      name: NAME,
      level: text('district | street | community'),
      parent_code: text('Parent division code'),
    },
    temporal: null,
  }),
  {
    id: 'grids',
    title: '网格 Grids',
    description: 'Grids of the published layouts (and, with datetime, of the layouts in force then).',
    source: () => sql`
      SELECT g.id::text AS fid, g.id AS sort_key, g.geom, g.id, g.code, g.name, g.kind, l.community_code, g.layout_id,
             round(g.area_m2::numeric, 1)::float8 AS area_m2, l.effective_from, l.effective_to, l.status
      FROM grids g JOIN layouts l ON l.id = g.layout_id WHERE l.status <> 'draft'`,
    properties: {
      code: text('Grid code (15 digits)'),
      name: NAME,
      kind: text('general (综合) | dedicated (专属)'),
      community_code: COMMUNITY_CODE,
      layout_id: integer('Layout id'),
      area_m2: { type: 'number', title: 'Area, m²' },
    },
    temporal: 'interval',
  },
  tableCollection({
    id: 'buildings',
    title: '建筑 Buildings',
    description: 'Building footprints (or points) with address, use and floors, and the grid they lie in. No households or residents.',
    table: 'buildings',
    idColumn: 'id',
    where: sql`deleted_at IS NULL`,
    properties: {
      code: text('Building code within the community (5 digits)'),
      name: NAME,
      address: ADDRESS,
      use: text('residential | commercial | mixed | public | industrial | other'),
      floors: integer('Floors'),
      community_code: COMMUNITY_CODE,
      grid_code: text('Grid code'),
    },
    temporal: null,
  }),
  tableCollection({
    id: 'organisations',
    title: '单位 Organisations',
    description: 'Shops (商业网点), schools, hospitals and agencies with their employee counts and grids.',
    table: 'organisations',
    idColumn: 'id',
    where: sql`deleted_at IS NULL AND closed_on IS NULL`,
    properties: {
      code: text('Organisation code'),
      name: NAME,
      kind: text('shop | school | hospital | agency | other'),
      category: text('Category'),
      employees: integer('Employees'),
      address: ADDRESS,
      community_code: COMMUNITY_CODE,
      grid_code: text('Grid code'),
    },
    temporal: null,
  }),
  {
    id: 'events',
    title: '事件 Events',
    description:
      'Reported events (disputes, hazards, facility problems, urgent needs) with sub-type, state, channel, reported time, overdue flag and grid. ' +
      'No description, address, reporter or attachments. Needs events:read; your scope only. datetime filters the reported time.',
    source: ({ scopePrefixes }) => sql`
      SELECT e.id::text AS fid, e.id AS sort_key, e.geom, e.id, e.category_code AS category, c.name AS category_name, e.state, e.channel,
             e.reported_at AS t, to_char(e.reported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS reported_at,
             (e.state NOT IN ('closed', 'rejected') AND least(e.stage_due_at, e.due_at) < now()) AS overdue,
             e.grid_code, e.community_code
      -- LEFT: every event has its category (a foreign key), and a query that reads no category column
      -- (the match count) then drops the join altogether.
      FROM events e LEFT JOIN event_categories c ON c.taxonomy_version = e.taxonomy_version AND c.code = e.category_code
      WHERE ${eventWhere({ scopePrefixes: scopePrefixes === null ? null : [...scopePrefixes], limit: 0 })}`,
    properties: {
      id: integer('Event id'),
      category: text('Sub-type code (e.g. dispute.neighbour)'),
      category_name: text('Sub-type name'),
      state: text('reported | accepted | rejected | dispatched | in_progress | resolved | verified | closed'),
      channel: text('patrol | hotline | resident | video | assigned'),
      reported_at: text('Reported at (UTC, RFC 3339)'),
      overdue: { type: 'boolean', title: 'Past a deadline and not closed or rejected (computed now)' },
      grid_code: text('Grid the event was routed to'),
      community_code: COMMUNITY_CODE,
    },
    temporal: 'instant',
    permission: 'events:read',
  },
];

export function findCollection(id: string): OgcCollection | undefined {
  return OGC_COLLECTIONS.find((c) => c.id === id);
}
