import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FeatureCollection, GeometryCollection, MultiPolygon, Polygon, Position } from 'geojson';
import { describe, expect, it } from 'vitest';
import {
  bd09ToGcj02,
  bd09ToWgs84,
  convertGeometry,
  convertPosition,
  gcj02GeometryToWgs84,
  gcj02ToBd09,
  gcj02ToWgs84,
  isOutsideChina,
  wgs84GeometryToGcj02,
  wgs84ToBd09,
  wgs84ToGcj02,
} from './china-crs';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const realDataDir = path.resolve(projectRoot, '../shared/data/real');

/** Ground distance in metres between two [lng, lat] points (haversine, mean Earth radius). */
function distanceM(a: readonly number[], b: readonly number[]): number {
  const earthRadiusM = 6_371_008.8;
  const rad = Math.PI / 180;
  const [lng1 = 0, lat1 = 0] = a;
  const [lng2 = 0, lat2 = 0] = b;
  const h = Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lng2 - lng1) * rad) / 2) ** 2;
  return 2 * earthRadiusM * Math.asin(Math.sqrt(h));
}

/** Sample points over mainland China, from Kashgar to Harbin and Sanya, Zhengzhou included. */
const CHINA_SAMPLE: [number, number][] = [];
for (let lng = 74; lng <= 134; lng += 3.7) {
  for (let lat = 18.3; lat <= 53; lat += 2.9) CHINA_SAMPLE.push([lng, lat]);
}
CHINA_SAMPLE.push([113.6, 34.75], [113.625368, 34.746599], [116.404, 39.915], [121.4737, 31.2304]);

describe('reference points', () => {
  // wandergis/coordtransform, test/app.js ("//result" block), input 116.404, 39.915 (Tiananmen).
  it('matches coordtransform for the forward formulas to 1e-12°', () => {
    const gcj = wgs84ToGcj02(116.404, 39.915);
    expect(gcj[0]).toBeCloseTo(116.41024449916938, 12);
    expect(gcj[1]).toBeCloseTo(39.91640428150164, 12);
    const bd = gcj02ToBd09(116.404, 39.915);
    expect(bd[0]).toBeCloseTo(116.41036949371029, 12);
    expect(bd[1]).toBeCloseTo(39.92133699351021, 12);
  });

  it('is within 0.1 m of coordtransform for the inverses, which it computes in one approximate step', () => {
    // Our iterative answers differ from the one-step ones by a few centimetres here.
    expect(distanceM(gcj02ToWgs84(116.404, 39.915), [116.39775550083061, 39.91359571849836])).toBeLessThan(0.1);
    expect(distanceM(bd09ToGcj02(116.404, 39.915), [116.39762729119315, 39.90865673957631])).toBeLessThan(0.1);
  });

  // googollee/eviltransform, python/test.py, TESTS (wgsLat, wgsLng, gcjLat, gcjLng): Shanghai, Shenzhen, Beijing.
  it.each([
    [121.5272106, 31.1774276, 121.531541859215, 31.17530398364597],
    [113.912316, 22.543847, 113.9171764808363, 22.540796131694766],
    [116.377817, 39.911954, 116.38404722455657, 39.91334545536069],
  ])('matches eviltransform WGS-84 %f,%f → GCJ-02 to 1e-9° and inverts exactly', (wgsLng, wgsLat, gcjLng, gcjLat) => {
    const gcj = wgs84ToGcj02(wgsLng, wgsLat);
    expect(gcj[0]).toBeCloseTo(gcjLng, 9);
    expect(gcj[1]).toBeCloseTo(gcjLat, 9);
    const back = gcj02ToWgs84(gcjLng, gcjLat);
    expect(distanceM(back, [wgsLng, wgsLat])).toBeLessThan(0.01);
  });

  // hujiulong/gcoord, test/unit/crs/GCJ02.spec.js (5 decimals there).
  it('matches gcoord for GCJ-02 123,45 → WGS-84 and → BD-09', () => {
    const wgs = gcj02ToWgs84(123, 45);
    expect(wgs[0]).toBeCloseTo(122.99395597, 5);
    expect(wgs[1]).toBeCloseTo(44.99804071, 5);
    const bd = gcj02ToBd09(123, 45);
    expect(bd[0]).toBeCloseTo(123.00636499, 5);
    expect(bd[1]).toBeCloseTo(45.00636899, 5);
  });
});

describe('round trips', () => {
  it.each(CHINA_SAMPLE)('WGS-84 → GCJ-02 → WGS-84 and → BD-09 → back at %f,%f within 1e-7°', (lng, lat) => {
    const viaGcj = gcj02ToWgs84(...wgs84ToGcj02(lng, lat));
    expect(Math.abs(viaGcj[0] - lng)).toBeLessThan(1e-7);
    expect(Math.abs(viaGcj[1] - lat)).toBeLessThan(1e-7);
    const viaBd = bd09ToWgs84(...wgs84ToBd09(lng, lat));
    expect(Math.abs(viaBd[0] - lng)).toBeLessThan(1e-7);
    expect(Math.abs(viaBd[1] - lat)).toBeLessThan(1e-7);
    const gcjViaBd = bd09ToGcj02(...gcj02ToBd09(lng, lat));
    expect(Math.abs(gcjViaBd[0] - lng)).toBeLessThan(1e-7);
    expect(Math.abs(gcjViaBd[1] - lat)).toBeLessThan(1e-7);
  });

  it('is accurate to well under 0.01 m, where the one-step inverse is off by metres', () => {
    let worstIterativeM = 0;
    let worstOneStepM = 0;
    for (const wgs of CHINA_SAMPLE) {
      const gcj = wgs84ToGcj02(...wgs);
      worstIterativeM = Math.max(worstIterativeM, distanceM(gcj02ToWgs84(...gcj), wgs));
      const forward = wgs84ToGcj02(...gcj);
      worstOneStepM = Math.max(worstOneStepM, distanceM([2 * gcj[0] - forward[0], 2 * gcj[1] - forward[1]], wgs));
    }
    expect(worstIterativeM).toBeLessThan(0.001);
    expect(worstOneStepM).toBeGreaterThan(0.5);
  });

  it('shifts Zhengzhou by the expected few hundred metres', () => {
    const shiftM = distanceM(wgs84ToGcj02(113.6, 34.75), [113.6, 34.75]);
    expect(shiftM).toBeGreaterThan(300);
    expect(shiftM).toBeLessThan(800);
  });
});

describe('outside China', () => {
  it.each([
    [-122.4194, 37.7749],
    [2.3522, 48.8566],
    [151.2093, -33.8688],
    [70, 30],
    [100, 60],
  ])('leaves %f,%f unchanged between WGS-84 and GCJ-02', (lng, lat) => {
    expect(isOutsideChina(lng, lat)).toBe(true);
    expect(wgs84ToGcj02(lng, lat)).toEqual([lng, lat]);
    expect(gcj02ToWgs84(lng, lat)).toEqual([lng, lat]);
  });

  it('treats Zhengzhou, Kashgar, Harbin and Sanya as inside', () => {
    for (const [lng, lat] of [
      [113.6, 34.75],
      [75.99, 39.47],
      [126.53, 45.8],
      [109.51, 18.25],
    ] as const) {
      expect(isOutsideChina(lng, lat)).toBe(false);
    }
  });
});

describe('geometries', () => {
  const polygon: Polygon = {
    type: 'Polygon',
    bbox: [113.6, 34.75, 113.605, 34.754],
    coordinates: [
      [
        [113.6, 34.75, 100],
        [113.605, 34.75, 100],
        [113.605, 34.754, 100],
        [113.6, 34.754, 100],
        [113.6, 34.75, 100],
      ],
    ],
  };

  it('converts every position, keeps altitude, drops the stale bbox and leaves the input alone', () => {
    const before = JSON.stringify(polygon);
    const converted = gcj02GeometryToWgs84(polygon);
    expect(JSON.stringify(polygon)).toBe(before);
    expect(converted.bbox).toBeUndefined();
    converted.coordinates[0]?.forEach((p, i) => {
      const source = polygon.coordinates[0]?.[i] as Position;
      expect(p).toEqual(convertPosition(source, 'GCJ02', 'WGS84'));
      expect(p[2]).toBe(100);
    });
    const back = wgs84GeometryToGcj02(converted);
    back.coordinates[0]?.forEach((p, i) => {
      expect(distanceM(p, polygon.coordinates[0]?.[i] as Position)).toBeLessThan(0.001);
    });
  });

  it('walks collections and multipolygons', () => {
    const collection: GeometryCollection = {
      type: 'GeometryCollection',
      geometries: [
        { type: 'Point', coordinates: [113.6, 34.75] },
        { type: 'MultiPolygon', coordinates: [polygon.coordinates] },
        { type: 'LineString', coordinates: [[113.6, 34.75], [113.61, 34.76]] },
      ],
    };
    const bd = convertGeometry(collection, 'WGS84', 'BD09');
    expect(bd.geometries[0]).toEqual({ type: 'Point', coordinates: wgs84ToBd09(113.6, 34.75) });
    const multi = bd.geometries[1] as MultiPolygon;
    expect(multi.coordinates[0]?.[0]?.[2]?.slice(0, 2)).toEqual(wgs84ToBd09(113.605, 34.754));
  });
});

describe('Zhengzhou districts, DataV GCJ-02 vs published WGS-84 conversion', () => {
  const gcjFile = path.join(realDataDir, 'zhengzhou_districts_datav_gcj02.geojson');
  const wgsFile = path.join(realDataDir, 'zhengzhou_districts_datav_wgs84.geojson');
  const present = existsSync(gcjFile) && existsSync(wgsFile);
  if (!present) {
    console.warn(`Skipping the Zhengzhou GCJ-02/WGS-84 comparison: ${realDataDir} is absent (it lives outside the repository).`);
  }

  // The data README gives "about 1 m" for its WGS-84 file. The file is rounded to 6 decimals
  // (≤ ~0.07 m), so an exact inverse lands within 0.1 m; the one-step inverse is off by up to ~3 m.
  const toleranceM = 1;

  it.skipIf(!present)('converts every vertex to within the published tolerance', () => {
    type Districts = FeatureCollection<Polygon | MultiPolygon>;
    const gcj = JSON.parse(readFileSync(gcjFile, 'utf8')) as Districts;
    const wgs = JSON.parse(readFileSync(wgsFile, 'utf8')) as Districts;
    expect(gcj.features).toHaveLength(wgs.features.length);

    const errorsM: number[] = [];
    gcj.features.forEach((feature, f) => {
      const expected = wgs.features[f];
      if (!feature.geometry || !expected?.geometry) return expect.fail(`feature ${f} has no geometry`);
      expect(feature.properties?.adcode).toBe(expected.properties?.adcode);
      const converted = gcj02GeometryToWgs84(feature.geometry);
      const got = converted.type === 'Polygon' ? [converted.coordinates] : converted.coordinates;
      const want = expected.geometry.type === 'Polygon' ? [expected.geometry.coordinates] : expected.geometry.coordinates;
      expect(got.flat(2)).toHaveLength(want.flat(2).length);
      got.forEach((polygon, p) =>
        polygon.forEach((ring, r) =>
          ring.forEach((position, v) => {
            errorsM.push(distanceM(position, want[p]?.[r]?.[v] as Position));
          }),
        ),
      );
    });

    const maxErrorM = Math.max(...errorsM);
    const meanErrorM = errorsM.reduce((s, e) => s + e, 0) / errorsM.length;
    console.info(`Zhengzhou districts: ${errorsM.length} vertices, max error ${maxErrorM.toFixed(3)} m, mean ${meanErrorM.toFixed(3)} m`);
    expect(errorsM.length).toBeGreaterThan(1000);
    expect(maxErrorM).toBeLessThan(toleranceM);
    expect(maxErrorM).toBeLessThan(0.1);
  });
});
