/**
 * Domain errors over HTTP say where: one real request per domain error code (and per way a code is
 * reached: an id in the path, in the body, in the query; a header), each answered with its status and
 * code, a message, and `details.in` / `details.field` naming the input — and changing nothing (a
 * fingerprint of every table before and after each request). Request-shape errors (schema failures,
 * malformed JSON, wrong media type, oversized bodies) are swept route by route in bad-input.db.test.ts;
 * the source scan that keeps new errors honest is error-where.unit.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { Polygon } from 'geojson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../contracts/common';
import { createTestApp, TEST_PASSWORD, type TestApp, type TestInjectOptions, type TestUser } from '../test/app';
import { COMMUNITY, STREET, lattice, newDivisions, newGrid, newLayout, rect } from '../test/factories';
import { changedTables, fingerprint } from '../test/fingerprint';
import { residentIdCheckDigit } from '../modules/registry/resident-id';

/** A community without a boundary (nothing to clip to). */
const BARE = `${STREET}002`;
const G1 = `${COMMUNITY}001`;
const MISSING = 999_999;
/** A self-intersecting ring (bow tie). */
const BOW_TIE: Polygon = { type: 'Polygon', coordinates: [[[113.6, 34.75], [113.601, 34.751], [113.601, 34.75], [113.6, 34.751], [113.6, 34.75]]] };
const feature = (geometry: Polygon, properties: Record<string, unknown> = {}) => ({ type: 'Feature', geometry, properties });
const point = (p: [number, number]) => ({ type: 'Point' as const, coordinates: p });

function idNumber(): string {
  const first17 = '41010519750607001';
  return first17 + residentIdCheckDigit(first17);
}

let t: TestApp;
const w = {
  published: 0,
  draft: 0,
  otherDraft: 0,
  bareDraft: 0,
  overlapping: 0,
  empty: 0,
  /** Grids of the draft: a, b, c side by side (a and c do not touch); east of c is a gap. */
  a: 0,
  c: 0,
  d: 0,
  bare: 0,
  g1: 0,
  building: 0,
  household: 0,
  event: 0,
  adminId: 0,
  rosterVersion: 0,
  outsider: undefined as unknown as TestUser,
  analyst: undefined as unknown as TestUser,
  changer: undefined as unknown as TestUser,
};

interface Case {
  name: string;
  request: () => TestInjectOptions;
  status: number;
  code: string;
  in: 'body' | 'querystring' | 'params' | 'headers';
  /** The field; omitted where the whole part is to blame (an uploaded file). */
  field?: string;
  /** Other details the answer must hold (as clients match on them). */
  details?: Record<string, unknown>;
}

const CASES: Case[] = [
  // Layouts and grids
  { name: 'a layout id in the path that does not exist', request: () => ({ url: `/api/v1/layouts/${MISSING}` }), status: 404, code: 'LAYOUT_NOT_FOUND', in: 'params', field: 'id' },
  { name: 'a layout id in the query that does not exist', request: () => ({ url: `/api/v1/grids?layout=${MISSING}` }), status: 404, code: 'LAYOUT_NOT_FOUND', in: 'querystring', field: 'layout' },
  { name: 'a tile layout that is not published', request: () => ({ url: `/tiles/grids/0/0/0.mvt?layout=${MISSING}` }), status: 404, code: 'LAYOUT_NOT_FOUND', in: 'querystring', field: 'layout' },
  { name: 'a grid added to a published layout', request: () => ({ method: 'POST', url: `/api/v1/layouts/${w.published}/grids`, payload: feature(rect(113.6, 34.75, 113.6005, 34.7505)) }), status: 409, code: 'LAYOUT_PUBLISHED', in: 'params', field: 'id' },
  { name: 'a published layout deleted', request: () => ({ method: 'DELETE', url: `/api/v1/layouts/${w.published}` }), status: 409, code: 'LAYOUT_PUBLISHED', in: 'params', field: 'id' },
  { name: 'codes assigned to a published layout', request: () => ({ method: 'POST', url: `/api/v1/layouts/${w.published}/codes` }), status: 409, code: 'LAYOUT_NOT_DRAFT', in: 'params', field: 'id' },
  { name: 'an empty layout published', request: () => ({ method: 'POST', url: `/api/v1/layouts/${w.empty}/publish`, payload: {} }), status: 422, code: 'LAYOUT_INVALID', in: 'params', field: 'id' },
  { name: 'a layout with overlapping grids published', request: () => ({ method: 'POST', url: `/api/v1/layouts/${w.overlapping}/publish`, payload: {} }), status: 422, code: 'GRID_OVERLAP', in: 'params', field: 'id' },
  { name: 'a layout outside the caller\'s scope changed', request: () => ({ method: 'POST', url: `/api/v1/layouts/${w.draft}/grids`, payload: feature(rect(113.6035, 34.75, 113.604, 34.7505)), as: { token: w.outsider.token } }), status: 403, code: 'FORBIDDEN', in: 'params', field: 'id' },
  { name: 'a grid id in the path that does not exist', request: () => ({ url: `/api/v1/grids/${MISSING}` }), status: 404, code: 'GRID_NOT_FOUND', in: 'params', field: 'id' },
  { name: 'a grid id in the merge body that does not exist', request: () => ({ method: 'POST', url: '/api/v1/grids/merge', payload: { ids: [w.a, MISSING] } }), status: 404, code: 'GRID_NOT_FOUND', in: 'body', field: 'ids/1' },
  { name: 'grids of two layouts merged', request: () => ({ method: 'POST', url: '/api/v1/grids/merge', payload: { ids: [w.a, w.d] } }), status: 422, code: 'GRIDS_NOT_IN_ONE_LAYOUT', in: 'body', field: 'ids' },
  { name: 'grids that do not touch merged', request: () => ({ method: 'POST', url: '/api/v1/grids/merge', payload: { ids: [w.a, w.c] } }), status: 422, code: 'GRIDS_NOT_ADJACENT', in: 'body', field: 'ids' },
  { name: 'a split line that misses the grid', request: () => ({ method: 'POST', url: `/api/v1/grids/${w.a}/split`, payload: { line: { type: 'LineString', coordinates: [[113.61, 34.76], [113.62, 34.77]] } } }), status: 422, code: 'SPLIT_FAILED', in: 'body', field: 'line' },
  { name: 'a self-intersecting grid outline', request: () => ({ method: 'POST', url: `/api/v1/layouts/${w.draft}/grids`, payload: feature(BOW_TIE) }), status: 422, code: 'GEOMETRY_INVALID', in: 'body', field: 'geometry', details: { reason: 'SELF_INTERSECTION', path: 'coordinates[0][0]' } },
  { name: 'a grid code of another community', request: () => ({ method: 'POST', url: `/api/v1/layouts/${w.draft}/grids`, payload: feature(rect(113.6035, 34.75, 113.604, 34.7505), { code: '410105001009001' }) }), status: 422, code: 'VALIDATION_FAILED', in: 'body', field: 'properties.code' },
  { name: 'a grid replaced at a stale version', request: () => ({ method: 'PUT', url: `/api/v1/grids/${w.a}`, headers: { 'if-match': '"99"' }, payload: feature(rect(113.6, 34.75, 113.601, 34.753)) }), status: 412, code: 'VERSION_CONFLICT', in: 'headers', field: 'if-match' },
  { name: 'a grid clipped in a community without boundary', request: () => ({ method: 'POST', url: `/api/v1/grids/${w.bare}/clip` }), status: 422, code: 'COMMUNITY_HAS_NO_BOUNDARY', in: 'params', field: 'id' },
  { name: 'a "gap" that grids cover', request: () => ({ method: 'POST', url: `/api/v1/layouts/${w.draft}/fill-gap`, payload: { gap: rect(113.6002, 34.7502, 113.6008, 34.7508) } }), status: 422, code: 'GAP_NOT_FOUND', in: 'body', field: 'gap' },
  { name: 'a gap given to a grid that does not touch it', request: () => ({ method: 'POST', url: `/api/v1/layouts/${w.draft}/fill-gap`, payload: { gap: rect(113.603, 34.75, 113.604, 34.753), gridId: w.a } }), status: 422, code: 'GAP_NOT_FOUND', in: 'body', field: 'gridId' },
  { name: 'a gap outside the community', request: () => ({ method: 'POST', url: `/api/v1/layouts/${w.draft}/fill-gap`, payload: { gap: rect(113.605, 34.75, 113.606, 34.751) } }), status: 422, code: 'GRID_OUTSIDE_BOUNDARY', in: 'body', field: 'gap' },
  { name: 'a layout import with a feature coded for another community', request: () => ({ method: 'POST', url: `/api/v1/communities/${COMMUNITY}/layouts/import`, payload: { type: 'FeatureCollection', features: [feature(rect(113.6, 34.75, 113.601, 34.751), { code: '410105001009001' })] } }), status: 422, code: 'IMPORT_FAILED', in: 'body', field: 'features' },
  { name: 'a layout import file that is not one', request: () => ({ method: 'POST', url: `/api/v1/communities/${COMMUNITY}/layouts/import`, headers: { 'content-type': 'application/geo+json' }, payload: '{"type":"FeatureCollection","features":"no"}' }), status: 422, code: 'IMPORT_FAILED', in: 'body' },
  { name: 'an export format that does not exist', request: () => ({ url: `/api/v1/layouts/${w.published}/export?format=shapefile` }), status: 400, code: 'UNSUPPORTED_FORMAT', in: 'querystring', field: 'format' },

  // Divisions
  { name: 'a community code in the path that does not exist', request: () => ({ url: `/api/v1/communities/${STREET}099/layouts` }), status: 404, code: 'DIVISION_NOT_FOUND', in: 'params', field: 'code' },
  { name: 'a division code in the path that does not exist', request: () => ({ url: `/api/v1/divisions/${STREET}099` }), status: 404, code: 'DIVISION_NOT_FOUND', in: 'params', field: 'code' },
  { name: 'a parent in the query that does not exist', request: () => ({ url: `/api/v1/divisions?parent=${STREET}099` }), status: 404, code: 'DIVISION_NOT_FOUND', in: 'querystring', field: 'parent' },
  { name: 'a division whose parent is of the wrong level', request: () => ({ method: 'POST', url: '/api/v1/divisions', payload: { code: `${STREET}003`, name: '新社区', level: 'community', parentCode: STREET.slice(0, 6) } }), status: 422, code: 'DIVISION_INVALID', in: 'body', field: 'parentCode' },
  { name: 'a division that exists already', request: () => ({ method: 'POST', url: '/api/v1/divisions', payload: { code: COMMUNITY, name: '重复', level: 'community', parentCode: STREET } }), status: 409, code: 'DIVISION_EXISTS', in: 'body', field: 'code' },
  { name: 'a self-intersecting division boundary', request: () => ({ method: 'PATCH', url: `/api/v1/divisions/${COMMUNITY}`, payload: { boundary: BOW_TIE } }), status: 422, code: 'GEOMETRY_INVALID', in: 'body', field: 'boundary', details: { reason: 'Self-intersection', location: [expect.closeTo(113.6005, 9), expect.closeTo(34.7505, 9)] } },
  { name: 'a division import that is not CSV of divisions', request: () => ({ method: 'POST', url: '/api/v1/divisions/import', payload: { format: 'csv', content: 'what,ever\n1,2\n' } }), status: 422, code: 'IMPORT_FAILED', in: 'body', field: 'content' },

  // Users and tokens
  { name: 'a user id that does not exist', request: () => ({ url: `/api/v1/users/${MISSING}` }), status: 404, code: 'USER_NOT_FOUND', in: 'params', field: 'id' },
  { name: 'a weak password for a new user', request: () => ({ method: 'POST', url: '/api/v1/users', payload: { username: 'weakling', password: 'aaaaaaaaaaaaaaaa', roles: [], scope: { all: false, prefixes: [] } } }), status: 422, code: 'PASSWORD_TOO_WEAK', in: 'body', field: 'password' },
  { name: 'a username that is taken', request: () => ({ method: 'POST', url: '/api/v1/users', payload: { username: w.outsider.username, password: 'Zq8-wide-enough-pass', roles: [], scope: { all: false, prefixes: [] } } }), status: 409, code: 'USER_EXISTS', in: 'body', field: 'username' },
  { name: 'the last administrator disabled', request: () => ({ method: 'PATCH', url: `/api/v1/users/${w.adminId}`, payload: { disabled: true } }), status: 409, code: 'LAST_ADMIN', in: 'body', field: 'disabled' },
  { name: 'a weak new password', request: () => ({ method: 'POST', url: '/api/v1/auth/password', payload: { currentPassword: TEST_PASSWORD, newPassword: 'bbbbbbbbbbbbbbbb' }, as: { token: w.changer.token } }), status: 422, code: 'PASSWORD_TOO_WEAK', in: 'body', field: 'newPassword' },
  { name: 'a wrong current password', request: () => ({ method: 'POST', url: '/api/v1/auth/password', payload: { currentPassword: 'not-the-password-at-all', newPassword: 'Zq8-wide-enough-pass' }, as: { token: w.changer.token } }), status: 401, code: 'INVALID_CREDENTIALS', in: 'body', field: 'currentPassword' },
  { name: 'a refresh token that is not one', request: () => ({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: 'not-a-token' }, as: 'anonymous' }), status: 401, code: 'UNAUTHENTICATED', in: 'body', field: 'refreshToken' },
  { name: 'an API token id that does not exist', request: () => ({ method: 'DELETE', url: `/api/v1/auth/tokens/${MISSING}` }), status: 404, code: 'API_TOKEN_NOT_FOUND', in: 'params', field: 'id' },
  { name: 'an API token with roles its creator lacks', request: () => ({ method: 'POST', url: '/api/v1/auth/tokens', payload: { name: 'etl', roles: ['admin'] }, as: { token: w.outsider.token } }), status: 403, code: 'FORBIDDEN', in: 'body', field: 'roles' },
  { name: 'an API token scoped wider than its creator', request: () => ({ method: 'POST', url: '/api/v1/auth/tokens', payload: { name: 'etl', roles: ['planner'], scope: { all: true, prefixes: [] } }, as: { token: w.outsider.token } }), status: 403, code: 'OUT_OF_SCOPE', in: 'body', field: 'scope' },

  // Registry and staff
  { name: 'a building id in the path that does not exist', request: () => ({ url: `/api/v1/buildings/${MISSING}` }), status: 404, code: 'NOT_FOUND', in: 'params', field: 'id' },
  { name: 'a building id in the body that does not exist', request: () => ({ method: 'POST', url: '/api/v1/households', payload: { buildingId: MISSING, unit: '1', room: '101' } }), status: 404, code: 'NOT_FOUND', in: 'body', field: 'buildingId' },
  { name: 'a household id in the body that does not exist', request: () => ({ method: 'POST', url: '/api/v1/residents', payload: { householdId: MISSING, name: '居民', gender: 'M', birthDate: '1975-06-07', idNumber: idNumber(), registration: 'registered' } }), status: 404, code: 'NOT_FOUND', in: 'body', field: 'householdId' },
  { name: 'an ID number whose check digit is wrong', request: () => ({ method: 'POST', url: '/api/v1/residents', payload: { householdId: w.household, name: '居民', gender: 'M', birthDate: '1975-06-07', idNumber: `${idNumber().slice(0, 17)}${idNumber().endsWith('0') ? '1' : '0'}`, registration: 'registered' } }), status: 422, code: 'ID_NUMBER_INVALID', in: 'body', field: 'idNumber' },
  { name: 'a building replaced at a stale version', request: () => ({ method: 'PUT', url: `/api/v1/buildings/${w.building}`, headers: { 'if-match': '"99"' }, payload: { name: '1号楼', geometry: rect(113.6005, 34.7505, 113.6008, 34.7508) } }), status: 412, code: 'VERSION_CONFLICT', in: 'headers', field: 'if-match' },
  { name: 'a building with households deleted', request: () => ({ method: 'DELETE', url: `/api/v1/buildings/${w.building}`, payload: { reason: '拆除' } }), status: 409, code: 'CONFLICT', in: 'params', field: 'id' },
  { name: 'a staff id in the path that does not exist', request: () => ({ url: `/api/v1/staff/${MISSING}` }), status: 404, code: 'NOT_FOUND', in: 'params', field: 'id' },
  { name: 'a staff id in the body that does not exist', request: () => ({ method: 'POST', url: `/api/v1/grids/${w.g1}/members`, payload: { staffId: MISSING, role: 'grid_leader' } }), status: 404, code: 'NOT_FOUND', in: 'body', field: 'staffId' },
  { name: 'an assignment id that does not exist', request: () => ({ method: 'DELETE', url: `/api/v1/grids/${w.g1}/members/${MISSING}` }), status: 404, code: 'NOT_FOUND', in: 'params', field: 'assignmentId' },
  { name: 'members of a grid that does not exist', request: () => ({ url: `/api/v1/grids/${MISSING}/members` }), status: 404, code: 'GRID_NOT_FOUND', in: 'params', field: 'id' },
  { name: 'a roster replaced at a stale version', request: () => ({ method: 'PUT', url: `/api/v1/grids/${w.g1}/roster`, headers: { 'if-match': `"${w.rosterVersion + 1}"` }, payload: { shifts: [] } }), status: 412, code: 'VERSION_CONFLICT', in: 'headers', field: 'if-match' },
  { name: 'population of an area outside the caller\'s scope', request: () => ({ url: `/api/v1/analysis/population?within=${COMMUNITY}`, as: { token: w.analyst.token } }), status: 403, code: 'FORBIDDEN', in: 'querystring', field: 'within' },

  // Events
  { name: 'an event id that does not exist', request: () => ({ url: `/api/v1/events/${MISSING}` }), status: 404, code: 'NOT_FOUND', in: 'params', field: 'id' },
  { name: 'a transition at a stale version', request: () => ({ method: 'POST', url: `/api/v1/events/${w.event}/transitions`, headers: { 'if-match': '"99"' }, payload: { action: 'accept' } }), status: 412, code: 'VERSION_CONFLICT', in: 'headers', field: 'if-match' },
  { name: 'an amendment that changes nothing', request: () => ({ method: 'POST', url: `/api/v1/events/${w.event}/transitions`, payload: { action: 'amend' } }), status: 400, code: 'VALIDATION_FAILED', in: 'body', field: 'category', details: { action: 'amend', anyOf: ['category', 'location', 'address'] } },
  { name: 'a transition not allowed in the state', request: () => ({ method: 'POST', url: `/api/v1/events/${w.event}/transitions`, payload: { action: 'verify' } }), status: 409, code: 'CONFLICT', in: 'body', field: 'action' },
  { name: 'an Idempotency-Key reused for another event', request: () => ({ method: 'POST', url: '/api/v1/events', headers: { 'idempotency-key': 'domain-errors-1' }, payload: { category: 'dispute.neighbour', description: '另一件事', channel: 'patrol', location: point([113.6012, 34.7512]) } }), status: 409, code: 'CONFLICT', in: 'headers', field: 'idempotency-key' },
  { name: 'a taxonomy version that does not exist', request: () => ({ url: `/api/v1/event-categories?version=${MISSING}` }), status: 404, code: 'NOT_FOUND', in: 'querystring', field: 'version' },

  // Maps
  { name: 'a tile layer that does not exist', request: () => ({ url: '/tiles/nope/0/0/0.mvt' }), status: 404, code: 'NOT_FOUND', in: 'params', field: 'layer' },
  { name: 'a tile column past the zoom level', request: () => ({ url: '/tiles/grids/1/5/0.mvt' }), status: 400, code: 'VALIDATION_FAILED', in: 'params', field: 'x' },
  { name: 'an OGC collection that does not exist', request: () => ({ url: '/ogc/collections/nope' }), status: 404, code: 'NOT_FOUND', in: 'params', field: 'collectionId' },
  { name: 'an OGC feature that does not exist', request: () => ({ url: `/ogc/collections/grids/items/${MISSING}` }), status: 404, code: 'NOT_FOUND', in: 'params', field: 'featureId' },
];

/** Codes of ErrorCode (http/errors.ts) this file does not drive, each with the reason. */
const NOT_DRIVEN: Record<string, string> = {
  MALFORMED_JSON: 'request shape: bad-input.db.test.ts sends it to every route with a body',
  UNSUPPORTED_MEDIA_TYPE: 'request shape: bad-input.db.test.ts',
  PAYLOAD_TOO_LARGE: 'request shape: bad-input.db.test.ts and the registry import tests',
  PRECONDITION_REQUIRED: 'request shape (If-Match missing): bad-input.db.test.ts',
  URI_TOO_LONG: 'request shape (router limit): bad-input.db.test.ts',
  METHOD_NOT_ALLOWED: 'no route answers it (405s are 404 NOT_FOUND "No route")',
  DIVISION_HAS_CHILDREN: 'no code path raises it (divisions are never deleted over the API)',
  PURPOSE_REQUIRED: 'no code path raises it (a missing purpose is VALIDATION_FAILED with field purpose)',
  DATABASE_UNAVAILABLE: '5xx: not about the request',
  QUERY_TIMEOUT: '5xx: not about the request',
  INTERNAL_ERROR: '5xx: not about the request',
  TOKEN_EXPIRED: 'who asks (an expired token), no input at fault: auth.db.test.ts',
  PASSWORD_CHANGE_REQUIRED: 'who asks (a one-time password): auth.db.test.ts',
  ACCOUNT_LOCKED: 'who asks (a locked account): auth.db.test.ts',
  RATE_LIMITED: 'how often one asks: auth.db.test.ts',
  REFRESH_TOKEN_REUSED: 'revokes the sign-in family, so it cannot leave nothing changed; the source scan (error-where.unit.test.ts) checks that it has a where; which one (body refreshToken) no test asserts',
};

function errorCodes(): string[] {
  const text = readFileSync(path.join(import.meta.dirname, 'errors.ts'), 'utf8');
  const union = text.slice(text.indexOf('export type ErrorCode'), text.indexOf('export class AppError'));
  return [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1] ?? '');
}

beforeAll(async () => {
  t = await createTestApp();
  const db = t.tdb.db;
  await newDivisions(db);
  await newDivisions(db, { community: BARE, communityBoundary: null });

  w.published = await newLayout(db, { status: 'published', effectiveFrom: '2020-01-01T00:00:00Z' });
  w.g1 = await newGrid(db, w.published, rect(113.6, 34.75, 113.604, 34.753), { code: G1 });

  w.draft = await newLayout(db);
  const [a, b, c] = lattice(113.6, 34.75, 113.603, 34.753, 3, 1);
  w.a = await newGrid(db, w.draft, a!);
  await newGrid(db, w.draft, b!);
  w.c = await newGrid(db, w.draft, c!);
  w.otherDraft = await newLayout(db);
  w.d = await newGrid(db, w.otherDraft, rect(113.6, 34.75, 113.601, 34.751));
  w.bareDraft = await newLayout(db, { community: BARE });
  w.bare = await newGrid(db, w.bareDraft, rect(113.61, 34.75, 113.611, 34.751));
  w.overlapping = await newLayout(db);
  await newGrid(db, w.overlapping, rect(113.6, 34.75, 113.602, 34.752));
  await newGrid(db, w.overlapping, rect(113.601, 34.751, 113.603, 34.753));
  w.empty = await newLayout(db);

  const building = await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { name: '1号楼', geometry: rect(113.6005, 34.7505, 113.6008, 34.7508) } });
  expect(building.statusCode, building.body).toBe(201);
  w.building = building.json<{ id: number }>().id;
  const household = await t.inject({ method: 'POST', url: '/api/v1/households', payload: { buildingId: w.building, unit: '1', room: '101' } });
  expect(household.statusCode, household.body).toBe(201);
  w.household = household.json<{ id: number }>().id;
  const roster = await t.inject(`/api/v1/grids/${w.g1}/roster`);
  expect(roster.statusCode, roster.body).toBe(200);
  w.rosterVersion = Number(String(roster.headers.etag).replaceAll('"', ''));

  const event = await t.inject({ method: 'POST', url: '/api/v1/events', headers: { 'idempotency-key': 'domain-errors-1' }, payload: { category: 'dispute.neighbour', description: '楼上漏水', channel: 'patrol', location: point([113.601, 34.7515]) } });
  expect(event.statusCode, event.body).toBe(201);
  w.event = event.json<{ id: number }>().id;

  w.outsider = await t.userWith({ roles: ['planner'], scope: [BARE] });
  w.analyst = await t.userWith({ roles: ['analyst'], scope: [BARE] });
  w.changer = await t.userWith({ roles: ['planner'] });
  const me = await t.inject('/api/v1/auth/me');
  w.adminId = me.json<{ userId: number }>().userId;
  // LAST_ADMIN is only the answer while this is the one enabled administrator.
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM users WHERE 'admin' = ANY(roles) AND NOT disabled`.execute(db);
  expect(rows[0]?.n).toBe(1);
});
afterAll(async () => t.close());

describe('domain errors say where and change nothing', () => {
  for (const c of CASES) {
    it(`${c.code} ${c.status}: ${c.name} → ${c.in}${c.field === undefined ? '' : ` ${c.field}`}`, async () => {
      const before = await fingerprint(t.tdb.db);
      const res = await t.inject(c.request());
      expect(res.statusCode, res.body).toBe(c.status);
      const error = res.json<ErrorResponse>().error;
      expect(error.code).toBe(c.code);
      expect(error.message.length).toBeGreaterThan(5);
      const details = error.details as { in?: unknown; field?: unknown } | undefined;
      expect(details?.in, res.body).toBe(c.in);
      if (c.field !== undefined) expect(details?.field, res.body).toBe(c.field);
      if (c.details !== undefined) expect(details, res.body).toMatchObject(c.details);
      expect(changedTables(before, await fingerprint(t.tdb.db))).toEqual([]);
    });
  }

  it('drives every error code, except the listed ones', () => {
    const codes = errorCodes();
    expect(codes.length).toBeGreaterThan(40);
    const driven = new Set(CASES.map((c) => c.code));
    expect(codes.filter((code) => !driven.has(code) && NOT_DRIVEN[code] === undefined)).toEqual([]);
    // The list names codes that exist and are not driven after all.
    expect(Object.keys(NOT_DRIVEN).filter((code) => !codes.includes(code) || driven.has(code))).toEqual([]);
  });
});
