/**
 * The analysis map in a real browser on the demo city with events filed through the API: an analyst
 * signs in, sees the count choropleth and the table it came from, turns on hot spots (ArcGIS legend),
 * clusters, the heatmap and emerging hot spots, and exports the table as CSV and the map as PNG.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Page, Response } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EventCountsResponse, EventHotspotsResponse } from '../../server/contracts/analysis-events';
import type { EventList, KpiReport } from '../../server/contracts/events';
import type { GridCollection } from '../../server/contracts/grid';
import { screenshotPath } from '../../server/test/browser';
import { fillSignInForm, useWebApp, watchProblems } from '../../server/test/web-app';
import { seededRandom } from '../../server/test/seeded-random';

const TIGHT = 40;
const AROUND = 60;
const CLUSTERED = TIGHT + AROUND;
const SCATTERED = 60;

describe('analysis map in a real browser', () => {
  const web = useWebApp();
  let clusterCentre: [number, number];
  let token: string;
  /** When this test began filing: the demo city's own events (loaded with it) were all reported before. */
  let filedFrom: Date;

  /**
   * How many of the demo city's events the events list (not the analysis) has in the range of an analysis
   * request's URL (reported in [from, to), before this test filed its own), and in its category if any.
   */
  const demoEventsIn = async (analysisUrl: string): Promise<number> => {
    const q = new URL(analysisUrl).searchParams;
    const to = q.get('to') && Date.parse(q.get('to')!) < filedFrom.getTime() ? q.get('to')! : filedFrom.toISOString();
    const params = new URLSearchParams({ limit: '200', to, ...(q.get('from') ? { from: q.get('from')! } : {}), ...(q.get('category') ? { category: q.get('category')! } : {}) });
    let n = 0;
    let after: number | null = null;
    do {
      const page: EventList = await web.fetchJson<EventList>(token, `/api/v1/events?${params.toString()}${after === null ? '' : `&after=${after}`}`);
      n += page.items.length;
      after = page.next;
    } while (after !== null);
    return n;
  };
  const total = (answer: EventCountsResponse): number => answer.features.reduce((s, f) => s + f.properties.count, 0);

  beforeAll(async () => {
    // Events filed by the demo dispatcher: a tight cluster in one grid, the rest spread over the district.
    token = (await web.signIn('demo-dispatcher')).accessToken;
    filedFrom = new Date();
    const grids = (await (await fetch(`${web.baseUrl}/api/v1/grids?limit=1000`)).json()) as GridCollection;
    const rings = grids.features.filter((g) => g.geometry.type === 'Polygon').map((g) => ((g.geometry.coordinates as number[][][])[0] ?? []).slice(0, -1));
    const centre = (ring: number[][]): [number, number] => [ring.reduce((s, p) => s + (p[0] ?? 0), 0) / ring.length, ring.reduce((s, p) => s + (p[1] ?? 0), 0) / ring.length];
    clusterCentre = centre(rings[0]!);
    const rnd = seededRandom(8);
    const points: Array<[number, number]> = [];
    // a tight group (one DBSCAN cluster) inside a wider one (a neighbourhood of busy cells: a hot spot)
    for (let i = 0; i < TIGHT; i++) points.push([clusterCentre[0] + (rnd() - 0.5) * 0.0006, clusterCentre[1] + (rnd() - 0.5) * 0.0006]);
    for (let i = 0; i < AROUND; i++) points.push([clusterCentre[0] + (rnd() - 0.5) * 0.004, clusterCentre[1] + (rnd() - 0.5) * 0.004]);
    for (let i = 0; i < SCATTERED; i++) points.push(centre(rings[Math.floor(rnd() * rings.length)]!));
    const categories = ['dispute.neighbour', 'dispute.property', 'environment.garbage', 'facility.street_light'];
    for (const [i, p] of points.entries()) {
      const res = await fetch(`${web.baseUrl}/api/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ location: { type: 'Point', coordinates: p }, category: categories[i % categories.length], description: `测试事件 ${i}`, channel: 'patrol' }),
      });
      if (res.status !== 201) throw new Error(`event ${i}: HTTP ${res.status} ${await res.text()}`);
    }
  });

  const openAnalysis = (page: Page): Promise<void> => web.openSignedIn(page, 'demo-analyst', { path: '/?view=analysis', waitFor: '[data-testid="analysis-view"]' });

  const answerOf = async <T>(res: Promise<Response>): Promise<T> => (await (await res).json()) as T;
  const rendered = (page: Page, layer: string): Promise<number> => page.evaluate((l) => window.wangge?.map.queryRenderedFeatures({ layers: [l] }).length ?? 0, layer);

  it('choropleth and table, hot spots with the ArcGIS legend, clusters, heatmap, emerging; CSV and PNG export', async () => {
    const page = await web.newPage();
    const problems = watchProblems(page);
    const countsResponse = page.waitForResponse((r) => r.url().includes('/api/v1/analysis/counts?'));
    await openAnalysis(page);

    // ---- choropleth (on by default) and the table built from the same answer: the demo's events and ours ----
    const first = await answerOf<EventCountsResponse>(countsResponse);
    const demoInView = await demoEventsIn((await countsResponse).url());
    expect(demoInView).toBeGreaterThan(0);
    expect(total(first)).toBe(demoInView + CLUSTERED + SCATTERED);
    await expect.poll(() => page.getByTestId('analysis-view').getAttribute('data-counts')).toBe(String(first.features.length));
    // smaller cells (the demo district is small): the table and the map follow
    const countsAt100 = answerOf<EventCountsResponse>(page.waitForResponse((r) => r.url().includes('/api/v1/analysis/counts?') && r.url().includes('size=100')));
    await page.getByTestId('analysis-size').fill('100');
    await page.getByTestId('analysis-size').press('Enter');
    const counts = await countsAt100;
    expect(total(counts)).toBe(demoInView + CLUSTERED + SCATTERED);
    expect(counts.features.length).toBeGreaterThan(first.features.length);
    await expect.poll(() => page.getByTestId('analysis-view').getAttribute('data-counts')).toBe(String(counts.features.length));
    expect(new URL(page.url()).searchParams.get('size')).toBe('100');
    await page.evaluate((c) => window.wangge?.map.jumpTo({ center: c, zoom: 14 }), clusterCentre);
    await expect.poll(() => rendered(page, 'analysis-counts-fill'), { timeout: 15_000 }).toBeGreaterThan(0);
    await page.waitForSelector('[data-testid="analysis-legend-counts"]');
    const tableRows = page.getByTestId('analysis-table').locator('tbody tr');
    expect(await tableRows.count()).toBe(counts.features.length);
    const top = [...counts.features].sort((a, b) => b.properties.count - a.properties.count)[0]!;
    expect(await tableRows.first().getAttribute('data-unit')).toBe(top.properties.unit);
    expect(await tableRows.first().locator('td').nth(2).textContent()).toBe(String(top.properties.count));
    expect(top.properties.count).toBeGreaterThanOrEqual(TIGHT / 2);

    // ---- hexagons are named by the number the map shows in them, with their centre (UX review finding 10) ----
    expect(await page.getByTestId('analysis-table').locator('th').allTextContents()).toEqual(['单元', '中心位置', '事件数', '每千人']);
    const topCells = await tableRows.first().locator('td').allTextContents();
    expect(topCells[0]).toMatch(/^六边形 [1-9][0-9]*$/);
    const topNo = Number(topCells[0]!.split(' ')[1]);
    const topRing = (top.geometry.coordinates as number[][][])[0]!.slice(0, -1);
    const topCentre = [0, 1].map((k) => topRing.reduce((sum, p) => sum + p[k]!, 0) / topRing.length) as [number, number];
    expect(topCells[1]).toBe(`${topCentre[0].toFixed(5)}°E, ${topCentre[1].toFixed(5)}°N`);
    const unitTexts = await tableRows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('td')?.textContent ?? ''));
    expect(new Set(unitTexts).size).toBe(counts.features.length);
    // the north-western cell is number 1
    const centreOf = (f: (typeof counts.features)[number]): [number, number] => {
      const ring = (f.geometry.coordinates as number[][][])[0]!.slice(0, -1);
      return [ring.reduce((sum, p) => sum + p[0]!, 0) / ring.length, ring.reduce((sum, p) => sum + p[1]!, 0) / ring.length];
    };
    const northWest = [...counts.features].sort((a, b) => centreOf(b)[1] - centreOf(a)[1] || centreOf(a)[0] - centreOf(b)[0])[0]!;
    expect(await page.locator(`[data-testid="analysis-table"] tbody tr[data-unit="${northWest.properties.unit}"] td`).first().textContent()).toBe('六边形 1');
    // a click on the row outlines the cell and brings it into view, where the map labels it with its number
    await tableRows.first().click();
    await expect.poll(() => page.getByTestId('analysis-view').getAttribute('data-selected-unit')).toBe(top.properties.unit);
    expect(await tableRows.first().getAttribute('class')).toContain('wg-selected');
    await expect.poll(() => rendered(page, 'analysis-selected-line'), { timeout: 15_000 }).toBeGreaterThan(0);
    await expect
      .poll(() => page.evaluate(() => { const c = window.wangge!.map.getCenter(); return [c.lng, c.lat]; }), { timeout: 15_000 })
      .toEqual([expect.closeTo(topCentre[0], 4), expect.closeTo(topCentre[1], 4)]);
    await expect
      .poll(() => page.evaluate(() => window.wangge!.map.queryRenderedFeatures({ layers: ['analysis-counts-label'] }).map((f) => f.properties.no as number)), { timeout: 15_000 })
      .toContain(topNo);
    await page.screenshot({ path: screenshotPath('analysis-table-row') });
    await page.evaluate((c) => window.wangge?.map.jumpTo({ center: c, zoom: 14 }), clusterCentre);

    // ---- the category filter: the taxonomy (analysts read it with reports:read), parents and sub-types ----
    const categories = await page.getByTestId('analysis-category').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(categories).toEqual(expect.arrayContaining(['', 'dispute', 'dispute.neighbour', 'environment.garbage', 'facility.street_light']));
    const onlyGarbage = page.waitForResponse((r) => r.url().includes('/api/v1/analysis/counts?') && r.url().includes('category=environment.garbage'));
    await page.getByTestId('analysis-category').selectOption('environment.garbage');
    expect(total(await answerOf<EventCountsResponse>(onlyGarbage))).toBe((await demoEventsIn((await onlyGarbage).url())) + (CLUSTERED + SCATTERED) / 4);
    const allAgain = answerOf<EventCountsResponse>(page.waitForResponse((r) => r.url().includes('/api/v1/analysis/counts?') && !r.url().includes('category=')));
    await page.getByTestId('analysis-category').selectOption('');
    await allAgain;
    await expect.poll(() => tableRows.count()).toBe(counts.features.length);

    // ---- the month range: ending last month leaves out every event of ours (all were reported this month), keeps the demo's of then ----
    const earlierResponse = page.waitForResponse((r) => r.url().includes('/api/v1/analysis/counts?'));
    const toSlider = page.getByTestId('analysis-to');
    const lastIndex = Number(await toSlider.getAttribute('max'));
    await toSlider.fill(String(lastIndex - 1));
    const earlier = await answerOf<EventCountsResponse>(earlierResponse);
    const demoEarlier = await demoEventsIn((await earlierResponse).url());
    expect(total(earlier)).toBe(demoEarlier);
    if (demoEarlier === 0) await expect.poll(() => page.getByTestId('analysis-table').count()).toBe(0);
    else await expect.poll(() => tableRows.count()).toBe(earlier.features.length);
    const again = answerOf<EventCountsResponse>(page.waitForResponse((r) => r.url().includes('/api/v1/analysis/counts?')));
    await toSlider.fill(String(lastIndex));
    expect((await again).features.length).toBe(counts.features.length);
    await expect.poll(() => tableRows.count()).toBe(counts.features.length);

    // ---- hot spots: the ArcGIS legend, tallied from the server's bins; the cluster is hot ----
    const hotAnswer = answerOf<EventHotspotsResponse>(page.waitForResponse((r) => r.url().includes('/api/v1/analysis/hotspots?')));
    await page.getByTestId('analysis-layer-hotspots').check();
    const hot = await hotAnswer;
    await page.waitForSelector('[data-testid="analysis-legend-hotspots"]');
    const legend = await page.getByTestId('analysis-legend-bin').allTextContents();
    const tally = (bin: number): number => hot.features.filter((f) => f.properties.bin === bin).length;
    expect(legend).toEqual([
      `热点 - 99% 置信度 (${tally(3)})`,
      `热点 - 95% 置信度 (${tally(2)})`,
      `热点 - 90% 置信度 (${tally(1)})`,
      `不显著 (${tally(0)})`,
      `冷点 - 90% 置信度 (${tally(-1)})`,
      `冷点 - 95% 置信度 (${tally(-2)})`,
      `冷点 - 99% 置信度 (${tally(-3)})`,
    ]);
    expect(hot.features.find((f) => f.properties.unit === top.properties.unit)?.properties.bin).toBeGreaterThan(0);
    await expect.poll(() => rendered(page, 'analysis-hotspots-fill'), { timeout: 15_000 }).toBeGreaterThan(0);
    // the table gains the Gi* columns; hot/cold says its class in words, not the bin number
    const hotHeaders = await page.getByTestId('analysis-table').locator('th').allTextContents();
    expect(hotHeaders).toContain('Gi* z 值');
    const binCol = hotHeaders.indexOf('冷热点');
    const topBin = hot.features.find((f) => f.properties.unit === top.properties.unit)!.properties.bin;
    const binLabel = (bin: number): string => legend[3 - bin]!.replace(/ \(\d+\)$/, '');
    expect(await tableRows.first().locator('td').nth(binCol).textContent()).toBe(binLabel(topBin));
    const shownBins = await tableRows.evaluateAll((trs, col) => trs.map((tr) => tr.querySelectorAll('td')[col]?.textContent ?? ''), binCol);
    expect(shownBins.every((text) => legend.map((l) => l.replace(/ \(\d+\)$/, '')).includes(text))).toBe(true);

    // ---- clusters: the tight group of events is one DBSCAN cluster with a hull ----
    await page.getByTestId('analysis-layer-clusters').check();
    await expect.poll(async () => Number(await page.getByTestId('analysis-view').getAttribute('data-clusters'))).toBeGreaterThanOrEqual(1);
    await expect.poll(() => rendered(page, 'analysis-clusters-fill'), { timeout: 15_000 }).toBeGreaterThan(0);

    // ---- heatmap of the points in view, drawn in the browser ----
    await page.getByTestId('analysis-layer-heatmap').check();
    await expect.poll(() => page.getByTestId('analysis-view').getAttribute('data-heatmap')).toBe('client');
    expect(Number(await page.getByTestId('analysis-view').getAttribute('data-points'))).toBeGreaterThanOrEqual(CLUSTERED);

    // ---- the server's quartic kernel density instead, with the bandwidth asked for ----
    const densityAnswer = page.waitForResponse((r) => r.url().includes('/api/v1/analysis/density?'));
    await page.getByTestId('analysis-heat-mode').selectOption('kde');
    const densityUrl = new URL((await densityAnswer).url());
    expect(densityUrl.searchParams.get('radius')).toBe('500');
    await expect.poll(() => page.getByTestId('analysis-view').getAttribute('data-heatmap')).toBe('server');
    expect(Number(await page.getByTestId('analysis-view').getAttribute('data-density'))).toBeGreaterThan(0);
    await page.waitForSelector('[data-testid="analysis-legend-heatmap"]');
    await expect.poll(() => rendered(page, 'analysis-density-fill'), { timeout: 15_000 }).toBeGreaterThan(0);
    const visibility = (layer: string): Promise<unknown> => page.evaluate((l) => window.wangge?.map.getLayoutProperty(l, 'visibility'), layer);
    expect(await visibility('analysis-heatmap')).toBe('none');
    expect(await visibility('analysis-density-fill')).toBe('visible');
    expect(new URL(page.url()).searchParams.get('heat')).toBe('kde');

    // ---- emerging hot spots: a legend of the classes found ----
    await page.getByTestId('analysis-layer-emerging').check();
    await page.waitForSelector('[data-testid="analysis-legend-emerging"]', { timeout: 20_000 });

    const shot = screenshotPath('analysis-map');
    await page.screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(5_000);

    // ---- CSV: the table as it is shown ----
    const csvDownload = page.waitForEvent('download');
    await page.getByTestId('analysis-export-csv').click();
    const csvFile = await (await csvDownload).path();
    const csv = readFileSync(csvFile, 'utf8').replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(csv[0]).toBe((await page.getByTestId('analysis-table').locator('th').allTextContents()).join(','));
    expect(csv.length - 1).toBe(counts.features.length);
    const quote = (v: string): string => (/[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    expect(csv[1]).toBe((await tableRows.first().locator('td').allTextContents()).map(quote).join(','));
    expect(csv[1]).toMatch(/^六边形 [0-9]+,"[0-9.]+°E, [0-9.]+°N",/);
    expect(csv[1]!.split(',')).toContain(binLabel(topBin));

    // ---- PNG: the map canvas ----
    const pngDownload = page.waitForEvent('download');
    await page.getByTestId('analysis-export-png').click();
    const png = readFileSync(await (await pngDownload).path());
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.length).toBeGreaterThan(5_000);

    // ---- the view's state is in the URL: a reload brings the same layers back ----
    expect(new URL(page.url()).searchParams.get('layers')?.split(',').sort()).toEqual(['clusters', 'counts', 'emerging', 'heatmap', 'hotspots']);

    // ---- no select cuts its texts, in either language (UX review finding 13: the heatmap mode was cut) ----
    const clippedOptions = (): Promise<string[]> =>
      page.getByTestId('analysis-view').locator('select').evaluateAll((selects) => {
        const ctx = document.createElement('canvas').getContext('2d')!;
        return (selects as HTMLSelectElement[]).flatMap((select) => {
          const style = getComputedStyle(select);
          ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
          // the room for text: the box without its padding and the drop-down arrow (about 20 px)
          const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
          return [...select.options].filter((o) => ctx.measureText(o.text).width > room).map((o) => o.text);
        });
      });
    expect(await clippedOptions()).toEqual([]);
    await page.getByTestId('lang-switch').click();
    await expect.poll(() => page.locator('.wg-analysis .wg-title').textContent()).toBe('Event analysis');
    expect(await clippedOptions()).toEqual([]);
    expect(await tableRows.first().locator('td').first().textContent()).toMatch(/^Hexagon [0-9]+$/);
    expect(await tableRows.first().locator('td').nth(binCol).textContent()).toMatch(/^(Hot spot|Cold spot|Not significant)/);

    expect(problems).toEqual([]);
    await page.close();
  });

  it('a community manager sees the grid KPIs in the table; switching views leaves no layers of the other behind', async () => {
    const page = await web.newPage();
    const problems = watchProblems(page, { responses: false });
    await page.goto(`${web.baseUrl}/?view=analysis&unit=grid`);
    await page.waitForSelector('body[data-map-loaded="true"]', { timeout: 30_000 });
    const countsAnswer = page.waitForResponse((r) => r.url().includes('/api/v1/analysis/counts?') && r.url().includes('unit=grid'));
    await fillSignInForm(page, 'demo-community');
    const countsUrl = new URL((await countsAnswer).url());
    await page.waitForSelector('[data-testid="analysis-table"]', { timeout: 20_000 });

    // the KPI columns, equal to what the events KPI endpoint answers this user for the same period
    const token = (await web.signIn('demo-community')).accessToken;
    const q = new URLSearchParams({ from: countsUrl.searchParams.get('from') ?? '', to: countsUrl.searchParams.get('to') ?? '', by: 'grid' });
    const kpis = (await (await fetch(`${web.baseUrl}/api/v1/events/kpis?${q.toString()}`, { headers: { authorization: `Bearer ${token}` } })).json()) as KpiReport;
    const headers = await page.getByTestId('analysis-table').locator('th').allTextContents();
    const closureCol = headers.indexOf('办结率 %');
    expect(closureCol).toBeGreaterThan(0);
    const byGrid = new Map(kpis.rows.map((r) => [r.key, r]));
    const shown = await page.getByTestId('analysis-table').locator('tbody tr').evaluateAll((trs, col) => trs.map((tr) => [tr.getAttribute('data-unit'), tr.querySelectorAll('td')[col]?.textContent ?? null]), closureCol);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.some(([unit]) => byGrid.has(unit ?? ''))).toBe(true);
    for (const [unit, text] of shown) {
      const k = byGrid.get(unit ?? '');
      expect(text).toBe(k ? String(Number((k.closureRate * 100).toFixed(1))) : '');
    }
    const ownLayers = (prefix: string): Promise<string[]> =>
      page.evaluate((p) => {
        const m = window.wangge!.map;
        return [...m.getLayersOrder(), ...Object.keys(m.getStyle().sources)].filter((id) => id.startsWith(p));
      }, prefix);
    expect((await ownLayers('analysis-')).length).toBeGreaterThan(0);

    // switch to the dispatch console and back: each view takes away exactly what it added
    await page.getByTestId('menu-dispatch').click();
    await page.waitForSelector('[data-testid="dispatch-view"]');
    await expect.poll(() => ownLayers('analysis-')).toEqual([]);
    await expect.poll(async () => (await ownLayers('dispatch-')).length).toBeGreaterThan(0);
    await page.getByTestId('menu-analysis').click();
    await page.waitForSelector('[data-testid="analysis-view"]');
    await expect.poll(() => ownLayers('dispatch-')).toEqual([]);
    const shot = screenshotPath('analysis-community-kpis');
    await page.screenshot({ path: shot });
    expect(problems).toEqual([]);
    await page.close();
  });
});
