/**
 * CRSs of OGC API – Features Part 2. Storage is WGS 84 lon/lat (CRS84). EPSG:4326 and EPSG:4490
 * (CGCS2000) are defined with latitude first, so their coordinates and bboxes are flipped. CGCS2000
 * differs from WGS 84 by centimetres and is served as the same numbers (documented in the README).
 */
import { AppError } from '../../http/errors';

export const CRS84 = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84';
export const EPSG4326 = 'http://www.opengis.net/def/crs/EPSG/0/4326';
export const EPSG4490 = 'http://www.opengis.net/def/crs/EPSG/0/4490';
export const SUPPORTED_CRS = [CRS84, EPSG4326, EPSG4490] as const;
export type SupportedCrs = (typeof SUPPORTED_CRS)[number];

/** Whether the CRS's first axis is latitude. */
export function latFirst(crs: SupportedCrs): boolean {
  return crs !== CRS84;
}

export function parseCrs(value: string | undefined, param: 'crs' | 'bbox-crs'): SupportedCrs {
  if (value === undefined) return CRS84;
  const found = SUPPORTED_CRS.find((c) => c === value);
  if (!found) {
    throw new AppError('VALIDATION_FAILED', 400, `Unsupported ${param} "${value}". Supported: ${SUPPORTED_CRS.join(', ')}.`, { in: 'querystring', field: param, supported: SUPPORTED_CRS });
  }
  return found;
}
