/**
 * Test data written straight to the database (no HTTP), so a test states only what it is about.
 * Geometry helpers work in degrees around Zhengzhou (113.6°E, 34.75°N).
 */
import { sql } from 'kysely';
import type { Polygon } from 'geojson';
import type { Database } from '../db/database';
import { fromGeoJson } from '../db/postgis';

export const DISTRICT = '410105';
export const STREET = '410105001';
export const COMMUNITY = '410105001001';

/** Axis-aligned rectangle `[w, s, e, n]` in degrees, counter-clockwise, closed. */
export function rect(w: number, s: number, e: number, n: number): Polygon {
  return { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] };
}

/** About 1 m in degrees at 34.75°N: latitude, longitude. */
export const M_LAT = 1 / 111_320;
export const M_LON = 1 / (111_320 * Math.cos((34.75 * Math.PI) / 180));

export async function newDivisions(db: Database, opts: { communityBoundary?: Polygon | null; community?: string } = {}): Promise<void> {
  const community = opts.community ?? COMMUNITY;
  const street = community.slice(0, 9);
  const district = community.slice(0, 6);
  const boundary = opts.communityBoundary === undefined ? rect(113.6, 34.75, 113.604, 34.753) : opts.communityBoundary;
  await sql`INSERT INTO divisions (code, level, name, parent_code) VALUES (${district}, 'district', '金水区', NULL) ON CONFLICT DO NOTHING`.execute(db);
  await sql`INSERT INTO divisions (code, level, name, parent_code) VALUES (${street}, 'street', '花园路街道', ${district}) ON CONFLICT DO NOTHING`.execute(db);
  await sql`INSERT INTO divisions (code, level, name, parent_code, geom)
            VALUES (${community}, 'community', '示范社区', ${street}, ${boundary ? sql`ST_Multi(${fromGeoJson(boundary)})` : sql`NULL`})`.execute(db);
}

export async function newLayout(db: Database, opts: { community?: string; status?: 'draft' | 'published'; effectiveFrom?: string } = {}): Promise<number> {
  const status = opts.status ?? 'draft';
  const from = status === 'published' ? (opts.effectiveFrom ?? new Date(Date.now() - 86_400_000).toISOString()) : null;
  const { rows } = await sql<{ id: number }>`
    INSERT INTO layouts (community_code, status, effective_from, published_at)
    VALUES (${opts.community ?? COMMUNITY}, ${status}, ${from}, ${from}) RETURNING id`.execute(db);
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('layout insert failed');
  return id;
}

export async function newGrid(db: Database, layoutId: number, geometry: Polygon, opts: { code?: string | null; name?: string } = {}): Promise<number> {
  const { rows } = await sql<{ id: number }>`
    INSERT INTO grids (layout_id, code, name, geom) VALUES (${layoutId}, ${opts.code ?? null}, ${opts.name ?? ''}, ${fromGeoJson(geometry)})
    RETURNING id`.execute(db);
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('grid insert failed');
  return id;
}

/** The community rectangle cut into `cols × rows` equal grids sharing exact vertices. */
export function lattice(w: number, s: number, e: number, n: number, cols: number, rows: number): Polygon[] {
  const out: Polygon[] = [];
  const xs = Array.from({ length: cols + 1 }, (_, i) => w + ((e - w) * i) / cols);
  const ys = Array.from({ length: rows + 1 }, (_, j) => s + ((n - s) * j) / rows);
  for (let j = 0; j < rows; j += 1) {
    for (let i = 0; i < cols; i += 1) out.push(rect(xs[i] ?? 0, ys[j] ?? 0, xs[i + 1] ?? 0, ys[j + 1] ?? 0));
  }
  return out;
}

export async function countRows(db: Database, table: 'grids' | 'layouts' | 'divisions'): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(db);
  return rows[0]?.n ?? 0;
}
