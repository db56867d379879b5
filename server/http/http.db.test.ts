import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../contracts/common';
import { createTestApp, type TestApp } from '../test/app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ bodyLimitBytes: 64 * 1024 });
});
afterAll(async () => t.close());

describe('one error shape for every failure', () => {
  it.each([
    ['malformed JSON', { method: 'POST' as const, url: '/api/v1/grids/merge', payload: '{"ids": [1,', headers: { 'content-type': 'application/json' } }, 400, 'MALFORMED_JSON'],
    ['a wrong content type', { method: 'POST' as const, url: '/api/v1/grids/merge', payload: 'ids=1,2', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['an oversized body', { method: 'POST' as const, url: '/api/v1/grids/merge', payload: JSON.stringify({ ids: [1, 2], pad: 'x'.repeat(70 * 1024) }), headers: { 'content-type': 'application/json' } }, 413, 'PAYLOAD_TOO_LARGE'],
    ['a schema violation', { method: 'POST' as const, url: '/api/v1/grids/merge', payload: { ids: ['a'] } }, 400, 'VALIDATION_FAILED'],
    ['an unknown route', { method: 'GET' as const, url: '/api/v1/nothing-here' }, 404, 'NOT_FOUND'],
    ['a non-numeric id', { method: 'GET' as const, url: '/api/v1/grids/abc' }, 400, 'VALIDATION_FAILED'],
  ])('%s', async (_name, request, status, code) => {
    const res = await t.inject(request);
    expect(res.statusCode).toBe(status);
    const body = res.json<ErrorResponse>();
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(5);
  });

  it('says where for failures before any schema (the body, the content type, the path)', async () => {
    const where = async (request: Parameters<TestApp['inject']>[0]): Promise<unknown> => (await t.inject(request)).json<ErrorResponse>().error.details;
    expect(await where({ method: 'POST', url: '/api/v1/grids/merge', payload: '{"ids": [1,', headers: { 'content-type': 'application/json' } })).toMatchObject({ in: 'body' });
    expect(await where({ method: 'POST', url: '/api/v1/grids/merge', payload: 'ids=1,2', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).toMatchObject({ in: 'headers', field: 'content-type' });
    expect(await where({ method: 'POST', url: '/api/v1/grids/merge', payload: JSON.stringify({ pad: 'x'.repeat(70 * 1024) }), headers: { 'content-type': 'application/json' } })).toMatchObject({ in: 'body' });
    const long = await t.inject(`/api/v1/grids/${'1'.repeat(300)}`);
    expect(long.statusCode).toBe(414);
    expect(long.json<ErrorResponse>().error).toMatchObject({ code: 'URI_TOO_LONG', details: { in: 'params', maxLength: 200 } });
  });

  it('refuses NUL in any text (PostgreSQL cannot store it) with where it is, before the route runs', async () => {
    const query = await t.inject('/api/v1/audit?actorName=a%00b');
    expect(query.statusCode).toBe(400);
    expect(query.json<ErrorResponse>().error).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'querystring', problems: [{ path: '/actorName', keyword: 'nul' }] } });
    const body = await t.inject({ method: 'POST', url: `/api/v1/communities/410105001001/layouts`, payload: { from: 'empty', name: 'x', extra: { list: ['ok', 'a\u0000b'] } } });
    expect(body.statusCode).toBe(400);
    expect(body.json<ErrorResponse>().error.details).toMatchObject({ in: 'body', problems: [{ path: '/extra/list/1' }] });
  });

  it('reports where a schema violation is', async () => {
    const res = await t.inject({ method: 'POST', url: '/api/v1/grids/merge', payload: { ids: [1, 'x'] } });
    const details = res.json<ErrorResponse>().error.details as { in: string; problems: Array<{ path: string }> };
    expect(details.in).toBe('body');
    expect(details.problems.map((p) => p.path)).toContain('/ids/1');
  });
});

describe('API description', () => {
  it('serves an OpenAPI 3 document generated from the route schemas, and an interactive page', async () => {
    const doc = (await t.inject('/openapi.json')).json<{ openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of ['/health', '/api/v1/layouts/{id}/publish', '/api/v1/grids/{id}', '/api/v1/grids/merge', '/api/v1/divisions/import']) {
      expect(doc.paths[path], `${path} is documented`).toBeDefined();
    }
    // every documented operation declares its responses, so nothing leaks by accident
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
    }
    const page = await t.inject('/docs/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
  });

  it('sets security headers (an API answer: the API policy, server/http/security-headers.db.test.ts has both)', async () => {
    const res = await t.inject('/health');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
  });
});
