/**
 * Analysis over stored events through HTTP on a real database: filters and rates on a hand-computed
 * fixture, every GET endpoint end to end, permissions and bad parameters.
 *
 * The community 410105001001 (113.600–113.604°E, 34.750–34.753°N) is cut into four published grids:
 *
 *   G003 (NW) | G004 (NE)          residents / households in the registry:
 *   ----------+----------            G001 200 / 40,  G002 50 / 10,  G003 3 / 1,  G004 none
 *   G001 (SW) | G002 (SE)
 *
 * Events (reported_at UTC, category, state, channel):
 *   G001  e1 2025-01-10 dispute.neighbour   closed    patrol
 *         e2 2025-01-20 dispute.family      reported  hotline
 *         e3 2025-02-05 environment.garbage closed    patrol
 *         e4 2025-02-15 dispute.neighbour   accepted  resident
 *   G002  e5 2025-01-12 dispute.neighbour   closed    hotline
 *         e6 2025-03-01T00:00 environment.noise reported patrol    (exactly at "to" below: excluded)
 *   G003  e7 2025-02-20 dispute.property    closed    patrol
 *   G004  six events of "X" 2025-04-01…06 within ~10 m of each other (facility.road, reported, video),
 *         only in the clustering and points tests (they are filtered out by to=2025-04-01 elsewhere).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventClustersResponse, EventCountsResponse, EventDensityResponse, EventHotspotsResponse, EventLocalMoranResponse, EventPointsResponse } from '../../contracts/analysis-events';
import { withScope } from '../../db/scoped';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, lattice, newDivisions, newGrid, newLayout } from '../../test/factories';
import { COARSE_POINT_STEP_DEG } from './analysis-events.service';

const G = (n: number): string => `${COMMUNITY}00${n}`;
/** A point near the middle of grid n (1 SW, 2 SE, 3 NW, 4 NE), nudged by `k` metres-ish so points differ. */
const at = (n: number, k = 0): [number, number] => [n % 2 === 1 ? 113.601 + k * 1e-5 : 113.603 + k * 1e-5, n <= 2 ? 34.75075 : 34.75225];

interface Ev {
  grid: number;
  reported: string;
  category: string;
  state: string;
  channel: string;
  k?: number;
}

const FIXTURE: Ev[] = [
  { grid: 1, reported: '2025-01-10T02:00:00Z', category: 'dispute.neighbour', state: 'closed', channel: 'patrol', k: 0 },
  { grid: 1, reported: '2025-01-20T02:00:00Z', category: 'dispute.family', state: 'reported', channel: 'hotline', k: 1 },
  { grid: 1, reported: '2025-02-05T02:00:00Z', category: 'environment.garbage', state: 'closed', channel: 'patrol', k: 2 },
  { grid: 1, reported: '2025-02-15T02:00:00Z', category: 'dispute.neighbour', state: 'accepted', channel: 'resident', k: 3 },
  { grid: 2, reported: '2025-01-12T02:00:00Z', category: 'dispute.neighbour', state: 'closed', channel: 'hotline' },
  { grid: 2, reported: '2025-03-01T00:00:00Z', category: 'environment.noise', state: 'reported', channel: 'patrol', k: 1 },
  { grid: 3, reported: '2025-02-20T02:00:00Z', category: 'dispute.property', state: 'closed', channel: 'patrol' },
];
const X: Ev[] = Array.from({ length: 6 }, (_, k) => ({ grid: 4, reported: `2025-04-0${k + 1}T02:00:00Z`, category: 'facility.road', state: 'reported', channel: 'video', k }));

let t: TestApp;

async function insertEvents(events: Ev[]): Promise<void> {
  for (const e of events) {
    const [lng, lat] = at(e.grid, e.k ?? 0);
    await sql`
      INSERT INTO events (taxonomy_version, category_code, description, channel, occurred_at, reported_at, geom, grid_code, community_code, street_code, state, due_at, closed_at,
                          reporter_masked)
      VALUES (1, ${e.category}, 'secret description', ${e.channel}, ${e.reported}, ${e.reported}, ST_SetSRID(ST_MakePoint(${lng}, ${lat}), 4326), ${G(e.grid)}, ${COMMUNITY},
              ${COMMUNITY.slice(0, 9)}, ${e.state}, ${e.reported}::timestamptz + interval '5 days', ${e.state === 'closed' ? e.reported : null}, '{"name": "张*"}'::jsonb)`.execute(t.tdb.db);
  }
}

/** `residents` present residents in `households` households of one building in grid n. */
async function population(n: number, residents: number, households: number): Promise<void> {
  const [lng, lat] = at(n);
  await withScope(t.tdb.db, { all: true, prefixes: [] }, async (trx) => {
    const { rows } = await sql<{ id: number }>`
      INSERT INTO buildings (community_code, code, geom, grid_code) VALUES (${COMMUNITY}, ${`0000${n}`}, ST_SetSRID(ST_MakePoint(${lng}, ${lat}), 4326), ${G(n)}) RETURNING id`.execute(trx);
    const building = rows[0]!.id;
    await sql`INSERT INTO households (building_id, unit, room, grid_code, community_code)
              SELECT ${building}, '1', h::text, ${G(n)}, ${COMMUNITY} FROM generate_series(1, ${households}::int) h`.execute(trx);
    await sql`INSERT INTO residents (household_id, name, gender, birth_date, id_number_enc, id_number_hmac, registration, tags, grid_code, community_code)
              SELECT hh.ids[1 + (r % ${households}::int)], '居民', 'F', '1980-01-01', gen_random_bytes(40), gen_random_bytes(32), 'registered', '{}', ${G(n)}, ${COMMUNITY}
              FROM generate_series(1, ${residents}::int) r, (SELECT array_agg(id ORDER BY id) AS ids FROM households WHERE building_id = ${building}) hh`.execute(trx);
  });
}

beforeAll(async () => {
  t = await createTestApp();
  await newDivisions(t.tdb.db);
  const layout = await newLayout(t.tdb.db, { status: 'published' });
  const cells = lattice(113.6, 34.75, 113.604, 34.753, 2, 2); // SW, SE, NW, NE
  for (const [k, cell] of cells.entries()) await newGrid(t.tdb.db, layout, cell, { code: G(k + 1), name: `网格${k + 1}` });
  await insertEvents(FIXTURE);
  await insertEvents(X);
  await population(1, 200, 40);
  await population(2, 50, 10);
  await population(3, 3, 1);
});
afterAll(async () => t.close());

const UNTIL_MARCH = 'to=2025-03-01T00:00:00Z';
const UNTIL_APRIL = 'to=2025-04-01T00:00:00Z';

async function gridCounts(query: string, as: 'analyst' | 'admin' = 'analyst'): Promise<Record<string, number>> {
  const res = await t.inject({ url: `/api/v1/analysis/counts?unit=grid&${query}`, as });
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json<EventCountsResponse>();
  return Object.fromEntries(body.features.filter((f) => f.properties.count > 0).map((f) => [f.id, f.properties.count]));
}

describe('filters on the hand-computed fixture (counts per grid)', () => {
  it('counts every event routed to a grid in force, zeros included', async () => {
    const res = await t.inject({ url: `/api/v1/analysis/counts?unit=grid&${UNTIL_APRIL}`, as: 'analyst' });
    const body = res.json<EventCountsResponse>();
    // e1–e4 in G001, e5–e6 in G002, e7 in G003, none in G004 before April.
    expect(body.features.map((f) => [f.id, f.properties.count])).toEqual([
      [G(1), 4],
      [G(2), 2],
      [G(3), 1],
      [G(4), 0],
    ]);
    expect(body.summary).toMatchObject({ n: 4, events: 7, unit: 'grid', value: 'count' });
    expect(body.features[0]!.geometry.type).toBe('Polygon');
  });

  it('time range: from inclusive, to exclusive', async () => {
    // February only: e3, e4 (G001), e7 (G003); e6 at exactly 2025-03-01T00:00Z is excluded.
    expect(await gridCounts(`from=2025-02-01T00:00:00Z&${UNTIL_MARCH}`)).toEqual({ [G(1)]: 2, [G(3)]: 1 });
    // From 2025-02-20T02:00Z inclusive: e7 and e6.
    expect(await gridCounts(`from=2025-02-20T02:00:00Z&${UNTIL_APRIL}`)).toEqual({ [G(2)]: 1, [G(3)]: 1 });
  });

  it('category: a category means all its sub-types, a sub-type only itself', async () => {
    // dispute.*: e1, e2, e4 (G001), e5 (G002), e7 (G003).
    expect(await gridCounts(`category=dispute&${UNTIL_APRIL}`)).toEqual({ [G(1)]: 3, [G(2)]: 1, [G(3)]: 1 });
    // dispute.neighbour: e1, e4, e5.
    expect(await gridCounts(`category=dispute.neighbour&${UNTIL_APRIL}`)).toEqual({ [G(1)]: 2, [G(2)]: 1 });
  });

  it('state: one or several', async () => {
    // closed: e1, e3 (G001), e5 (G002), e7 (G003); closed or accepted adds e4.
    expect(await gridCounts(`state=closed&${UNTIL_APRIL}`)).toEqual({ [G(1)]: 2, [G(2)]: 1, [G(3)]: 1 });
    expect(await gridCounts(`state=closed,accepted&${UNTIL_APRIL}`)).toEqual({ [G(1)]: 3, [G(2)]: 1, [G(3)]: 1 });
  });

  it('channel, and filters combined', async () => {
    // patrol: e1, e3 (G001), e6 (G002), e7 (G003).
    expect(await gridCounts(`channel=patrol&${UNTIL_APRIL}`)).toEqual({ [G(1)]: 2, [G(2)]: 1, [G(3)]: 1 });
    // patrol + closed + dispute: e1 (G001) and e7 (G003).
    expect(await gridCounts(`channel=patrol&state=closed&category=dispute&${UNTIL_APRIL}`)).toEqual({ [G(1)]: 1, [G(3)]: 1 });
    // … and only January: e1.
    expect(await gridCounts(`channel=patrol&state=closed&category=dispute&to=2025-02-01T00:00:00Z`)).toEqual({ [G(1)]: 1 });
  });

  it('hexagons and squares count the same events (sum = events)', async () => {
    const hex = (await t.inject({ url: `/api/v1/analysis/counts?unit=hex&size=50&${UNTIL_APRIL}`, as: 'analyst' })).json<EventCountsResponse>();
    expect(hex.features.reduce((s, f) => s + f.properties.count, 0)).toBe(7);
    expect(hex.summary.events).toBe(7);
    // Only non-empty cells; the grids' 4 groups of points lie > 150 m apart, so 4 cells of 50 m.
    expect(hex.features.map((f) => f.properties.count).sort()).toEqual([1, 2, 4]);
    const square = (await t.inject({ url: `/api/v1/analysis/counts?unit=square&size=50&${UNTIL_APRIL}`, as: 'analyst' })).json<EventCountsResponse>();
    expect(square.features.map((f) => f.properties.count).sort()).toEqual([1, 2, 4]);
    expect(square.summary.unit).toBe('square 50 m');
  });
});

describe('rates per 1,000 residents / 100 households, with small-count suppression', () => {
  it('per 1,000 residents per grid, EB-smoothed, "<5" populations hidden', async () => {
    const res = await t.inject({ url: `/api/v1/analysis/counts?unit=grid&rate=residents&${UNTIL_APRIL}`, as: 'analyst' });
    const byId = Object.fromEntries(res.json<EventCountsResponse>().features.map((f) => [f.id, f.properties]));
    // G001: 4 / 200 · 1000 = 20; G002: 2 / 50 · 1000 = 40.
    expect(byId[G(1)]).toMatchObject({ count: 4, population: 200, rate: 20 });
    expect(byId[G(2)]).toMatchObject({ count: 2, population: 50, rate: 40 });
    // G003 has 3 residents: population "<5", no rate (1 event / 3 residents would reveal the 3).
    expect(byId[G(3)]).toMatchObject({ count: 1, population: '<5', rate: null, ebRate: null });
    // G004: nobody registered: no rate.
    expect(byId[G(4)]).toMatchObject({ count: 0, population: null, rate: null });
    // Empirical Bayes (Marshall 1991) over the units with residents, e = (4, 2, 1), b = (200, 50, 3):
    //   m = 7/253 = 0.0276680, s² = Σ b (e/b − m)² / Σb = 0.00118442, b̄ = 253/3,
    //   v = s² − m/b̄ = 0.000856338, w = v / (v + m/b) = (0.86092, 0.60747, 0.08497),
    //   EB = m + w (e/b − m) → 21.06646, 35.15922 (and 53.63810 for G003, suppressed) per 1,000.
    expect(byId[G(1)]!.ebRate).toBeCloseTo(21.066464, 5);
    expect(byId[G(2)]!.ebRate).toBeCloseTo(35.159217, 5);
  });

  it('per 100 households per grid', async () => {
    const res = await t.inject({ url: `/api/v1/analysis/counts?unit=grid&rate=households&${UNTIL_APRIL}`, as: 'analyst' });
    const byId = Object.fromEntries(res.json<EventCountsResponse>().features.map((f) => [f.id, f.properties]));
    // G001: 4 / 40 · 100 = 10; G002: 2 / 10 · 100 = 20; G003: 1 household → "<5", no rate.
    expect(byId[G(1)]).toMatchObject({ population: 40, rate: 10 });
    expect(byId[G(2)]).toMatchObject({ population: 10, rate: 20 });
    expect(byId[G(3)]).toMatchObject({ population: '<5', rate: null });
    // EB with e = (4, 2, 1), b = (40, 10, 1): m = 7/51, v = 0.00838139 → 11.08218, 16.10435 per 100.
    expect(byId[G(1)]!.ebRate).toBeCloseTo(11.082181, 5);
    expect(byId[G(2)]!.ebRate).toBeCloseTo(16.104348, 5);
  });

  it('per cell: residents located by their building (one 1 km square holds the whole community)', async () => {
    const res = await t.inject({ url: `/api/v1/analysis/counts?unit=square&size=1000&origin=113.6,34.75&rate=residents&${UNTIL_APRIL}`, as: 'analyst' });
    const body = res.json<EventCountsResponse>();
    expect(body.features).toHaveLength(1);
    // 7 events, 200 + 50 + 3 = 253 residents: 7 / 253 · 1000 = 27.66798.
    expect(body.features[0]!.properties).toMatchObject({ unit: '0,0', count: 7, population: 253 });
    expect(body.features[0]!.properties.rate).toBeCloseTo(27.667984, 5);
  });

  it('hot spots on rates run on the EB rate, and say so', async () => {
    const res = await t.inject({ url: `/api/v1/analysis/hotspots?unit=grid&rate=residents&${UNTIL_APRIL}`, as: 'analyst' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<EventHotspotsResponse>();
    expect(body.summary.value).toMatch(/^eb_rate per 1,000 residents/);
    const noResidents = body.summary.warnings.find((w) => w.code === 'units_without_residents');
    expect(noResidents?.params).toEqual({ units: 1 });
    expect(noResidents?.message).toMatch(/^1 unit\(s\) have no residents/);
    expect(body.summary.warnings.map((w) => w.code)).toContain('few_features');
    const g4 = body.features.find((f) => f.id === G(4))!;
    expect(g4.properties).toMatchObject({ z: null, p: null, bin: 0 });
  });
});

describe('every GET endpoint end to end', () => {
  it('hotspots: gi, z, p, bin per hexagon; FDR on request', async () => {
    const res = await t.inject({ url: `/api/v1/analysis/hotspots?unit=hex&size=60&fdr=true&${UNTIL_APRIL}`, as: 'analyst' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<EventHotspotsResponse>();
    expect(body.type).toBe('FeatureCollection');
    expect(body.summary.parameters).toMatchObject({ statistic: 'Gi*', fdr: true, unit: 'hex', size: 60 });
    // The zero-filled lattice between the busy cells is part of the answer.
    expect(body.features.length).toBeGreaterThan(4);
    expect(body.features.reduce((s, f) => s + f.properties.count, 0)).toBe(7);
    for (const f of body.features) {
      expect(Object.keys(f.properties)).toEqual(expect.arrayContaining(['gi', 'z', 'p', 'pFdr', 'bin']));
      expect(f.properties.bin).toBeGreaterThanOrEqual(-3);
      expect(f.properties.bin).toBeLessThanOrEqual(3);
    }
  });

  it('local-moran: Ii, E, Var, Z, p, quadrant per unit', async () => {
    const res = await t.inject({ url: `/api/v1/analysis/local-moran?unit=square&size=60&weights=knn&k=4&${UNTIL_APRIL}`, as: 'analyst' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<EventLocalMoranResponse>();
    expect(body.summary.parameters).toMatchObject({ statistic: "local Moran's I", weights: { type: 'knn', k: 4, transform: 'R' } });
    const busiest = body.features.reduce((a, b) => (b.properties.count > a.properties.count ? b : a));
    expect(busiest.properties.count).toBe(4);
    expect(Object.keys(busiest.properties)).toEqual(expect.arrayContaining(['Ii', 'E', 'Var', 'Z', 'p', 'quadrant']));
    // The busiest cell is above the mean; its neighbours (mostly zeros) are below: a high-low outlier.
    expect(busiest.properties.quadrant).toBe('HL');
  });

  it('density: quartic kernel in events per km², as GeoJSON cells and as a PNG with bounds', async () => {
    // One event only (e5): the density at its own node is 3/(π r²) per m² if the event sits on a node.
    const res = await t.inject({ url: `/api/v1/analysis/density?radius=100&cell=20&category=dispute.neighbour&channel=hotline&${UNTIL_APRIL}`, as: 'analyst' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<EventDensityResponse>();
    expect(body.summary.events).toBe(1);
    // Σ density · cell area ≈ 1 event (the kernel integrates to one): cells of 20 m = 0.0004 km².
    const total = body.features.reduce((s, f) => s + f.properties.density * 0.0004, 0);
    expect(total).toBeCloseTo(1, 1);
    // No cell exceeds the kernel's peak 3 / (π · 100²) per m² = 95.49 per km².
    expect(Math.max(...body.features.map((f) => f.properties.density))).toBeLessThanOrEqual((3 / (Math.PI * 100 * 100)) * 1e6 + 1e-9);

    const png = await t.inject({ url: `/api/v1/analysis/density?radius=100&cell=20&format=png&${UNTIL_APRIL}`, as: 'analyst' });
    expect(png.statusCode).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.rawPayload.subarray(1, 4).toString('ascii')).toBe('PNG');
    const [w, s, e, n] = String(png.headers['x-bounds']).split(',').map(Number);
    // The overlay covers the community's events and their 100 m kernels.
    expect(w).toBeLessThan(113.601);
    expect(e).toBeGreaterThan(113.603);
    expect(s).toBeLessThan(34.75075);
    expect(n).toBeGreaterThan(34.75225);
  });

  it('clusters: DBSCAN hulls with count and time span, numbered by their first event', async () => {
    // minPoints 5: only the six X events (G004, within ~10 m) form a cluster; G001's four are noise.
    const five = (await t.inject({ url: '/api/v1/analysis/clusters?eps=50&minPoints=5', as: 'analyst' })).json<EventClustersResponse>();
    expect(five.features).toHaveLength(1);
    expect(five.features[0]!.properties).toEqual({ cluster: 0, count: 6, first: '2025-04-01T02:00:00.000Z', last: '2025-04-06T02:00:00.000Z' });
    expect(five.features[0]!.geometry.type).toBe('LineString'); // six collinear points: the hull is a segment
    expect(five.summary).toMatchObject({ events: 13, parameters: { clusters: 1, noise: 7 } });
    // minPoints 4: G001's four events (inserted first, smaller ids) become cluster 0, X cluster 1.
    const four = (await t.inject({ url: '/api/v1/analysis/clusters?eps=50&minPoints=4', as: 'analyst' })).json<EventClustersResponse>();
    expect(four.features.map((f) => [f.properties.cluster, f.properties.count])).toEqual([
      [0, 4],
      [1, 6],
    ]);
  });

  it('points: id, category, state, reportedAt only (no description, no reporter), capped with a warning', async () => {
    const res = await t.inject({ url: '/api/v1/analysis/points?limit=5', as: 'analyst' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<EventPointsResponse>();
    expect(body.features).toHaveLength(5);
    expect(Object.keys(body.features[0]!.properties).sort()).toEqual(['category', 'id', 'reportedAt', 'state']);
    expect(res.body).not.toMatch(/secret description|张|reporter/);
    expect(body.summary.parameters).toMatchObject({ limit: 5, truncated: true });
    expect(body.summary.warnings[0]).toMatchObject({ code: 'truncated', params: { limit: 5 } });
    expect(body.summary.warnings[0]?.message).toMatch(/only the newest 5/);
    // Newest first (by id): the X events were inserted last.
    expect(body.features[0]!.properties.category).toBe('facility.road');
  });

  it('points: analysts get coordinates rounded to a ~50 m lattice; those who may read events get them exact', async () => {
    const analyst = (await t.inject({ url: '/api/v1/analysis/points?limit=50', as: 'analyst' })).json<EventPointsResponse>();
    const manager = (await t.inject({ url: '/api/v1/analysis/points?limit=50', as: 'community_manager' })).json<EventPointsResponse>();
    expect(analyst.summary.parameters).toMatchObject({ coordinates: `rounded to ${COARSE_POINT_STEP_DEG}°` });
    expect(manager.summary.parameters).toMatchObject({ coordinates: 'exact' });
    const exact = new Map(manager.features.map((f) => [f.properties.id, f.geometry.coordinates]));
    let moved = 0;
    for (const f of analyst.features) {
      const [x, y] = f.geometry.coordinates as [number, number];
      const [ex, ey] = exact.get(f.properties.id) as [number, number];
      // on the lattice, and within half a step of the true place
      expect(Math.abs(x / COARSE_POINT_STEP_DEG - Math.round(x / COARSE_POINT_STEP_DEG))).toBeLessThan(1e-6);
      expect(Math.abs(y / COARSE_POINT_STEP_DEG - Math.round(y / COARSE_POINT_STEP_DEG))).toBeLessThan(1e-6);
      expect(Math.abs(x - ex)).toBeLessThanOrEqual(COARSE_POINT_STEP_DEG / 2 + 1e-9);
      expect(Math.abs(y - ey)).toBeLessThanOrEqual(COARSE_POINT_STEP_DEG / 2 + 1e-9);
      if (x !== ex || y !== ey) moved++;
    }
    expect(analyst.features.length).toBe(manager.features.length);
    expect(moved).toBeGreaterThan(0);
  });
});

describe('permissions and bad parameters', () => {
  it('needs analysis:read; a scoped analyst sees only their area', async () => {
    expect((await t.inject({ url: '/api/v1/analysis/counts', as: 'dispatcher' })).statusCode).toBe(403);
    expect((await t.inject({ url: '/api/v1/analysis/points', as: 'anonymous' })).statusCode).toBe(401);
    const local = await t.userWith({ roles: ['analyst'], scope: [G(2)] });
    const mine = (await t.inject({ url: `/api/v1/analysis/counts?unit=grid&${UNTIL_APRIL}`, as: { token: local.token } })).json<EventCountsResponse>();
    expect(mine.features.map((f) => [f.id, f.properties.count])).toEqual([[G(2), 2]]);
    const other = await t.inject({ url: `/api/v1/analysis/counts?community=410105001002`, as: { token: local.token } });
    expect(other.statusCode).toBe(403);
  });

  it.each([
    ['unit=circle', 'querystring'],
    ['state=closed,lost', 'state'],
    ['from=2025-03-01T00:00:00Z&to=2025-02-01T00:00:00Z', 'from'],
    ['bbox=114,35,113,34', 'bbox'],
    ['size=5', 'querystring'],
    ['community=4101', 'querystring'],
  ])('counts?%s → 400 with code, message and where', async (query, where) => {
    const res = await t.inject({ url: `/api/v1/analysis/counts?${query}`, as: 'analyst' });
    expect(res.statusCode).toBe(400);
    const error = res.json<{ error: { code: string; message: string; details: { in: string; field?: string } } }>().error;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message.length).toBeGreaterThan(10);
    expect(error.details.in).toBe('querystring');
    if (where !== 'querystring') expect(error.details.field).toBe(where);
  });

  it('weights=distance without distance, knn without k, and rate on emerging are refused', async () => {
    for (const [url, field] of [
      ['/api/v1/analysis/hotspots?weights=distance', 'distance'],
      ['/api/v1/analysis/local-moran?weights=knn', 'k'],
      ['/api/v1/analysis/emerging?rate=residents', 'rate'],
    ] as const) {
      const res = await t.inject({ url, as: 'analyst' });
      expect(res.statusCode, url).toBe(400);
      expect(res.json<{ error: { details: { field: string } } }>().error.details.field).toBe(field);
    }
  });
});
