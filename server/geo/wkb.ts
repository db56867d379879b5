/**
 * ISO WKB (little-endian, 2D) from GeoJSON: the body of GeoPackage blobs (exchange) and the form in
 * which imports hand geometry to PostGIS — `ST_GeomFromWKB` reads it several times faster than
 * `ST_GeomFromGeoJSON` parses text (85,304 footprints: ~0.3 s instead of ~2.1 s). A Z or M value is
 * dropped: stored geometry is 2D.
 */
import type { Geometry, Position } from 'geojson';

const WKB_CODES: Record<string, number> = { Point: 1, LineString: 2, Polygon: 3, MultiPoint: 4, MultiLineString: 5, MultiPolygon: 6 };

export class WkbWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.room(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }

  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }

  i32(v: number): void {
    this.room(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }

  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export function writeWkb(w: WkbWriter, g: Exclude<Geometry, { type: 'GeometryCollection' }>): void {
  w.u8(1);
  w.u32(WKB_CODES[g.type] ?? 0);
  const points = (ps: Position[]): void => {
    w.u32(ps.length);
    for (const p of ps) {
      w.f64(p[0] ?? 0);
      w.f64(p[1] ?? 0);
    }
  };
  switch (g.type) {
    case 'Point':
      w.f64(g.coordinates[0] ?? 0);
      w.f64(g.coordinates[1] ?? 0);
      return;
    case 'LineString':
      points(g.coordinates);
      return;
    case 'Polygon':
      w.u32(g.coordinates.length);
      g.coordinates.forEach(points);
      return;
    case 'MultiPoint':
      w.u32(g.coordinates.length);
      for (const p of g.coordinates) writeWkb(w, { type: 'Point', coordinates: p });
      return;
    case 'MultiLineString':
      w.u32(g.coordinates.length);
      for (const l of g.coordinates) writeWkb(w, { type: 'LineString', coordinates: l });
      return;
    case 'MultiPolygon':
      w.u32(g.coordinates.length);
      for (const p of g.coordinates) writeWkb(w, { type: 'Polygon', coordinates: p });
      return;
  }
}

/** One geometry as ISO WKB. */
export function geometryToWkb(geometry: Exclude<Geometry, { type: 'GeometryCollection' }>): Buffer {
  const w = new WkbWriter();
  writeWkb(w, geometry);
  const bytes = w.bytes();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
