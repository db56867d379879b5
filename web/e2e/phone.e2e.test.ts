/**
 * The web app on a phone-sized screen (390×844): the map must stay large enough to click and the
 * panel must fit the width. With the desktop layout (a 360 px panel beside the map) the map was a
 * 30 px strip and a dispatcher's click landed outside every community.
 */
import { describe, expect, it } from 'vitest';
import type { DispatchResult } from '../../server/contracts/dispatch';
import type { GridCollection } from '../../server/contracts/grid';
import { screenshotPath } from '../../server/test/browser';
import { useWebApp, watchProblems } from '../../server/test/web-app';

const PHONE = { width: 390, height: 844 };

describe('web app on a phone-sized screen', () => {
  const web = useWebApp();

  it('shows a usable map above the panel, and a tap on the map looks up the grid there', async () => {
    const page = await web.newPage();
    await page.setViewportSize(PHONE);
    const problems = watchProblems(page);
    await web.openSignedIn(page, 'demo-dispatcher', { path: '/?view=dispatch', waitFor: '[data-testid="dispatch-view"]' });

    // the map is the full width and a good part of the height; the panel fits the width
    const map = (await page.locator('#map').boundingBox())!;
    const panel = (await page.locator('#panel').boundingBox())!;
    expect(map.width).toBe(PHONE.width);
    expect(map.height).toBeGreaterThanOrEqual(0.35 * PHONE.height);
    expect(map.y + map.height).toBeLessThanOrEqual(PHONE.height);
    expect(panel.width).toBe(PHONE.width);
    expect(panel.y).toBeGreaterThanOrEqual(map.y + map.height - 1);
    expect(panel.y).toBeLessThan(PHONE.height);
    // MapLibre's canvas follows its container
    const canvas = (await page.locator('#map canvas').boundingBox())!;
    expect(Math.round(canvas.width)).toBe(PHONE.width);
    // nothing is wider than the screen
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBe(PHONE.width);
    const search = (await page.getByTestId('dispatch-search').boundingBox())!;
    expect(search.x + search.width).toBeLessThanOrEqual(PHONE.width);

    // a tap inside a published grid answers with that grid
    const token = (await web.signIn('demo-dispatcher')).accessToken;
    const grids = await web.fetchJson<GridCollection>(token, '/api/v1/grids?limit=50');
    const grid = grids.features.find((g) => g.geometry.type === 'Polygon')!;
    const ring = ((grid.geometry.coordinates as number[][][])[0] ?? []).slice(0, -1);
    const lon = ring.reduce((s, p) => s + (p[0] ?? 0), 0) / ring.length;
    const lat = ring.reduce((s, p) => s + (p[1] ?? 0), 0) / ring.length;
    const truth = await web.fetchJson<DispatchResult>(token, `/api/v1/dispatch/lookup?lon=${lon}&lat=${lat}`);
    expect(truth.status).toBe('in_grid');
    await page.evaluate(({ lon, lat }) => window.wangge?.map.jumpTo({ center: [lon, lat], zoom: 16 }), { lon, lat });
    const pixel = await page.evaluate(({ lon, lat }) => window.wangge!.map.project([lon, lat]), { lon, lat });
    await page.mouse.click(map.x + pixel.x, map.y + pixel.y);
    await page.waitForSelector('[data-testid="dispatch-view"][data-lookup="done"]');
    await expect.poll(() => page.getByTestId('dispatch-result').getAttribute('data-grid-code')).toBe(truth.grid!.code);

    await page.screenshot({ path: screenshotPath('phone-dispatch') });
    expect(problems).toEqual([]);
    await page.close();
  });
});
