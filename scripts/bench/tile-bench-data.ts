/**
 * The data the tile benchmarks run on (tiles.bench.ts, tiles-cold-profile.ts): the demo generator's large
 * district (divisions, roads, published layouts, ~1,000 grids), `events` events spread over it in every
 * state, and a dispatcher's session for the authenticated event tiles.
 */
import { sql } from 'kysely';
import type { AppConfig } from '../../server/config';
import { hashPassword } from '../../server/auth/password';
import type { Database, DatabaseHandle } from '../../server/db/database';
import { insertDivisions, insertGridsBulk, insertPublishedLayouts, insertRoads } from '../../server/modules/demo/demo.repository';
import { issueSession } from '../../server/modules/users/auth.service';
import { insertUser } from '../../server/modules/users/user.repository';
import { tileOf } from '../../server/test/tiles';
import { generateDemoCity } from '../generate/demo-city';

export type Bbox = [number, number, number, number];

/** Every z/x/y tile covering a lon/lat box at zoom z. */
export function tilesCovering(bbox: Bbox, z: number): Array<[number, number, number]> {
  const [x0, y0] = tileOf(bbox[0], bbox[3], z);
  const [x1, y1] = tileOf(bbox[2], bbox[1], z);
  const out: Array<[number, number, number]> = [];
  for (let x = x0; x <= x1; x += 1) for (let y = y0; y <= y1; y += 1) out.push([z, x, y]);
  return out;
}

/** Events spread over the grids (deterministic), in every state, some overdue. */
async function insertEvents(db: Database, n: number): Promise<void> {
  await sql`
    WITH ext AS (SELECT ST_XMin(x) w, ST_YMin(x) s, ST_XMax(x) e, ST_YMax(x) n FROM (SELECT ST_Extent(geom) x FROM grids) t),
         cats AS (SELECT array_agg(code ORDER BY code) AS codes, max(taxonomy_version) AS v FROM event_categories
                  WHERE parent_code IS NOT NULL AND taxonomy_version = (SELECT version FROM event_taxonomies WHERE active)),
         st AS (SELECT ARRAY['reported','accepted','dispatched','in_progress','resolved','verified','closed','rejected'] AS states)
    INSERT INTO events (taxonomy_version, category_code, description, channel, source, occurred_at, reported_at, geom, state, closed_at, due_at, stage_due_at)
    SELECT cats.v, cats.codes[1 + (i * 7) % array_length(cats.codes, 1)], '基准事件', 'patrol', 'import',
           now() - (i % 2000) * interval '1 hour', now() - (i % 2000) * interval '1 hour',
           ST_SetSRID(ST_MakePoint(ext.w + (ext.e - ext.w) * ((i * 0.6180339887) % 1), ext.s + (ext.n - ext.s) * ((i * 0.7548776662) % 1)), 4326),
           st.states[1 + i % 8], CASE WHEN i % 8 = 6 THEN now() END,
           now() + ((i % 5) - 1) * interval '1 day', NULL
    FROM generate_series(1, ${n}) i, ext, cats, st`.execute(db);
}

export interface TileBenchData {
  /** Grids in the district. */
  grids: number;
  /** Lon/lat extent of the grids. */
  bbox: Bbox;
  /** `Authorization` of a dispatcher (events:read, city-wide). */
  auth: { Authorization: string };
}

/** Load the district and `events` events into a scratch database, analysed, with a dispatcher signed in. */
export async function loadTileBenchData(handle: DatabaseHandle, config: AppConfig, events: number): Promise<TileBenchData> {
  const city = generateDemoCity({ size: 'large' });
  await insertDivisions(handle.db, city.divisions.map((d) => ({ code: d.code, level: d.level, name: d.name, parentCode: d.parentCode, boundary: d.boundary })));
  await insertRoads(handle.db, city.roads.map((r) => ({ code: r.code, name: r.name, kind: r.kind, geom: r.geom })));
  const communities = city.divisions.filter((d) => d.level === 'community').map((d) => d.code);
  const layoutOf = await insertPublishedLayouts(handle.db, communities, '2025-01-01T00:00:00Z');
  await insertGridsBulk(handle.db, city.grids.map((g) => ({ layoutId: layoutOf.get(g.communityCode) ?? 0, code: g.code, name: g.name, kind: g.kind === '专属' ? 'dedicated' : 'general', geom: g.geom })));
  await insertEvents(handle.db, events);
  await handle.pool.query('ANALYZE');

  const user = await insertUser(handle.db, { username: 'bench-dispatcher', displayName: 'bench', passwordHash: await hashPassword('bench-password-1'), roles: ['dispatcher'], scope: { all: true, prefixes: [] }, mustChangePassword: false });
  if (!user) throw new Error('no bench user');
  const { accessToken } = await issueSession(handle.db, user, config);

  const ext = await handle.pool.query<{ w: number; s: number; e: number; n: number }>('SELECT ST_XMin(x) w, ST_YMin(x) s, ST_XMax(x) e, ST_YMax(x) n FROM (SELECT ST_Extent(geom) x FROM grids) t');
  const b = ext.rows[0];
  if (!b) throw new Error('no grids loaded');
  return { grids: city.grids.length, bbox: [b.w, b.s, b.e, b.n], auth: { Authorization: `Bearer ${accessToken}` } };
}
