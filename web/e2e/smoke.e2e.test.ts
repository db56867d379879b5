import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app';
import { PROJECT_ROOT, testConfig } from '../../server/config';
import { launchBrowser, screenshotPath, type Browser } from '../../server/test/browser';
import { createTestDatabase, type TestDatabase } from '../../server/test/database';
import { loadDemoIfEmpty } from '../../server/modules/demo/demo.service';

const WEB_DIST = path.join(PROJECT_ROOT, 'dist/web');

describe('web app shell in a real browser', () => {
  let tdb: TestDatabase;
  let app: FastifyInstance;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    if (!existsSync(path.join(WEB_DIST, 'index.html'))) {
      await build({ configFile: path.join(PROJECT_ROOT, 'vite.config.ts'), logLevel: 'warn' });
    }
    tdb = await createTestDatabase();
    await loadDemoIfEmpty(tdb.db);
    app = await buildApp({ config: testConfig({ webDistDir: WEB_DIST }), db: tdb.db });
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await tdb?.drop();
  });

  it('loads, the map fires load, no console errors, screenshot written', async () => {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(msg.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('response', (res) => {
      if (res.status() >= 400) problems.push(`${res.status()} ${res.url()}`);
    });

    await page.goto(baseUrl);
    await page.waitForSelector('body[data-map-loaded="true"]', { timeout: 30_000 });
    await expect.poll(() => page.getByTestId('health').textContent()).toBe('数据库正常');
    // the demo city's published grids are drawn from the server, with no internet
    await page.waitForSelector('body[data-grids-loaded]', { timeout: 30_000 });
    expect(Number(await page.evaluate(() => document.body.dataset.gridsLoaded))).toBeGreaterThan(0);
    await expect.poll(() => page.evaluate(() => window.wangge?.map.queryRenderedFeatures({ layers: ['grids-fill'] }).length ?? 0)).toBeGreaterThan(0);
    // the offline base map: roads and divisions come as vector tiles from this server
    await page.evaluate(() => window.wangge?.map.jumpTo({ zoom: 15.5 }));
    for (const layer of ['roads-line', 'divisions-line', 'buildings-fill']) {
      await expect.poll(() => page.evaluate((l) => window.wangge?.map.queryRenderedFeatures({ layers: [l] }).length ?? 0, layer), { timeout: 20_000 }).toBeGreaterThan(0);
    }
    expect(await page.title()).toContain('网格');

    const shot = screenshotPath('smoke-shell');
    await page.screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(5_000);

    await page.getByTestId('lang-switch').click();
    expect(await page.getByTestId('health').textContent()).toBe('Database OK');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('serves the app for client-side routes but JSON 404s for unknown API paths', async () => {
    const html = await fetch(`${baseUrl}/editor/some/route`, { headers: { accept: 'text/html' } });
    expect(html.status).toBe(200);
    expect(await html.text()).toContain('<div id="app">');
    const api = await fetch(`${baseUrl}/api/v1/nope`);
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
