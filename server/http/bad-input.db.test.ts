/**
 * The bad-input sweep: every route of the app (from its own route table and the OpenAPI document it
 * generates, so a route added later is swept the moment it exists) gets deterministic malformed input
 * as an administrator with scope all, and must answer each with a 4xx in the project's error shape
 * (code, message, and where for schema failures) — never a 5xx, never a 2xx — and change nothing: a
 * fingerprint of every table's rows is the same before and after each route's cases.
 *
 * Every input is invalid for its route by the route's own schema, or semantically (a 30 February, a
 * self-intersecting ring, an id past the column's range, a file that is not the file type it claims).
 * Path ids and required companions are real (demo city, a draft layout, an event), so the semantic
 * cases reach the services instead of stopping at a 404. An unknown query parameter is invalid on
 * every route (server/http/query-parameters.ts) but the few whose standard keeps them open (OPEN_QUERY):
 * each route also gets one, and a misspelling of its first parameter, beside valid companions, and must
 * answer 400 naming it (details.in 'querystring', details.field the name). To triage,
 * SWEEP_DUMP=/tmp/x.txt writes every (status, code, detail keys) seen with examples. Hostile requests
 * (SQL injection, traversal, tokens, escalation) live in hostile.db.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../contracts/common';
import { testConfig } from '../config';
import { loadDemoIfEmpty } from '../modules/demo/demo.service';
import { registryCipherFromConfig } from '../modules/registry/registry-crypto';
import { createTestApp, type TestApp, type TestInjectOptions } from '../test/app';
import { changedTables, fingerprint } from '../test/fingerprint';
import { seededRandom } from '../test/seeded-random';

/** Routes not swept, each with its reason: swagger-ui's, a third-party plugin whose query strings are its own. */
const SKIPPED: Record<string, string> = {
  'GET /docs': 'swagger-ui page (third-party plugin serving static files, no data)',
  'GET /docs/static/index.html': 'swagger-ui static file',
  'GET /docs/static/swagger-initializer.js': 'swagger-ui static file',
  'GET /docs/json': 'swagger-ui copy of the API description',
  'GET /docs/yaml': 'swagger-ui copy of the API description',
  'GET /docs/static/*': 'swagger-ui static files (traversal is in hostile.db.test.ts)',
};

/**
 * GET routes that take no path parameter, query parameter or header: an unknown query parameter is the
 * only thing of theirs that can be malformed. Pinned, so a new route's inputs are a decision.
 */
const NO_INPUT = new Set([
  'GET /openapi.json',
  'GET /health',
  'GET /api/v1/config',
  'GET /api/v1/auth/me',
  'GET /api/v1/auth/tokens',
  'GET /api/v1/users',
  'GET /api/v1/audit/verify',
  'GET /tiles/events.json',
]);

/**
 * Routes whose query strings stay open, each with its reason (server/http/query-parameters.ts): an
 * unknown parameter is not invalid there. Their declared parameters are swept like any others.
 */
const OPEN_QUERY: Record<string, string> = {
  'GET /open311/v2/services.json': 'GeoReport v2: clients send jurisdiction_id, api_key and extensions to every server',
  'POST /open311/v2/requests.json': 'GeoReport v2 (as above)',
  'GET /open311/v2/requests.json': 'GeoReport v2 (as above)',
  'GET /open311/v2/requests/:id.json': 'GeoReport v2 (as above)',
};

// ---------------------------------------------------------------------------------------------
// The route table and its schemas (OpenAPI 3, as the app generates it)

interface Schema {
  type?: string | string[];
  format?: string;
  pattern?: string;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  minProperties?: number;
  items?: Schema | Schema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  nullable?: boolean;
  default?: unknown;
  const?: unknown;
}
interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
}

interface Route {
  method: string;
  url: string;
  key: string;
  params: Parameter[];
  query: Parameter[];
  headers: Parameter[];
  body?: Schema;
  contentTypes: string[];
}

// ---------------------------------------------------------------------------------------------
// Fixture: real things for ids and companions

interface World {
  draftLayoutId: number;
  draftGridId: number;
  draftGridFeature: unknown;
  draftGridVersion: number;
  communityCode: string;
  gridCode: string;
  eventId: number;
  /** A point inside the draft grid [lng, lat]. */
  inside: [number, number];
}

let t: TestApp;
let world: World;
let routes: Route[];

beforeAll(async () => {
  // Rate limits high enough that no case is refused for the rate (a 429 would hide a 5xx).
  t = await createTestApp({ bodyLimitBytes: 256 * 1024, signInRateLimitPerMinute: 1_000_000, publicIntakeRateLimitPerMinute: 1_000_000 });
  await loadDemoIfEmpty(t.tdb.db, 'small', registryCipherFromConfig(testConfig()));
  const { rows: layouts } = await sql<{ code: string }>`SELECT community_code AS code FROM layouts WHERE status = 'published' ORDER BY id LIMIT 1`.execute(t.tdb.db);
  const communityCode = layouts[0]?.code ?? '';
  const draft = await t.inject({ method: 'POST', url: `/api/v1/communities/${communityCode}/layouts`, payload: { from: 'published', name: 'sweep' } });
  expect(draft.statusCode, draft.body).toBe(201);
  const draftLayoutId = draft.json<{ id: number }>().id;
  const { rows: grids } = await sql<{ id: number; code: string; lng: number; lat: number }>`
    SELECT id, code, ST_X(ST_PointOnSurface(geom)) AS lng, ST_Y(ST_PointOnSurface(geom)) AS lat
    FROM grids WHERE layout_id = ${draftLayoutId} AND code IS NOT NULL ORDER BY id LIMIT 1`.execute(t.tdb.db);
  const grid = grids[0];
  if (!grid) throw new Error('the draft layout has no grid');
  const gridRes = await t.inject(`/api/v1/grids/${grid.id}`);
  expect(gridRes.statusCode, gridRes.body).toBe(200);
  const feature = gridRes.json<{ geometry: unknown; properties: { version: number } }>();
  const event = await t.inject({
    method: 'POST',
    url: '/api/v1/events',
    payload: { category: 'dispute.neighbour', description: '楼上漏水', channel: 'patrol', location: { type: 'Point', coordinates: [grid.lng, grid.lat] } },
  });
  expect(event.statusCode, event.body).toBeLessThan(300);
  world = {
    draftLayoutId,
    draftGridId: grid.id,
    draftGridFeature: { type: 'Feature', properties: {}, geometry: feature.geometry },
    draftGridVersion: feature.properties.version,
    communityCode,
    gridCode: grid.code,
    eventId: event.json<{ id: number }>().id,
    inside: [grid.lng, grid.lat],
  };
  // the sessions of every case exist before the first fingerprint
  await t.tokenFor('admin');

  const doc = (await t.inject('/openapi.json')).json<OpenApi>();
  routes = [];
  for (const { method, url } of t.app.routePermissions) {
    if (method === 'HEAD' || method === 'OPTIONS') continue;
    const key = `${method} ${url}`;
    const op = doc.paths[url.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
    const parameters = op?.parameters ?? [];
    const content = op?.requestBody?.content ?? {};
    routes.push({
      method,
      url,
      key,
      params: parameters.filter((p) => p.in === 'path'),
      query: parameters.filter((p) => p.in === 'query'),
      headers: parameters.filter((p) => p.in === 'header'),
      ...(content['application/json']?.schema ? { body: mergeAllOf(content['application/json'].schema) } : {}),
      contentTypes: Object.keys(content),
    });
  }
}, 120_000);
afterAll(async () => t?.close());

/** An `allOf` of object schemas as one object schema (the union of their properties and requirements). */
function mergeAllOf(s: Schema): Schema {
  if (!s.allOf) return s;
  const parts = s.allOf.map(mergeAllOf);
  return {
    type: 'object',
    properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})) as Record<string, Schema>,
    required: parts.flatMap((p) => p.required ?? []),
  };
}

// ---------------------------------------------------------------------------------------------
// Valid companions: a value that passes the schema (as far as a generator can tell)

/** Real path values, by parameter name and route prefix. */
function pathValue(route: Route, name: string): string {
  const u = route.url;
  if (name === 'id') {
    if (u.startsWith('/api/v1/layouts/')) return String(world.draftLayoutId);
    if (u.startsWith('/api/v1/grids/')) return String(world.draftGridId);
    if (u.startsWith('/api/v1/events/') || u.startsWith('/open311/')) return String(world.eventId);
    return '1';
  }
  if (name === 'code') {
    if (u.startsWith('/api/v1/grids/')) return world.gridCode;
    return world.communityCode;
  }
  if (name === 'collectionId') return 'grids';
  if (name === 'layer') return 'grids';
  if (name === 'z' || name === 'x' || name === 'y') return '0';
  return '1';
}

/** Values for query parameters and body strings whose schema a generator cannot satisfy by itself. */
const KNOWN: Record<string, unknown> = {
  lon: 113.6,
  lat: 34.75,
  month: '2026-01',
  date: '2026-01-15',
  scope: '410199',
  from: '2026-01-01T00:00:00Z',
  to: '2026-02-01T00:00:00Z',
  entity: 'buildings',
};

function sampleString(s: Schema, name: string): string {
  if (typeof KNOWN[name] === 'string') return KNOWN[name];
  if (s.format === 'date-time') return '2026-01-15T08:00:00Z';
  if (s.format === 'date') return '2026-01-15';
  if (s.format === 'uri') return 'https://example.org/a.jpg';
  const p = s.pattern;
  if (p) {
    if (p.includes('{4}-')) return '2026-01-15';
    if (/^\^\[0-9\]\{(\d+)\}\$$/.test(p)) return '4'.repeat(Number(/\{(\d+)\}/.exec(p)?.[1] ?? 1));
    if (p.includes('[0-9]{6')) return world.communityCode;
    if (p.includes('[0-9]{2}:[0-9]{2}')) return '08:00';
    if (p.startsWith('^[a-z')) return 'abc';
    if (p.startsWith('^1')) return '13800138000';
    return 'x';
  }
  return 'x'.repeat(Math.max(1, s.minLength ?? 1));
}

function alternatives(s: Schema): Schema[] | undefined {
  return s.anyOf ?? s.oneOf;
}

/** A value meant to satisfy `s`; where it cannot, the case stays invalid anyway (it is only a companion). */
function sample(s: Schema | undefined, name = '', depth = 0): unknown {
  if (!s || depth > 12) return null;
  if (name in KNOWN && typeof KNOWN[name] !== 'string') return KNOWN[name];
  const alts = alternatives(s);
  if (alts) return sample(alts[0], name, depth + 1);
  if (s.allOf) return sample(s.allOf[0], name, depth + 1);
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of s.required ?? []) out[key] = sample(s.properties?.[key], key, depth + 1);
      if (name === 'geometry' || name === 'location' || name === 'line' || name === 'gap') return sampleGeometry(s) ?? out;
      return out;
    }
    case 'array': {
      if (Array.isArray(s.items)) return s.items.map((it, i) => sample(it, `${name}[${i}]`, depth + 1));
      // collections get a few features, so analyses that need several reach their geometry checks
      const n = Math.max(name === 'features' ? 4 : 1, s.minItems ?? 0);
      return Array.from({ length: Math.min(n, 4) }, () => sample(s.items as Schema, name, depth + 1));
    }
    case 'string':
      return sampleString(s, name);
    case 'integer':
      return typeof s.minimum === 'number' ? Math.max(s.minimum, 1) : 1;
    case 'number':
      return typeof s.minimum === 'number' ? Math.max(s.minimum, 1) : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + 1 : 1;
    case 'boolean':
      return false;
    default:
      return null;
  }
}

/** Geometry types a schema accepts, from `type: { enum: [...] }` of it or its alternatives. */
function geometryTypes(s: Schema | undefined, depth = 0): string[] {
  if (!s || depth > 4) return [];
  const alts = alternatives(s);
  if (alts) return alts.flatMap((a) => geometryTypes(a, depth + 1));
  const t = s.properties?.type;
  if (!t || !s.properties?.coordinates) return [];
  const values = t.enum ?? alternatives(t)?.flatMap((a) => a.enum ?? []) ?? [];
  return values.filter((v): v is string => typeof v === 'string');
}

function square(d = 0.0002): number[][] {
  const [x, y] = world.inside;
  return [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]];
}

function sampleGeometry(s: Schema): unknown {
  const types = geometryTypes(s);
  const [x, y] = world.inside;
  if (types.includes('Polygon')) return { type: 'Polygon', coordinates: [square()] };
  if (types.includes('MultiPolygon')) return { type: 'MultiPolygon', coordinates: [[square()]] };
  if (types.includes('LineString')) return { type: 'LineString', coordinates: [[x - 0.01, y], [x + 0.01, y]] };
  if (types.includes('Point')) return { type: 'Point', coordinates: [x, y] };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Invalid values

/** Stands for the JSON number 1e999 (parsed as Infinity), which JSON.stringify cannot write. */
const INF = '__1e999__';

function deep(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i += 1) v = i % 2 ? [v] : { a: v };
  return v;
}

function typesOf(s: Schema): Set<string> | undefined {
  const alts = alternatives(s);
  if (alts) {
    const all = alts.map(typesOf);
    if (all.some((x) => x === undefined)) return undefined;
    return new Set(all.flatMap((x) => [...(x ?? [])]));
  }
  if (s.enum) return new Set(s.enum.map((v) => (v === null ? 'null' : typeof v)));
  if (s.type === undefined) return undefined;
  const types = new Set(Array.isArray(s.type) ? s.type : [s.type]);
  if (types.has('integer')) types.add('number');
  if (s.nullable) types.add('null');
  return types;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Wrongly typed values for a body property: none of them has a type the schema allows. */
function wrongTypes(s: Schema): unknown[] {
  const allowed = typesOf(s);
  if (!allowed) return [];
  const pool: unknown[] = ['1', 'true', 12345, 1.5, true, null, [], {}, [1, 2], deep(400)];
  return pool.filter((v) => {
    const ty = jsonType(v);
    if (allowed.has(ty)) return false;
    if (ty === 'integer' && allowed.has('number')) return false;
    if (ty === 'object' && allowed.has('object')) return false;
    return true;
  });
}

/** Values that break a string/number schema's own limits (length, range, format, enum, pattern). */
function outOfSchema(s: Schema, name: string): unknown[] {
  const out: unknown[] = [];
  const alts = alternatives(s);
  if (alts && alts.every((a) => a.enum || a.const !== undefined)) return ['nope', '网格'];
  if (s.enum) return ['nope', '网格'];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (type === 'string') {
    if (s.maxLength !== undefined) out.push('x'.repeat(s.maxLength + 1), '网'.repeat(s.maxLength + 1));
    if (s.minLength !== undefined && s.minLength > 0) out.push('');
    if (s.format === 'date-time') out.push('2026-02-30T08:00:00Z', 'yesterday');
    if (s.format === 'date') out.push('2026-02-30');
    if (s.format === 'uri') out.push('not a uri');
    if (s.pattern) {
      out.push('网格\u0000');
      // patterns that let an impossible date or time through: the service must refuse them
      if (s.pattern.includes('{4}-[0-9]{2}-[0-9]{2}')) out.push('2026-02-30', '2026-13-45');
      if (s.pattern.includes('{4}-(0[1-9]')) out.push('2026-13');
      if (/\[0-9\]\{2\}:\[0-9\]\{2\}/.test(s.pattern)) out.push('25:61');
    }
    if (!s.pattern && !s.format && s.maxLength === undefined) out.push(...semanticStrings(name));
  }
  if (type === 'integer' || type === 'number') {
    if (s.maximum !== undefined) out.push(s.maximum + 1);
    if (s.minimum !== undefined) out.push(s.minimum - 1);
    if (typeof s.exclusiveMinimum === 'number') out.push(s.exclusiveMinimum);
    if (type === 'integer') out.push(1.5, 9e15 * 10);
    // the JSON number 1e999 parses as Infinity, which is of type number
    out.push(INF);
  }
  return out;
}

/** Unconstrained strings whose meaning a service checks: bad values by the parameter's name. */
function semanticStrings(name: string): string[] {
  switch (name) {
    case 'bbox':
      return ['a,b,c,d', '1,2,3', '200,0,201,1', 'NaN,NaN,NaN,NaN', '1e999,0,1,1'];
    case 'crs':
    case 'bbox-crs':
      return ['urn:nope', 'EPSG:99999'];
    case 'datetime':
      return ['2026-02-30T00:00:00Z', 'garbage', '2026-01-02T00:00:00Z/2026-01-01T00:00:00Z'];
    case 'f':
      return ['xml'];
    default:
      return [];
  }
}

/** Bad query-string values of a parameter (text, as it arrives). */
function badQueryValues(p: Parameter): string[] {
  const s = p.schema;
  const out: string[] = [];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (type === 'integer') {
    out.push('abc', '1.5', '%00', 'Infinity', '9'.repeat(30));
    if (s.maximum !== undefined) out.push(String(s.maximum + 1));
    if (s.minimum !== undefined) out.push(String(s.minimum - 1));
  } else if (type === 'number') {
    out.push('abc', 'NaN', '1,5');
    if (s.maximum !== undefined) out.push(String(s.maximum + 1), 'Infinity');
    if (s.minimum !== undefined) out.push(String(s.minimum - 1), '-Infinity');
    if (typeof s.exclusiveMinimum === 'number') out.push(String(s.exclusiveMinimum));
  } else if (type === 'boolean') {
    out.push('maybe', '2');
  } else {
    for (const v of outOfSchema(s, p.name)) if (typeof v === 'string') out.push(encodeURIComponent(v));
    // PostgreSQL text cannot hold NUL: free text with one must be refused, not fail in SQL
    if (type === 'string' && !s.enum && !alternatives(s)) out.push('a%00b');
  }
  return out;
}

/** Bad path values of a parameter (already URL-encoded). */
function badPathValues(route: Route, p: Parameter, rnd: () => number): string[] {
  const s = p.schema;
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  const unicode = Array.from({ length: 8 }, () => String.fromCodePoint(0x4e00 + Math.floor(rnd() * 0x5000))).join('');
  const out = ['%00', '1%00', encodeURIComponent(unicode), 'x'.repeat(250), '%F0%9F%92%A9'];
  if (type === 'integer') {
    out.push('abc', '1.5', 'Infinity', '1e999', '9'.repeat(30), '%EF%BC%99', String((s.minimum ?? 1) - 1), '-1');
    if (s.maximum !== undefined) out.push(String(s.maximum + 1));
    else out.push('9223372036854775808');
  } else {
    out.push(...outOfSchema(s, p.name).filter((v): v is string => typeof v === 'string').map((v) => encodeURIComponent(v)));
    if (s.pattern) out.push(s.pattern.startsWith('^[0-9]') ? `${pathValue(route, p.name)}0` : `${pathValue(route, p.name)}-no-such`, '..%2F..%2Fetc');
    if (!s.pattern && !s.enum) out.push('no-such-thing');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Case generation

interface Case {
  name: string;
  request: TestInjectOptions;
  /** An unknown query parameter: the answer must be a 400 naming it. */
  unknownParameter?: string;
}

function urlOf(route: Route, override: Record<string, string> = {}): string {
  return route.url.replace(/:(\w+)/g, (_m, name: string) => override[name] ?? encodeURIComponent(pathValue(route, name)));
}

function queryString(pairs: Array<[string, string]>): string {
  return pairs.length ? `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&')}` : '';
}

/** Required query parameters with valid values, as encoded pairs. */
function requiredQuery(route: Route, except?: string): Array<[string, string]> {
  return route.query.filter((p) => p.required && p.name !== except).map((p) => [p.name, encodeURIComponent(String(sample(p.schema, p.name)))]);
}

function validHeaders(route: Route): Record<string, string> {
  const h: Record<string, string> = {};
  for (const p of route.headers) if (p.required) h[p.name] = String(sample(p.schema, p.name));
  if (route.headers.some((p) => p.name === 'if-match')) h['if-match'] = `"${world.draftGridVersion}"`;
  return h;
}

/** Positions of geometries in a body schema, as property paths. */
function geometrySpots(s: Schema | undefined, path: Array<string | number> = [], depth = 0): Array<{ path: Array<string | number>; types: string[] }> {
  if (!s || depth > 8) return [];
  const types = geometryTypes(s);
  if (types.length > 0) return [{ path, types }];
  const alts = alternatives(s);
  if (alts) return geometrySpots(alts[0], path, depth + 1);
  const out: Array<{ path: Array<string | number>; types: string[] }> = [];
  for (const [k, v] of Object.entries(s.properties ?? {})) out.push(...geometrySpots(v, [...path, k], depth + 1));
  if (s.type === 'array' && s.items && !Array.isArray(s.items)) out.push(...geometrySpots(s.items, [...path, 0], depth + 1));
  return out;
}

/** `setAt` for every element where the path crosses an array (index 0 stands for all of them). */
function setEach(target: unknown, path: Array<string | number>, value: unknown): unknown {
  const i = path.findIndex((k) => typeof k === 'number');
  if (i < 0) return setAt(target, path, value);
  const head = path.slice(0, i);
  let node: unknown = target;
  for (const k of head) node = (node as Record<string, unknown> | undefined)?.[k];
  if (!Array.isArray(node)) return setAt(target, path, value);
  const items = node.map((item: unknown) => setEach(item, path.slice(i + 1), value));
  return setAt(target, head, items);
}

function setAt(target: unknown, path: Array<string | number>, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(target) as Record<string | number, unknown>;
  let node = copy;
  for (let i = 0; i < path.length - 1; i += 1) {
    const k = path[i] as string | number;
    if (typeof node[k] !== 'object' || node[k] === null) node[k] = typeof path[i + 1] === 'number' ? [] : {};
    node = node[k] as Record<string | number, unknown>;
  }
  node[path[path.length - 1] as string | number] = value;
  return copy;
}

function badGeometries(types: string[]): Array<[string, unknown]> {
  const [x, y] = world.inside;
  const d = 0.0002;
  const bowTie = [[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]];
  const unclosed = [[x, y], [x + d, y], [x + d, y + d], [x, y + d]];
  const spike = [[x, y], [x + d, y], [x, y], [x + d, y], [x, y]];
  const out: Array<[string, unknown]> = [];
  if (types.includes('Polygon')) {
    out.push(
      ['a self-intersecting polygon', { type: 'Polygon', coordinates: [bowTie] }],
      ['an unclosed ring', { type: 'Polygon', coordinates: [unclosed] }],
      ['a zero-area ring', { type: 'Polygon', coordinates: [spike] }],
      ['NaN as strings', { type: 'Polygon', coordinates: [[['NaN', y], [x + d, y], [x + d, y + d], ['NaN', y]]] }],
      ['1e999', { type: 'Polygon', coordinates: [[[INF, y], [x + d, y], [x + d, y + d], [INF, y]]] }],
      ['longitude out of range', { type: 'Polygon', coordinates: [[[200, y], [201, y], [201, y + 1], [200, y]]] }],
      ['latitude out of range', { type: 'Polygon', coordinates: [[[x, 95], [x + d, 95], [x + d, 96], [x, 95]]] }],
      ['one level of nesting short', { type: 'Polygon', coordinates: square() }],
      ['one level of nesting too many', { type: 'Polygon', coordinates: [[square()]] }],
    );
  }
  if (types.includes('MultiPolygon')) {
    out.push(
      ['a multipolygon with a bow-tie', { type: 'MultiPolygon', coordinates: [[bowTie]] }],
      ['a multipolygon with an unclosed ring', { type: 'MultiPolygon', coordinates: [[unclosed]] }],
      ['a multipolygon nested as a polygon', { type: 'MultiPolygon', coordinates: [square()] }],
    );
  }
  if (types.includes('LineString')) {
    out.push(
      ['a one-point line', { type: 'LineString', coordinates: [[x, y]] }],
      ['a zero-length line', { type: 'LineString', coordinates: [[x, y], [x, y]] }],
      ['a line with NaN strings', { type: 'LineString', coordinates: [['NaN', y], [x, 'NaN']] }],
      ['a line out of range', { type: 'LineString', coordinates: [[-500, y], [500, y]] }],
      ['a line nested too deep', { type: 'LineString', coordinates: [[[x, y], [x + d, y]]] }],
    );
  }
  if (types.includes('Point')) {
    out.push(
      ['a point out of range', { type: 'Point', coordinates: [200, 100] }],
      ['a point with NaN strings', { type: 'Point', coordinates: ['NaN', 'NaN'] }],
      ['a point of 1e999', { type: 'Point', coordinates: [INF, y] }],
      ['a point nested too deep', { type: 'Point', coordinates: [[x, y]] }],
      ['an empty point', { type: 'Point', coordinates: [] }],
    );
  }
  out.push(['an unknown geometry type', { type: 'Circle', coordinates: [x, y], radius: 10 }], ['a geometry without coordinates', { type: types[0] ?? 'Polygon' }]);
  return out;
}

function jsonPayload(v: unknown): string {
  return JSON.stringify(v).replaceAll(`"${INF}"`, '1e999');
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function casesFor(route: Route, rnd: () => number, etag?: string): Case[] {
  const cases: Case[] = [];
  const method = route.method as 'GET';
  // Writes that check If-Match without declaring it get the resource's current ETag, so the cases reach the service.
  const headers = { ...(etag === undefined ? {} : { 'if-match': etag }), ...validHeaders(route) };
  const base = { method, headers };
  const rq = requiredQuery(route);
  const validBody = route.body ? sample(route.body) : undefined;
  const bodyOf = (payload: unknown): Partial<TestInjectOptions> => (route.body ? { payload: jsonPayload(payload), headers: { ...headers, ...JSON_HEADERS } } : {});
  const pick = <T>(xs: T[], n: number): T[] => {
    if (xs.length <= n) return xs;
    const copy = [...xs];
    const out: T[] = [];
    while (out.length < n) out.push(...copy.splice(Math.floor(rnd() * copy.length), 1));
    return out;
  };

  // path parameters
  for (const p of route.params) {
    for (const v of badPathValues(route, p, rnd)) {
      cases.push({ name: `path ${p.name}=${v.slice(0, 40)}`, request: { ...base, url: urlOf(route, { [p.name]: v }) + queryString(rq), ...bodyOf(validBody) } });
    }
  }

  // query parameters: one bad at a time, with the required ones valid
  for (const p of route.query) {
    const others = requiredQuery(route, p.name);
    const values = badQueryValues(p);
    for (const v of values) {
      cases.push({ name: `query ${p.name}=${v.slice(0, 40)}`, request: { ...base, url: urlOf(route) + queryString([...others, [p.name, v]]), ...bodyOf(validBody) } });
    }
    // an unknown parameter beside a bad one: the unknown one is named (checked before the schemas; only
    // a NUL, which no text may hold, is refused before it)
    const firstBad = values.find((v) => !v.includes('%00'));
    if (firstBad !== undefined && p === route.query[0] && !OPEN_QUERY[route.key]) {
      cases.push({ name: `query ${p.name}=${firstBad.slice(0, 40)} and an unknown one`, unknownParameter: 'zz_unknown', request: { ...base, url: urlOf(route) + queryString([...others, ['zz_unknown', encodeURIComponent('网格')], [p.name, firstBad]]), ...bodyOf(validBody) } });
    }
  }
  // an unknown parameter beside valid ones, and a misspelling (the case of one letter) of the first declared
  if (!OPEN_QUERY[route.key]) {
    const first = route.query[0]?.name;
    const typo = first === undefined ? undefined : first.charAt(0).toUpperCase() + first.slice(1);
    for (const name of ['zz_unknown', ...(typo !== undefined && typo !== first && !route.query.some((q) => q.name === typo) ? [typo] : [])]) {
      cases.push({ name: `unknown query parameter ${name}`, unknownParameter: name, request: { ...base, url: urlOf(route) + queryString([...rq, [name, '1']]), ...bodyOf(validBody) } });
    }
  }
  // tiles: an address outside its zoom level's grid (x, y < 2^z)
  if (route.params.some((p) => p.name === 'z') && route.params.some((p) => p.name === 'x')) {
    cases.push({ name: 'tile x beyond zoom 0', request: { ...base, url: urlOf(route, { z: '0', x: '1', y: '0' }) } }, { name: 'tile y beyond zoom 3', request: { ...base, url: urlOf(route, { z: '3', x: '0', y: '8' }) } });
  }
  const numeric = route.query.find((p) => p.schema.type === 'integer' || p.schema.type === 'number');
  if (numeric) {
    const v = String(sample(numeric.schema, numeric.name));
    cases.push({ name: `query ${numeric.name} repeated`, request: { ...base, url: urlOf(route) + queryString([...requiredQuery(route, numeric.name), [numeric.name, v], [numeric.name, v]]), ...bodyOf(validBody) } });
  }
  if (rq.length > 0) cases.push({ name: 'required query parameters missing', request: { ...base, url: urlOf(route), ...bodyOf(validBody) } });

  // headers
  for (const h of route.headers) {
    const bad = h.name === 'if-match' ? ['garbage', '"abc"', 'W/"x"', '"-1"', '"99999999999999999999"', `"${world.draftGridVersion + 1000}"`] : outOfSchema(h.schema, h.name).filter((v): v is string => typeof v === 'string' && /^[\x20-\x7e]*$/.test(v));
    for (const v of bad) {
      const payload = route.body ? (route.url === '/api/v1/grids/:id' ? world.draftGridFeature : validBody) : undefined;
      cases.push({ name: `header ${h.name}: ${v.slice(0, 40)}`, request: { method, url: urlOf(route) + queryString(rq), headers: { ...headers, [h.name]: v, ...(payload ? JSON_HEADERS : {}) }, ...(payload ? { payload: jsonPayload(payload) } : {}) } });
    }
  }

  const url = urlOf(route) + queryString(rq);
  if (route.method !== 'GET' && route.method !== 'DELETE' || route.body) {
    // bodies: not JSON, the wrong JSON, too big
    cases.push({ name: 'body not JSON', request: { method, url, headers: { ...headers, ...JSON_HEADERS }, payload: '{"type": "Feature", ' } });
  }
  if (route.body) {
    const b = route.body;
    const objectOnly = !(typesOf(b) ?? new Set(['object'])).has('array');
    if (objectOnly) for (const raw of ['[]', '[{}]', '42', 'null', '"x"', 'true']) cases.push({ name: `body ${raw}`, request: { method, url, headers: { ...headers, ...JSON_HEADERS }, payload: raw } });
    const alts = alternatives(b);
    const needsSomething = alts ? alts.every((a) => (a.required?.length ?? 0) > 0 || (a.minProperties ?? 0) > 0) : (b.required?.length ?? 0) > 0 || (b.minProperties ?? 0) > 0;
    if (needsSomething) cases.push({ name: 'body {}', request: { method, url, headers: { ...headers, ...JSON_HEADERS }, payload: '{}' } });
    cases.push({ name: 'body over the limit', request: { method, url, headers: { ...headers, ...JSON_HEADERS }, payload: JSON.stringify({ pad: 'x'.repeat(300 * 1024) }) } });
    cases.push({ name: 'body as a form', request: { method, url, headers: { ...headers, 'content-type': 'application/xml' }, payload: '<a/>' } });
    // each property: wrong types, out of its schema
    const shape = alts?.[0] ?? b;
    for (const [prop, ps] of Object.entries(shape.properties ?? {})) {
      const isGeometry = geometryTypes(ps).length > 0;
      const values = [...pick(wrongTypes(ps), 2), ...(isGeometry ? [] : outOfSchema(ps, prop)), ...(ps.type === 'string' && !ps.enum ? ['a\u0000b'] : [])];
      for (const v of values) {
        const payload = { ...(validBody as Record<string, unknown>), [prop]: v };
        cases.push({ name: `body ${prop}=${JSON.stringify(v).slice(0, 40)}`, request: { method, url, headers: { ...headers, ...JSON_HEADERS }, payload: jsonPayload(payload) } });
      }
      // one level down: nested objects' own properties
      if (ps.type === 'object' && ps.properties) {
        for (const [inner, is] of Object.entries(ps.properties)) {
          if (geometryTypes(is).length > 0) continue;
          for (const v of [...pick(wrongTypes(is), 1), ...pick(outOfSchema(is, inner), 2)]) {
            const payload = setAt(validBody, [prop, inner], v);
            cases.push({ name: `body ${prop}.${inner}=${JSON.stringify(v).slice(0, 40)}`, request: { method, url, headers: { ...headers, ...JSON_HEADERS }, payload: jsonPayload(payload) } });
          }
        }
      }
    }
    // geometries
    for (const spot of geometrySpots(b)) {
      for (const [what, g] of badGeometries(spot.types)) {
        cases.push({ name: `body ${spot.path.join('.')}: ${what}`, request: { method, url, headers: { ...headers, ...JSON_HEADERS }, payload: jsonPayload(setEach(validBody, spot.path, g)) } });
      }
    }
  }
  // files: garbage in every declared non-JSON media type
  const garbage = Buffer.from(Array.from({ length: 512 }, () => Math.floor(rnd() * 256)));
  const files: Array<[string, string | Buffer]> = [];
  for (const type of route.contentTypes) {
    if (type === 'application/json') continue;
    if (type === 'text/csv') files.push([type, 'code,name\n"unclosed,\u0000\u0001\n,,,,,,,\n']);
    else if (type === 'application/geo+json') files.push([type, '{"type":"FeatureCollection","features":"no"}']);
    else if (type === 'application/flatgeobuf') files.push([type, Buffer.concat([Buffer.from([0x66, 0x67, 0x62, 0x03, 0x66, 0x67, 0x62, 0x00]), garbage])]);
    else if (type.includes('sqlite') || type.includes('geopackage')) files.push([type, Buffer.concat([Buffer.from('SQLite format 3\u0000'), garbage])]);
    else files.push([type, garbage]);
  }
  if (route.key === 'POST /api/v1/registry/import') {
    files.push(['text/csv', 'code,name\n"unclosed,\u0000\u0001\n'], ['application/x-ndjson', '{"a":\n[]\n'], ['application/geo+json', '{"type":"FeatureCollection","features":"no"}'], ['text/csv', '']);
  }
  if (files.length > 0) files.push(['multipart/form-data; boundary=b', '--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\ncode,name\r\n--b--\r\n']);
  for (const [type, payload] of files) {
    cases.push({ name: `file ${type} of garbage (${payload.length} bytes)`, request: { method, url, headers: { ...headers, 'content-type': type }, payload } });
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------

/**
 * Codes about who asks, not what they sent: the only 4xx whose details need not say where
 * (error-where.unit.test.ts lists the same exceptions at their source).
 */
const NOT_LOCATED = new Set(['UNAUTHENTICATED', 'TOKEN_EXPIRED', 'FORBIDDEN', 'PASSWORD_CHANGE_REQUIRED', 'INVALID_CREDENTIALS', 'ACCOUNT_LOCKED', 'RATE_LIMITED']);

function errorProblem(res: { statusCode: number; body: string; headers: Record<string, unknown> }): string | undefined {
  if (res.statusCode < 400) return `answered ${res.statusCode}`;
  if (res.statusCode >= 500) return `answered ${res.statusCode}`;
  let body: ErrorResponse;
  try {
    body = JSON.parse(res.body) as ErrorResponse;
  } catch {
    return `${res.statusCode} without a JSON error body`;
  }
  const e = body.error as ErrorResponse['error'] | undefined;
  if (!e || typeof e.code !== 'string' || !/^[A-Z][A-Z_]+$/.test(e.code)) return `${res.statusCode} without an error code`;
  if (typeof e.message !== 'string' || e.message.length < 5) return `${res.statusCode} ${e.code} without a message`;
  if (typeof e.details !== 'object' || e.details === null) return `${res.statusCode} ${e.code} without details`;
  // Bad input says where: the part of the request (in), and the field when one is to blame.
  if (!NOT_LOCATED.has(e.code)) {
    const d = e.details as { in?: unknown; field?: unknown };
    if (typeof d.in !== 'string') return `${res.statusCode} ${e.code} without details.in`;
    if (d.field !== undefined && (typeof d.field !== 'string' || d.field === '')) return `${res.statusCode} ${e.code} with a details.field that is not a name`;
  }
  return undefined;
}

/** A problem unless the answer is a 400 VALIDATION_FAILED naming the unknown query parameter. */
function unknownNotNamed(res: { statusCode: number; body: string }, name: string): string | undefined {
  const e = (JSON.parse(res.body) as ErrorResponse).error;
  const d = e.details as { in?: unknown; field?: unknown };
  if (res.statusCode !== 400 || e.code !== 'VALIDATION_FAILED' || d.in !== 'querystring' || d.field !== name) return `${res.statusCode} ${e.code} does not name the unknown query parameter ${name}`;
  return undefined;
}

describe('bad input on every route: a 4xx in the error shape, never a 5xx or 2xx, nothing changed', () => {
  it('sweeps every route of the app, skipping only the listed ones', async () => {
    const rnd = seededRandom(20261127);
    const problems: string[] = [];
    const swept: string[] = [];
    const noInput: string[] = [];
    let count = 0;
    const dump = new Map<string, string[]>();
    const start = await fingerprint(t.tdb.db);
    let before = start;
    for (const route of routes) {
      if (SKIPPED[route.key]) continue;
      let etag: string | undefined;
      if (['PUT', 'PATCH', 'DELETE'].includes(route.method) && route.params.length > 0 && !route.headers.some((h) => h.name === 'if-match')) {
        const current = await t.inject(urlOf(route));
        const tag = current.headers.etag;
        if (current.statusCode === 200 && typeof tag === 'string') etag = tag;
      }
      const cases = casesFor(route, rnd, etag);
      if (cases.every((c) => c.unknownParameter !== undefined)) noInput.push(route.key);
      swept.push(route.key);
      for (const c of cases) {
        count += 1;
        const res = await t.inject(c.request);
        const problem = errorProblem(res) ?? (c.unknownParameter === undefined ? undefined : unknownNotNamed(res, c.unknownParameter));
        if (process.env.SWEEP_DUMP && res.statusCode >= 400) {
          let k = 'nobody';
          try {
            const e = (JSON.parse(res.body) as ErrorResponse).error;
            k = `${res.statusCode} ${e.code} ${e.details && typeof e.details === 'object' ? Object.keys(e.details).sort().join(',') : String(e.details)}`;
          } catch {
            /* not JSON */
          }
          dump.set(k, [...(dump.get(k) ?? []), `${route.key} [${c.name}]`]);
        }
        if (problem) problems.push(`${route.key} [${c.name}]: ${problem} ${res.body.slice(0, 160)}`);
      }
      const after = await fingerprint(t.tdb.db);
      const changed = changedTables(before, after);
      if (changed.length > 0) problems.push(`${route.key}: changed ${changed.join(', ')}`);
      before = after;
    }
    if (process.env.SWEEP_DUMP) writeFileSync(process.env.SWEEP_DUMP, [...dump].map(([k, v]) => `${k}  x${v.length}  e.g. ${v.slice(0, 3).join(' | ')}`).sort().join('\n'));
    expect(problems).toEqual([]);
    expect(changedTables(start, await fingerprint(t.tdb.db))).toEqual([]);
    expect(noInput.sort()).toEqual([...NO_INPUT].sort());
    expect(swept.length).toBeGreaterThan(80);
    expect(count).toBeGreaterThan(1000);
    // the skip and open lists name routes that exist
    for (const key of [...Object.keys(SKIPPED), ...Object.keys(OPEN_QUERY)]) expect(routes.map((r) => r.key), key).toContain(key);
  }, 120_000);
});
