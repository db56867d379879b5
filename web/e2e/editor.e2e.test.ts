/**
 * The grid editor end to end on the demo city, in real headless Chromium against the real server:
 * a planner signs in, opens a community, starts an empty draft, draws a grid by clicking on the map
 * (closing the ring on its first vertex) that sticks out of the community, saves it, sees the
 * "outside" problem, fixes it with the server's clip, publishes after the impact preview, and the
 * published layout served by the API holds that grid. Also: undo/redo, language switch, screenshots,
 * no console errors.
 */
import { statSync } from 'node:fs';
import { bbox, pointOnFeature } from '@turf/turf';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DivisionDetail } from '../../server/contracts/division';
import type { LayoutCollection, LayoutListSchema } from '../../server/contracts/layout';
import type { Static } from 'typebox';
import type { MultiPolygon, Polygon } from 'geojson';
import { screenshotPath } from '../../server/test/browser';
import { fillSignInForm, useWebApp, watchProblems } from '../../server/test/web-app';

/** Server round trips plus software rendering on a shared two-core machine: generous waits. */
const SLOW = { timeout: 20_000 };

describe('grid editor in a real browser', () => {
  const web = useWebApp();
  let token: string;
  const api = <T>(url: string): Promise<T> => web.fetchJson<T>(token, url);

  beforeAll(async () => {
    token = (await web.signIn('demo-planner')).accessToken;
  });

  it('draws, validates, fixes, saves and publishes a grid; undo/redo; language switch; no console errors', { timeout: 180_000 }, async () => {
    const page = await web.newPage();
    const problems = watchProblems(page);
    await web.openSignedIn(page, 'demo-planner', { waitFor: '[data-testid="signed-in-user"]', timeout: 30_000 });
    await page.waitForSelector('[data-testid="view-editor"]');

    // the demo city's only district and only street are chosen for the planner; the first community
    await expect.poll(() => page.getByTestId('pick-street').inputValue(), { timeout: 15_000 }).not.toBe('');
    const pickCommunity = page.getByTestId('pick-community');
    await expect.poll(() => pickCommunity.locator('option').count(), { timeout: 15_000 }).toBeGreaterThan(1);
    await pickCommunity.selectOption({ index: 1 });
    const community = await page.getByTestId('pick-community').inputValue();
    expect(community).toMatch(/^[0-9]{12}$/);
    await page.waitForSelector('body[data-editor-revision]');
    await expect.poll(() => new URL(page.url()).searchParams.get('community'), SLOW).toBe(community);
    await page.screenshot({ path: screenshotPath('editor-published-layout') });
    // a legend on the map says what the building colours and the grid tints mean (UX review finding 6)
    const legend = page.getByTestId('editor-legend');
    expect(await legend.locator('h4').allTextContents()).toEqual(['楼栋户数', '网格户数']);
    expect(await legend.locator('li').allTextContents()).toEqual(['少于 3 户或未公开', '10', '40', '≥ 100', '在目标范围内', '偏少', '偏多', '未知']);
    const legendBox = (await legend.boundingBox())!;
    const mapArea = (await page.locator('#map').boundingBox())!;
    expect(legendBox.x).toBeGreaterThanOrEqual(mapArea.x);
    expect(legendBox.y + legendBox.height).toBeLessThanOrEqual(mapArea.y + mapArea.height);
    expect(legendBox.y).toBeGreaterThanOrEqual(mapArea.y);

    // an empty draft
    const revision = async (): Promise<number> => Number(await page.evaluate(() => document.body.dataset.editorRevision ?? 0));
    let seen = await revision();
    await page.getByTestId('new-empty-draft').click();
    await expect.poll(revision, SLOW).toBeGreaterThan(seen);
    expect(await page.getByTestId('layout-select').locator('option:checked').textContent()).toContain('草稿');

    // draw a rectangle sticking out of the community's west side, by clicks on the map
    const detail = await api<DivisionDetail>(`/api/v1/divisions/${community}`);
    const [w, s, e, n] = bbox(detail.boundary as Polygon | MultiPolygon);
    const ring: Array<[number, number]> = [
      [w - 0.15 * (e - w), s + 0.35 * (n - s)],
      [w + 0.35 * (e - w), s + 0.35 * (n - s)],
      [w + 0.35 * (e - w), s + 0.65 * (n - s)],
      [w - 0.15 * (e - w), s + 0.65 * (n - s)],
    ];
    await page.evaluate(([west, south, east, north]) => window.wangge?.map.fitBounds([[west! - (east! - west!) * 0.3, south!], [east!, north!]], { duration: 0, padding: 40 }), [w, s, e, n]);
    await page.getByTestId('tool-draw').click();
    const mapBox = (await page.locator('#map').boundingBox())!;
    const screen = async (p: [number, number]): Promise<{ x: number; y: number }> => {
      const px = await page.evaluate((ll) => window.wangge!.map.project(ll), p);
      return { x: mapBox.x + px.x, y: mapBox.y + px.y };
    };
    for (const p of [...ring, ring[0]!]) {
      const { x, y } = await screen(p);
      await page.mouse.move(x, y, { steps: 3 });
      await page.mouse.click(x, y);
      await page.waitForTimeout(150);
    }
    await page.waitForSelector('[data-testid="pending"]');
    seen = await revision();
    await page.getByTestId('save').click();
    await expect.poll(revision, SLOW).toBeGreaterThan(seen);

    // the report shows the part outside the community as an error; publishing is blocked
    await page.waitForSelector('[data-testid="problem-outside"]');
    expect(await page.getByTestId('validation-summary').textContent()).toBe('存在错误，不能发布');
    expect(await page.getByTestId('publish').isDisabled()).toBe(true);
    const draftId = Number(new URL(page.url()).searchParams.get('layout'));
    const drawn = await api<LayoutCollection>(`/api/v1/layouts/${draftId}`);
    expect(drawn.features).toHaveLength(1);
    const drawnArea = drawn.features[0]!.properties.areaM2;

    // clicking the problem zooms to it and highlights it
    const zoomBefore = await page.evaluate(() => window.wangge!.map.getZoom());
    await page.locator('[data-testid="problem-outside"] button.link').click();
    await expect.poll(() => page.evaluate(() => window.wangge!.map.getZoom()), SLOW).toBeGreaterThan(zoomBefore);
    await expect.poll(() => page.evaluate(() => window.wangge!.map.queryRenderedFeatures({ layers: ['editor-problem-fill'] }).length), SLOW).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('editor-problem') });

    // undo (button) removes the grid, redo (Ctrl+Y) brings it back (under a new id)
    seen = await revision();
    await page.getByTestId('tool-undo').click();
    await expect.poll(revision, SLOW).toBeGreaterThan(seen);
    expect((await api<LayoutCollection>(`/api/v1/layouts/${draftId}`)).features).toHaveLength(0);
    // redo with the keyboard shortcut
    seen = await revision();
    await page.keyboard.press('Control+y');
    await expect.poll(revision, SLOW).toBeGreaterThan(seen);
    expect((await api<LayoutCollection>(`/api/v1/layouts/${draftId}`)).features).toHaveLength(1);

    // fix: clip to the community boundary (the server's clip is the final word)
    seen = await revision();
    await page.locator('[data-testid="problem-outside"] button.small').click();
    await expect.poll(revision, SLOW).toBeGreaterThan(seen);
    expect(await page.getByTestId('problem-outside').count()).toBe(0);
    expect(await page.getByTestId('validation-summary').textContent()).toBe('可以发布');
    // the balance panel has a bar for the grid
    expect(await page.getByTestId('balance').locator('.balance-row').count()).toBe(1);

    // publish after the impact preview
    await page.getByTestId('publish').click();
    await page.waitForSelector('[data-testid="impact"]');
    expect(await page.getByTestId('impact').textContent()).toContain('将调整所属网格');
    await page.screenshot({ path: screenshotPath('editor-impact') });
    // "publish now" and "cancel" are apart, not touching (UX review finding 14)
    const confirmBox = await page.getByTestId('publish-confirm').boundingBox();
    const cancelBox = await page.getByTestId('publish-cancel').boundingBox();
    expect(cancelBox!.x - (confirmBox!.x + confirmBox!.width)).toBeGreaterThanOrEqual(10);
    seen = await revision();
    await page.getByTestId('publish-confirm').click();
    await expect.poll(revision, SLOW).toBeGreaterThan(seen);
    // the planner is told it is published (not the generic "saved" every edit ends with)
    await expect.poll(() => page.getByTestId('editor-message').textContent(), SLOW).toMatch(/^已发布：/);

    // the API serves the published layout with the drawn, clipped grid
    const { layouts } = await api<Static<typeof LayoutListSchema>>(`/api/v1/communities/${community}/layouts`);
    const published = layouts.find((l) => l.status === 'published');
    expect(published?.id).toBe(draftId);
    const result = await api<LayoutCollection>(`/api/v1/layouts/${draftId}`);
    expect(result.features).toHaveLength(1);
    const grid = result.features[0]!;
    expect(grid.properties.code).toMatch(new RegExp(`^${community}[0-9]{3}$`));
    expect(grid.properties.areaM2).toBeLessThan(drawnArea);
    const inside: [number, number] = [w + 0.2 * (e - w), s + 0.5 * (n - s)];
    const at = await api<{ grid: { id: number } | null }>(`/api/v1/grids/at?lon=${inside[0]}&lat=${inside[1]}`);
    expect(at.grid?.id).toBe(grid.id);

    // language switch: the editor comes back in English with the same community and layout
    await page.getByTestId('lang-switch').click();
    await expect.poll(() => page.getByTestId('editor-layouts').locator('h3').textContent(), SLOW).toBe('Layouts');
    expect(await page.getByTestId('pick-community').inputValue()).toBe(community);
    await page.screenshot({ path: screenshotPath('editor-english') });
    expect(statSync(screenshotPath('editor-english')).size).toBeGreaterThan(5_000);

    expect(problems).toEqual([]);
    await page.close();
  });

  it('splits a grid by a drawn line, merges the parts back, and resolves a save conflict by keeping the own change', { timeout: 180_000 }, async () => {
    const page = await web.newPage();
    const problems = watchProblems(page);
    // a copy of the published layout of the demo's first community, opened through the URL
    const { items: districts } = await api<{ items: Array<{ code: string }> }>('/api/v1/divisions');
    const { items: streets } = await api<{ items: Array<{ code: string }> }>(`/api/v1/divisions?parent=${districts[0]!.code}`);
    const { items: communities } = await api<{ items: Array<{ code: string }> }>(`/api/v1/divisions?parent=${streets[0]!.code}`);
    const community = communities[communities.length - 1]!.code;
    await page.goto(`${web.baseUrl}/?view=editor&community=${community}`);
    await fillSignInForm(page, 'demo-planner');
    await page.waitForSelector('[data-testid="signed-in-user"]');
    await page.waitForSelector('body[data-editor-revision]');
    const revision = async (): Promise<number> => Number(await page.evaluate(() => document.body.dataset.editorRevision ?? 0));
    let seen = await revision();
    await page.getByTestId('new-draft').click();
    await expect.poll(revision, SLOW).toBeGreaterThan(seen);
    const draftId = Number(new URL(page.url()).searchParams.get('layout'));
    const copy = await api<LayoutCollection>(`/api/v1/layouts/${draftId}`);
    expect(copy.features.length).toBeGreaterThan(0);
    const target = [...copy.features].sort((a, b) => b.properties.areaM2 - a.properties.areaM2)[0]!;
    const [w, s, e, n] = bbox(target.geometry as Polygon | MultiPolygon);
    await page.evaluate(([west, south, east, north]) => window.wangge?.map.fitBounds([[west!, south!], [east!, north!]], { duration: 0, padding: 120 }), [w, s, e, n]);
    await page.waitForTimeout(300);
    // Each grid is labelled once (a label point per grid), not once per internal tile it touches ("003 003").
    const labelIds = (): Promise<number[]> => page.evaluate(() => window.wangge!.map.queryRenderedFeatures({ layers: ['editor-grids-label'] }).map((f) => f.properties.id as number));
    await expect.poll(async () => (await labelIds()).includes(target.id), SLOW).toBe(true);
    const shown = await labelIds();
    expect(shown.length, `labels ${shown.join(',')}`).toBe(new Set(shown).size);
    const mapBox = (await page.locator('#map').boundingBox())!;
    const screen = async (p: [number, number]): Promise<{ x: number; y: number }> => {
      const px = await page.evaluate((ll) => window.wangge!.map.project(ll), p);
      return { x: mapBox.x + px.x, y: mapBox.y + px.y };
    };
    const click = async (p: [number, number], shift = false): Promise<void> => {
      const { x, y } = await screen(p);
      if (shift) await page.keyboard.down('Shift');
      await page.mouse.click(x, y);
      if (shift) await page.keyboard.up('Shift');
      await page.waitForTimeout(150);
    };

    // select the grid by clicking it, then split it with a line drawn across it (finish on the last point)
    const cy = s + 0.5 * (n - s);
    await click([w + 0.5 * (e - w), cy]);
    await expect.poll(() => new URL(page.url()).searchParams.get('grid'), SLOW).toBe(String(target.id));
    await page.getByTestId('tool-split').click();
    await click([w - 0.1 * (e - w), cy + 0.013 * (n - s)]);
    await click([e + 0.1 * (e - w), cy - 0.011 * (n - s)]);
    seen = await revision();
    await click([e + 0.1 * (e - w), cy - 0.011 * (n - s)]);
    await expect.poll(revision, SLOW).toBeGreaterThan(seen);
    const split = await api<LayoutCollection>(`/api/v1/layouts/${draftId}`);
    expect(split.features).toHaveLength(copy.features.length + 1);
    const kept = split.features.find((f) => f.id === target.id)!;
    expect(kept.properties.areaM2).toBeLessThan(target.properties.areaM2 * 0.75);

    // select both halves (shift-click) and merge them back into one grid with the old area
    await click([w + 0.5 * (e - w), s + 0.25 * (n - s)]);
    await click([w + 0.5 * (e - w), s + 0.75 * (n - s)], true);
    await expect.poll(() => (new URL(page.url()).searchParams.get('grid') ?? '').split(',').length, SLOW).toBe(2);
    seen = await revision();
    await page.getByTestId('tool-merge').click();
    await expect.poll(revision, SLOW).toBeGreaterThan(seen);
    const merged = await api<LayoutCollection>(`/api/v1/layouts/${draftId}`);
    expect(merged.features).toHaveLength(copy.features.length);
    const whole = merged.features.find((f) => f.id === target.id)!;
    expect(whole.properties.areaM2).toBeCloseTo(target.properties.areaM2, -1);
    await page.screenshot({ path: screenshotPath('editor-split-merge') });

    // start reshaping the grid; meanwhile someone else renames it (a newer version on the server)
    await page.getByTestId('tool-edit').click();
    await page.waitForSelector('[data-testid="pending"]');
    const theirs = await fetch(`${web.baseUrl}/api/v1/grids/${whole.id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'if-match': `"${whole.properties.version}"` },
      body: JSON.stringify({ type: 'Feature', geometry: whole.geometry, properties: { name: '他人修改', kind: whole.properties.kind, code: whole.properties.code } }),
    });
    expect(theirs.status).toBe(200);
    const theirVersion = ((await theirs.json()) as { grid: { properties: { version: number } } }).grid.properties.version;
    // saving meets the newer version: both are shown, and the planner chooses to keep theirs or own
    await page.getByTestId('save').click();
    await page.waitForSelector('[data-testid="conflict-mine"]');
    expect(await page.getByTestId('pending').textContent()).toContain(`版本 ${theirVersion}`);
    await expect.poll(() => page.evaluate(() => window.wangge!.map.queryRenderedFeatures({ layers: ['editor-conflict-line'] }).length), SLOW).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('editor-conflict') });
    seen = await revision();
    await page.getByTestId('conflict-mine').click();
    await expect.poll(revision, SLOW).toBeGreaterThan(seen);
    const after = await api<{ properties: { version: number; name: string } }>(`/api/v1/grids/${whole.id}`);
    expect(after.properties.version).toBe(theirVersion + 1);
    expect(after.properties.name).toBe(whole.properties.name);
    expect(await page.getByTestId('pending').count()).toBe(0);

    // switching to the published layout shows it read-only, with its own grids
    const publishedValue = await page.getByTestId('layout-select').locator('option').evaluateAll((os) => (os as HTMLOptionElement[]).find((o) => o.textContent?.includes('已发布'))?.value);
    seen = await revision();
    await page.getByTestId('layout-select').selectOption(publishedValue!);
    await expect.poll(revision, SLOW).toBeGreaterThan(seen);
    expect(await page.getByTestId('editor-tools').textContent()).toContain('只读');
    expect(new URL(page.url()).searchParams.get('layout')).toBe(publishedValue);
    expect(await page.getByTestId('balance').locator('.balance-row').count()).toBe(copy.features.length);

    // the balance rows show households and residents whole, in the longer English too (UX review finding 13)
    await page.getByTestId('lang-switch').click();
    await expect.poll(() => page.getByTestId('editor-layouts').locator('h3').textContent(), SLOW).toBe('Layouts');
    await expect.poll(() => page.getByTestId('balance').locator('.balance-value').first().textContent(), SLOW).toMatch(/^\d+ households · \d+ residents$/);
    const clipped = await page.getByTestId('balance').evaluate((chart) => [
      ...(chart.scrollWidth > chart.clientWidth ? ['the chart scrolls sideways'] : []),
      ...[...chart.querySelectorAll<HTMLElement>('.balance-value')].filter((v) => v.scrollWidth > v.clientWidth).map((v) => v.textContent ?? ''),
    ]);
    expect(clipped).toEqual([]);

    // the expected 412 of the conflicting save is the only refused request
    expect(problems.filter((p) => !/412|Precondition Failed/.test(p))).toEqual([]);
    expect(problems.filter((p) => /412|Precondition Failed/.test(p)).length).toBeGreaterThan(0);
    await page.close();
  });

  it('chooses the only district and street, opens a community clicked on the map, names a draft, and says a missing layout is not found', { timeout: 180_000 }, async () => {
    const page = await web.newPage();
    const problems = watchProblems(page);
    await web.openSignedIn(page, 'demo-planner', { waitFor: '[data-testid="view-editor"]', timeout: 30_000 });
    // one district, one street in the demo city: both chosen without a click (UX review finding 17)
    const { items: districts } = await api<{ items: Array<{ code: string }> }>('/api/v1/divisions');
    const { items: streets } = await api<{ items: Array<{ code: string }> }>(`/api/v1/divisions?parent=${districts[0]!.code}`);
    const { items: communities } = await api<{ items: Array<{ code: string; name: string }> }>(`/api/v1/divisions?parent=${streets[0]!.code}`);
    expect([districts.length, streets.length]).toEqual([1, 1]);
    expect(communities.length).toBeGreaterThan(1);
    await expect.poll(() => page.getByTestId('pick-district').inputValue(), SLOW).toBe(districts[0]!.code);
    await expect.poll(() => page.getByTestId('pick-street').inputValue(), SLOW).toBe(streets[0]!.code);
    await expect.poll(() => page.getByTestId('pick-community').locator('option').count(), SLOW).toBe(communities.length + 1);
    expect(await page.getByTestId('pick-community').inputValue()).toBe('');
    expect(new URL(page.url()).searchParams.get('community')).toBeNull();

    // a click on a community on the map opens it; then a click on another opens that one
    const street = await api<DivisionDetail>(`/api/v1/divisions/${streets[0]!.code}`);
    const mapBox = (await page.locator('#map').boundingBox())!;
    const clickCommunity = async (code: string): Promise<void> => {
      const detail = await api<DivisionDetail>(`/api/v1/divisions/${code}`);
      const [w, s, e, n] = bbox(street.boundary as Polygon | MultiPolygon);
      await page.evaluate(([west, south, east, north]) => window.wangge?.map.fitBounds([[west!, south!], [east!, north!]], { duration: 0, padding: 20 }), [w, s, e, n]);
      await expect.poll(() => page.evaluate(() => window.wangge!.map.getZoom()), SLOW).toBeGreaterThanOrEqual(12);
      const inside = pointOnFeature(detail.boundary as Polygon | MultiPolygon).geometry.coordinates as [number, number];
      // wait for the divisions tiles at this view, then click the community
      await expect.poll(() => page.evaluate((ll) => window.wangge!.map.queryRenderedFeatures(window.wangge!.map.project(ll), { layers: ['editor-communities-hit'] }).map((f) => f.properties.code as string), inside), SLOW).toContain(code);
      const px = await page.evaluate((ll) => window.wangge!.map.project(ll), inside);
      await page.mouse.click(mapBox.x + px.x, mapBox.y + px.y);
    };
    const revision = async (): Promise<number> => Number(await page.evaluate(() => document.body.dataset.editorRevision ?? 0));
    const [first, second] = [communities[1]!.code, communities[0]!.code];
    let seen = await revision();
    await clickCommunity(first);
    await expect.poll(() => new URL(page.url()).searchParams.get('community'), SLOW).toBe(first);
    await expect.poll(() => page.getByTestId('pick-community').inputValue(), SLOW).toBe(first);
    await expect.poll(revision, SLOW).toBeGreaterThan(seen);
    seen = await revision();
    await clickCommunity(second);
    await expect.poll(() => new URL(page.url()).searchParams.get('community'), SLOW).toBe(second);
    await expect.poll(() => page.getByTestId('pick-community').inputValue(), SLOW).toBe(second);
    await expect.poll(revision, SLOW).toBeGreaterThan(seen);
    expect(await page.getByTestId('pick-street').inputValue()).toBe(streets[0]!.code);

    // a draft with a name: the select shows it with the time it was made (UX review finding 15)
    await page.getByTestId('new-draft-name').fill('春季调整');
    seen = await revision();
    await page.getByTestId('new-empty-draft').click();
    await expect.poll(revision, SLOW).toBeGreaterThan(seen);
    const named = await page.getByTestId('layout-select').locator('option:checked').textContent();
    expect(named).toMatch(/^春季调整 · 草稿 · 0 个网格 · \d{2}-\d{2} \d{2}:\d{2}$/);
    const draftId = Number(new URL(page.url()).searchParams.get('layout'));
    expect((await api<LayoutCollection>(`/api/v1/layouts/${draftId}`)).layout.name).toBe('春季调整');
    expect(await page.getByTestId('new-draft-name').inputValue()).toBe('');
    // every option says when its layout was made
    for (const text of await page.getByTestId('layout-select').locator('option').allTextContents()) expect(text).toMatch(/ · \d{2}-\d{2} \d{2}:\d{2}$/);
    expect(problems).toEqual([]);
    await page.close();

    // a link to a layout the community does not have says so, and opens none in its place
    const missing = await web.newPage();
    const missingProblems = watchProblems(missing);
    await web.openSignedIn(missing, 'demo-planner', { path: `/?view=editor&community=${second}&layout=99999`, waitFor: '[data-testid="layout-select"]', timeout: 30_000 });
    await expect.poll(() => missing.getByTestId('editor-message').textContent(), SLOW).toContain('未找到方案 99999');
    expect(await missing.getByTestId('layout-select').inputValue()).toBe('');
    expect(await missing.getByTestId('editor-tools').textContent()).toBe('');
    await missing.screenshot({ path: screenshotPath('editor-layout-not-found') });
    // choosing one from the list opens it and clears the message
    seen = Number(await missing.evaluate(() => document.body.dataset.editorRevision ?? 0));
    await missing.getByTestId('layout-select').selectOption(String(draftId));
    await expect.poll(() => missing.evaluate(() => Number(document.body.dataset.editorRevision ?? 0)), SLOW).toBeGreaterThan(seen);
    expect(await missing.getByTestId('editor-message').textContent()).toBe('');
    expect(missingProblems).toEqual([]);
    await missing.close();
  });
});
