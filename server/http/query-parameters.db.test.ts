/**
 * Unknown query parameters are refused with where they are (server/http/query-parameters.ts): a
 * misspelt filter must not answer every row. The exceptions: OGC items (property filters, checked by the
 * OGC service), Open311 (GeoReport v2 clients send their own arguments), and third-party plugins' routes
 * (CORS preflights, the web app's files, swagger-ui). Every route is swept in bad-input.db.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../contracts/common';
import type { Open311Request, Open311Service } from '../contracts/open311';
import { buildApp } from '../app';
import { testConfig } from '../config';
import { acceptedQueryParameters } from './query-parameters';
import { COMMUNITY, lattice, newDivisions, newGrid, newLayout } from '../test/factories';
import { createTestApp, type TestApp } from '../test/app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await newDivisions(t.tdb.db);
  const layout = await newLayout(t.tdb.db, { status: 'published', effectiveFrom: '2020-01-01T00:00:00Z' });
  const [a] = lattice(113.6, 34.75, 113.604, 34.753, 1, 1);
  await newGrid(t.tdb.db, layout, a!, { code: `${COMMUNITY}001`, name: '一网格' });
});
afterAll(async () => t?.close());

interface Refusal {
  code: string;
  message: string;
  details: { in: string; field: string; unknown: string[]; accepted: string[] };
}
const refusal = (res: { statusCode: number; body: string }): Refusal => {
  expect(res.statusCode, res.body).toBe(400);
  return (JSON.parse(res.body) as ErrorResponse).error as Refusal;
};
const countEvents = async (): Promise<number> => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM events`.execute(t.tdb.db)).rows[0]?.n);

describe('an unknown query parameter is a 400 naming it', () => {
  it('a misspelt filter on a list: named, with the accepted parameters, instead of every row', async () => {
    expect((await t.inject('/api/v1/events?state=reported')).statusCode).toBe(200);
    const e = refusal(await t.inject('/api/v1/events?staus=open'));
    expect(e).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'querystring', field: 'staus', unknown: ['staus'] } });
    expect(e.details.accepted).toEqual(expect.arrayContaining(['state', 'grid', 'community', 'limit']));
    expect(e.message).toContain('"staus"');
    expect(e.message).toContain('state');

    const g = refusal(await t.inject('/api/v1/grids?gird=12'));
    expect(g.details).toMatchObject({ in: 'querystring', field: 'gird', accepted: ['bbox', 'layout', 'limit'] });
    expect(g.message).toBe('Unknown query parameter "gird". Accepted: bbox, layout, limit.');
  });

  it('names every unknown parameter, the first as the field; names are case-sensitive', async () => {
    const e = refusal(await t.inject('/api/v1/events?State=open&limit=5&gird=1'));
    expect(e.details).toMatchObject({ field: 'State', unknown: ['State', 'gird'] });
    expect(e.message).toContain('Unknown query parameters "State", "gird".');
  });

  it('refuses a parameter without a name (?=1), with no name to give as the field', async () => {
    const e = refusal(await t.inject('/api/v1/grids?=1'));
    expect(e.details).toMatchObject({ in: 'querystring', unknown: [''] });
    expect(e.details.field).toBeUndefined();
    expect(refusal(await t.inject('/api/v1/grids?=1&gird=2')).details).toMatchObject({ field: 'gird', unknown: ['', 'gird'] });
  });

  it('names inherited object names too, without a crash', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(refusal(await t.inject(`/api/v1/grids?${name}=1`)).details, name).toMatchObject({ in: 'querystring', field: name });
    }
  });

  it('a route without query parameters refuses any', async () => {
    const e = refusal(await t.inject({ url: '/health?verbose=1', as: 'anonymous' }));
    expect(e).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'querystring', field: 'verbose', accepted: [] } });
    expect(e.message).toBe('Unknown query parameter "verbose": this route takes no query parameters.');
    expect(refusal(await t.inject('/openapi.json?v=2')).details.field).toBe('v');
    // HEAD routes (made by Fastify from the GET ones) check too
    expect((await t.inject({ method: 'HEAD', url: '/health?verbose=1', as: 'anonymous' })).statusCode).toBe(400);
    expect((await t.inject({ url: '/health', as: 'anonymous' })).statusCode).not.toBe(400);
  });

  it('changes nothing, and is named even when the body is wrong too', async () => {
    const before = await countEvents();
    const body = { category: 'dispute.neighbour', description: '楼上漏水', channel: 'patrol', location: { type: 'Point', coordinates: [113.601, 34.751] } };
    expect(refusal(await t.inject({ method: 'POST', url: '/api/v1/events?dryRun=true', payload: body })).details).toMatchObject({ in: 'querystring', field: 'dryRun' });
    expect(await countEvents()).toBe(before);
    // Fastify validates the body before the query string: the unknown parameter is still the one named.
    expect(refusal(await t.inject({ method: 'POST', url: '/api/v1/grids/merge?force=1', payload: { ids: ['a'] } })).details).toMatchObject({ in: 'querystring', field: 'force' });
    const created = await t.inject({ method: 'POST', url: '/api/v1/events', payload: body });
    expect(created.statusCode, created.body).toBe(201);
    expect(await countEvents()).toBe(before + 1);
  });

  it('who asks is decided first: anonymous on a protected route is a 401, not told the parameters', async () => {
    const res = await t.inject({ url: '/api/v1/events?staus=open', as: 'anonymous' });
    expect(res.statusCode).toBe(401);
  });
});

describe('the exceptions behave as their standards want', () => {
  it('OGC API – Features: f on every resource, unknown parameters refused (property filters on items)', async () => {
    for (const url of ['/ogc?f=json', '/ogc/conformance?f=json', '/ogc/collections?f=json', '/ogc/collections/grids?f=json', '/ogc/collections/grids/queryables?f=json']) {
      expect((await t.inject({ url, as: 'anonymous' })).statusCode, url).toBe(200);
    }
    for (const url of ['/ogc?service=WFS', '/ogc/collections/grids?foo=1', '/ogc/collections/grids/items/1?nope=1']) {
      const field = new URL(url, 'http://x').searchParams.keys().next().value;
      expect(refusal(await t.inject({ url, as: 'anonymous' })).details, url).toMatchObject({ in: 'querystring', field });
    }
    expect((await t.inject({ url: `/ogc/collections/grids/items?code=${COMMUNITY}001`, as: 'anonymous' })).statusCode).toBe(200);
    const filter = refusal(await t.inject({ url: '/ogc/collections/grids/items?cod=1', as: 'anonymous' }));
    expect(filter).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'querystring', field: 'cod' } });
  });

  it('Open311: the arguments GeoReport v2 clients send to every server are accepted on every route', async () => {
    const extra = 'jurisdiction_id=zhengzhou&api_key=k&extensions=true&page_size=50';
    const services = await t.inject({ url: `/open311/v2/services.json?${extra}`, as: 'anonymous' });
    expect(services.statusCode, services.body).toBe(200);
    expect(services.json<Open311Service[]>().length).toBeGreaterThan(0);
    const posted = await t.inject({
      method: 'POST',
      url: `/open311/v2/requests.json?${extra}`,
      as: 'anonymous',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ service_code: 'facility.street_light', lat: '34.7512', long: '113.6012', description: '路灯不亮', api_key: 'k' }).toString(),
    });
    expect(posted.statusCode, posted.body).toBe(201);
    const id = posted.json<Array<{ service_request_id: string }>>()[0]?.service_request_id;
    const one = await t.inject({ url: `/open311/v2/requests/${id}.json?${extra}`, as: 'anonymous' });
    expect(one.json<Open311Request[]>().map((r) => r.service_request_id)).toEqual([id]);
    const list = await t.inject({ url: `/open311/v2/requests.json?status=open&${extra}`, as: 'anonymous' });
    expect(list.json<Open311Request[]>().map((r) => r.service_request_id)).toContain(id);
    // Declared arguments are still checked.
    expect(refusal(await t.inject({ url: `/open311/v2/services.json?jurisdiction_id=${'x'.repeat(201)}`, as: 'anonymous' })).details).toMatchObject({ in: 'querystring' });
  });
});

describe('third-party routes keep their query strings', () => {
  it('CORS preflights (they carry the real request URL), the web app page and files, swagger-ui', async () => {
    const web = mkdtempSync(path.join(tmpdir(), 'wangge-web-'));
    writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>网格</title>');
    writeFileSync(path.join(web, 'app.js'), 'console.log(1)');
    const app = await buildApp({ config: testConfig({ webDistDir: web, corsOrigins: ['https://a.example'] }), db: t.tdb.db });
    try {
      const preflight = await app.inject({
        method: 'OPTIONS',
        url: '/api/v1/events?state=open&limit=5',
        headers: { origin: 'https://a.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
      expect(preflight.statusCode, preflight.body).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('https://a.example');
      const page = await app.inject({ url: '/?view=editor&community=410105001001&lang=en', headers: { accept: 'text/html' } });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('网格');
      expect((await app.inject('/app.js?v=123')).statusCode).toBe(200);
      expect((await app.inject('/docs/json?x=1')).statusCode).toBe(200);
      // the API behind them still refuses
      expect((await app.inject('/health?x=1')).statusCode).toBe(400);
    } finally {
      await app.close();
      rmSync(web, { recursive: true, force: true });
    }
  });
});

describe('acceptedQueryParameters', () => {
  it('reads a route querystring schema: its properties, open only when it says so, a non-object refused', () => {
    expect(acceptedQueryParameters(undefined)).toEqual([]);
    expect(acceptedQueryParameters({ type: 'object', properties: { a: {}, b: {} } })).toEqual(['a', 'b']);
    expect(acceptedQueryParameters({ type: 'object', properties: { a: {} }, additionalProperties: false })).toEqual(['a']);
    expect(acceptedQueryParameters({ type: 'object', properties: {}, additionalProperties: true })).toBeUndefined();
    expect(acceptedQueryParameters({ type: 'object', additionalProperties: { type: 'string' } })).toBeUndefined();
    expect(() => acceptedQueryParameters({ anyOf: [{ type: 'object' }] }, 'GET /x')).toThrow(/GET \/x/);
  });
});
