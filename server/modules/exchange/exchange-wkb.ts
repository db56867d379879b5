/**
 * GeoPackage geometry blobs: the "GP" header (version, flags, srs_id, envelope) followed by ISO WKB.
 * Written little-endian, 2D, with an [minx, maxx, miny, maxy] envelope. The reader checks every count
 * against the bytes that remain before allocating anything, so a blob declaring a billion points is
 * refused at once instead of exhausting memory.
 */
import type { Geometry, Position } from 'geojson';
import { fileRejected } from './exchange-error';
import { flatPositions } from './exchange-geometry';
import { WkbWriter, writeWkb } from '../../geo/wkb';

/** A GeoPackage geometry blob (GPKG 1.3 §2.1.3), little-endian with an XY envelope. */
export function geometryToGpkgBlob(geometry: Geometry, srsId: number): Uint8Array {
  if (geometry.type === 'GeometryCollection') throw fileRejected('GEOMETRY_TYPE', 'Geometry collections cannot be written.', { in: 'querystring', field: 'format' });
  const ps = flatPositions(geometry);
  const w = new WkbWriter();
  w.u8(0x47); // 'G'
  w.u8(0x50); // 'P'
  w.u8(0); // version 1
  // flags: little-endian header (bit 0), envelope [minx, maxx, miny, maxy] (indicator 1), not empty.
  w.u8(0b0000_0011);
  w.i32(srsId);
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [x = 0, y = 0] of ps) {
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  for (const v of [minX, maxX, minY, maxY]) w.f64(v);
  writeWkb(w, geometry);
  return w.bytes();
}

const ENVELOPE_BYTES = [0, 32, 48, 48, 64];
/** Smallest encoding of one element of each WKB type: used to bound declared counts. */
const MIN_BYTES = { point: 16, part: 9 };

/** GeoPackage blob → 2D GeoJSON geometry (null for an empty geometry). */
export function gpkgBlobToGeometry(blob: Uint8Array, featureIndex: number): Geometry | null {
  const corrupt = (why: string): never => {
    throw fileRejected('FILE_CORRUPT', `Feature ${featureIndex}: the geometry blob is corrupt (${why}).`, { featureIndex });
  };
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.length < 8 || blob[0] !== 0x47 || blob[1] !== 0x50) corrupt('no GP header');
  const flags = blob[3] ?? 0;
  if (flags & 0b0010_0000) corrupt('extended geometry types are not supported');
  const envelope = ENVELOPE_BYTES[(flags >> 1) & 0b111];
  if (envelope === undefined) corrupt('invalid envelope indicator');
  if (flags & 0b0001_0000) return null;
  let off = 8 + (envelope ?? 0);
  let depth = 0;

  const need = (n: number): void => {
    if (n < 0 || off + n > blob.length) corrupt('it ends early or declares more than it holds');
  };
  const read = (): Geometry | null => {
    depth += 1;
    if (depth > 3) corrupt('nested too deep');
    need(5);
    const le = blob[off] === 1;
    if (blob[off] !== 0 && blob[off] !== 1) corrupt('bad byte order');
    const rawType = view.getUint32(off + 1, le);
    off += 5;
    // ISO (1000s for Z/M/ZM) and the EWKB high-bit flags both say how many numbers a position has.
    const hasZ = (rawType & 0x80000000) !== 0 || Math.floor((rawType & 0xffff) / 1000) === 1 || Math.floor((rawType & 0xffff) / 1000) === 3;
    const hasM = (rawType & 0x40000000) !== 0 || Math.floor((rawType & 0xffff) / 1000) === 2 || Math.floor((rawType & 0xffff) / 1000) === 3;
    const base = (rawType & 0xffff) % 1000;
    const stride = 8 * (2 + (hasZ ? 1 : 0) + (hasM ? 1 : 0));
    const u32 = (): number => {
      need(4);
      const v = view.getUint32(off, le);
      off += 4;
      return v;
    };
    const pos = (): Position => {
      need(stride);
      const p: Position = [view.getFloat64(off, le), view.getFloat64(off + 8, le)];
      off += stride;
      return p;
    };
    const points = (): Position[] => {
      const n = u32();
      need(n * stride);
      return Array.from({ length: n }, pos);
    };
    const rings = (): Position[][] => {
      const n = u32();
      need(n * 4);
      return Array.from({ length: n }, points);
    };
    const parts = <T>(type: string): T[] => {
      const n = u32();
      need(n * MIN_BYTES.part);
      return Array.from({ length: n }, () => {
        const g = read();
        if (!g || g.type !== type) corrupt(`a ${type} part expected`);
        return (g as unknown as { coordinates: T }).coordinates;
      });
    };
    let g: Geometry | null;
    switch (base) {
      case 1: {
        const p = pos();
        // An empty point is written as NaN coordinates.
        g = Number.isNaN(p[0]) && Number.isNaN(p[1]) ? null : { type: 'Point', coordinates: p };
        break;
      }
      case 2:
        g = { type: 'LineString', coordinates: points() };
        break;
      case 3:
        g = { type: 'Polygon', coordinates: rings() };
        break;
      case 4:
        g = { type: 'MultiPoint', coordinates: parts<Position>('Point') };
        break;
      case 5:
        g = { type: 'MultiLineString', coordinates: parts<Position[]>('LineString') };
        break;
      case 6:
        g = { type: 'MultiPolygon', coordinates: parts<Position[][]>('Polygon') };
        break;
      case 7:
        throw fileRejected('GEOMETRY_TYPE', `Feature ${featureIndex}: geometry collections are not supported.`, { featureIndex, type: 'GeometryCollection' });
      default:
        throw fileRejected('GEOMETRY_TYPE', `Feature ${featureIndex}: WKB geometry type ${rawType} is not supported (curves, surfaces, TINs).`, { featureIndex, type: rawType });
    }
    depth -= 1;
    return g;
  };
  return read();
}
