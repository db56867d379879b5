/**
 * A layout from real geometry, end to end: city blocks between the OpenStreetMap roads around the Bund
 * in Shanghai (../shared/data/real/shanghai_bund_osm_roads_tilezen.geojson) become the grids of a
 * community, imported as a draft through the API, validated and published.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config';
import type { LayoutCollection } from '../../contracts/layout';
import { createTestApp, type TestApp } from '../../test/app';

const ROADS = path.resolve(PROJECT_ROOT, '../shared/data/real/shanghai_bund_osm_roads_tilezen.geojson');
const available = existsSync(ROADS);
if (!available) console.warn(`skipping the Shanghai real-data layout test: ${ROADS} is absent (it lives in ../shared/data)`);

// Puxi side of the Bund: west of the Huangpu, between Suzhou Creek and Yan'an Road.
const BBOX = [121.478, 31.228, 121.492, 31.242] as const;
const COMMUNITY = '310101002001';

describe.skipIf(!available)('a layout from real OpenStreetMap blocks (Shanghai, the Bund)', () => {
  let t: TestApp;
  let blocks: Array<{ type: 'Feature'; geometry: unknown; properties: Record<string, unknown> }> = [];

  beforeAll(async () => {
    t = await createTestApp();
    const db = t.tdb.db;
    const roads = JSON.parse(readFileSync(ROADS, 'utf8')) as { features: Array<{ geometry: unknown; properties: { kind: string } }> };
    await sql`CREATE TEMP TABLE roads (geom geometry(Geometry, 4326))`.execute(db);
    const streetLines = roads.features.filter((f) => f.properties.kind === 'major_road' || f.properties.kind === 'minor_road');
    await sql`INSERT INTO roads (geom)
              SELECT ST_SetSRID(ST_GeomFromGeoJSON(g), 4326) FROM unnest(${streetLines.map((f) => JSON.stringify(f.geometry))}::text[]) AS g`.execute(db);
    // Faces of the noded road network inside the box: blocks. Faces under 2,000 m² are traffic islands
    // and medians; they stay uncovered and show up as gaps.
    const { rows } = await sql<{ geometry: unknown; area: number }>`
      WITH box AS (SELECT ST_MakeEnvelope(${BBOX[0]}, ${BBOX[1]}, ${BBOX[2]}, ${BBOX[3]}, 4326) AS g),
           lines AS (SELECT ST_Union(ST_Intersection(r.geom, box.g)) AS g FROM roads r, box WHERE r.geom && box.g),
           noded AS (SELECT ST_Union(lines.g, ST_Boundary(box.g)) AS g FROM lines, box),
           faces AS (SELECT (ST_Dump(ST_Polygonize(g))).geom AS g FROM noded)
      SELECT ST_AsGeoJSON(g, 9)::json AS geometry, ST_Area(g::geography) AS area FROM faces
      WHERE ST_Area(g::geography) >= 2000 ORDER BY ST_YMax(g) DESC, ST_XMin(g)`.execute(db);
    blocks = rows.map((r, i) => ({ type: 'Feature', geometry: r.geometry, properties: { name: `街区${i + 1}`, source: 'OSM blocks' } }));
    await sql`INSERT INTO divisions (code, level, name, parent_code) VALUES ('310101', 'district', '黄浦区', NULL)`.execute(db);
    await sql`INSERT INTO divisions (code, level, name, parent_code) VALUES ('310101002', 'street', '外滩街道', '310101')`.execute(db);
    await sql`INSERT INTO divisions (code, level, name, parent_code, geom)
              VALUES (${COMMUNITY}, 'community', '外滩示范社区', '310101002', ST_Multi(ST_MakeEnvelope(${BBOX[0]}, ${BBOX[1]}, ${BBOX[2]}, ${BBOX[3]}, 4326)))`.execute(db);
  });
  afterAll(async () => t?.close());

  it('imports the blocks as a draft, validates them and publishes with codes', async () => {
    expect(blocks.length).toBeGreaterThan(30);
    const imported = await t.inject({ method: 'POST', url: `/api/v1/communities/${COMMUNITY}/layouts/import`, payload: { type: 'FeatureCollection', name: 'OSM blocks', features: blocks } });
    expect(imported.statusCode).toBe(201);
    const layout = imported.json<LayoutCollection>().layout;
    expect(layout.gridCount).toBe(blocks.length);

    const validation = (await t.inject(`/api/v1/layouts/${layout.id}/validation`)).json<{ summary: { overlaps: number; outside: number; gaps: number; publishable: boolean } }>();
    // Faces of one planar network share their edges exactly: no overlaps, nothing outside the box.
    expect(validation.summary.overlaps).toBe(0);
    expect(validation.summary.outside).toBe(0);
    // The traffic islands left out are reported as gaps, which warn but do not block.
    expect(validation.summary.gaps).toBeGreaterThan(0);
    expect(validation.summary.publishable).toBe(true);

    const published = await t.inject({ method: 'POST', url: `/api/v1/layouts/${layout.id}/publish`, payload: {} });
    expect(published.statusCode).toBe(200);
    const assigned = published.json<{ assigned: Array<{ code: string }> }>().assigned;
    expect(assigned).toHaveLength(blocks.length);
    expect(new Set(assigned.map((a) => a.code)).size).toBe(blocks.length);
    expect(assigned.map((a) => a.code).sort()[0]).toBe(`${COMMUNITY}001`);
  });
});
