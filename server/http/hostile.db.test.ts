/**
 * A corpus of hostile requests (issue #4). Every one must be refused with a 4xx and a clear error
 * code, never a 5xx, and leave the database exactly as it was (a checksum of every table's rows,
 * before and after each request; the audit tables are left out because refusals are audited).
 * Registry escalations (another grid's residents by id, bbox, filter, export) live beside the
 * registry, built on `t.userWith({ roles: ['grid_worker'], scope: [...] })`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../contracts/common';
import type { Database } from '../db/database';
import { COMMUNITY, lattice, newDivisions, newGrid, newLayout, rect } from '../test/factories';
import { createTestApp, type TestApp, type TestInjectOptions } from '../test/app';

let t: TestApp;
let draftId: number;
let gridId: number;
let publishedId: number;

// Refusals are audited (and failed sign-ins counted); spatial_ref_sys is PostGIS's read-only catalogue.
const NOT_AUDITED = new Set(['audit_log', 'audit_chain_head', 'sign_in_failures', 'spatial_ref_sys']);

async function checksum(db: Database): Promise<string> {
  const { rows: tables } = await sql<{ name: string }>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(db);
  const parts: string[] = [];
  for (const { name } of tables) {
    if (NOT_AUDITED.has(name)) continue;
    const { rows } = await sql<{ h: string | null }>`SELECT md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM ${sql.table(name)} x`.execute(db);
    parts.push(`${name}:${rows[0]?.h ?? 'empty'}`);
  }
  return parts.join(',');
}

beforeAll(async () => {
  t = await createTestApp({ bodyLimitBytes: 2 * 1024 * 1024 });
  await newDivisions(t.tdb.db);
  publishedId = await newLayout(t.tdb.db, { status: 'published' });
  for (const g of lattice(113.6, 34.75, 113.604, 34.753, 2, 2)) await newGrid(t.tdb.db, publishedId, g, {});
  draftId = await newLayout(t.tdb.db);
  gridId = await newGrid(t.tdb.db, draftId, rect(113.6, 34.75, 113.602, 34.752));
  // make the sessions every case uses before the first checksum
  for (const role of ['admin', 'planner', 'grid_worker', 'analyst', 'dispatcher'] as const) await t.tokenFor(role);
});
afterAll(async () => t.close());

const INJECTIONS = [
  "'; DROP TABLE grids;--",
  '1 OR 1=1',
  "1' OR '1'='1",
  '＇ OR ＇1＇=＇1',
  '‘; DELETE FROM layouts; --’',
  '$$; DROP TABLE divisions; $$',
  "') UNION SELECT password_hash FROM users--",
  '1; SELECT pg_sleep(10)',
  '%00',
  '\\x27 OR 1=1',
];

type Case = [name: string, request: TestInjectOptions];

const json = { 'content-type': 'application/json' };
const poly = (coords: unknown): unknown => ({ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: coords } });
const ring = (n: number): number[][] => {
  const pts = Array.from({ length: n }, (_, i) => {
    const a = (2 * Math.PI * i) / n;
    return [113.601 + 0.001 * Math.cos(a), 34.751 + 0.001 * Math.sin(a)];
  });
  return [...pts, pts[0] ?? [0, 0]];
};
function nested(depth: number): unknown {
  let v: unknown = [113.6, 34.75];
  for (let i = 0; i < depth; i += 1) v = [v];
  return v;
}

function injectionCases(): Case[] {
  const cases: Case[] = [];
  for (const s of INJECTIONS) {
    const e = encodeURIComponent(s);
    cases.push(
      [`layout id ${s}`, { url: `/api/v1/layouts/${e}` }],
      [`delete layout id ${s}`, { method: 'DELETE', url: `/api/v1/layouts/${e}` }],
      [`grid id ${s}`, { url: `/api/v1/grids/${e}` }],
      [`division code ${s}`, { url: `/api/v1/divisions/${e}` }],
      [`community code ${s}`, { url: `/api/v1/communities/${e}/layouts` }],
      [`user id ${s}`, { url: `/api/v1/users/${e}` }],
      [`bbox ${s}`, { url: `/api/v1/grids?bbox=${e}` }],
      [`layout filter ${s}`, { url: `/api/v1/grids?layout=${e}` }],
      [`limit ${s}`, { url: `/api/v1/grids?limit=${e}` }],
      [`lon ${s}`, { url: `/api/v1/grids/at?lon=${e}&lat=34.75` }],
      [`at ${s}`, { url: `/api/v1/grids/at?lon=113.6&lat=34.75&at=${e}` }],
      [`parent filter ${s}`, { url: `/api/v1/divisions?parent=${e}` }],
      [`audit action filter ${s}`, { url: `/api/v1/audit?action=${e}` }],
      [`audit date filter ${s}`, { url: `/api/v1/audit?from=${e}` }],
      [`create division ${s}`, { method: 'POST', url: '/api/v1/divisions', payload: { code: s, name: s, level: 'community', parentCode: s } }],
      [`patch division ${s}`, { method: 'PATCH', url: `/api/v1/divisions/${e}`, payload: { name: s } }],
      [`grid code property ${s}`, { method: 'POST', url: `/api/v1/layouts/${draftId}/grids`, payload: { type: 'Feature', properties: { code: s, kind: s }, geometry: rect(113.602, 34.75, 113.603, 34.751) } }],
      [`merge ids ${s}`, { method: 'POST', url: '/api/v1/grids/merge', payload: { ids: [s, gridId] } }],
      [`sign-in ${s}`, { method: 'POST', url: '/api/v1/auth/sign-in', as: 'anonymous', payload: { username: s, password: s }, remoteAddress: '10.66.0.1' }],
      [`create user ${s}`, { method: 'POST', url: '/api/v1/users', payload: { username: s, roles: ['admin'], scope: { all: false, prefixes: [s] } } }],
      [`csv import ${s}`, { method: 'POST', url: '/api/v1/divisions/import', payload: { format: 'csv', csv: `code,name,level,parent_code\n${s},${s},community,${s}\n` } }],
      [`if-match ${s}`, { method: 'PUT', url: `/api/v1/grids/${gridId}`, headers: { 'if-match': s }, payload: { type: 'Feature', properties: {}, geometry: rect(113.6, 34.75, 113.602, 34.752) } }],
    );
  }
  return cases;
}

function geometryBombs(): Case[] {
  const at = `/api/v1/layouts/${draftId}/grids`;
  return [
    ['500k vertices (over the body limit)', { method: 'POST', url: at, payload: JSON.stringify(poly([ring(500_000)])), headers: json }],
    ['60k vertices (over MAX_VERTICES, under the body limit)', { method: 'POST', url: at, payload: poly([ring(60_000)]) as object }],
    ['10k-deep nested coordinate arrays', { method: 'POST', url: at, payload: `{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":${'['.repeat(10_000)}113.6,34.75${']'.repeat(10_000)}}}`, headers: json }],
    ['1000-deep nested geometry collections', { method: 'POST', url: at, payload: `{"type":"Feature","properties":{},"geometry":${'{"type":"GeometryCollection","geometries":['.repeat(1_000)}{"type":"Point","coordinates":[113.6,34.75]}${']}'.repeat(1_000)}}`, headers: json }],
    ['1e308 coordinates', { method: 'POST', url: at, payload: poly([[[1e308, 1e308], [1e308, -1e308], [-1e308, 0], [1e308, 1e308]]]) as object }],
    ['1e999 (Infinity) coordinates', { method: 'POST', url: at, payload: '{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[1e999,34.75],[113.601,34.75],[113.601,34.751],[1e999,34.75]]]}}', headers: json }],
    ['NaN as a string', { method: 'POST', url: at, payload: poly([[['NaN', 34.75], [113.601, 34.75], [113.601, 34.751], ['NaN', 34.75]]]) as object }],
    ['numbers as strings', { method: 'POST', url: at, payload: poly([[['113.6', '34.75'], ['113.601', '34.75'], ['113.601', '34.751'], ['113.6', '34.75']]]) as object }],
    ['an unclosed ring', { method: 'POST', url: at, payload: poly([[[113.6, 34.75], [113.601, 34.75], [113.601, 34.751]]]) as object }],
    ['a bow-tie', { method: 'POST', url: at, payload: poly([[[113.6, 34.75], [113.601, 34.751], [113.601, 34.75], [113.6, 34.751], [113.6, 34.75]]]) as object }],
    ['100k holes', { method: 'POST', url: at, payload: JSON.stringify(poly([ring(4), ...Array.from({ length: 100_000 }, () => [[113.6, 34.75], [113.6, 34.75], [113.6, 34.75], [113.6, 34.75]])])), headers: json }],
    ['a replace with a bomb', { method: 'PUT', url: `/api/v1/grids/${gridId}`, headers: { 'if-match': '"1"' }, payload: poly([ring(60_000)]) as object }],
    ['an import of 10k bad features', { method: 'POST', url: `/api/v1/communities/${COMMUNITY}/layouts/import`, payload: { type: 'FeatureCollection', features: Array.from({ length: 10_000 }, () => poly([[[1e308, 0]]])) } }],
    ['a split line bomb', { method: 'POST', url: `/api/v1/grids/${gridId}/split`, payload: { line: { type: 'LineString', coordinates: nested(50) } } }],
  ];
}

function malformedCases(): Case[] {
  const at = `/api/v1/layouts/${draftId}/grids`;
  return [
    ['truncated JSON', { method: 'POST', url: at, payload: '{"type": "Feature", "geometry": {', headers: json }],
    ['trailing garbage', { method: 'POST', url: at, payload: '{"type":"Feature"} DROP TABLE grids', headers: json }],
    ['JSON null', { method: 'POST', url: at, payload: 'null', headers: json }],
    ['a JSON string', { method: 'POST', url: at, payload: '"DROP TABLE grids"', headers: json }],
    ['__proto__ pollution', { method: 'POST', url: '/api/v1/users', payload: '{"username":"x-pp","roles":[],"scope":{"all":false,"prefixes":[]},"__proto__":{"roles":["admin"]}}', headers: json }],
    ['constructor.prototype pollution', { method: 'POST', url: '/api/v1/auth/tokens', payload: '{"name":"x","roles":["planner"],"constructor":{"prototype":{"admin":true}}}', headers: json, as: 'planner' }],
    ['an empty body declared as JSON', { method: 'POST', url: at, payload: '', headers: json }],
    ['an oversized body', { method: 'POST', url: at, payload: JSON.stringify({ pad: 'x'.repeat(3 * 1024 * 1024) }), headers: json }],
    ['text/plain', { method: 'POST', url: at, payload: 'type=Feature', headers: { 'content-type': 'text/plain' } }],
    ['application/xml', { method: 'POST', url: at, payload: '<Feature/>', headers: { 'content-type': 'application/xml' } }],
    ['multipart', { method: 'POST', url: '/api/v1/divisions/import', payload: '--b\r\nContent-Disposition: form-data; name="file"; filename="../../etc/passwd"\r\n\r\nx\r\n--b--', headers: { 'content-type': 'multipart/form-data; boundary=b' } }],
    ['form-encoded sign-in', { method: 'POST', url: '/api/v1/auth/sign-in', as: 'anonymous', payload: 'username=admin&password=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
  ];
}

function traversalCases(): Case[] {
  return [
    ['../ in a layout id', { url: '/api/v1/layouts/..%2F..%2Fetc%2Fpasswd' }],
    ['%2e%2e%2f in a grid id', { url: '/api/v1/grids/%2e%2e%2f%2e%2e%2fetc%2fpasswd' }],
    ['raw ../ in the path', { url: '/api/v1/layouts/1/../../../../etc/passwd' }],
    ['../ in a division code', { url: '/api/v1/divisions/..%2f..%2f..%2fetc%2fpasswd' }],
    ['encoded dots at the root', { url: '/%2e%2e/%2e%2e/etc/passwd' }],
    ['a backslash traversal', { url: '/api/v1/layouts/..%5C..%5Cwindows%5Cwin.ini' }],
    ['a NUL byte in an id', { url: '/api/v1/layouts/1%00.geojson' }],
    ['traversal in a download name', { url: `/api/v1/layouts/${draftId}?download=../../etc/passwd` }],
    ['a 2 KB path parameter', { url: `/api/v1/divisions/${'1'.repeat(2_000)}` }],
  ];
}

function tokenCases(): Case[] {
  const forged = `wga_${'A'.repeat(43)}`;
  const bearer = (token: string): Case[1] => ({ url: '/api/v1/auth/me', as: 'anonymous', headers: { authorization: token } });
  return [
    ['a forged access token', bearer(`Bearer ${forged}`)],
    ['a forged API token', bearer(`Bearer wgt_${'B'.repeat(43)}`)],
    ['a JWT', bearer('Bearer eyJhbGciOiJub25lIn0.eyJyb2xlcyI6WyJhZG1pbiJdfQ.')],
    ['an SQL string as a token', bearer("Bearer ' OR 1=1 --")],
    ['Basic auth', bearer('Basic YWRtaW46YWRtaW4=')],
    ['an empty bearer', bearer('Bearer ')],
    ['a 5 KB token', bearer(`Bearer wga_${'x'.repeat(5_000)}`)],
    ['a bad token on a public route', { url: '/api/v1/grids', as: 'anonymous', headers: { authorization: `Bearer ${forged}` } }],
    ['anonymous publish', { method: 'POST', url: `/api/v1/layouts/${draftId}/publish`, as: 'anonymous', payload: {} }],
  ];
}

function escalationCases(): Case[] {
  return [
    ['grid worker makes itself admin', { method: 'POST', url: '/api/v1/users', as: 'grid_worker', payload: { username: 'evil-admin', password: 'evil-password-123', roles: ['admin'], scope: { all: true, prefixes: [] } } }],
    ['planner promotes a user', { method: 'PATCH', url: '/api/v1/users/1', as: 'planner', payload: { roles: ['admin'] } }],
    ['planner mints an admin API token', { method: 'POST', url: '/api/v1/auth/tokens', as: 'planner', payload: { name: 'x', roles: ['admin'] } }],
    ['planner mints an auditor API token', { method: 'POST', url: '/api/v1/auth/tokens', as: 'planner', payload: { name: 'x', roles: ['auditor'] } }],
    ['grid worker publishes', { method: 'POST', url: `/api/v1/layouts/${draftId}/publish`, as: 'grid_worker', payload: {} }],
    ['grid worker deletes a draft', { method: 'DELETE', url: `/api/v1/layouts/${draftId}`, as: 'grid_worker' }],
    ['grid worker edits a grid', { method: 'PUT', url: `/api/v1/grids/${gridId}`, as: 'grid_worker', headers: { 'if-match': '"1"' }, payload: { type: 'Feature', properties: {}, geometry: rect(113.6, 34.75, 113.601, 34.751) } }],
    ['dispatcher reads the audit log', { url: '/api/v1/audit', as: 'dispatcher' }],
    ['analyst lists users', { url: '/api/v1/users', as: 'analyst' }],
    ['grid worker reads a draft by layout filter', { url: `/api/v1/grids?layout=${draftId}`, as: 'grid_worker' }],
    ['extra roles smuggled into a password change', { method: 'POST', url: '/api/v1/auth/password', as: 'planner', payload: { currentPassword: 'x', newPassword: 'y', roles: ['admin'] } }],
    ['a refresh token used as a bearer', { url: '/api/v1/auth/me', as: 'anonymous', headers: { authorization: `Bearer wgr_${'C'.repeat(43)}` } }],
  ];
}

describe('hostile requests: 4xx with a clear code, never 5xx, database unchanged', () => {
  const groups: Array<[string, () => Case[]]> = [
    ['SQL injection in every path, filter and text field', injectionCases],
    ['geometry bombs', geometryBombs],
    ['malformed JSON, oversized bodies, wrong content types', malformedCases],
    ['path traversal', traversalCases],
    ['forged, malformed and misused tokens', tokenCases],
    ['privilege escalation', escalationCases],
  ];
  for (const [group, make] of groups) {
    it(group, async () => {
      const problems: string[] = [];
      for (const [name, request] of make()) {
        const before = await checksum(t.tdb.db);
        const res = await t.inject(request);
        const after = await checksum(t.tdb.db);
        let errorCode: string;
        try {
          errorCode = res.json<ErrorResponse>().error.code;
        } catch {
          errorCode = '(no error body)';
        }
        if (res.statusCode < 400 || res.statusCode >= 500) problems.push(`${name}: ${res.statusCode} ${errorCode} ${res.body.slice(0, 200)}`);
        else if (!/^[A-Z][A-Z_]+$/.test(errorCode)) problems.push(`${name}: ${res.statusCode} without an error code`);
        if (before !== after) problems.push(`${name}: the database changed`);
        if (/root:.*:0:0:/.test(res.body)) problems.push(`${name}: leaked /etc/passwd`);
      }
      expect(problems).toEqual([]);
    }, 180_000);
  }

  it('an expired and a revoked token are refused with their own codes', async () => {
    const expired = await t.userWith({ roles: ['planner'] });
    await sql`UPDATE sessions SET access_expires_at = now() - interval '1 minute' WHERE user_id = ${expired.id}`.execute(t.tdb.db);
    const revoked = await t.userWith({ roles: ['planner'] });
    await t.inject({ method: 'POST', url: '/api/v1/auth/sign-out', as: { token: revoked.token } });
    const before = await checksum(t.tdb.db);
    const a = await t.inject({ url: `/api/v1/layouts/${draftId}`, as: { token: expired.token } });
    const b = await t.inject({ method: 'DELETE', url: `/api/v1/layouts/${draftId}`, as: { token: revoked.token } });
    expect([a.statusCode, a.json<ErrorResponse>().error.code]).toEqual([401, 'TOKEN_EXPIRED']);
    expect([b.statusCode, b.json<ErrorResponse>().error.code]).toEqual([401, 'UNAUTHENTICATED']);
    expect(await checksum(t.tdb.db)).toBe(before);
  });

  it('stores free text verbatim: injection strings in names are data, not SQL', async () => {
    const before = await checksum(t.tdb.db);
    for (const s of INJECTIONS) {
      const res = await t.inject({ method: 'POST', url: `/api/v1/communities/${COMMUNITY}/layouts`, payload: { from: 'empty', name: s } });
      expect(res.statusCode).toBe(201);
      expect(res.json<{ name: string }>().name).toBe(s);
    }
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM grids`.execute(t.tdb.db);
    expect(rows[0]?.n).toBeGreaterThan(0);
    // and the checksum the corpus relies on does see writes
    expect(await checksum(t.tdb.db)).not.toBe(before);
  });

  it('the static file server refuses traversal out of the web root', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'wangge-web-'));
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>网格</title>');
    const web = await createTestApp({ webDistDir: root });
    try {
      for (const url of ['/../../../../etc/passwd', '/..%2f..%2f..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/index.html/../../../etc/passwd', '/..%5c..%5c..%5cetc%5cpasswd']) {
        const res = await web.inject({ url, as: 'anonymous' });
        expect(res.body, url).not.toMatch(/root:.*:0:0:/);
        expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, url).toBeLessThan(500);
      }
      expect((await web.inject({ url: '/', as: 'anonymous' })).statusCode).toBe(200);
    } finally {
      await web.close();
    }
  });
});
