/**
 * The web app's files (server/http/web-files.ts): a build written while the server runs is served
 * without a restart (its new hashed assets answer 200, not 404), unknown paths stay 404 (or the
 * single-page app's page for a browser navigation), and the cache policy keeps hashed assets immutable
 * while index.html is revalidated.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test/app';
import { IMMUTABLE_CACHE, REVALIDATE_CACHE, webFileAt } from './web-files';

let web: TestApp;
let webRoot: string;
beforeAll(async () => {
  webRoot = mkdtempSync(path.join(os.tmpdir(), 'wangge-web-'));
  writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Wangge</title><script src="/assets/index-old.js"></script>');
  mkdirSync(path.join(webRoot, 'assets'));
  writeFileSync(path.join(webRoot, 'assets', 'index-old.js'), 'console.log("old build");');
  web = await createTestApp({ webDistDir: webRoot });
});
afterAll(async () => {
  await web.close();
  rmSync(webRoot, { recursive: true, force: true });
});

describe('web app files', () => {
  it('serves the files of a build written after the server started, with the cache policy of their kind', async () => {
    expect((await web.inject({ url: '/assets/index-new.js', as: 'anonymous' })).statusCode).toBe(404);
    // a new build: new hashed assets, a new index.html naming them, the old asset gone
    mkdirSync(path.join(webRoot, 'assets', 'nested'));
    writeFileSync(path.join(webRoot, 'assets', 'index-new.js'), 'console.log("new build");');
    writeFileSync(path.join(webRoot, 'assets', 'nested', 'worker-new.mjs'), 'self.onmessage = () => {};');
    writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Wangge</title><script src="/assets/index-new.js"></script>');
    unlinkSync(path.join(webRoot, 'assets', 'index-old.js'));

    const script = await web.inject({ url: '/assets/index-new.js', as: 'anonymous', headers: { accept: '*/*' } });
    expect(script.statusCode).toBe(200);
    expect(script.body).toBe('console.log("new build");');
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect(script.headers['cache-control']).toBe(IMMUTABLE_CACHE);
    // the document policy, like the files listed at start-up
    expect(script.headers['x-frame-options']).toBe('SAMEORIGIN');
    const head = await web.inject({ method: 'HEAD', url: '/assets/nested/worker-new.mjs', as: 'anonymous' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['cache-control']).toBe(IMMUTABLE_CACHE);

    const page = await web.inject({ url: '/', as: 'anonymous', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('index-new.js');
    expect(page.headers['cache-control']).toBe(REVALIDATE_CACHE);

    // the old build's asset is gone: a 404, not the page
    const gone = await web.inject({ url: '/assets/index-old.js', as: 'anonymous', headers: { accept: '*/*' } });
    expect(gone.statusCode).toBe(404);
    expect(gone.json<{ error: { code: string } }>().error.code).toBe('NOT_FOUND');
  });

  it('keeps unknown paths a 404, the single-page app fallback for navigations, and API paths out', async () => {
    const unknown = await web.inject({ url: '/assets/nothing-here.js', as: 'anonymous', headers: { accept: '*/*' } });
    expect(unknown.statusCode).toBe(404);
    const route = await web.inject({ url: '/dispatch?event=3', as: 'anonymous', headers: { accept: 'text/html' } });
    expect(route.statusCode).toBe(200);
    expect(route.headers['content-type']).toMatch(/text\/html/);
    expect(route.headers['cache-control']).toBe(REVALIDATE_CACHE);
    // a file named like an API path is not served from the web root
    mkdirSync(path.join(webRoot, 'api'));
    writeFileSync(path.join(webRoot, 'api', 'secret.json'), '{}');
    expect((await web.inject({ url: '/api/secret.json', as: 'anonymous' })).statusCode).toBe(404);
    expect((await web.inject({ method: 'POST', url: '/assets/index-new.js', as: 'anonymous' })).statusCode).toBe(404);
  });

  it('finds only regular files inside the root', () => {
    writeFileSync(path.join(webRoot, '.env'), 'SECRET=1');
    expect(webFileAt(webRoot, '/assets/index-new.js?v=2')).toBe('assets/index-new.js');
    expect(webFileAt(webRoot, '/assets/nested/worker-new.mjs')).toBe('assets/nested/worker-new.mjs');
    for (const url of ['/', '/assets', '/assets/', '/.env', '/assets/../.env', '/assets/%2e%2e/index.html', '/..%2f..%2fetc%2fpasswd', '/%E0%A4%A', '/assets%5cindex-new.js', '/index.html%00.js']) {
      expect(webFileAt(webRoot, url), url).toBeUndefined();
    }
  });
});
