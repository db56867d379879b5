import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../server/modules/audit/audit.service';
import { createUser } from '../../server/modules/users/user.service';
import { screenshotPath } from '../../server/test/browser';
import { fillSignInForm, useWebApp, watchProblems } from '../../server/test/web-app';

describe('web app shell in a real browser', () => {
  const web = useWebApp();

  it('labels each published grid once, with its name and (zoomed out) its community', async () => {
    const page = await web.newPage();
    const problems = watchProblems(page);
    await page.goto(web.baseUrl);
    await page.waitForSelector('body[data-map-loaded="true"]', { timeout: 30_000 });
    await page.evaluate(() => window.wangge?.map.jumpTo({ zoom: 15 }));
    const labels = (): Promise<Array<{ code: string; text: string }>> =>
      page.evaluate(() =>
        (window.wangge?.map.queryRenderedFeatures({ layers: ['grids-label'] }) ?? []).map((f) => ({
          code: String(f.properties.code),
          text: `${String(f.properties.name)} ${String(f.properties.community_name)}`,
        })),
      );
    await expect.poll(async () => (await labels()).length, { timeout: 20_000 }).toBeGreaterThan(3);
    await page.waitForFunction(() => window.wangge?.map.areTilesLoaded() === true);
    const shown = await labels();
    // Before: one label per tile a grid touched ("003 003 003"), each only the code's last 3 digits.
    expect(shown.length).toBe(new Set(shown.map((l) => l.code)).size);
    for (const l of shown) expect(l.text).toMatch(/^\S+ \S+社区$/);
    const field = await page.evaluate(() => JSON.stringify(window.wangge?.map.getLayoutProperty('grids-label', 'text-field')));
    expect(field).toContain('community_name');
    expect(problems).toEqual([]);
  });

  it('loads without signing in, draws the offline map from our own tiles, signs in, restores on reload, signs out', async () => {
    const page = await web.newPage();
    // The wrong-password attempt below is expected to be refused (and Chromium logs that refusal).
    const problems = watchProblems(page, { expected: (u) => u.endsWith('/api/v1/auth/sign-in') });
    // How the browser's tile requests were answered (MapLibre fetches them in its workers).
    const tileEncodings = new Set<string>();
    page.context().on('response', (r) => {
      if (new URL(r.url()).pathname.endsWith('.mvt') && r.status() === 200) tileEncodings.add(r.headers()['content-encoding'] ?? 'none');
    });

    await page.goto(web.baseUrl);
    await page.waitForSelector('body[data-map-loaded="true"]', { timeout: 30_000 });
    await expect.poll(() => page.getByTestId('health').textContent()).toBe('数据库正常');
    await page.waitForSelector('[data-testid="sign-in"]');
    // the demo city's published grids come as vector tiles from this server, with no internet
    await expect.poll(() => page.evaluate(() => window.wangge?.map.queryRenderedFeatures({ layers: ['grids-fill'] }).length ?? 0), { timeout: 20_000 }).toBeGreaterThan(0);
    // the offline base map: roads, divisions and buildings too
    await page.evaluate(() => window.wangge?.map.jumpTo({ zoom: 15.5 }));
    for (const layer of ['roads-line', 'divisions-line', 'buildings-fill']) {
      await expect.poll(() => page.evaluate((l) => window.wangge?.map.queryRenderedFeatures({ layers: [l] }).length ?? 0, layer), { timeout: 20_000 }).toBeGreaterThan(0);
    }
    expect(await page.title()).toContain('网格');
    // Chromium accepts Brotli over HTTPS and on localhost (this test): the cheaper encoding for the server
    // (accept-encoding.ts).
    expect([...tileEncodings]).toEqual(['br']);

    // a wrong password is refused with a clear message, and no menu appears
    await page.getByTestId('sign-in-username').fill('demo-planner');
    await page.getByTestId('sign-in-password').fill('wrong-password');
    await page.getByTestId('sign-in-submit').click();
    await expect.poll(() => page.getByTestId('sign-in-error').textContent()).toBe('用户名或密码错误');
    expect(await page.getByTestId('menu-editor').count()).toBe(0);

    // the right one signs in; the menu lists only what the role may use
    await page.getByTestId('sign-in-password').fill('wangge-demo-2024');
    await page.getByTestId('sign-in-submit').click();
    await page.waitForSelector('[data-testid="signed-in-user"]');
    expect(await page.getByTestId('signed-in-user').textContent()).toContain('demo-planner');
    expect(await page.getByTestId('menu').locator('button').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-testid')))).toEqual(['menu-editor']);
    await page.waitForSelector('[data-testid="view-editor"]');
    await expect.poll(() => new URL(page.url()).searchParams.get('view')).toBe('editor');
    await expect.poll(() => new URL(page.url()).searchParams.get('at')).toMatch(/^[0-9.]+,[0-9.]+,[0-9.]+$/);

    const shot = screenshotPath('smoke-shell');
    await page.screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(5_000);

    // the language switch re-renders the shell and is kept in the URL
    await page.getByTestId('lang-switch').click();
    expect(await page.getByTestId('health').textContent()).toBe('Database OK');
    expect(await page.getByTestId('sign-out').textContent()).toBe('Sign out');
    expect(new URL(page.url()).searchParams.get('lang')).toBe('en');

    // a reload keeps the session (sessionStorage), the view, the language and the map position
    const before = new URL(page.url()).searchParams.get('at');
    await page.reload();
    await page.waitForSelector('[data-testid="view-editor"]');
    expect(await page.getByTestId('sign-out').textContent()).toBe('Sign out');
    const [lng, lat, zoom] = (before ?? '').split(',').map(Number);
    const center = await page.evaluate(() => { const m = window.wangge!.map; return { ...m.getCenter(), zoom: m.getZoom() }; });
    expect(center.lng).toBeCloseTo(lng!, 4);
    expect(center.lat).toBeCloseTo(lat!, 4);
    expect(center.zoom).toBeCloseTo(zoom!, 1);

    // sign-out revokes the session on the server and returns to the form
    const token = await page.evaluate(() => (JSON.parse(sessionStorage.getItem('wangge.session') ?? '{}') as { accessToken?: string }).accessToken);
    await page.getByTestId('sign-out').click();
    await page.waitForSelector('[data-testid="sign-in"]');
    expect(await page.evaluate(() => sessionStorage.getItem('wangge.session'))).toBeNull();
    expect((await fetch(`${web.baseUrl}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);

    expect(problems).toEqual([]);
    await page.close();
  });

  it('makes a user with a one-time password choose a new one before anything opens', async () => {
    const { oneTimePassword } = await createUser(web.tdb.db, { username: 'new-analyst', roles: ['analyst'], scope: { all: true, prefixes: [] } }, SYSTEM_ACTOR);
    const page = await web.newPage();
    const problems = watchProblems(page, { console: false, responses: false });
    await page.goto(web.baseUrl);
    await fillSignInForm(page, 'new-analyst', oneTimePassword!);
    await page.waitForSelector('[data-testid="change-password"]');
    expect(await page.getByTestId('menu').locator('button').count()).toBe(0);
    await page.getByTestId('sign-in-new-password').fill('Qz7#long-enough-pass');
    await page.getByTestId('change-password-submit').click();
    await page.waitForSelector('[data-testid="view-analysis"]');
    expect(await page.getByTestId('menu').locator('button').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-testid')))).toEqual(['menu-analysis']);
    // the new password is the one that works now
    const again = await web.signIn('new-analyst', 'Qz7#long-enough-pass');
    expect(again.user.mustChangePassword).toBe(false);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('serves the app for client-side routes but JSON 404s for unknown API paths', async () => {
    const html = await fetch(`${web.baseUrl}/editor/some/route`, { headers: { accept: 'text/html' } });
    expect(html.status).toBe(200);
    expect(await html.text()).toContain('<div id="app">');
    const api = await fetch(`${web.baseUrl}/api/v1/nope`);
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
