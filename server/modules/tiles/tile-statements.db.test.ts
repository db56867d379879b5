/**
 * Tiles render through named statements (tile-statements.ts): one statement per SQL text, reused on
 * the connection, and the bytes are those of the same SQL run unnamed — also under generic plans,
 * which PostgreSQL may pick for a named statement after five executions.
 */
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database';
import { COMMUNITY, lattice, newDivisions, newGrid, newLayout } from '../../test/factories';
import { eventTileSql, type EventTileFilter } from './event-tiles';
import { TILE_LAYERS, tileSql } from './tile-layers';
import { renderEventTile, renderTile } from './tile.repository';
import { tileOf } from '../../test/tiles';

function featureCount(buf: Buffer, layer: string): number {
  return buf.length === 0 ? 0 : (new VectorTile(new PbfReader(buf)).layers[layer]?.length ?? 0);
}

// One connection: every statement and setting below lives on the same PostgreSQL session.
let tdb: TestDatabase;
let layoutId: number;
const AT: [number, number] = [113.602, 34.7515];

interface Case {
  name: string;
  layer: string;
  z: number;
  named: () => Promise<Buffer>;
  unnamed: () => Promise<Buffer>;
}

function cases(): Case[] {
  const layerCase = (layer: string, z: number, layout?: number): Case => {
    const def = TILE_LAYERS[layer]!;
    const [x, y] = tileOf(...AT, z);
    return {
      name: `${layer} z${z}${layout ? ' (layout)' : ''}`,
      layer,
      z,
      named: () => renderTile(tdb.db, def, z, x, y, layout),
      unnamed: async () => (await tileSql(def, z, x, y, layout).execute(tdb.db)).rows[0]?.mvt ?? Buffer.alloc(0),
    };
  };
  const eventCase = (z: number, filter: EventTileFilter, label: string): Case => {
    const [x, y] = tileOf(...AT, z);
    return {
      name: `events z${z} ${label}`,
      layer: z >= 15 ? 'events' : 'event_cells',
      z,
      named: () => renderEventTile(tdb.db, z, x, y, filter),
      unnamed: async () => (await eventTileSql(z, x, y, filter).execute(tdb.db)).rows[0]?.mvt ?? Buffer.alloc(0),
    };
  };
  return [
    layerCase('grids', 15),
    layerCase('grids', 15, layoutId),
    layerCase('divisions', 15),
    layerCase('divisions', 10),
    eventCase(15, { scopePrefixes: null }, 'all'),
    eventCase(15, { scopePrefixes: [COMMUNITY] }, 'scoped'),
    eventCase(15, { scopePrefixes: null, states: ['reported', 'accepted'] }, 'two states'),
    eventCase(12, { scopePrefixes: null }, 'cells'),
  ];
}

beforeAll(async () => {
  tdb = await createTestDatabase({ max: 1 });
  await newDivisions(tdb.db);
  layoutId = await newLayout(tdb.db, { status: 'published' });
  const cells = lattice(113.6, 34.75, 113.604, 34.753, 2, 1);
  for (const [i, cell] of cells.entries()) await newGrid(tdb.db, layoutId, cell, { code: `${COMMUNITY}00${i + 1}`, name: `第${i + 1}网格` });
  // Twelve events around AT, in both grids, in every other state.
  await sql`
    INSERT INTO events (taxonomy_version, category_code, description, channel, source, occurred_at, reported_at, geom, state, closed_at, due_at, community_code, grid_code)
    SELECT c.taxonomy_version, c.code, '测试事件', 'patrol', 'import', now(), now() - i * interval '1 hour',
           ST_SetSRID(ST_MakePoint(113.6005 + i * 0.0003, 34.7505 + (i % 4) * 0.0005), 4326),
           (ARRAY['reported', 'accepted', 'dispatched', 'closed'])[1 + i % 4], CASE WHEN i % 4 = 3 THEN now() END, now() + ((i % 3) - 1) * interval '1 day',
           ${COMMUNITY}, ${COMMUNITY} || '00' || (1 + i % 2)
    FROM generate_series(0, 11) i,
         (SELECT c.taxonomy_version, c.code FROM event_categories c JOIN event_taxonomies t ON t.version = c.taxonomy_version AND t.active
          WHERE c.parent_code IS NOT NULL ORDER BY c.code LIMIT 1) c`.execute(tdb.db);
});
afterAll(async () => tdb.drop());

describe('tile SQL as named statements', () => {
  it('gives the same tiles as the SQL run unnamed, with custom and with generic plans', async () => {
    for (const c of cases()) {
      const expected = await c.unnamed();
      // The premise: the tile holds features, so equal bytes mean equal content. Communities are left out
      // below z12 and the only division here is a community: divisions z10 runs the statement of z15
      // (zoom is a parameter) and must come out empty.
      if (c.name === 'divisions z10') expect(featureCount(expected, c.layer)).toBe(0);
      else expect(featureCount(expected, c.layer), c.name).toBeGreaterThan(0);
      for (let i = 0; i < 8; i++) expect((await c.named()).equals(expected), `${c.name}, execution ${i + 1}`).toBe(true);
    }
    await sql`SET plan_cache_mode = force_generic_plan`.execute(tdb.db);
    try {
      for (const c of cases()) {
        const expected = await c.unnamed();
        for (let i = 0; i < 2; i++) expect((await c.named()).equals(expected), `${c.name}, generic plan`).toBe(true);
      }
    } finally {
      await sql`RESET plan_cache_mode`.execute(tdb.db);
    }
    const { rows } = await sql<{ generic: number }>`SELECT sum(generic_plans)::int AS generic FROM pg_prepared_statements WHERE name LIKE 'wangge_tile_%'`.execute(tdb.db);
    expect(rows[0]?.generic).toBeGreaterThan(0);
  });

  it('prepares each tile statement once on a connection and reuses it for every tile', async () => {
    const before = await sql<{ name: string; runs: number }>`
      SELECT name, (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements WHERE name LIKE 'wangge_tile_%'`.execute(tdb.db);
    const grids = TILE_LAYERS.grids!;
    // Three different grid tiles: the same SQL text, so the same statement.
    for (const [dx, dy] of [[0, 0], [1, 0], [0, 1]] as const) {
      const [x, y] = tileOf(...AT, 15);
      await renderTile(tdb.db, grids, 15, x + dx, y + dy);
    }
    const after = await sql<{ name: string; runs: number; statement: string }>`
      SELECT name, (generic_plans + custom_plans)::int AS runs, statement FROM pg_prepared_statements WHERE name LIKE 'wangge_tile_%'`.execute(tdb.db);
    // The first test ran seven different texts (divisions z10 and z15 share one; nothing else is named
    // on this connection).
    expect(after.rows.length).toBe(7);
    expect(after.rows.length).toBe(before.rows.length);
    const runs = new Map(before.rows.map((r) => [r.name, r.runs]));
    const grew = after.rows.filter((r) => r.runs !== runs.get(r.name));
    expect(grew).toHaveLength(1);
    expect(grew[0]!.runs - (runs.get(grew[0]!.name) ?? 0)).toBe(3);
    expect(grew[0]!.statement).toContain('ST_AsMVT');
    expect(grew[0]!.statement).toContain('grids');
  });
});
