/**
 * Coordinate systems of exchanged files. Storage is WGS-84; a file may be WGS-84 (CGCS2000 is the
 * same numbers at this precision: the two differ by centimetres), GCJ-02 or BD-09. GCJ-02 and BD-09
 * have no EPSG code: files in them are labelled with a geographic CRS named after them (GeoPackage
 * srs_id 990002/990009, FlatGeobuf CRS name), which GIS tools read as plain lon/lat degrees, and which
 * our reader recognises so a re-import needs no `crs` parameter.
 */
import type { Geometry } from 'geojson';
import type { ExchangeCrs } from '../../contracts/exchange';
import { convertGeometry, type ChinaCrs } from '../../geo/china-crs';
import { fileRejected } from './exchange-error';

/** The numbers a CRS choice stands for (CGCS2000 and WGS-84 are one set of numbers here). */
export function canonicalCrs(crs: ExchangeCrs | undefined): 'wgs84' | 'gcj02' | 'bd09' {
  if (crs === 'gcj02' || crs === 'bd09') return crs;
  return 'wgs84';
}

const CHINA: Record<'wgs84' | 'gcj02' | 'bd09', ChinaCrs> = { wgs84: 'WGS84', gcj02: 'GCJ02', bd09: 'BD09' };

/** WGS-84 → the file's CRS (export). */
export function toFileCrs<G extends Geometry>(geometry: G, crs: ExchangeCrs | undefined): G {
  const target = canonicalCrs(crs);
  return target === 'wgs84' ? geometry : convertGeometry(geometry, 'WGS84', CHINA[target]);
}

/** The file's CRS → WGS-84 (import). */
export function fromFileCrs<G extends Geometry>(geometry: G, crs: ExchangeCrs | undefined): G {
  const source = canonicalCrs(crs);
  return source === 'wgs84' ? geometry : convertGeometry(geometry, CHINA[source], 'WGS84');
}

const WGS84_WKT =
  'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],' +
  'PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]';

/** A geographic CRS on the WGS-84 ellipsoid, named for the offset system (no authority code). */
function offsetWkt(name: string): string {
  return `GEOGCS["${name}",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]`;
}

export interface FileCrs {
  /** GeoPackage srs_id / organization code. */
  srsId: number;
  organization: string;
  name: string;
  wkt: string;
  description: string;
}

export const FILE_CRS: Record<'wgs84' | 'gcj02' | 'bd09', FileCrs> = {
  wgs84: { srsId: 4326, organization: 'EPSG', name: 'WGS 84 geodetic', wkt: WGS84_WKT, description: 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid' },
  gcj02: { srsId: 990002, organization: 'WANGGE', name: 'GCJ-02', wkt: offsetWkt('GCJ-02'), description: 'GCJ-02 (火星坐标): WGS 84 lon/lat with the GCJ-02 offset (Amap, Tencent)' },
  bd09: { srsId: 990009, organization: 'WANGGE', name: 'BD-09', wkt: offsetWkt('BD-09'), description: 'BD-09: GCJ-02 with Baidu\'s further offset (Baidu maps)' },
};

/** EPSG codes read as WGS-84 numbers: WGS 84 (2D, 3D), CGCS2000 (2D, 3D). */
const WGS84_EQUIVALENT_EPSG = new Set([4326, 4979, 4490, 4480]);

/**
 * What a file's declared CRS means for us: one of ours, undefined when it declares nothing usable as a
 * statement (undefined SRS), or a refusal for anything projected or foreign (we do not reproject).
 */
export function recogniseDeclaredCrs(decl: { organization?: string | null; code?: number | null; name?: string | null }): ExchangeCrs | undefined {
  const org = (decl.organization ?? '').toUpperCase();
  const name = (decl.name ?? '').toUpperCase();
  if (name.includes('GCJ')) return 'gcj02';
  if (name.includes('BD-09') || name.includes('BD09')) return 'bd09';
  if (org === 'WANGGE' && decl.code === FILE_CRS.gcj02.srsId) return 'gcj02';
  if (org === 'WANGGE' && decl.code === FILE_CRS.bd09.srsId) return 'bd09';
  if (org === 'EPSG' || org === '') {
    if (decl.code === undefined || decl.code === null || decl.code === 0 || decl.code === -1) return undefined;
    if (WGS84_EQUIVALENT_EPSG.has(decl.code)) return decl.code === 4490 || decl.code === 4480 ? 'cgcs2000' : 'wgs84';
  }
  if (org === 'OGC' && /CRS84/.test(name)) return 'wgs84';
  throw fileRejected('CRS_UNSUPPORTED', `The file's coordinates are in ${decl.organization ?? 'an unknown authority'}:${decl.code ?? '?'}${decl.name ? ` (${decl.name})` : ''}; send longitude/latitude in WGS 84 / CGCS2000, GCJ-02 or BD-09 (for example ogr2ogr -t_srs EPSG:4326).`, {
    declared: { organization: decl.organization ?? null, code: decl.code ?? null, name: decl.name ?? null },
  });
}
