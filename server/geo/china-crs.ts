/**
 * Conversions between the three longitude/latitude systems met in Chinese map data:
 *
 * - **WGS-84** (EPSG:4326): GPS, OpenStreetMap, PostGIS columns of this project, RFC 7946 GeoJSON.
 * - **GCJ-02** ("Mars coordinates", 火星坐标): WGS-84 shifted by a published-by-leak, deliberately
 *   non-linear offset of a few hundred metres; required by law for maps published in mainland China
 *   and used by Amap (高德), Tencent, Tianditu exports and DataV.GeoAtlas.
 * - **BD-09**: Baidu's further offset of GCJ-02 (about another 1 km).
 *
 * The forward GCJ-02 offset is the widely reproduced formula built on the Krasovsky 1940 ellipsoid
 * (a = 6378245 m, e² = 0.00669342162296594323), as in eviltransform and wandergis/coordtransform.
 * It has no closed-form inverse, so `gcj02ToWgs84` and `bd09ToGcj02` iterate the forward function
 * (see {@link gcj02ToWgs84}) until the residual is below 1e-10° (about 0.01 mm) instead of using the
 * usual one-step approximation, which is only good to 1–2 m.
 *
 * "In China" is the coarse rectangle lng 72.004…137.8347, lat 0.8293…55.8271 used by those libraries:
 * outside it GCJ-02 equals WGS-84. The rectangle also covers parts of neighbouring countries (Mongolia,
 * the Korean peninsula, parts of Japan and South-East Asia), where this code applies the offset although
 * real providers do not: fine for this project's data, which is all in mainland China, but do not feed
 * it foreign coordinates. The BD-09 step is applied everywhere, like Baidu's own API does.
 *
 * All positions are `[lng, lat]` in degrees; altitude is carried over unchanged.
 */
import type { Geometry, Position } from 'geojson';

/** Krasovsky 1940 semi-major axis in metres, as used by the GCJ-02 formula. */
const KRASOVSKY_A_M = 6378245.0;
/** Krasovsky 1940 first eccentricity squared. */
const KRASOVSKY_EE = 0.006693421622965943; // published as 0.00669342162296594323; same double
/** Baidu's angular constant: π × 3000 / 180. */
const BD_X_PI = (Math.PI * 3000.0) / 180.0;

/** Stop iterating once the forward transform reproduces the target to this many degrees (~0.01 mm). */
const INVERSE_TOLERANCE_DEG = 1e-10;
/** The fixed-point iteration converges in 3–5 steps; the cap only guards against NaN input. */
const INVERSE_MAX_ITERATIONS = 30;

export type LngLat = [number, number];

/**
 * Whether a point is outside the rectangle in which GCJ-02 differs from WGS-84.
 *
 * @example
 * ```ts
 * isOutsideChina(113.6, 34.75); // false: Zhengzhou
 * isOutsideChina(-122.42, 37.77); // true: San Francisco
 * ```
 */
export function isOutsideChina(lng: number, lat: number): boolean {
  return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function offsetLatDeg(x: number, y: number): number {
  let ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  ret += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  ret += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  ret += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320.0 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  return ret;
}

function offsetLngDeg(x: number, y: number): number {
  let ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  ret += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  ret += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  ret += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  return ret;
}

/**
 * WGS-84 → GCJ-02 (the forward, exact formula).
 *
 * @example
 * ```ts
 * wgs84ToGcj02(116.404, 39.915); // [116.41024449916938, 39.91640428150164]
 * ```
 */
export function wgs84ToGcj02(lng: number, lat: number): LngLat {
  if (isOutsideChina(lng, lat)) return [lng, lat];
  // The offset polynomials are in "pseudo-metres" around 105°E 35°N; scale them to degrees on the ellipsoid.
  const dLatRaw = offsetLatDeg(lng - 105.0, lat - 35.0);
  const dLngRaw = offsetLngDeg(lng - 105.0, lat - 35.0);
  const radLat = (lat / 180.0) * Math.PI;
  const sinLat = Math.sin(radLat);
  const magic = 1 - KRASOVSKY_EE * sinLat * sinLat;
  const sqrtMagic = Math.sqrt(magic);
  const dLat = (dLatRaw * 180.0) / (((KRASOVSKY_A_M * (1 - KRASOVSKY_EE)) / (magic * sqrtMagic)) * Math.PI);
  const dLng = (dLngRaw * 180.0) / ((KRASOVSKY_A_M / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [lng + dLng, lat + dLat];
}

/**
 * GCJ-02 → WGS-84 by fixed-point iteration: start from the GCJ-02 point, apply the forward transform,
 * move by the residual, repeat. The offset changes by well under 1 % per degree, so every step shrinks
 * the error about a hundredfold and 3–4 steps reach the 1e-10° stop (≈ 0.01 mm, far below the 0.01 m
 * goal). The common one-step version (`2·gcj − forward(gcj)`) stops after the first step: 1–2 m off.
 *
 * @example
 * ```ts
 * gcj02ToWgs84(...wgs84ToGcj02(113.6, 34.75)); // [113.6, 34.75] within 1e-10°
 * ```
 */
export function gcj02ToWgs84(lng: number, lat: number): LngLat {
  if (isOutsideChina(lng, lat)) return [lng, lat];
  let wgsLng = lng;
  let wgsLat = lat;
  for (let i = 0; i < INVERSE_MAX_ITERATIONS; i++) {
    const [gcjLng, gcjLat] = wgs84ToGcj02(wgsLng, wgsLat);
    const dLng = gcjLng - lng;
    const dLat = gcjLat - lat;
    wgsLng -= dLng;
    wgsLat -= dLat;
    if (Math.abs(dLng) < INVERSE_TOLERANCE_DEG && Math.abs(dLat) < INVERSE_TOLERANCE_DEG) break;
  }
  return [wgsLng, wgsLat];
}

/**
 * GCJ-02 → BD-09 (Baidu's forward formula).
 *
 * @example
 * ```ts
 * gcj02ToBd09(116.404, 39.915); // [116.41036949371029, 39.92133699351021]
 * ```
 */
export function gcj02ToBd09(lng: number, lat: number): LngLat {
  const z = Math.sqrt(lng * lng + lat * lat) + 0.00002 * Math.sin(lat * BD_X_PI);
  const theta = Math.atan2(lat, lng) + 0.000003 * Math.cos(lng * BD_X_PI);
  return [z * Math.cos(theta) + 0.0065, z * Math.sin(theta) + 0.006];
}

/**
 * BD-09 → GCJ-02. The usual closed-form reversal is itself approximate (~1e-6°, ~0.1 m), so it is
 * used as the first guess and then refined by the same fixed-point iteration as {@link gcj02ToWgs84}.
 *
 * @example
 * ```ts
 * bd09ToGcj02(...gcj02ToBd09(113.6, 34.75)); // [113.6, 34.75] within 1e-10°
 * ```
 */
export function bd09ToGcj02(lng: number, lat: number): LngLat {
  const x = lng - 0.0065;
  const y = lat - 0.006;
  const z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * BD_X_PI);
  const theta = Math.atan2(y, x) - 0.000003 * Math.cos(x * BD_X_PI);
  let gcjLng = z * Math.cos(theta);
  let gcjLat = z * Math.sin(theta);
  for (let i = 0; i < INVERSE_MAX_ITERATIONS; i++) {
    const [bdLng, bdLat] = gcj02ToBd09(gcjLng, gcjLat);
    const dLng = bdLng - lng;
    const dLat = bdLat - lat;
    gcjLng -= dLng;
    gcjLat -= dLat;
    if (Math.abs(dLng) < INVERSE_TOLERANCE_DEG && Math.abs(dLat) < INVERSE_TOLERANCE_DEG) break;
  }
  return [gcjLng, gcjLat];
}

/**
 * WGS-84 → BD-09 (via GCJ-02).
 *
 * @example
 * ```ts
 * const [bdLng, bdLat] = wgs84ToBd09(113.6, 34.75);
 * ```
 */
export function wgs84ToBd09(lng: number, lat: number): LngLat {
  return gcj02ToBd09(...wgs84ToGcj02(lng, lat));
}

/**
 * BD-09 → WGS-84 (via GCJ-02, both steps iterative).
 *
 * @example
 * ```ts
 * // Zhengzhou bus stops carry their original Baidu position in lng_bd09 / lat_bd09:
 * const [lng, lat] = bd09ToWgs84(stop.lng_bd09, stop.lat_bd09);
 * ```
 */
export function bd09ToWgs84(lng: number, lat: number): LngLat {
  return gcj02ToWgs84(...bd09ToGcj02(lng, lat));
}

export type ChinaCrs = 'WGS84' | 'GCJ02' | 'BD09';

const CONVERTERS: Record<ChinaCrs, Record<ChinaCrs, (lng: number, lat: number) => LngLat>> = {
  WGS84: { WGS84: (lng, lat) => [lng, lat], GCJ02: wgs84ToGcj02, BD09: wgs84ToBd09 },
  GCJ02: { WGS84: gcj02ToWgs84, GCJ02: (lng, lat) => [lng, lat], BD09: gcj02ToBd09 },
  BD09: { WGS84: bd09ToWgs84, GCJ02: bd09ToGcj02, BD09: (lng, lat) => [lng, lat] },
};

/**
 * Converts one position between any two of the systems; altitude, if present, is kept.
 *
 * @example
 * ```ts
 * convertPosition([113.6, 34.75, 120], 'GCJ02', 'WGS84'); // [113.593957…, 34.751194…, 120]
 * ```
 */
export function convertPosition(position: Position, from: ChinaCrs, to: ChinaCrs): Position {
  const [lng, lat, ...rest] = position;
  if (lng === undefined || lat === undefined) return [...position];
  return [...CONVERTERS[from][to](lng, lat), ...rest];
}

/**
 * Converts every position of a GeoJSON geometry (any type, including collections) and returns a new
 * geometry; the input is not modified. A `bbox` member is dropped because it would be stale.
 *
 * Positions are converted independently, so straight edges stay straight in the target system: the
 * offset varies by well under a millimetre over a grid-sized edge, far below drawing accuracy.
 *
 * @example
 * ```ts
 * const wgs = convertGeometry(amapPolygon, 'GCJ02', 'WGS84');
 * ```
 */
export function convertGeometry<G extends Geometry>(geometry: G, from: ChinaCrs, to: ChinaCrs): G {
  return mapGeometryPositions(geometry, (p) => convertPosition(p, from, to)) as G;
}

/**
 * GCJ-02 → WGS-84 for a whole geometry; shorthand for `convertGeometry(g, 'GCJ02', 'WGS84')`.
 *
 * @example
 * ```ts
 * const stored = gcj02GeometryToWgs84(datavDistrict.geometry);
 * ```
 */
export function gcj02GeometryToWgs84<G extends Geometry>(geometry: G): G {
  return convertGeometry(geometry, 'GCJ02', 'WGS84');
}

/**
 * WGS-84 → GCJ-02 for a whole geometry, e.g. to overlay project grids on an Amap or Tianditu basemap.
 *
 * @example
 * ```ts
 * const forAmap = wgs84GeometryToGcj02(grid.geom);
 * ```
 */
export function wgs84GeometryToGcj02<G extends Geometry>(geometry: G): G {
  return convertGeometry(geometry, 'WGS84', 'GCJ02');
}

function mapGeometryPositions(geometry: Geometry, fn: (p: Position) => Position): Geometry {
  // The fixed nesting of each geometry type is spelled out instead of recursing over arrays, so a
  // malformed geometry cannot make this walk arbitrarily deep. Collections recurse only per member.
  let mapped: Geometry;
  switch (geometry.type) {
    case 'Point':
      mapped = { ...geometry, coordinates: fn(geometry.coordinates) };
      break;
    case 'MultiPoint':
    case 'LineString':
      mapped = { ...geometry, coordinates: geometry.coordinates.map(fn) };
      break;
    case 'MultiLineString':
    case 'Polygon':
      mapped = { ...geometry, coordinates: geometry.coordinates.map((line) => line.map(fn)) };
      break;
    case 'MultiPolygon':
      mapped = { ...geometry, coordinates: geometry.coordinates.map((polygon) => polygon.map((ring) => ring.map(fn))) };
      break;
    case 'GeometryCollection':
      mapped = { ...geometry, geometries: geometry.geometries.map((member) => mapGeometryPositions(member, fn)) };
      break;
  }
  delete mapped.bbox; // describes the old coordinates
  return mapped;
}
