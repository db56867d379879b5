/**
 * Geometry plumbing shared by the formats: a strict structural check of geometry that came out of a
 * file (types, nesting, finite numbers, vertex budget), and WKT in both directions. Positions are 2D:
 * storage is 2D (ST_Force2D), so a Z or M value in a file is read and dropped.
 */
import type { Geometry, Position } from 'geojson';
import { fileRejected } from './exchange-error';

export const SIMPLE_TYPES = ['Point', 'LineString', 'Polygon', 'MultiPoint', 'MultiLineString', 'MultiPolygon'] as const;
export type SimpleType = (typeof SIMPLE_TYPES)[number];

/** Nesting depth of each type's coordinates: 0 = a position. */
const DEPTH: Record<SimpleType, number> = { Point: 0, LineString: 1, MultiPoint: 1, Polygon: 2, MultiLineString: 2, MultiPolygon: 3 };

export class VertexBudget {
  used = 0;
  constructor(
    private readonly perFeature: number,
    private readonly total: number,
  ) {}

  /** Adds one feature's vertices; refuses past either budget. */
  take(count: number, featureIndex: number): void {
    if (count > this.perFeature) {
      throw fileRejected('TOO_MANY_VERTICES', `Feature ${featureIndex} has ${count} vertices; the limit is ${this.perFeature}.`, { featureIndex, vertices: count, limit: this.perFeature });
    }
    this.used += count;
    if (this.used > this.total) {
      throw fileRejected('TOO_MANY_VERTICES', `The file has more than ${this.total} vertices.`, { limit: this.total });
    }
  }
}

function position(raw: unknown, where: string): Position {
  if (!Array.isArray(raw) || raw.length < 2) throw fileRejected('FILE_CORRUPT', `${where}: a position must be an array of at least two numbers.`);
  const [x, y] = raw as unknown[];
  if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) {
    throw fileRejected('FILE_CORRUPT', `${where}: a coordinate is not a finite number.`);
  }
  return [x, y];
}

function nested(raw: unknown, depth: number, where: string, count: { n: number }): unknown {
  if (depth === 0) {
    count.n += 1;
    return position(raw, where);
  }
  if (!Array.isArray(raw)) throw fileRejected('FILE_CORRUPT', `${where}: coordinates are not nested as the geometry type requires.`);
  return raw.map((r) => nested(r, depth - 1, where, count));
}

/**
 * A geometry from a parsed file, rebuilt from checked parts (2D). `null` stays null. Geometry
 * collections and unknown types are GEOMETRY_TYPE; malformed coordinates FILE_CORRUPT.
 */
export function checkedGeometry(raw: unknown, featureIndex: number): { geometry: Geometry | null; vertices: number } {
  if (raw === null || raw === undefined) return { geometry: null, vertices: 0 };
  const where = `Feature ${featureIndex}`;
  if (typeof raw !== 'object') throw fileRejected('FILE_CORRUPT', `${where}: the geometry is not an object.`, { featureIndex });
  const { type, coordinates } = raw as { type?: unknown; coordinates?: unknown };
  if (typeof type !== 'string' || !(SIMPLE_TYPES as readonly string[]).includes(type)) {
    throw fileRejected('GEOMETRY_TYPE', `${where}: geometry type ${typeof type === 'string' ? type : '(none)'} is not supported; use points, lines or polygons.`, { featureIndex, type: typeof type === 'string' ? type : null });
  }
  const count = { n: 0 };
  const coords = nested(coordinates, DEPTH[type as SimpleType], where, count);
  return { geometry: { type, coordinates: coords } as Geometry, vertices: count.n };
}

/** Vertex count of a checked geometry. */
export function vertexCount(geometry: Geometry | null): number {
  if (!geometry || geometry.type === 'GeometryCollection') return 0;
  return flatPositions(geometry).length;
}

export function flatPositions(geometry: Exclude<Geometry, { type: 'GeometryCollection' }>): Position[] {
  switch (geometry.type) {
    case 'Point':
      return [geometry.coordinates];
    case 'LineString':
    case 'MultiPoint':
      return geometry.coordinates;
    case 'Polygon':
    case 'MultiLineString':
      return geometry.coordinates.flat();
    case 'MultiPolygon':
      return geometry.coordinates.flat(2);
  }
}

/**
 * The multi- type when a layer mixes single and multi parts of one kind (GDAL's PROMOTE_TO_MULTI),
 * the one type when all agree, null when the layer mixes kinds (written as generic geometry).
 */
export function layerGeometryType(geometries: ReadonlyArray<Geometry | null>): SimpleType | null {
  const types = new Set(geometries.filter((g): g is Geometry => g !== null).map((g) => g.type));
  if (types.size === 0) return null;
  if (types.size === 1) {
    const only = [...types][0] as string;
    return (SIMPLE_TYPES as readonly string[]).includes(only) ? (only as SimpleType) : null;
  }
  for (const [single, multi] of [['Point', 'MultiPoint'], ['LineString', 'MultiLineString'], ['Polygon', 'MultiPolygon']] as const) {
    if (types.size === 2 && types.has(single) && types.has(multi)) return multi;
  }
  return null;
}

/** `geometry` as `type` when that is its multi- form (a one-part Multi*), else unchanged. */
export function promote(geometry: Geometry, type: SimpleType | null): Geometry {
  if (geometry.type === 'Point' && type === 'MultiPoint') return { type: 'MultiPoint', coordinates: [geometry.coordinates] };
  if (geometry.type === 'LineString' && type === 'MultiLineString') return { type: 'MultiLineString', coordinates: [geometry.coordinates] };
  if (geometry.type === 'Polygon' && type === 'MultiPolygon') return { type: 'MultiPolygon', coordinates: [geometry.coordinates] };
  return geometry;
}

// ---------------------------------------------------------------- WKT

const WKT_NAMES: Record<SimpleType, string> = {
  Point: 'POINT',
  LineString: 'LINESTRING',
  Polygon: 'POLYGON',
  MultiPoint: 'MULTIPOINT',
  MultiLineString: 'MULTILINESTRING',
  MultiPolygon: 'MULTIPOLYGON',
};

/** Shortest text that reads back as the same double (bit-for-bit round trip). */
const num = (n: number): string => String(n);
const pos = (p: Position): string => `${num(p[0] ?? 0)} ${num(p[1] ?? 0)}`;
const line = (ps: Position[]): string => `(${ps.map(pos).join(', ')})`;
const poly = (rings: Position[][]): string => `(${rings.map(line).join(', ')})`;

export function geometryToWkt(geometry: Geometry): string {
  switch (geometry.type) {
    case 'Point':
      return `POINT (${pos(geometry.coordinates)})`;
    case 'LineString':
      return `LINESTRING ${line(geometry.coordinates)}`;
    case 'Polygon':
      return `POLYGON ${poly(geometry.coordinates)}`;
    case 'MultiPoint':
      return `MULTIPOINT (${geometry.coordinates.map((p) => `(${pos(p)})`).join(', ')})`;
    case 'MultiLineString':
      return `MULTILINESTRING (${geometry.coordinates.map(line).join(', ')})`;
    case 'MultiPolygon':
      return `MULTIPOLYGON (${geometry.coordinates.map(poly).join(', ')})`;
    case 'GeometryCollection':
      throw fileRejected('GEOMETRY_TYPE', 'Geometry collections cannot be written.', { in: 'querystring', field: 'format' });
  }
}

const WKT_TYPES = new Map(Object.entries(WKT_NAMES).map(([k, v]) => [v, k as SimpleType]));

/** WKT → 2D GeoJSON geometry; EMPTY → null. Accepts Z/M/ZM and "MULTIPOINT (1 2, 3 4)". */
export function wktToGeometry(text: string, featureIndex: number): Geometry | null {
  let i = 0;
  const s = text.trim();
  const fail = (what: string): never => {
    throw fileRejected('FILE_CORRUPT', `Feature ${featureIndex}: the WKT is malformed (${what} at character ${i + 1}).`, { featureIndex });
  };
  const ws = (): void => {
    while (i < s.length && /\s/.test(s[i] ?? '')) i += 1;
  };
  const word = (): string => {
    ws();
    const m = /^[A-Za-z]+/.exec(s.slice(i, i + 32));
    if (!m) return '';
    i += m[0].length;
    return m[0].toUpperCase();
  };
  const expect = (ch: string): void => {
    ws();
    if (s[i] !== ch) fail(`expected "${ch}"`);
    i += 1;
  };
  const peek = (): string => {
    ws();
    return s[i] ?? '';
  };
  let dims = 2;
  const number = (): number => {
    ws();
    const m = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(s.slice(i, i + 64));
    if (!m) return fail('expected a number');
    i += m[0].length;
    return Number(m[0]);
  };
  const point = (): Position => {
    const p: Position = [number(), number()];
    for (let d = 2; d < dims; d += 1) number();
    // A position may carry Z/M without a tag ("POINT (1 2 3)").
    while (/[-+.\d]/.test(peek())) number();
    return p;
  };
  const list = <T>(item: () => T): T[] => {
    expect('(');
    const out = [item()];
    while (peek() === ',') {
      i += 1;
      out.push(item());
    }
    expect(')');
    return out;
  };
  const ring = (): Position[] => list(point);
  const rings = (): Position[][] => list(ring);

  const name = word();
  const type = WKT_TYPES.get(name);
  if (!type) {
    if (name === 'GEOMETRYCOLLECTION' || name.length > 0) {
      throw fileRejected('GEOMETRY_TYPE', `Feature ${featureIndex}: geometry type ${name} is not supported.`, { featureIndex, type: name });
    }
    return fail('expected a geometry type');
  }
  const tag = word();
  if (tag === 'Z' || tag === 'M') dims = 3;
  else if (tag === 'ZM') dims = 4;
  else if (tag === 'EMPTY') return null;
  else if (tag !== '') fail(`unexpected word ${tag}`);
  if (dims > 2 && word() === 'EMPTY') return null;
  let geometry: Geometry;
  switch (type) {
    case 'Point':
      expect('(');
      geometry = { type, coordinates: point() };
      expect(')');
      break;
    case 'LineString':
      geometry = { type, coordinates: ring() };
      break;
    case 'Polygon':
      geometry = { type, coordinates: rings() };
      break;
    case 'MultiPoint':
      geometry = { type, coordinates: list(() => (peek() === '(' ? (list(point)[0] as Position) : point())) };
      break;
    case 'MultiLineString':
      geometry = { type, coordinates: rings() };
      break;
    case 'MultiPolygon':
      geometry = { type, coordinates: list(rings) };
      break;
  }
  ws();
  if (i !== s.length) fail('unexpected text after the geometry');
  return geometry;
}
