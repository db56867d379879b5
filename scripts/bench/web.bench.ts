/**
 * `npm run bench -- web`: the web app in headless Chromium (Debian's, software WebGL — the browser the
 * tests use), with a generated district of ~10,000 published grids loaded (demo generator, size xlarge:
 * divisions, roads, layouts and grids; no registry, so no buildings).
 *
 * First render of each view: from navigation to the map being fully loaded (style, every visible tile
 * drawn) with the view mounted and its data shown — the editor with a community open, dispatch and
 * analysis as they mount. Baseline in the same run: the signed-out shell (map, offline base layers and
 * the 10,000 published grids as vector tiles, at the whole district). Median of RUNS fresh page loads
 * each (a new tab with the HTTP cache cleared), the server's tile cache warm as in production.
 * Target (issue #10): under 3 s for each view.
 *
 * Bundle size (issue #10): builds the app and reports the JavaScript the first page load fetches
 * (entry + module preloads), gzipped, MapLibre's chunk apart; target: the rest under 400 KB gzipped.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import { buildApp } from '../../server/app';
import { PROJECT_ROOT, testConfig } from '../../server/config';
import { insertDivisions, insertGridsBulk, insertPublishedLayouts, insertRoads } from '../../server/modules/demo/demo.repository';
import { createDemoUsers, DEMO_PASSWORD } from '../../server/modules/users/user.service';
import { launchBrowser } from '../../server/test/browser';
import { runCli } from '../cli';
import { generateDemoCity } from '../generate/demo-city';
import { median, withScratchDatabase, writeResults } from './bench-kit';

const RUNS = Number(process.env.WEB_BENCH_RUNS ?? 5);
const TARGET_MS = 3_000;
const WEB_DIST = path.join(PROJECT_ROOT, 'dist/web');

interface Chunk {
  file: string;
  bytes: number;
  gzip: number;
}

/** Sizes of the built JavaScript: what index.html loads at once, and each lazily loaded chunk. */
function bundleSizes(): { initial: Chunk[]; lazy: Chunk[] } {
  const html = readFileSync(path.join(WEB_DIST, 'index.html'), 'utf8');
  const initialFiles = new Set([...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]!));
  const chunk = (file: string): Chunk => {
    const buf = readFileSync(path.join(WEB_DIST, file));
    return { file, bytes: buf.length, gzip: gzipSync(buf).length };
  };
  const all = readdirSync(path.join(WEB_DIST, 'assets')).filter((f) => f.endsWith('.js') || f.endsWith('.mjs')).map((f) => `assets/${f}`);
  // MapLibre's worker is started as the map is created, so it is part of the first load too.
  const initial = (f: string): boolean => initialFiles.has(f) || path.basename(f).startsWith('maplibre-gl-worker-');
  return { initial: all.filter(initial).map(chunk), lazy: all.filter((f) => !initial(f)).map(chunk) };
}

runCli(async () => {
  await build({ configFile: path.join(PROJECT_ROOT, 'vite.config.ts'), logLevel: 'warn' });
  const sizes = bundleSizes();
  const isMapLibre = (c: Chunk): boolean => path.basename(c.file).startsWith('maplibre-');
  // (maplibre-*.js is the library chunk, maplibre-gl-worker-*.mjs its worker.)
  const kb = (n: number): number => Math.round(n / 102.4) / 10;
  const initialGzip = sizes.initial.filter((c) => !isMapLibre(c)).reduce((s, c) => s + c.gzip, 0);
  const maplibreGzip = sizes.initial.filter(isMapLibre).reduce((s, c) => s + c.gzip, 0);
  console.log('\nBundle (gzip):');
  console.table(Object.fromEntries([...sizes.initial.map((c) => [c.file, { load: 'initial', 'KB': kb(c.bytes), 'KB gzip': kb(c.gzip) }]), ...sizes.lazy.map((c) => [c.file, { load: 'on demand', 'KB': kb(c.bytes), 'KB gzip': kb(c.gzip) }])]));
  console.log(`initial JS without MapLibre: ${kb(initialGzip)} KB gzip (target < 400); MapLibre (library + worker): ${kb(maplibreGzip)} KB gzip`);

  await withScratchDatabase('web', async (handle) => {
    const started = performance.now();
    const city = generateDemoCity({ size: 'xlarge' });
    await insertDivisions(handle.db, city.divisions.map((d) => ({ code: d.code, level: d.level, name: d.name, parentCode: d.parentCode, boundary: d.boundary })));
    await insertRoads(handle.db, city.roads.map((r) => ({ code: r.code, name: r.name, kind: r.kind, geom: r.geom })));
    const communities = city.divisions.filter((d) => d.level === 'community').map((d) => d.code);
    const layoutOf = await insertPublishedLayouts(handle.db, communities, '2025-01-01T00:00:00Z');
    await insertGridsBulk(handle.db, city.grids.map((g) => ({ layoutId: layoutOf.get(g.communityCode) ?? 0, code: g.code, name: g.name, kind: g.kind === '专属' ? 'dedicated' : 'general', geom: g.geom })));
    const district = city.divisions.find((d) => d.level === 'district')!.code;
    const street = city.divisions.find((d) => d.level === 'street')!.code;
    const community = communities[0]!;
    await createDemoUsers(handle.db, { district, street, community, grid: city.grids[0]!.code });
    await handle.pool.query('ANALYZE');
    console.log(`\n${city.grids.length} grids in ${communities.length} communities loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const app = await buildApp({ config: { ...testConfig({ webDistDir: WEB_DIST }), signInRateLimitPerMinute: 10_000 }, db: handle.db, pool: handle.pool });
    const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    const browser = await launchBrowser();
    const session = async (username: string): Promise<string> => {
      const res = await fetch(`${baseUrl}/api/v1/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: DEMO_PASSWORD }) });
      const t = (await res.json()) as { accessToken: string; refreshToken: string; expiresIn: number; user: unknown };
      return JSON.stringify({ accessToken: t.accessToken, refreshToken: t.refreshToken, accessExpiresAt: Date.now() + t.expiresIn * 1000, user: t.user });
    };

    /** One fresh page load: ms from navigation start until `ready` holds and the map has loaded. */
    const firstRender = async (query: string, user: string | null, ready: string): Promise<number> => {
      const page = await browser.context.newPage();
      // A first visit: nothing in the HTTP cache (a new tab already has empty sessionStorage).
      const cdp = await browser.context.newCDPSession(page);
      await cdp.send('Network.clearBrowserCache');
      const stored = user ? await session(user) : null;
      if (stored) await page.addInitScript((s) => sessionStorage.setItem('wangge.session', s), stored);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${baseUrl}/${query}`);
      const ms = await page.evaluate(async (selector) => {
        for (;;) {
          const map = window.wangge?.map;
          if (map && document.querySelector(selector) && map.loaded() && map.areTilesLoaded()) return performance.now();
          await new Promise((r) => setTimeout(r, 25));
        }
      }, ready);
      await page.close();
      if (errors.length) throw new Error(`${query}: ${errors.join('; ')}`);
      return ms;
    };

    const cases: Array<{ name: string; query: string; user: string | null; ready: string }> = [
      { name: 'shell (signed out, whole district)', query: '', user: null, ready: '[data-testid="sign-in"]' },
      { name: 'editor (community open)', query: `?view=editor&community=${community}`, user: 'demo-planner', ready: 'body[data-editor-revision]' },
      { name: 'dispatch', query: '?view=dispatch', user: 'demo-dispatcher', ready: '[data-testid="view-dispatch"]' },
      { name: 'analysis', query: '?view=analysis', user: 'demo-analyst', ready: '[data-testid="view-analysis"]' },
    ];
    // One warm-up load per case (server tile cache, Chromium's shader cache), not counted.
    for (const c of cases) await firstRender(c.query, c.user, c.ready);
    const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    for (let run = 0; run < RUNS; run++) for (const c of cases) times.get(c.name)!.push(await firstRender(c.query, c.user, c.ready));

    await browser.close();
    await app.close();

    const baseline = median(times.get(cases[0]!.name)!);
    const rows = cases.map((c) => {
      const ms = times.get(c.name)!;
      const m = median(ms);
      return { view: c.name, medianMs: Math.round(m), minMs: Math.round(Math.min(...ms)), maxMs: Math.round(Math.max(...ms)), ratioToShell: Number((m / baseline).toFixed(2)), underTarget: m < TARGET_MS };
    });
    console.log(`\nFirst render, median of ${RUNS} fresh loads (target < ${TARGET_MS} ms):`);
    console.table(rows);
    const file = writeResults('web', {
      grids: city.grids.length,
      runs: RUNS,
      targetMs: TARGET_MS,
      firstRender: rows,
      bundle: { initialGzipBytesWithoutMapLibre: initialGzip, mapLibreGzipBytes: maplibreGzip, targetInitialGzipBytes: 400 * 1024, initial: sizes.initial, lazy: sizes.lazy },
    });
    console.log(`results: ${file}`);
  });
});
