/**
 * The dispatch console in a real browser on the demo city: a dispatcher signs in, clicks a point and
 * sees the grid and on-duty staff the API itself answers for that point, picks an address suggestion,
 * files an event there, finds it in the list and works it through transitions.
 */
import { statSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DispatchResult } from '../../server/contracts/dispatch';
import type { Event, EventList, Timeline } from '../../server/contracts/events';
import type { GridCollection } from '../../server/contracts/grid';
import { screenshotPath } from '../../server/test/browser';
import { useWebApp, watchProblems } from '../../server/test/web-app';

describe('dispatch console in a real browser', () => {
  const web = useWebApp();
  let apiToken: string;
  const api = <T>(url: string): Promise<T> => web.fetchJson<T>(apiToken, url);

  beforeAll(async () => {
    apiToken = (await web.signIn('demo-dispatcher')).accessToken;
  });

  /** Signs in through the shell's form and waits for the dispatch view. */
  const openDispatch = (page: Page, query = 'view=dispatch'): Promise<void> =>
    web.openSignedIn(page, 'demo-dispatcher', { path: `/?${query}`, waitFor: '[data-testid="dispatch-view"]' });

  /** A point well inside a published grid: the grid's vertex average, checked against the API. */
  async function pointInsideAGrid(): Promise<{ lon: number; lat: number; answer: DispatchResult }> {
    const grids = await api<GridCollection>('/api/v1/grids?limit=50');
    for (const g of grids.features) {
      if (g.geometry.type !== 'Polygon') continue;
      const ring = ((g.geometry.coordinates as number[][][])[0] ?? []).slice(0, -1);
      const lon = ring.reduce((s, p) => s + (p[0] ?? 0), 0) / ring.length;
      const lat = ring.reduce((s, p) => s + (p[1] ?? 0), 0) / ring.length;
      const answer = await api<DispatchResult>(`/api/v1/dispatch/lookup?lon=${lon}&lat=${lat}`);
      if (answer.status === 'in_grid' && answer.grid?.code === g.properties.code && !answer.ambiguous && answer.onDuty.length > 0) return { lon, lat, answer };
    }
    throw new Error('no demo grid with an interior point and staff on duty');
  }

  it('click → grid and on-duty staff; address suggestion; file an event; work it through transitions', async () => {
    const page = await web.newPage();
    const problems = watchProblems(page);
    await openDispatch(page);

    // ---- click a point on the map ----
    const target = await pointInsideAGrid();
    await page.evaluate(({ lon, lat }) => window.wangge?.map.jumpTo({ center: [lon, lat], zoom: 16 }), target);
    const box = await page.locator('#map canvas').boundingBox();
    const pixel = await page.evaluate(({ lon, lat }) => window.wangge!.map.project([lon, lat]), target);
    await page.mouse.click(box!.x + pixel.x, box!.y + pixel.y);
    await page.waitForSelector('[data-testid="dispatch-view"][data-lookup="done"]');
    // the view looked up where it was clicked (the URL says where); the API's answer for that point is the truth
    const clicked = new URL(page.url()).searchParams;
    const truth = await api<DispatchResult>(`/api/v1/dispatch/lookup?lon=${clicked.get('lon')}&lat=${clicked.get('lat')}`);
    expect(Math.abs(Number(clicked.get('lon')) - target.lon)).toBeLessThan(1e-4);
    expect(truth.grid?.code).toBe(target.answer.grid?.code);
    expect(await page.getByTestId('dispatch-grid').textContent()).toBe(`${truth.grid!.name}（${truth.grid!.code}）`);
    expect(await page.getByTestId('dispatch-community').textContent()).toBe(`${truth.community!.name}（${truth.community!.code}）`);
    expect(await page.getByTestId('dispatch-street').textContent()).toBe(`${truth.street!.name}（${truth.street!.code}）`);
    const onDuty = await page.getByTestId('dispatch-onduty-person').locator('.wg-name').allTextContents();
    expect(onDuty).toEqual(truth.onDuty.map((p) => p.name));
    const phones = await page.getByTestId('dispatch-onduty-person').locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(phones).toEqual(truth.onDuty.filter((p) => p.phone).map((p) => `tel:${p.phone}`));
    expect(await page.getByTestId('dispatch-responder').textContent()).toContain(truth.responder!.name);
    const used = await page.getByTestId('dispatch-fallback').locator('li[data-outcome="used"]').getAttribute('data-step');
    expect(used).toBe(truth.fallback.find((f) => f.outcome === 'used')?.step);
    // why each step applied, in Chinese (the server's reason is English)
    const reasons = await page.getByTestId('dispatch-fallback').locator('li').evaluateAll((lis) => lis.map((li) => li.getAttribute('title') ?? ''));
    expect(reasons).toHaveLength(truth.fallback.length);
    for (const reason of reasons) expect(reason).toMatch(/^[^A-Za-z]*[\u4e00-\u9fff][^A-Za-z]*$/);
    // nor does the status line carry the server's English message as its tooltip in the Chinese UI
    expect(await page.getByTestId('dispatch-status').getAttribute('title')).toBeNull();
    // the grid is highlighted on the map
    await expect.poll(() => page.evaluate(() => window.wangge?.map.queryRenderedFeatures({ layers: ['dispatch-grid-fill'] }).length ?? 0)).toBeGreaterThan(0);
    const gridShot = screenshotPath('dispatch-lookup');
    await page.screenshot({ path: gridShot });
    expect(statSync(gridShot).size).toBeGreaterThan(5_000);

    // ---- type an address and pick a suggestion ----
    const typed = '幼儿园';
    const suggested = await api<{ candidates: Array<{ name: string; lon: number; lat: number; grid: { code: string } | null }> }>(
      `/api/v1/dispatch/lookup?address=${encodeURIComponent(typed)}&limit=8`,
    );
    expect(suggested.candidates.length).toBeGreaterThan(1);
    await page.getByTestId('dispatch-search').pressSequentially(typed, { delay: 60 });
    await expect.poll(() => page.getByTestId('dispatch-suggestion').count()).toBe(suggested.candidates.length);
    expect(await page.getByTestId('dispatch-suggestion').locator('strong').allTextContents()).toEqual(suggested.candidates.map((c) => c.name));
    const pick = suggested.candidates[1]!;
    const lookupsBefore = await page.getByTestId('dispatch-view').getAttribute('data-lookup');
    expect(lookupsBefore).toBe('done');
    await page.getByTestId('dispatch-suggestion').nth(1).click();
    await expect.poll(() => page.getByTestId('dispatch-result').getAttribute('data-grid-code')).toBe(pick.grid?.code);
    await expect.poll(() => Number(new URL(page.url()).searchParams.get('lon'))).toBeCloseTo(pick.lon, 5);

    // ---- file an event there ----
    const listedBefore = Number(await page.getByTestId('dispatch-view').getAttribute('data-events'));
    await page.getByTestId('dispatch-file-open').click();
    // no category is chosen for the dispatcher: the form is refused until one is picked
    expect(await page.getByTestId('dispatch-file-category').inputValue()).toBe('');
    await page.getByTestId('dispatch-file-description').fill('楼上漏水，邻里协商未果');
    await page.getByTestId('dispatch-file-submit').click();
    expect(await page.getByTestId('dispatch-file-category').evaluate((s) => (s as HTMLSelectElement).validity.valueMissing)).toBe(true);
    expect(await page.getByTestId('dispatch-file-submit').isVisible()).toBe(true);
    await page.getByTestId('dispatch-file-category').selectOption('dispute.neighbour');
    await page.getByTestId('dispatch-file-channel').selectOption('hotline');
    await page.getByTestId('dispatch-file-description').fill('楼上漏水，邻里协商未果');
    await page.getByTestId('dispatch-file-submit').click();
    await expect.poll(() => page.getByTestId('dispatch-notice').textContent()).toMatch(/已上报，事件编号 \d+/);
    const id = Number(/(\d+)/.exec((await page.getByTestId('dispatch-notice').textContent()) ?? '')?.[1]);
    const stored = await api<Event>(`/api/v1/events/${id}`);
    expect(stored.routing.gridCode).toBe(pick.grid?.code);
    expect(stored.category.code).toBe('dispute.neighbour');
    expect(stored.category.name).toBe('邻里纠纷');
    expect(stored.category.nameEn).toBe('Neighbour dispute');
    expect(stored.channel).toBe('hotline');
    await expect.poll(() => page.locator(`[data-testid="dispatch-event"][data-event-id="${id}"]`).count()).toBe(1);
    // the list is the API's first page of open events (the demo city has more than a page): ours is on it
    const firstPage = await api<EventList>('/api/v1/events?state=reported,accepted,dispatched,in_progress,resolved,verified&limit=50');
    expect(firstPage.items.map((e) => e.id)).toContain(id);
    expect(Number(await page.getByTestId('dispatch-view').getAttribute('data-events'))).toBe(Math.min(listedBefore + 1, 50));
    expect(Number(await page.getByTestId('dispatch-view').getAttribute('data-events'))).toBe(firstPage.items.length);
    const row = page.locator(`[data-testid="dispatch-event"][data-event-id="${id}"]`);
    // the Chinese view names the category in Chinese
    expect(await row.locator('.wg-event-cat').textContent()).toBe('邻里纠纷');
    expect(await row.getAttribute('data-deadline')).toBe('on_time');
    // the detail opens once the view has the event's timeline (a request after the list shows the row): wait for it
    await expect.poll(() => page.getByTestId('dispatch-event-detail').getAttribute('data-event-id')).toBe(String(id));

    // ---- transitions: the server's allowed actions are the buttons ----
    const buttons = await page.getByTestId('dispatch-actions').locator('button').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-testid')));
    expect(buttons).toEqual(stored.allowedActions.map((a) => `dispatch-action-${a}`));
    await page.getByTestId('dispatch-action-accept').click();
    await expect.poll(() => page.getByTestId('dispatch-event-detail').getAttribute('data-state')).toBe('accepted');
    expect((await api<Event>(`/api/v1/events/${id}`)).state).toBe('accepted');
    // dispatch needs a person: the form offers the grid's staff, the responsible one preselected
    await page.getByTestId('dispatch-action-dispatch').click();
    await expect.poll(() => page.getByTestId('dispatch-field-staff').locator('option').count()).toBeGreaterThan(1);
    await page.getByTestId('dispatch-field-note').fill('请尽快上门');
    await page.getByTestId('dispatch-action-confirm').click();
    await expect.poll(() => page.getByTestId('dispatch-event-detail').getAttribute('data-state')).toBe('dispatched');
    const after = await api<Event>(`/api/v1/events/${id}`);
    expect(after.state).toBe('dispatched');
    expect(after.assignee.staffId).toBe(stored.routing.responsibleStaff?.id);
    const timeline = await api<Timeline>(`/api/v1/events/${id}/timeline`);
    expect(await page.getByTestId('dispatch-timeline').locator('li').evaluateAll((ls) => ls.map((l) => l.getAttribute('data-action')))).toEqual(
      timeline.transitions.map((tr) => tr.action),
    );
    expect(await page.getByTestId('dispatch-timeline').textContent()).toContain('请尽快上门');
    expect(await row.getAttribute('data-state')).toBe('dispatched');

    // ---- filters: overdue only hides the fresh event; the state filter finds it ----
    await page.getByTestId('dispatch-filter-overdue').check();
    await expect.poll(() => page.locator(`[data-testid="dispatch-event"][data-event-id="${id}"]`).count()).toBe(0);
    await page.getByTestId('dispatch-filter-overdue').uncheck();
    await page.getByTestId('dispatch-filter-state').selectOption('dispatched');
    // every row is a dispatched event, exactly those the API lists as dispatched (the demo city's and ours)
    const dispatched = await api<EventList>('/api/v1/events?state=dispatched&limit=50');
    expect(dispatched.items.map((e) => e.id)).toContain(id);
    await expect.poll(() => page.getByTestId('dispatch-event').evaluateAll((ls) => ls.map((l) => `${l.getAttribute('data-event-id')}:${l.getAttribute('data-state')}`))).toEqual(
      dispatched.items.map((e) => `${e.id}:dispatched`),
    );
    expect(new URL(page.url()).searchParams.get('state')).toBe('dispatched');

    const shot = screenshotPath('dispatch-console');
    await page.screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(5_000);

    // ---- the language switch keeps the view's state (it lives in the URL) ----
    await page.getByTestId('lang-switch').click();
    await expect.poll(() => page.getByTestId('dispatch-file-open').textContent()).toBe('File an event here');
    // in the English UI the status line's tooltip is the server's own explanation
    expect(await page.getByTestId('dispatch-status').getAttribute('title')).toMatch(/^Inside grid [0-9]+ /);
    await expect.poll(() => page.getByTestId('dispatch-event-detail').getAttribute('data-event-id')).toBe(String(id));
    expect(await page.getByTestId('dispatch-filter-state').inputValue()).toBe('dispatched');
    // categories by their English names: the list row, and the filter's options
    expect(await page.locator(`[data-testid="dispatch-event"][data-event-id="${id}"] .wg-event-cat`).textContent()).toBe('Neighbour dispute');
    expect(await page.locator('select option[value="dispute.neighbour"]').first().textContent()).toBe('Neighbour dispute');

    expect(problems).toEqual([]);
    await page.close();
  });

  it('explains a boundary point, the nearest grid just outside, and a point outside every community; the URL restores a lookup', async () => {
    const grids = await api<GridCollection>('/api/v1/grids?limit=1000');
    const rings = new Map(grids.features.filter((g) => g.geometry.type === 'Polygon').map((g) => [g.properties.code ?? '', ((g.geometry.coordinates as number[][][])[0] ?? []).slice(0, -1)]));
    // a vertex shared by two grids: on the boundary, so ambiguous by the API's own answer
    const seen = new Map<string, string>();
    let shared: { lon: number; lat: number } | undefined;
    for (const [code, ring] of rings) {
      for (const [lon, lat] of ring as Array<[number, number]>) {
        const key = `${lon},${lat}`;
        const other = seen.get(key);
        if (other && other !== code) {
          const a = await api<DispatchResult>(`/api/v1/dispatch/lookup?lon=${lon}&lat=${lat}`);
          if (a.ambiguous) shared = { lon, lat };
        }
        seen.set(key, code);
        if (shared) break;
      }
      if (shared) break;
    }
    expect(shared).toBeDefined();
    const boundary = await api<DispatchResult>(`/api/v1/dispatch/lookup?lon=${shared!.lon}&lat=${shared!.lat}`);

    const page = await web.newPage();
    const problems = watchProblems(page, { responses: false });
    // the lookup is in the URL, so a shared link opens on it
    await openDispatch(page, `view=dispatch&lon=${shared!.lon}&lat=${shared!.lat}`);
    await page.waitForSelector('[data-testid="dispatch-view"][data-lookup="done"]');
    expect(await page.getByTestId('dispatch-ambiguous').textContent()).toBe(
      `该点位于网格共用边界上，按规则归入 ${boundary.grid!.name} ${boundary.grid!.code}；其他候选：${boundary.candidates.map((c) => `${c.name} ${c.code}`).join('、')}`,
    );
    expect(await page.getByTestId('dispatch-result').getAttribute('data-grid-code')).toBe(boundary.grid!.code);

    const click = async (lon: number, lat: number): Promise<DispatchResult> => {
      await page.evaluate(({ lon, lat }) => window.wangge?.map.jumpTo({ center: [lon, lat], zoom: 17 }), { lon, lat });
      const box = await page.locator('#map canvas').boundingBox();
      const answer = page.waitForResponse((r) => r.url().includes('/api/v1/dispatch/lookup?lon='));
      await page.mouse.click(box!.x + box!.width / 2, box!.y + box!.height / 2);
      return (await (await answer).json()) as DispatchResult;
    };
    // just west of the westernmost grid: the nearest grid answers, with its distance
    const all = [...rings.values()].flat();
    const west = Math.min(...all.map((p) => p[0] ?? Infinity));
    const westPoint = all.find((p) => p[0] === west)!;
    const near = await click(west - 0.0003, westPoint[1]!);
    // ~27 m west of the westernmost vertex: within the default 100 m of a grid
    expect(near.status).toBe('nearest_grid');
    await expect.poll(() => page.getByTestId('dispatch-status').textContent()).toBe(`不在任何网格内，按最近网格（${Math.round(near.grid!.distanceM)} 米）处理`);
    expect(await page.getByTestId('dispatch-result').getAttribute('data-grid-code')).toBe(near.grid!.code);
    // far outside the demo city: said plainly, and nothing to file
    const far = await click(west - 0.2, westPoint[1]!);
    expect(far.status).toBe('outside');
    await expect.poll(() => page.getByTestId('dispatch-status').textContent()).toBe('该位置不在任何社区范围内');
    expect(await page.getByTestId('dispatch-file-open').count()).toBe(0);
    expect(await page.getByTestId('dispatch-grid').textContent()).toBe('无');

    // an address that matches nothing, entered: said in place of the older result, which is gone
    await page.getByTestId('dispatch-search').fill('火星基地九九九号');
    await page.getByTestId('dispatch-search').press('Enter');
    await expect.poll(() => page.getByTestId('dispatch-no-match').textContent()).toBe('没有与“火星基地九九九号”匹配的地址：请换个说法，或在地图上点选位置');
    expect(await page.getByTestId('dispatch-status').count()).toBe(0);
    expect(await page.getByTestId('dispatch-file-open').count()).toBe(0);
    expect(new URL(page.url()).searchParams.get('lon')).toBeNull();
    expect(problems).toEqual([]);
    await page.close();
  });
});
