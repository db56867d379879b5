/**
 * Security headers (server/http/security-headers.ts): every API answer carries the API policy (OWASP's
 * REST set) — the hot routes (dispatch lookup, tiles) exactly as the rest, refusals and 404s too — and
 * every document of the web app (its page, client-side routes, scripts) and the API docs page carries
 * helmet's full document policy.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test/app';

/** The headers helmet's policy sets (CSP without cross-origin-embedder-policy, which the map's images need off). */
const DOCUMENT_HEADERS = [
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

/** What every API answer carries: OWASP REST Security Cheat Sheet's set, plus Cross-Origin-Resource-Policy. */
const API_HEADERS = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

type Headers = Record<string, string | string[] | number | undefined>;
/** Every header of either policy, present or not (absent ones as undefined): extra headers show up as a difference. */
const securityHeaders = (headers: Headers): Record<string, unknown> => Object.fromEntries(DOCUMENT_HEADERS.map((h) => [h, headers[h]]));
const apiPolicy = Object.fromEntries(DOCUMENT_HEADERS.map((h) => [h, (API_HEADERS as Record<string, string>)[h]]));

let t: TestApp;
let web: TestApp;
let webRoot: string;
let documentPolicy: Record<string, unknown>;
beforeAll(async () => {
  webRoot = mkdtempSync(path.join(os.tmpdir(), 'wangge-web-'));
  writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Wangge</title>');
  mkdirSync(path.join(webRoot, 'assets'));
  writeFileSync(path.join(webRoot, 'assets', 'worker.js'), 'self.onmessage = () => {};');
  t = await createTestApp();
  web = await createTestApp({ webDistDir: webRoot });
  documentPolicy = securityHeaders((await web.inject({ url: '/', headers: { accept: 'text/html' } })).headers);
});
afterAll(async () => {
  await t.close();
  await web.close();
  rmSync(webRoot, { recursive: true, force: true });
});

describe('security headers', () => {
  it('an API answer sends the API policy and none of the document-only headers', async () => {
    const res = await t.inject('/health');
    expect(res.statusCode).toBe(200);
    expect(securityHeaders(res.headers)).toEqual(apiPolicy);
    expect(securityHeaders((await t.inject('/openapi.json')).headers)).toEqual(apiPolicy);
  });

  it('the dispatch lookup sends exactly the API policy, and no-store', async () => {
    const res = await t.inject({ url: '/api/v1/dispatch/lookup?lon=113.6&lat=34.7', as: 'dispatcher' });
    expect(res.statusCode).toBe(200);
    expect(securityHeaders(res.headers)).toEqual(apiPolicy);
    expect(res.headers['cache-control']).toBe('no-store');
    const batch = await t.inject({ method: 'POST', url: '/api/v1/dispatch/lookup', as: 'dispatcher', payload: { points: [{ lon: 113.6, lat: 34.7 }] } });
    expect(batch.statusCode).toBe(200);
    expect(securityHeaders(batch.headers)).toEqual(apiPolicy);
  });

  it.each([
    ['a tile', { url: '/tiles/grids/10/838/410.mvt' }],
    ['an unknown route (404)', { url: '/api/v1/nothing-here' }],
    ['an anonymous request to a protected route (401)', { url: '/api/v1/dispatch/lookup?lon=113.6&lat=34.7', as: 'anonymous' as const }],
    ['a forbidden request (403)', { url: '/api/v1/dispatch/lookup?lon=113.6&lat=34.7', as: 'analyst' as const }],
    ['a malformed bearer token (401)', { url: '/api/v1/dispatch/lookup?lon=113.6&lat=34.7', as: 'anonymous' as const, headers: { authorization: 'Bearer nope' } }],
  ])('%s carries the API policy', async (_name, request) => {
    const res = await t.inject(request);
    expect(securityHeaders(res.headers)).toEqual(apiPolicy);
  });

  it('the web app\'s page, its client-side routes and its scripts carry the full document policy', async () => {
    for (const h of DOCUMENT_HEADERS) expect(documentPolicy[h], h).toBeTypeOf('string');
    expect(documentPolicy['content-security-policy']).toMatch(/default-src 'self'/);
    // MapLibre's worker is one of our scripts: its CSP (from the script's answer) lets it fetch tiles and decode images.
    expect(documentPolicy['content-security-policy']).toMatch(/worker-src 'self' blob:/);
    expect(documentPolicy['content-security-policy']).toMatch(/connect-src 'self'/);
    expect(documentPolicy['x-frame-options']).toBe('SAMEORIGIN');
    expect(documentPolicy['strict-transport-security']).toBe(API_HEADERS['strict-transport-security']);
    for (const url of ['/', '/index.html', '/dispatch', '/assets/worker.js']) {
      const res = await web.inject({ url, headers: { accept: url.endsWith('.js') ? '*/*' : 'text/html' } });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(url.endsWith('.js') ? /javascript/ : /text\/html/);
      expect(securityHeaders(res.headers), url).toEqual(documentPolicy);
    }
    // The same app's API answers keep the API policy.
    expect(securityHeaders((await web.inject('/health')).headers)).toEqual(apiPolicy);
    const missing = await web.inject({ url: '/api/v1/nothing-here', headers: { accept: 'text/html' } });
    expect(missing.statusCode).toBe(404);
    expect(securityHeaders(missing.headers)).toEqual(apiPolicy);
  });

  it('the API docs page is a document: the document policy, with swagger-ui\'s own CSP', async () => {
    const res = await t.inject({ url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    const headers = securityHeaders(res.headers);
    expect({ ...headers, 'content-security-policy': undefined }).toEqual({ ...documentPolicy, 'content-security-policy': undefined });
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(res.headers['content-security-policy']).not.toBe(documentPolicy['content-security-policy']);
  });
});
