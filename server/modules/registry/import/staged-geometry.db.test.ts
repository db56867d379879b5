/**
 * Imports stage geometry as WKB written in Node (server/geo/wkb.ts) instead of GeoJSON text: PostGIS
 * must read back exactly the geometry it would have parsed from the GeoJSON — same type, same
 * coordinates to the last bit, SRID 4326 — for every shape an import accepts; likewise the hex EWKB
 * the geometry checks made ahead stage.
 */
import type { MultiPolygon, Point, Polygon } from 'geojson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { geometryToWkb } from '../../../geo/wkb';
import { ewkbHex } from './import.repository';
import { createTestDatabase, type TestDatabase } from '../../../test/database';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => {
  await tdb.drop();
});

const shapes: Array<[string, Point | Polygon | MultiPolygon]> = [
  ['a point', { type: 'Point', coordinates: [113.6253, 34.7466] }],
  ['a point with a Z (dropped: stored geometry is 2D)', { type: 'Point', coordinates: [-122.41941550000001, 37.7749295, 12.5] }],
  ['a polygon with a hole', {
    type: 'Polygon',
    coordinates: [
      [[113.6, 34.75], [113.604, 34.75], [113.604, 34.753], [113.6, 34.753], [113.6, 34.75]],
      [[113.601, 34.751], [113.601, 34.752], [113.602, 34.752], [113.601, 34.751]],
    ],
  }],
  ['a bow-tie (invalid, still read as written)', { type: 'Polygon', coordinates: [[[113.601, 34.751], [113.6012, 34.7512], [113.6012, 34.751], [113.601, 34.7512], [113.601, 34.751]]] }],
  ['a multipolygon with digits past double precision', {
    type: 'MultiPolygon',
    coordinates: [
      [[[-122.50421299999999, 37.775838], [-122.5042, 37.7758], [-122.5041, 37.77590000000001], [-122.50421299999999, 37.775838]]],
      [[[0.1, 0.2], [0.30000000000000004, 0.2], [0.3, 0.4], [0.1, 0.2]]],
    ],
  }],
];

describe('staged WKB', () => {
  it.each(shapes)('reads %s as PostGIS reads the GeoJSON', async (_label, geometry) => {
    const geojson2d = JSON.stringify({
      ...geometry,
      coordinates: JSON.parse(JSON.stringify(geometry.coordinates), (_k, v: unknown) => (Array.isArray(v) && typeof v[0] === 'number' ? v.slice(0, 2) : v)) as unknown,
    });
    const { rows } = await tdb.pool.query<{ same: boolean; srid: number; type: string; dims: number }>(
      `SELECT ST_AsEWKB(ST_GeomFromWKB($1, 4326)) = ST_AsEWKB(ST_SetSRID(ST_GeomFromGeoJSON($2), 4326)) AS same,
              ST_SRID(ST_GeomFromWKB($1, 4326)) AS srid, GeometryType(ST_GeomFromWKB($1, 4326)) AS type, ST_NDims(ST_GeomFromWKB($1, 4326)) AS dims`,
      [geometryToWkb(geometry), geojson2d],
    );
    expect(rows[0]).toEqual({ same: true, srid: 4326, type: geometry.type.toUpperCase(), dims: 2 });
  });

  // Footprints checked ahead (import-geometry.ts) are staged as hex EWKB text into a geometry column.
  it.each(shapes)('reads %s staged as hex EWKB text as the WKB with SRID 4326', async (_label, geometry) => {
    const wkb = geometryToWkb(geometry);
    const { rows } = await tdb.pool.query<{ same: boolean; srid: number }>(
      `SELECT ST_AsEWKB($2::text::geometry) = ST_AsEWKB(ST_GeomFromWKB($1, 4326)) AS same, ST_SRID($2::text::geometry) AS srid`,
      [wkb, ewkbHex(wkb)],
    );
    expect(rows[0]).toEqual({ same: true, srid: 4326 });
  });
});
