/**
 * Every response carries the same security headers (server/http/security-headers.ts): the hot routes
 * (dispatch lookup, tiles) exactly as the rest of the API, and also refusals, 404s and the web app's page.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test/app';

/** The headers helmet's policy sets (CSP without cross-origin-embedder-policy, which the map's images need off). */
const SECURITY_HEADERS = [
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
] as const;

type Headers = Record<string, string | string[] | number | undefined>;
const securityHeaders = (headers: Headers): Record<string, unknown> => Object.fromEntries(SECURITY_HEADERS.map((h) => [h, headers[h]]));

let t: TestApp;
let web: TestApp;
let webRoot: string;
let api: Record<string, unknown>;
beforeAll(async () => {
  webRoot = mkdtempSync(path.join(os.tmpdir(), 'wangge-web-'));
  writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Wangge</title>');
  t = await createTestApp();
  web = await createTestApp({ webDistDir: webRoot });
  api = securityHeaders((await t.inject('/health')).headers);
});
afterAll(async () => {
  await t.close();
  await web.close();
  rmSync(webRoot, { recursive: true, force: true });
});

describe('security headers', () => {
  it('the normal API sends the policy', () => {
    for (const h of SECURITY_HEADERS) expect(api[h], h).toBeTypeOf('string');
    expect(api['content-security-policy']).toMatch(/default-src 'self'/);
    expect(api['content-security-policy']).toMatch(/worker-src 'self' blob:/);
    expect(api['x-content-type-options']).toBe('nosniff');
    expect(api['x-frame-options']).toBe('SAMEORIGIN');
    expect(api['strict-transport-security']).toMatch(/max-age=\d+/);
  });

  it('the dispatch lookup sends exactly the API\'s security headers, and no-store', async () => {
    const res = await t.inject({ url: '/api/v1/dispatch/lookup?lon=113.6&lat=34.7', as: 'dispatcher' });
    expect(res.statusCode).toBe(200);
    expect(securityHeaders(res.headers)).toEqual(api);
    expect(res.headers['cache-control']).toBe('no-store');
    const batch = await t.inject({ method: 'POST', url: '/api/v1/dispatch/lookup', as: 'dispatcher', payload: { points: [{ lon: 113.6, lat: 34.7 }] } });
    expect(batch.statusCode).toBe(200);
    expect(securityHeaders(batch.headers)).toEqual(api);
  });

  it.each([
    ['a tile', { url: '/tiles/grids/10/838/410.mvt' }],
    ['an unknown route (404)', { url: '/api/v1/nothing-here' }],
    ['an anonymous request to a protected route (401)', { url: '/api/v1/dispatch/lookup?lon=113.6&lat=34.7', as: 'anonymous' as const }],
    ['a forbidden request (403)', { url: '/api/v1/dispatch/lookup?lon=113.6&lat=34.7', as: 'analyst' as const }],
    ['a malformed bearer token (401)', { url: '/api/v1/dispatch/lookup?lon=113.6&lat=34.7', as: 'anonymous' as const, headers: { authorization: 'Bearer nope' } }],
  ])('%s carries the same security headers', async (_name, request) => {
    const res = await t.inject(request);
    expect(securityHeaders(res.headers)).toEqual(api);
  });

  it('the web app\'s page and its client-side routes carry the same security headers', async () => {
    const webApi = securityHeaders((await web.inject('/health')).headers);
    expect(webApi).toEqual(api);
    for (const url of ['/', '/index.html', '/dispatch']) {
      const res = await web.inject({ url, headers: { accept: 'text/html' } });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(/text\/html/);
      expect(securityHeaders(res.headers), url).toEqual(api);
    }
  });
});
