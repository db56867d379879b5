/**
 * Emerging hot spots and Gi* over stored events, on a constructed space-time pattern.
 *
 * A 12 × 12 block of 100 m hexagons (lattice origin 113.6°E, 34.75°N) over the 12 months of 2024
 * (Asia/Shanghai). Every cell gets a deterministic background of 0–2 events a month; on top:
 *
 *   B (3, 3) and its six neighbours: 5 + 3t events in month t (t = 0 … 11) — hot throughout and
 *            getting hotter;
 *   D (9, 3) and its six neighbours: 12 events every month — hot throughout, no trend;
 *   A (9, 9) and its six neighbours: 25 events in December only — hot in the final month, never before.
 *
 * The categories are ArcGIS's ("How Emerging Hot Spot Analysis works", ArcGIS Pro Space Time
 * Pattern Mining toolbox):
 *   - New Hot Spot: "a location that is a statistically significant hot spot for the final time step
 *     and has never been a statistically significant hot spot before";
 *   - Intensifying Hot Spot: "a location that has been a statistically significant hot spot for
 *     ninety percent of the time-step intervals, including the final time step. In addition, the
 *     intensity of clustering of high counts in each time step is increasing overall and that
 *     increase is statistically significant" (Mann–Kendall on the bins' z-scores);
 *   - Persistent Hot Spot: "a statistically significant hot spot for ninety percent of the time-step
 *     intervals with no discernible trend indicating an increase or decrease in the intensity of
 *     clustering over time";
 *   - No Pattern Detected: none of the hot or cold spot patterns.
 * The Gi* of each bin is ArcGIS's space-time Gi*: neighbours within the spatial neighbourhood in the
 * current and the previous time step (neighborhood time step 1), FDR-corrected.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEmergingResponse, EventHotspotsResponse } from '../../contracts/analysis-events';
import { createTestApp, type TestApp } from '../../test/app';
import { binPoints, fillHexLattice, hexCentre } from './aggregation';
import { localProjection } from './local-projection';
import { distanceBandNeighbours, getisOrd, spatialWeights } from './stats';

const ORIGIN: [number, number] = [113.6, 34.75];
const SIZE = 100;
const projection = localProjection(ORIGIN);
const near = (a: [number, number], b: [number, number]): boolean => Math.hypot(a[0] - b[0], a[1] - b[1]) <= Math.sqrt(3) * SIZE * 1.01;
const ring = (i0: number, j0: number): [number, number][] => {
  const c = hexCentre(i0, j0, SIZE);
  const out: [number, number][] = [];
  for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) if (near(hexCentre(i, j, SIZE), c)) out.push([i, j]);
  return out;
};
const B = ring(3, 3);
const D = ring(9, 3);
const A = ring(9, 9);
const has = (cells: [number, number][], i: number, j: number): boolean => cells.some(([a, b]) => a === i && b === j);

/** Events of cell (i, j) in month t (0 = January 2024). */
function eventsIn(i: number, j: number, t: number): number {
  let n = (i * 31 + j * 17 + t * 7) % 3;
  if (has(B, i, j)) n += 5 + 3 * t;
  if (has(D, i, j)) n += 12;
  if (has(A, i, j) && t === 11) n += 25;
  return n;
}

let t: TestApp;
const lngs: number[] = [];
const lats: number[] = [];
const times: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  for (let i = 0; i < 12; i++) {
    for (let j = 0; j < 12; j++) {
      const [x, y] = hexCentre(i, j, SIZE);
      const [lng, lat] = projection.inverse(x, y);
      for (let m = 0; m < 12; m++) {
        for (let k = 0; k < eventsIn(i, j, m); k++) {
          lngs.push(lng);
          lats.push(lat);
          // The 15th, 12:00 Shanghai time (04:00Z): well inside the month.
          times.push(`2024-${String(m + 1).padStart(2, '0')}-15T04:00:00Z`);
        }
      }
    }
  }
  await sql`
    INSERT INTO events (taxonomy_version, category_code, description, channel, occurred_at, reported_at, geom, state, due_at)
    SELECT 1, 'dispute.neighbour', '', 'patrol', u.at, u.at, ST_SetSRID(ST_MakePoint(u.lng, u.lat), 4326), 'reported', u.at + interval '5 days'
    FROM unnest(${lngs}::float8[], ${lats}::float8[], ${times}::timestamptz[]) AS u(lng, lat, at)`.execute(t.tdb.db);
});
afterAll(async () => t.close());

const QUERY = `unit=hex&size=${SIZE}&origin=${ORIGIN.join(',')}`;

describe('emerging hot spots over stored events', () => {
  it('classifies the constructed pattern as ArcGIS defines it', async () => {
    const res = await t.inject({ url: `/api/v1/analysis/emerging?${QUERY}&slice=month&slices=12&to=2024-12-31T16:00:00Z`, as: 'analyst' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<EventEmergingResponse>();
    // 12 slices: calendar months of 2024 in Asia/Shanghai (UTC+8).
    const bounds = body.summary.parameters.sliceBounds as string[];
    expect(bounds).toHaveLength(13);
    expect(bounds[0]).toBe('2023-12-31T16:00:00.000Z');
    expect(bounds[12]).toBe('2024-12-31T16:00:00.000Z');
    expect(body.summary.events).toBe(lngs.length);
    const cell = (i: number, j: number) => body.features.find((f) => f.id === `${i},${j}`)!.properties;

    const a = cell(9, 9);
    expect(a.counts).toEqual(Array.from({ length: 12 }, (_, m) => eventsIn(9, 9, m)));
    expect(a.category).toBe('new_hot_spot');
    expect(a.bins.slice(0, 11).every((b) => b <= 0)).toBe(true);
    expect(a.bins[11]).toBeGreaterThan(0);

    const b = cell(3, 3);
    expect(b.category).toBe('intensifying_hot_spot');
    expect(b.hotSlices).toBeGreaterThanOrEqual(11); // ≥ 90 % of 12, including the last
    expect(b.trendZ).toBeGreaterThan(0);
    expect(b.trendP).toBeLessThan(0.05);
    expect(b.tau).toBeGreaterThan(0.5);

    const d = cell(9, 3);
    expect(d.category).toBe('persistent_hot_spot');
    expect(d.hotSlices).toBeGreaterThanOrEqual(11);

    // Background far from every pattern: nothing.
    expect(cell(0, 11).category).toBe('no_pattern');
    expect(body.summary.parameters).toMatchObject({ statistic: 'space-time Gi*', timeStep: 1, fdr: true, slice: 'month', slices: 12 });
  });

  it('weekly slices and a neighbourhood time step of 0 are accepted', async () => {
    const res = await t.inject({ url: `/api/v1/analysis/emerging?${QUERY}&slice=week&slices=8&timeStep=0&to=2024-12-29T16:00:00Z`, as: 'analyst' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<EventEmergingResponse>();
    // Monday 2024-11-04 00:00 Shanghai = 2024-11-03T16:00Z, eight weeks before Monday 2024-12-30 00:00 Shanghai (2024-12-29T16:00Z).
    expect((body.summary.parameters.sliceBounds as string[])[0]).toBe('2024-11-03T16:00:00.000Z');
    // Only mid-November and mid-December events fall in these weeks.
    expect(body.features.every((f) => f.properties.counts.filter((c) => c > 0).length <= 2)).toBe(true);
  });
});

describe('Gi* over stored events agrees with the statistics core on the same counts', () => {
  it('hex counts binned in SQL → Gi* per cell = getisOrd on counts binned here from the same points', async () => {
    const res = await t.inject({ url: `/api/v1/analysis/hotspots?${QUERY}&from=2024-06-01T00:00:00Z&to=2024-09-01T00:00:00Z`, as: 'analyst' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<EventHotspotsResponse>();
    // The same events (June–August 2024), binned by the pure aggregation code.
    const keep = times.map((s, k) => (s >= '2024-06' && s < '2024-09' ? k : -1)).filter((k) => k >= 0);
    const xy = new Float64Array(keep.length * 2);
    keep.forEach((k, m) => {
      const [x, y] = projection.forward(lngs[k]!, lats[k]!);
      xy[2 * m] = x;
      xy[2 * m + 1] = y;
    });
    const cells = fillHexLattice(binPoints(xy, 'hex', SIZE));
    const centres = new Float64Array(cells.i.length * 2);
    for (let k = 0; k < cells.i.length; k++) [centres[2 * k], centres[2 * k + 1]] = hexCentre(cells.i[k]!, cells.j[k]!, SIZE);
    const w = spatialWeights(distanceBandNeighbours(centres, Math.sqrt(3) * SIZE * 1.01), { transform: 'B', includeSelf: true });
    const gi = getisOrd(cells.value, w);
    expect(body.features).toHaveLength(cells.i.length);
    const byId = new Map(body.features.map((f) => [f.id, f.properties]));
    for (let k = 0; k < cells.i.length; k++) {
      const p = byId.get(`${cells.i[k]},${cells.j[k]}`)!;
      expect(p.count).toBe(cells.value[k]);
      expect(p.z).toBeCloseTo(gi.z[k]!, 10);
      expect(p.p).toBeCloseTo(gi.p[k]!, 12);
      expect(p.bin).toBe(gi.bin[k]);
    }
    // The B cluster is hot in summer, D too; the summary says what ran.
    expect(byId.get('3,3')!.bin).toBe(3);
    expect(body.summary.parameters).toMatchObject({ statistic: 'Gi*', weights: { type: 'distance', self: true, transform: 'B' } });
  });
});
