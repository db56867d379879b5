import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, lattice, newDivisions, newGrid, newLayout } from '../../test/factories';
import { tileOf } from '../../test/tiles';

function decode(buf: Buffer, layer: string): Array<Record<string, unknown>> {
  if (buf.length === 0) return [];
  const tile = new VectorTile(new PbfReader(buf));
  const l = tile.layers[layer];
  if (!l) return [];
  return Array.from({ length: l.length }, (_, i) => l.feature(i).properties);
}

let t: TestApp;
let layoutId: number;
const Z = 15;
const [X, Y] = tileOf(113.602, 34.7515, Z);
const tileUrl = (layer: string): string => `/tiles/${layer}/${Z}/${X}/${Y}.mvt`;

beforeAll(async () => {
  t = await createTestApp();
  await newDivisions(t.tdb.db);
  layoutId = await newLayout(t.tdb.db, { status: 'published' });
  const cells = lattice(113.6, 34.75, 113.604, 34.753, 2, 1);
  for (const [i, cell] of cells.entries()) await newGrid(t.tdb.db, layoutId, cell, { code: `${COMMUNITY}00${i + 1}`, name: `第${i + 1}网格` });
  await t.app.ready();
});
afterAll(async () => t.close());

describe('vector tiles built by PostGIS', () => {
  it('carries the published grids with their public attributes only', async () => {
    const res = await t.inject(tileUrl('grids'));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.mapbox-vector-tile');
    const features = decode(res.rawPayload, 'grids');
    expect(features.map((f) => f.code).sort()).toEqual([`${COMMUNITY}001`, `${COMMUNITY}002`]);
    for (const f of features) expect(Object.keys(f).sort()).toEqual(['code', 'community_code', 'id', 'kind', 'layout_id', 'name']);
    const divisions = decode((await t.inject(tileUrl('divisions'))).rawPayload, 'divisions');
    expect(divisions.map((d) => d.code).sort()).toEqual([COMMUNITY]);
  });

  it('labels each grid once, in the one tile holding its label point, with its name and community', async () => {
    // At zoom 17 (tiles of about 0.0027°) each 0.002° × 0.003° grid spans several tiles.
    const z = 17;
    const [x0, y0] = tileOf(113.5995, 34.7535, z);
    const [x1, y1] = tileOf(113.6045, 34.7495, z);
    const labels: Array<Record<string, unknown>> = [];
    let gridPieces = 0;
    for (let x = x0; x <= x1; x++) {
      for (let y = y0; y <= y1; y++) {
        const buf = (await t.inject(`/tiles/grids/${z}/${x}/${y}.mvt`)).rawPayload;
        gridPieces += decode(buf, 'grids').length;
        labels.push(...decode(buf, 'grid_labels'));
      }
    }
    expect(gridPieces).toBeGreaterThan(2);
    expect(labels.map((l) => l.code).sort()).toEqual([`${COMMUNITY}001`, `${COMMUNITY}002`]);
    expect(labels.map((l) => l.name).sort()).toEqual(['第1网格', '第2网格']);
    for (const l of labels) {
      expect(l.community_name).toBe('示范社区');
      expect(Object.keys(l).sort()).toEqual(['code', 'community_code', 'community_name', 'id', 'layout_id', 'name']);
    }
  });

  it('compresses as the client accepts (Brotli, gzip or none), and answers If-None-Match with 304', async () => {
    const plain = await t.inject(tileUrl('grids'));
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('accept-encoding');
    // What GDAL's MVT driver sends: gzip only.
    const zipped = await t.inject({ url: tileUrl('grids'), headers: { 'accept-encoding': 'gzip, deflate' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.rawPayload).equals(plain.rawPayload)).toBe(true);
    expect(zipped.headers.etag).toBe(plain.headers.etag);
    // What browsers send: Brotli.
    const br = await t.inject({ url: tileUrl('grids'), headers: { 'accept-encoding': 'gzip, deflate, br, zstd' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.rawPayload).equals(plain.rawPayload)).toBe(true);
    expect(br.rawPayload.length).toBeLessThan(plain.rawPayload.length);
    // Weights decide: gzip preferred over Brotli, Brotli refused, both refused.
    const preferGzip = await t.inject({ url: tileUrl('grids'), headers: { 'accept-encoding': 'br;q=0.5, gzip' } });
    expect(preferGzip.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(preferGzip.rawPayload).equals(plain.rawPayload)).toBe(true);
    const refused = await t.inject({ url: tileUrl('grids'), headers: { 'accept-encoding': 'br;q=0, gzip;q=0' } });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(refused.rawPayload.equals(plain.rawPayload)).toBe(true);
    expect(plain.headers['cache-control']).toMatch(/must-revalidate/);
    const again = await t.inject({ url: tileUrl('grids'), headers: { 'if-none-match': String(plain.headers.etag), 'accept-encoding': 'gzip, br' } });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
    // One weak tag for every encoding; a list naming it, or its strong spelling, revalidates too.
    expect(String(plain.headers.etag)).toMatch(/^W\//);
    const listed = await t.inject({ url: tileUrl('grids'), headers: { 'if-none-match': `"old", ${String(plain.headers.etag).slice(2)}` } });
    expect(listed.statusCode).toBe(304);
    const other = await t.inject({ url: tileUrl('grids'), headers: { 'if-none-match': 'W/"old"' } });
    expect(other.statusCode).toBe(200);
    expect(other.rawPayload.equals(plain.rawPayload)).toBe(true);
  });

  it('never serves a stale tile after an edit: the next request shows the change', async () => {
    const before = decode((await t.inject(tileUrl('grids'))).rawPayload, 'grids');
    expect(before.map((f) => f.name).sort()).toEqual(['第1网格', '第2网格']);
    await sql`UPDATE grids SET name = '改名网格' WHERE code = ${`${COMMUNITY}001`}`.execute(t.tdb.db);
    // NOTIFY is delivered after commit; poll briefly (the issue allows ~1 s).
    await expect
      .poll(async () => decode((await t.inject(tileUrl('grids'))).rawPayload, 'grids').map((f) => f.name).sort(), { timeout: 2_000, interval: 50 })
      .toEqual(['改名网格', '第2网格']);
  });

  it('renaming a community changes the grid labels at once (grid tiles carry the community name)', async () => {
    const labels = async (): Promise<string[]> => [...new Set(decode((await t.inject(tileUrl('grids'))).rawPayload, 'grid_labels').map((f) => String(f.community_name)))];
    const [before] = await labels();
    expect(before).toBeTruthy();
    await sql`UPDATE divisions SET name = '新名社区' WHERE code = ${COMMUNITY}`.execute(t.tdb.db);
    await expect.poll(labels, { timeout: 2_000, interval: 50 }).toEqual(['新名社区']);
    await sql`UPDATE divisions SET name = ${before ?? ''} WHERE code = ${COMMUNITY}`.execute(t.tdb.db);
    await expect.poll(labels, { timeout: 2_000, interval: 50 }).toEqual([before]);
  });

  it('serves a published history layout by id, and refuses drafts, bad addresses and unknown layers', async () => {
    const byId = decode((await t.inject(`${tileUrl('grids')}?layout=${layoutId}`)).rawPayload, 'grids');
    expect(byId).toHaveLength(2);
    const draft = await newLayout(t.tdb.db);
    expect((await t.inject(`${tileUrl('grids')}?layout=${draft}`)).statusCode).toBe(404);
    expect((await t.inject('/tiles/grids/3/8/1.mvt')).statusCode).toBe(400);
    expect((await t.inject('/tiles/residents/15/1/1.mvt')).statusCode).toBe(404);
    expect((await t.inject('/tiles/grids/23/1/1.mvt')).statusCode).toBe(400);
  });

  it('describes each layer with TileJSON', async () => {
    const doc = (await t.inject('/tiles/grids.json')).json<{ tilejson: string; tiles: string[]; bounds: number[]; vector_layers: Array<{ id: string; fields: Record<string, string> }> }>();
    expect(doc.tilejson).toBe('3.0.0');
    expect(doc.tiles[0]).toMatch(/\/tiles\/grids\/\{z\}\/\{x\}\/\{y\}\.mvt$/);
    expect(doc.vector_layers[0]?.fields).toHaveProperty('code', 'String');
    expect(doc.vector_layers.map((l) => l.id)).toEqual(['grids', 'grid_labels']);
    expect(doc.vector_layers[1]?.fields).toHaveProperty('community_name', 'String');
    expect(doc.bounds[0]).toBeCloseTo(113.6, 5);
  });
});

describe('building tiles', () => {
  it('carry footprints with public attributes only, and follow edits', async () => {
    await sql`INSERT INTO buildings (community_code, code, name, address, use, floors, geom, grid_code)
              VALUES (${COMMUNITY}, '00001', '3号楼', '建设路12号院3号楼', 'residential', 6,
                      ST_SetSRID(ST_MakeEnvelope(113.6015, 34.751, 113.6017, 34.7512), 4326), ${`${COMMUNITY}001`})`.execute(t.tdb.db);
    await expect
      .poll(async () => decode((await t.inject(tileUrl('buildings'))).rawPayload, 'buildings'), { timeout: 2_000, interval: 50 })
      .toHaveLength(1);
    const [b] = decode((await t.inject(tileUrl('buildings'))).rawPayload, 'buildings');
    // No households: the count is left out (a public map must not show which house stands empty).
    expect(Object.keys(b ?? {}).sort()).toEqual(['address', 'code', 'community_code', 'floors', 'grid_code', 'name', 'use']);
    await sql`UPDATE buildings SET floors = 7`.execute(t.tdb.db);
    await expect
      .poll(async () => decode((await t.inject(tileUrl('buildings'))).rawPayload, 'buildings')[0]?.floors, { timeout: 2_000, interval: 50 })
      .toBe(7);
  });

  it('carry the number of live households from 3 up, kept by triggers through insert, move, soft delete and delete', async () => {
    const households = async (name = '3号楼'): Promise<unknown> =>
      decode((await t.inject(tileUrl('buildings'))).rawPayload, 'buildings').find((f) => f.name === name)?.households;
    const { rows } = await sql<{ id: number }>`SELECT id FROM buildings WHERE name = '3号楼'`.execute(t.tdb.db);
    const building = rows[0]!.id;
    const { rows: others } = await sql<{ id: number }>`
      INSERT INTO buildings (community_code, code, name, geom) VALUES (${COMMUNITY}, '00002', '4号楼',
        ST_SetSRID(ST_MakeEnvelope(113.6025, 34.751, 113.6027, 34.7512), 4326)) RETURNING id`.execute(t.tdb.db);
    const other = others[0]!.id;
    const system = sql`SELECT set_config('wangge.scope_all', 'on', true)`;
    await t.tdb.db.transaction().execute(async (trx) => {
      await system.execute(trx);
      await sql`INSERT INTO households (building_id, unit, room, community_code)
                SELECT ${building}, '1', r::text, ${COMMUNITY} FROM generate_series(101, 112) r`.execute(trx);
    });
    await expect.poll(() => households(), { timeout: 2_000, interval: 50 }).toBe(12);
    await t.tdb.db.transaction().execute(async (trx) => {
      await system.execute(trx);
      // two move to the other building, one is soft-deleted, one deleted outright
      await sql`UPDATE households SET building_id = ${other} WHERE building_id = ${building} AND room IN ('101', '102')`.execute(trx);
      await sql`UPDATE households SET deleted_at = now(), deleted_reason = 'demolished' WHERE building_id = ${building} AND room = '103'`.execute(trx);
      await sql`DELETE FROM households WHERE building_id = ${building} AND room = '104'`.execute(trx);
    });
    await expect.poll(() => households(), { timeout: 2_000, interval: 50 }).toBe(8);
    const { rows: counts } = await sql<{ name: string; household_count: number }>`SELECT name, household_count FROM buildings ORDER BY name`.execute(t.tdb.db);
    expect(counts).toEqual([{ name: '3号楼', household_count: 8 }, { name: '4号楼', household_count: 2 }]);
    // 4号楼 has 2 households: the tile shows the building without its count.
    const fourth = decode((await t.inject(tileUrl('buildings'))).rawPayload, 'buildings').find((f) => f.name === '4号楼');
    expect(fourth).toBeDefined();
    expect(fourth).not.toHaveProperty('households');
    await t.tdb.db.transaction().execute(async (trx) => {
      await system.execute(trx);
      await sql`UPDATE households SET building_id = ${other} WHERE building_id = ${building} AND room = '105'`.execute(trx);
    });
    await expect.poll(() => households('4号楼'), { timeout: 2_000, interval: 50 }).toBe(3);
  });
});

describe('tiles for other origins (CORS_ORIGINS)', () => {
  let c: TestApp;
  beforeAll(async () => {
    c = await createTestApp({ corsOrigins: ['https://a.example'] });
    await newDivisions(c.tdb.db);
    const layout = await newLayout(c.tdb.db, { status: 'published' });
    await newGrid(c.tdb.db, layout, lattice(113.6, 34.75, 113.604, 34.753, 1, 1)[0]!, { code: `${COMMUNITY}001` });
  });
  afterAll(async () => c.close());

  it('vary by Origin as well as by Accept-Encoding, so a shared cache keeps both apart', async () => {
    const res = await c.inject({ url: tileUrl('grids'), headers: { origin: 'https://a.example', 'accept-encoding': 'gzip, deflate, br, zstd' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('https://a.example');
    const vary = String(res.headers.vary).split(',').map((v) => v.trim().toLowerCase());
    expect(vary).toContain('origin');
    expect(vary).toContain('accept-encoding');
    expect(decode(brotliDecompressSync(res.rawPayload), 'grids')).toHaveLength(1);
  });
});
