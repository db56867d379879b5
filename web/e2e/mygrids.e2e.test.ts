/**
 * My grids in a real browser on the demo city: the demo grid worker (scoped to one grid) signs in and
 * gets the view with that grid chosen and shown on the map; the residents the registry API lists for
 * the grid, ID numbers and phones masked; a name search; an event filed in the grid shows up among the
 * open events, and an action applied from its detail is the state the server then reports.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Me } from '../../server/contracts/auth';
import type { Event } from '../../server/contracts/events';
import type { GridAtResult, GridCollection, GridFeature } from '../../server/contracts/grid';
import type { Resident } from '../../server/contracts/registry';
import { screenshotPath } from '../../server/test/browser';
import { useWebApp, watchProblems } from '../../server/test/web-app';

/** Masked as the registry sends them: a 6-digit region, 8 stars, the last 4; a phone's 3 + 4 stars + 4. */
const MASKED_ID = /^[0-9]{6}\*{8}[0-9]{3}[0-9X]$/;
const MASKED_PHONE = /^1[0-9]{2}\*{4}[0-9]{4}$/;

describe('my grids (grid worker) in a real browser', () => {
  const web = useWebApp();
  let workerToken: string;
  let me: Me;
  let grid: GridFeature;
  const asWorker = <T>(url: string): Promise<T> => web.fetchJson<T>(workerToken, url);

  beforeAll(async () => {
    const session = await web.signIn('demo-grid-worker');
    workerToken = session.accessToken;
    me = session.user;
    const grids = await web.fetchJson<GridCollection>(workerToken, '/api/v1/grids?limit=5000');
    grid = grids.features.find((g) => g.properties.code === me.scope.prefixes[0])!;
    expect(grid).toBeDefined();
  });

  /** A point inside the grid: its vertex average, checked against the API's own point-in-grid answer. */
  async function pointInGrid(): Promise<[number, number]> {
    const ring = ((grid.geometry.coordinates as number[][][])[0] ?? []).slice(0, -1);
    const lon = ring.reduce((s, p) => s + (p[0] ?? 0), 0) / ring.length;
    const lat = ring.reduce((s, p) => s + (p[1] ?? 0), 0) / ring.length;
    const at = await web.fetchJson<GridAtResult>(workerToken, `/api/v1/grids/at?lon=${lon}&lat=${lat}`);
    expect(at.grid?.properties.code).toBe(grid.properties.code);
    return [lon, lat];
  }

  const names = (page: Page): Promise<string[]> => page.getByTestId('mygrids-resident').locator('.wg-resident-name').allTextContents();

  it("lists the grid's masked residents, searches them by name, and works an open event of the grid", async () => {
    // An event in the worker's grid, filed by the dispatcher (scoped to the district).
    const dispatcher = (await web.signIn('demo-dispatcher')).accessToken;
    const filed = await web.fetchJson<Event>(dispatcher, '/api/v1/events', {
      method: 'POST',
      headers: { 'idempotency-key': 'mygrids-e2e-1' },
      body: JSON.stringify({ location: { type: 'Point', coordinates: await pointInGrid() }, category: 'dispute.neighbour', channel: 'patrol', description: '楼道堆放杂物，影响通行' }),
    });
    expect(filed.routing.gridCode).toBe(grid.properties.code);
    expect(filed.state).toBe('reported');
    const truth = await asWorker<{ items: Resident[]; next: number | null }>(`/api/v1/residents?grid=${grid.properties.code}&limit=50`);
    expect(truth.items.length).toBeGreaterThan(5);

    const page = await web.newPage();
    const problems = watchProblems(page);
    await web.openSignedIn(page, 'demo-grid-worker', { waitFor: '[data-testid="mygrids-view"]' });
    // the grid worker's menu is this view, no longer "your role has no views"
    expect(await page.getByTestId('menu').locator('button').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-testid')))).toEqual(['menu-mygrids']);
    expect(await page.getByTestId('menu-mygrids').textContent()).toBe('我的网格');

    // ---- the one grid of the scope is chosen by itself and shown on the map ----
    await expect.poll(() => page.getByTestId('mygrids-view').getAttribute('data-grid')).toBe(grid.properties.code);
    expect(await page.getByTestId('mygrids-grid').inputValue()).toBe(grid.properties.code);
    await expect.poll(() => page.evaluate(() => window.wangge?.map.queryRenderedFeatures({ layers: ['dispatch-grid-line'] }).length ?? 0)).toBeGreaterThan(0);
    const [lon, lat] = await pointInGrid();
    expect(await page.evaluate(([x, y]) => window.wangge!.map.getBounds().contains([x!, y!]), [lon, lat])).toBe(true);
    // buildings and households counted as the registry lists them for the grid
    const buildings = await asWorker<{ items: unknown[]; next: number | null }>(`/api/v1/buildings?grid=${grid.properties.code}&limit=500`);
    const households = await asWorker<{ items: unknown[]; next: number | null }>(`/api/v1/households?grid=${grid.properties.code}&limit=500`);
    expect(buildings.items.length).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('mygrids-buildings').textContent()).toBe(`楼栋 ${buildings.items.length}${buildings.next === null ? '' : '+'} 栋`);
    expect(await page.getByTestId('mygrids-households').textContent()).toBe(`住户 ${households.items.length}${households.next === null ? '' : '+'} 户`);

    // who is on duty now and the grid's staff, as the API answers
    const duty = await asWorker<{ onDuty: { name: string } | null }>(`/api/v1/grids/${grid.properties.code}/on-duty`);
    if (duty.onDuty) await expect.poll(() => page.getByTestId('mygrids-onduty').locator('.wg-name').textContent()).toBe(duty.onDuty.name);
    else await expect.poll(() => page.getByTestId('mygrids-onduty-none').count()).toBe(1);
    const members = await asWorker<{ members: Array<{ name: string }> }>(`/api/v1/grids/${grid.id}/members`);
    expect(members.members.length).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('mygrids-staff-person').locator('.wg-name').allTextContents()).toEqual(members.members.map((m) => m.name));

    // ---- residents: the API's list for the grid, masked ----
    await expect.poll(() => page.getByTestId('mygrids-view').getAttribute('data-residents')).toBe(String(truth.items.length));
    expect(await names(page)).toEqual(truth.items.map((r) => r.name));
    const ids = await page.getByTestId('mygrids-resident-id').allTextContents();
    expect(ids).toEqual(truth.items.map((r) => r.idNumber));
    for (const id of ids) expect(id).toMatch(MASKED_ID);
    const phones = await page.getByTestId('mygrids-resident-phone').allTextContents();
    expect(phones.length).toBeGreaterThan(0);
    for (const phone of phones) expect(phone).toMatch(MASKED_PHONE);
    // no full 18-digit ID number anywhere on the page
    expect(await page.locator('body').textContent()).not.toMatch(/[0-9]{17}[0-9X]/);

    // ---- search by name ----
    const wanted = truth.items[3]!.name;
    const found = await asWorker<{ items: Resident[] }>(`/api/v1/residents?grid=${grid.properties.code}&q=${encodeURIComponent(wanted)}&limit=50`);
    expect(found.items.length).toBeLessThan(truth.items.length);
    await page.getByTestId('mygrids-resident-search').fill(wanted);
    await page.getByTestId('mygrids-resident-search').press('Enter');
    await expect.poll(() => names(page)).toEqual(found.items.map((r) => r.name));
    expect(await names(page)).toContain(wanted);
    expect(new URL(page.url()).searchParams.get('q')).toBe(wanted);

    // ---- the grid's open events; an action applied is the state the server reports ----
    const row = page.locator(`[data-testid="mygrids-event"][data-event-id="${filed.id}"]`);
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.getAttribute('data-state')).toBe('reported');
    expect(await row.getAttribute('data-deadline')).toBe('on_time');
    const listed = await asWorker<{ items: Event[] }>(`/api/v1/events?grid=${grid.properties.code}&state=reported,accepted,dispatched,in_progress,resolved,verified&format=json`);
    expect(Number(await page.getByTestId('mygrids-view').getAttribute('data-events'))).toBe(listed.items.length);
    await row.click();
    await expect.poll(() => page.getByTestId('mygrids-event-detail').getAttribute('data-event-id')).toBe(String(filed.id));
    const buttons = await page.getByTestId('mygrids-actions').locator('button').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-testid')));
    // The buttons are the actions the server offers this caller (a grid worker accepts; rejecting,
    // dispatching, transferring and amending are supervisors' and not offered).
    const offered = (await asWorker<Event>(`/api/v1/events/${filed.id}`)).allowedActions;
    expect(offered).toContain('accept');
    expect(offered).not.toContain('dispatch');
    expect(buttons).toEqual(offered.map((a) => `mygrids-action-${a}`));
    await page.getByTestId('mygrids-action-accept').click();
    await expect.poll(() => page.getByTestId('mygrids-event-detail').getAttribute('data-state')).toBe('accepted');
    expect((await asWorker<Event>(`/api/v1/events/${filed.id}`)).state).toBe('accepted');
    expect(await row.getAttribute('data-state')).toBe('accepted');
    expect(await page.getByTestId('mygrids-timeline').locator('li').evaluateAll((ls) => ls.map((l) => l.getAttribute('data-action')))).toEqual(['report', 'accept']);

    await page.screenshot({ path: screenshotPath('mygrids') });

    // ---- English keeps the grid, the search and the open event (all in the URL) ----
    await page.getByTestId('lang-switch').click();
    await expect.poll(() => page.getByTestId('menu-mygrids').textContent()).toBe('My grids');
    await expect.poll(() => page.getByTestId('mygrids-view').getAttribute('data-grid')).toBe(grid.properties.code);
    await expect.poll(() => names(page)).toEqual(found.items.map((r) => r.name));
    await expect.poll(() => page.getByTestId('mygrids-event-detail').getAttribute('data-state')).toBe('accepted');
    await expect.poll(() => page.getByTestId('mygrids-buildings').textContent()).toMatch(/^\d+\+? buildings$/);

    // ---- on a phone: nothing wider than the screen ----
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBe(390);
    await page.screenshot({ path: screenshotPath('mygrids-phone') });

    expect(problems).toEqual([]);
    await page.close();
  });
  it('brings the case file into view when a row of a long event list is clicked', { timeout: 120_000 }, async () => {
    // More open events than fit on a screen: the detail sits below the list.
    const dispatcher = (await web.signIn('demo-dispatcher')).accessToken;
    const at = await pointInGrid();
    for (let i = 0; i < 24; i++) {
      await web.fetchJson<Event>(dispatcher, '/api/v1/events', {
        method: 'POST',
        headers: { 'idempotency-key': `mygrids-e2e-long-${i}` },
        body: JSON.stringify({ location: { type: 'Point', coordinates: at }, category: 'dispute.neighbour', channel: 'hotline', description: `第${i}件：楼道堆放杂物` }),
      });
    }
    const page = await web.newPage();
    const problems = watchProblems(page);
    await web.openSignedIn(page, 'demo-grid-worker', { waitFor: '[data-testid="mygrids-view"]' });
    await expect.poll(async () => Number(await page.getByTestId('mygrids-view').getAttribute('data-events'))).toBeGreaterThanOrEqual(24);
    const detail = page.getByTestId('mygrids-event-detail');
    const inView = (): Promise<boolean> => detail.evaluate((e) => { const r = e.getBoundingClientRect(); return r.height > 0 && r.top >= 0 && r.top < window.innerHeight; });
    // the case file starts below the fold
    expect(await page.getByTestId('mygrids-events').evaluate((e) => e.getBoundingClientRect().bottom > window.innerHeight)).toBe(true);
    const first = page.getByTestId('mygrids-event').first();
    const id = await first.getAttribute('data-event-id');
    await first.click();
    await expect.poll(() => detail.getAttribute('data-event-id')).toBe(id);
    await expect.poll(inView).toBe(true);
    // on a phone too (the panel below the map scrolls)
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId('mygrids-detail-close').click();
    await page.getByTestId('mygrids-event').nth(2).click();
    await expect.poll(() => detail.getAttribute('data-event-id')).toBe(await page.getByTestId('mygrids-event').nth(2).getAttribute('data-event-id'));
    await expect.poll(inView).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });
});
