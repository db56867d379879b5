import { sql, type CompiledQuery, type RawBuilder } from 'kysely';
import type { Database } from '../../db/database';
import { eventWhere } from '../events/event.repository';
import { eventTileSql, type EventTileFilter } from './event-tiles';
import { tileSql, type TileLayerDefinition } from './tile-layers';
import { StatementNames } from './tile-statements';

/**
 * Tile SQL runs as named statements, planned once per connection (tile-statements.ts). A tile statement
 * keeps about 75 KB of plan in each connection's backend (pg_backend_memory_contexts: 385 KB for five):
 * 50 texts at most, under 4 MB a connection. The usual ones are about a dozen (the four layers, a
 * layout's grids, event points and cells unfiltered and with a few filters).
 */
export const tileStatements = new StatementNames('wangge_tile_', 50);

async function renderMvt(db: Database, query: RawBuilder<{ mvt: Buffer }>): Promise<Buffer> {
  const compiled = query.compile(db);
  const name = tileStatements.nameOf(compiled.sql);
  // kysely hands `sql` to pg's client.query untouched, and pg takes a query config ({ text, name }) there
  // as well as a string: the way to a named statement through kysely's pool (no second pool, no pg
  // import outside db/).
  const named: CompiledQuery<{ mvt: Buffer }> = name === undefined ? compiled : { ...compiled, sql: { text: compiled.sql, name } as unknown as string };
  const { rows } = await db.executeQuery(named);
  return rows[0]?.mvt ?? Buffer.alloc(0);
}

export async function renderTile(db: Database, layer: TileLayerDefinition, z: number, x: number, y: number, layoutId?: number): Promise<Buffer> {
  return renderMvt(db, tileSql(layer, z, x, y, layoutId));
}

export async function renderEventTile(db: Database, z: number, x: number, y: number, filter: EventTileFilter): Promise<Buffer> {
  return renderMvt(db, eventTileSql(z, x, y, filter));
}

export async function readDataVersions(db: Database): Promise<Array<[string, number]>> {
  const { rows } = await sql<{ layer: string; version: number }>`SELECT layer, version FROM data_versions`.execute(db);
  return rows.map((r) => [r.layer, r.version]);
}

/** Published or archived layouts may be tiled by id (history maps); drafts are edited as GeoJSON. */
export async function isTileableLayout(db: Database, layoutId: number): Promise<boolean> {
  const row = await db.selectFrom('layouts').select('status').where('id', '=', layoutId).executeTakeFirst();
  return row !== undefined && row.status !== 'draft';
}

type Bounds = [number, number, number, number];

async function extentOf(db: Database, extent: RawBuilder<unknown>): Promise<Bounds | null> {
  const { rows } = await sql<{ w: number | null; s: number | null; e: number | null; n: number | null }>`
    SELECT ST_XMin(x) AS w, ST_YMin(x) AS s, ST_XMax(x) AS e, ST_YMax(x) AS n FROM (${extent}) t`.execute(db);
  const r = rows[0];
  return r && r.w !== null && r.s !== null && r.e !== null && r.n !== null ? [r.w, r.s, r.e, r.n] : null;
}

/** Lon/lat extent of a public layer's data, for TileJSON `bounds`. */
export async function layerBounds(db: Database, layerId: string): Promise<Bounds | null> {
  const table = layerId === 'divisions' ? sql`divisions` : layerId === 'roads' ? sql`roads` : layerId === 'buildings' ? sql`buildings` : sql`grids`;
  return extentOf(db, sql`SELECT ST_Extent(geom) AS x FROM ${table}`);
}

/** Lon/lat extent of the events a caller may see (null prefixes: all), for the events TileJSON `bounds`. */
export async function eventBounds(db: Database, scopePrefixes: readonly string[] | null): Promise<Bounds | null> {
  return extentOf(db, sql`SELECT ST_Extent(e.geom) AS x FROM events e WHERE ${eventWhere({ scopePrefixes: scopePrefixes === null ? null : [...scopePrefixes], limit: 0 })}`);
}
