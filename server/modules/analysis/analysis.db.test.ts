// The analysis endpoints over supplied data, through HTTP, against published reference values (the
// shared reference data sets; skipped with a message when ../shared/data/reference is absent) and
// hand-computed fixtures.
import type { Geometry } from 'geojson';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellCollection, ClusterResponse, GlobalMoranResponse, HotspotResponse, LocalMoranResponse, WeightsResponse } from '../../contracts/analysis';
import type { ErrorResponse } from '../../contracts/common';
import { createTestApp, type TestApp } from '../../test/app';
import { describeWithReference, expectSignificant, readReference, readReferenceCsv, readReferenceGeoJson } from './stats/reference-data.fixture';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

async function post<T>(path: string, payload: unknown): Promise<{ status: number; body: T }> {
  const res = await t.inject({ method: 'POST', url: `/api/v1/analysis/${path}`, payload: payload as object });
  return { status: res.statusCode, body: res.json<T>() };
}

const fc = (features: unknown[]): { type: 'FeatureCollection'; features: unknown[] } => ({ type: 'FeatureCollection', features });
const point = (x: number, y: number, properties: Record<string, unknown> = {}, id?: string | number): unknown => ({
  type: 'Feature',
  ...(id === undefined ? {} : { id }),
  geometry: { type: 'Point', coordinates: [x, y] },
  properties,
});
const reason = (body: unknown): unknown => ((body as ErrorResponse).error.details as { reason?: string } | undefined)?.reason;

describeWithReference('hot spots on the Getis & Ord (1996) grid (getisord_grid.geojson, crs none)', () => {
  const grid = readReferenceGeoJson<Geometry>('getisord_grid.geojson');
  // spdep's example reports cell length(xyz$val) - 136 = 120 (1-based), feature id 120 here.
  const cellId = 120;

  // Expected: spdep reference page for localG (r-spatial.github.io/spdep/reference/localG.html):
  //   nb30 <- dnearneigh(xycoords, 0, 30); G30 <- localG(xyz$val, nb2listw(nb30, style="B"))
  //   G30[length(xyz$val)-136]  #> [1] 1.221979   (and so on for 60 … 150)
  it.each([
    [30, 1.221979],
    [60, 1.748098],
    [90, 1.986135],
    [120, 1.893374],
    [150, 1.237454],
  ])('Gi z at a %i m band on the polygon centroids is %d (spdep localG)', async (d, expected) => {
    const res = await post<HotspotResponse>('hotspots', { data: fc(grid), crs: 'none', value: 'val', weights: { type: 'distance', max: d, binary: true, self: false } });
    expect(res.status).toBe(200);
    expect(res.body.summary.parameters.statistic).toBe('Gi');
    const cell = res.body.features.find((f) => f.id === cellId)!;
    expectSignificant(cell.z, expected, 7, `G${d}`);
    // statistic, expectation and variance are consistent with z.
    expect((cell.statistic! - cell.expectation!) / Math.sqrt(cell.variance!)).toBeCloseTo(cell.z!, 9);
    expect(res.body.features).toHaveLength(256);
  });

  it('Gi* at 30 m: 1.45078 (spdep localG example, G30s)', async () => {
    const res = await post<HotspotResponse>('hotspots', { data: fc(grid), crs: 'none', value: 'val', weights: { type: 'distance', max: 30, binary: true, self: true }, fdr: true });
    expect(res.status).toBe(200);
    expect(res.body.summary.parameters.statistic).toBe('Gi*');
    const cell = res.body.features.find((f) => f.id === cellId)!;
    expectSignificant(cell.z, 1.45078, 6, 'G30s');
    expect(cell.bin).toBe(0); // p = 0.147 > 0.10
    expect(cell.pFdr).toBeGreaterThanOrEqual(cell.p!);
    expect(res.body.features.every((f) => f.binFdr !== undefined)).toBe(true);
  });
});

describeWithReference('hot spots on esda’s six points (esda_6points.geojson, crs none)', () => {
  const six = readReferenceGeoJson<Geometry>('esda_6points.geojson');
  // esda G_Local docstring / esda/tests/test_getisord.py with libpysal DistanceBand(threshold=15), binary.
  it('Gi: esda G_Local(y, w, transform="B").Zs', async () => {
    const expected = [-1.0136729, -0.04361589, 1.31558703, -0.31412676, 1.15373986, 1.77833941];
    const res = await post<HotspotResponse>('hotspots', { data: fc(six), crs: 'none', value: 'y', weights: { type: 'distance', max: 15, self: false } });
    expect(res.status).toBe(200);
    expected.forEach((e, i) => expect(Math.abs(res.body.features[i]!.z! - e)).toBeLessThan(5e-8));
    const few = res.body.summary.warnings.find((w) => w.code === 'few_features');
    expect(few?.params.limit).toBe(30);
    expect(few?.message).toMatch(/^fewer than 30 features/);
  });

  it('Gi*: esda G_Local(y, w, transform="B", star=True).Zs', async () => {
    const expected = [-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331];
    const res = await post<HotspotResponse>('hotspots', { data: fc(six), crs: 'none', value: 'y', weights: { type: 'distance', max: 15 } });
    expected.forEach((e, i) => expect(Math.abs(res.body.features[i]!.z! - e)).toBeLessThan(5e-8));
    expect(res.body.features.map((f) => f.id)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describeWithReference('local Moran on afcon with the LISA paper neighbour list supplied as GAL', () => {
  // spdep reference page for localmoran (r-spatial.github.io/spdep/reference/localmoran.html), example
  //   resI <- localmoran(afcon$totcon, nb2listw(paper.nb)); printCoefmat(data.frame(resI[oid,], …))
  // columns Ii, E.Ii, Var.Ii, Z.Ii, Pr(z != E(Ii)) (spdep ≥ 1.1-7 defaults); a selection of rows.
  const printed: Record<string, [number, number, number, number, number]> = {
    'THE GAMBIA': [3.7523e-1, -2.4317e-2, 9.9646e-1, 4.0025e-1, 0.689],
    MALI: [4.6363e-1, -2.1841e-2, 1.0896e-1, 1.4708, 0.1414],
    'CENTRAL AFRICAN REPUBLIC': [-4.4206e-1, -1.06e-2, 7.9287e-2, -1.5323, 0.1255],
    UGANDA: [1.9425, -6.2812e-2, 4.4503e-1, 3.006, 0.0026],
    KENYA: [1.1969, -1.6803e-2, 1.2489e-1, 3.4344, 0.0006],
    RWANDA: [-7.5236e-1, -1.473e-2, 1.4096e-1, -1.9647, 0.0494],
    ZIMBABWE: [-9.5068e-3, -6.0969e-3, 5.8855e-2, -1.4056e-2, 0.9888],
    TUNISIA: [5.3873e-3, -3.0273e-6, 6.1985e-5, 6.8466e-1, 0.4936],
    SUDAN: [2.9878, -2.2835e-1, 7.632e-1, 3.6814, 0.0002],
    EGYPT: [6.9467, -2.9968e-1, 4.2971, 3.4957, 0.0005],
  };
  const afcon = readReferenceCsv('afcon.csv');
  // afcon.csv has centroids only; the weights come from the GAL file, so geometry does not matter.
  const data = fc(afcon.map((r) => point(Number(r.x), Number(r.y), { totcon: Number(r.totcon), name: r.name }, Number(r.row))));

  it('reproduces spdep Ii, E.Ii, Var.Ii, Z.Ii to 5 significant figures and p to 4 decimals', async () => {
    const res = await post<LocalMoranResponse>('local-moran', { data, crs: 'none', value: 'totcon', weights: { type: 'explicit', gal: readReference('afcon_paper.gal'), transform: 'R' } });
    expect(res.status).toBe(200);
    expect(res.body.summary.weights).toMatchObject({ type: 'explicit', transform: 'R', self: false, islands: 0 });
    for (const [name, [ii, e, v, z, p]] of Object.entries(printed)) {
      const row = afcon.find((r) => r.name === name)!;
      const f = res.body.features.find((x) => x.id === Number(row.row))!;
      expectSignificant(f.statistic, ii, 5, `${name} Ii`);
      expectSignificant(f.expectation, e, 5, `${name} E.Ii`);
      expectSignificant(f.variance, v, 5, `${name} Var.Ii`);
      expectSignificant(f.z, z, 5, `${name} Z.Ii`);
      expect(Math.abs(f.p! - p)).toBeLessThanOrEqual(0.00005 + 1e-12);
    }
    // The mean of Ii is the global I for row-standardised weights: mean(resI[,1]) = 0.4167956.
    expectSignificant(res.body.features.reduce((s, f) => s + f.statistic!, 0) / 42, 0.4167956, 7, 'mean Ii');
    const egypt = res.body.features.find((x) => x.id === Number(afcon.find((r) => r.name === 'EGYPT')!.row))!;
    expect(egypt.quadrant).toBe('HH');
  });

  it('gives the same answer with the neighbour list as { id: [ids] }', async () => {
    const gal = readReference('afcon_paper.gal').trim().split(/\r?\n/).slice(1);
    const neighbours: Record<string, number[]> = {};
    for (let k = 0; k + 1 < gal.length; k += 2) neighbours[gal[k]!.trim().split(/\s+/)[0]!] = gal[k + 1]!.trim().split(/\s+/).map(Number);
    const a = await post<LocalMoranResponse>('local-moran', { data, crs: 'none', value: 'totcon', weights: { type: 'explicit', gal: readReference('afcon_paper.gal') } });
    const b = await post<LocalMoranResponse>('local-moran', { data, crs: 'none', value: 'totcon', weights: { type: 'explicit', neighbours } });
    expect(b.status).toBe(200);
    expect(b.body.features).toEqual(a.body.features);
  });
});

describeWithReference('global Moran and contiguity weights from polygons', () => {
  const columbus = readReferenceGeoJson<Geometry>('columbus.geojson');
  const stl = readReferenceGeoJson<Geometry>('stl_hom.geojson');

  it('Columbus CRIME, queen from the polygons, row-standardised: I = 0.500188557', async () => {
    // R. Bivand, "R: Interoperability" course notes (5 Sep 2019): moran.test(col_sf$CRIME,
    // nb2listw(poly2nb(columbus), style="W")): Moran I 0.500188557, Expectation -0.020833333,
    // Variance 0.008689289, standard deviate 5.5894, p-value 1.139e-08 (one-sided "greater");
    // esda.Moran(CRIME, Queen.from_dataframe(columbus)).I = 0.5001885571828611.
    const res = await post<GlobalMoranResponse>('global-moran', { data: fc(columbus), crs: 'none', value: 'CRIME', weights: { type: 'queen' } });
    expect(res.status).toBe(200);
    const r = res.body.result;
    expect(Math.abs(r.statistic! - 0.5001885571828611)).toBeLessThan(1e-13);
    expectSignificant(r.expectation, -0.020833333, 8, 'E[I]');
    expectSignificant(r.variance, 0.008689289, 7, 'VI_rand');
    expectSignificant(r.z, 5.5894, 5, 'z');
    expectSignificant(r.p! / 2, 1.139e-8, 4, 'one-sided p'); // our p is two-sided
    expect(res.body.summary.weights).toMatchObject({ type: 'queen', transform: 'R', links: 236, islands: 0, symmetric: true });
  });

  it('/weights: Columbus queen has 236 directed links (columbus.gal), St Louis rook 398 (stl.gal)', async () => {
    const queen = await post<WeightsResponse>('weights', { data: fc(columbus), crs: 'none', weights: { type: 'queen' }, idProperty: 'POLYID' });
    expect(queen.status).toBe(200);
    expect(queen.body.summary.weights!.links).toBe(236);
    // libpysal's columbus.gal lists POLYID 1's neighbours as 2 and 3.
    expect(queen.body.features[0]).toEqual({ id: 1, neighbours: [2, 3], weights: [1, 1] });
    const rook = await post<WeightsResponse>('weights', { data: fc(stl), crs: 'none', weights: { type: 'rook', transform: 'R' } });
    expect(rook.status).toBe(200);
    expect(rook.body.summary.weights!.links).toBe(398);
    expect(rook.body.features.reduce((s, f) => s + f.neighbours.length, 0)).toBe(398);
    for (const f of rook.body.features) expect(f.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 12);
  });
});

describe('EPSG:4326: distance bands in metres (hand-computed)', () => {
  // At the equator the local projection's scales are a·π/180 = 111 319.4908 m per degree of longitude
  // and a(1 − e²)·π/180 = 110 574.2758 m per degree of latitude (WGS 84: a = 6 378 137 m,
  // f = 1/298.257223563). So 29.9 m east is 29.9 / 111 319.4908 degrees, and so on.
  const KX = 111_319.490_793_273_6;
  const KY = 110_574.275_821_594_3;
  const data = fc([
    point(0, 0, { v: 1 }, 'a'),
    point(29.9 / KX, 0, { v: 2 }, 'b'), // 29.9 m east of a
    point((29.9 + 30.1) / KX, 0, { v: 3 }, 'c'), // 30.1 m east of b
    point(0, 29.9 / KY, { v: 4 }, 'd'), // 29.9 m north of a
    point(0, -30.1 / KY, { v: 5 }, 'e'), // 30.1 m south of a
  ]);

  it('links points up to 30 m apart and not 30.1 m', async () => {
    const res = await post<WeightsResponse>('weights', { data, crs: 'EPSG:4326', weights: { type: 'distance', max: 30 } });
    expect(res.status).toBe(200);
    expect(Object.fromEntries(res.body.features.map((f) => [f.id, f.neighbours]))).toEqual({ a: ['b', 'd'], b: ['a'], c: [], d: ['a'], e: [] });
    expect(res.body.summary.weights).toMatchObject({ links: 4, islands: 2 });
    expect(res.body.summary.projection).toMatch(/equirectangular/);
  });

  it('reports islands as null (never NaN) with a warning, and bins them 0', async () => {
    const res = await post<HotspotResponse>('hotspots', { data, crs: 'EPSG:4326', value: 'v', weights: { type: 'distance', max: 30 } });
    expect(res.status).toBe(200);
    const c = res.body.features.find((f) => f.id === 'c')!;
    expect(c).toMatchObject({ statistic: null, expectation: null, variance: null, z: null, p: null, bin: 0, neighbours: 0 });
    const islands = res.body.summary.warnings.find((w) => w.code === 'islands');
    expect(islands?.params).toEqual({ features: 2 });
    expect(islands?.message).toContain('2 feature(s) have no neighbours');
  });
});

describe('DBSCAN clusters in PostGIS', () => {
  // PostGIS regression cases: postgis/postgis regress/core/cluster.sql (tests t101–t103, #3612) with
  // their expected output in regress/core/cluster_expected.
  const dbscanInputs = fc([
    point(0, 0, {}, 1),
    point(0, 1, {}, 2),
    point(-0.5, 0.5, {}, 3),
    point(1, 0, {}, 4),
    point(1, 1, {}, 5),
    point(1.0, 0.5, {}, 6),
  ]);
  const clustersOf = (body: ClusterResponse): (number | null)[] => body.features.map((f) => f.cluster);

  it('t101: eps 0.8, minpoints 1 → 0 0 0 1 1 1', async () => {
    const res = await post<ClusterResponse>('clusters', { data: dbscanInputs, crs: 'none', eps: 0.8, minPoints: 1 });
    expect(res.status).toBe(200);
    expect(clustersOf(res.body)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(res.body.clusters.features.map((c) => c.properties.count)).toEqual([3, 3]);
    expect(res.body.clusters.features[1]!.geometry).toEqual({ type: 'LineString', coordinates: [[1, 0], [1, 1]] });
  });

  it('t102: eps 0.8, minpoints 4 → all noise', async () => {
    const res = await post<ClusterResponse>('clusters', { data: dbscanInputs, crs: 'none', eps: 0.8, minPoints: 4 });
    expect(clustersOf(res.body)).toEqual([null, null, null, null, null, null]);
    expect(res.body.clusters.features).toEqual([]);
    expect(res.body.summary.parameters).toMatchObject({ clusters: 0, noise: 6 });
  });

  it('t103: eps 0.6, minpoints 3 → noise on the left, one cluster on the right', async () => {
    const res = await post<ClusterResponse>('clusters', { data: dbscanInputs, crs: 'none', eps: 0.6, minPoints: 3 });
    expect(clustersOf(res.body)).toEqual([null, null, null, 0, 0, 0]);
  });

  it('#3612: two polygons with eps 20.1, minpoints 5 are noise; a single point is noise', async () => {
    const polygons = fc([
      { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[-71.1319, 42.2503], [-71.132, 42.2502], [-71.1323, 42.2504], [-71.1322, 42.2505], [-71.1319, 42.2503]]] } },
      { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[-71.1319, 42.2512], [-71.1318, 42.2511], [-71.1317, 42.2511], [-71.1317, 42.251], [-71.1317, 42.2509], [-71.132, 42.2511], [-71.1319, 42.2512]]] } },
    ]);
    const a = await post<ClusterResponse>('clusters', { data: polygons, crs: 'none', eps: 20.1, minPoints: 5 });
    expect(a.status).toBe(200);
    expect(clustersOf(a.body)).toEqual([null, null]);
    const b = await post<ClusterResponse>('clusters', { data: fc([point(1, 1)]), crs: 'none', eps: 20.1, minPoints: 5 });
    expect(clustersOf(b.body)).toEqual([null]);
  });

  it('labels, counts and hulls are those of ST_ClusterDBSCAN and ST_ConvexHull on 3,000 points (duplicates, collinear runs)', async () => {
    let s = 99;
    const rnd = (): number => (s = (s * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const xy: [number, number][] = [];
    for (let k = 0; k < 2700; k++) xy.push([Math.round(rnd() * 4000) / 4, Math.round(rnd() * 4000) / 4]);
    for (let k = 0; k < 200; k++) xy.push(xy[k * 7]!); // exact duplicates
    for (let k = 0; k < 100; k++) xy.push([2000 + (k % 10) * 0.5, 300]); // collinear runs: LineString hulls
    const res = await post<ClusterResponse>('clusters', { data: fc(xy.map(([x, y]) => point(x, y))), crs: 'none', eps: 12, minPoints: 3 });
    expect(res.status).toBe(200);
    const { rows } = await sql<{ ord: number; label: number | null }>`
      SELECT u.ord::int AS ord, ST_ClusterDBSCAN(ST_MakePoint(u.x, u.y), eps := 12, minpoints := 3) OVER () AS label
      FROM unnest(${xy.map((p) => p[0])}::float8[], ${xy.map((p) => p[1])}::float8[]) WITH ORDINALITY AS u(x, y, ord)`.execute(t.tdb.db);
    // The same partition: PostGIS label ↔ our cluster id one to one, noise the same.
    const ours = res.body.features.map((f) => f.cluster);
    const pairs = new Map<number, number>();
    for (const r of rows) {
      const mine = ours[r.ord - 1];
      if (r.label === null) expect(mine).toBeNull();
      else {
        expect(mine).not.toBeNull();
        expect(pairs.get(r.label) ?? mine).toBe(mine);
        pairs.set(r.label, mine!);
      }
    }
    expect(new Set(pairs.values()).size).toBe(pairs.size);
    const clusters = res.body.clusters.features;
    expect(clusters.length).toBe(pairs.size);
    expect(clusters.length).toBeGreaterThan(20);
    expect(clusters.some((c) => c.geometry.type === 'LineString')).toBe(true);
    // Numbered by first member in input order.
    const firsts = clusters.map((c) => ours.indexOf(c.properties.cluster));
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    // Each hull equals PostGIS's hull of the cluster's points, and the counts match.
    const members = clusters.map((c) => xy.filter((_, k) => ours[k] === c.properties.cluster));
    expect(clusters.map((c) => c.properties.count)).toEqual(members.map((m) => m.length));
    const { rows: hulls } = await sql<{ same: boolean; type: string }>`
      SELECT ST_Equals(ST_ConvexHull(ST_Collect(ST_MakePoint(p.x, p.y))), ST_SetSRID(ST_GeomFromGeoJSON(h.hull), 0)) AS same, GeometryType(ST_GeomFromGeoJSON(h.hull)) AS type
      FROM unnest(${clusters.map((c) => JSON.stringify(c.geometry))}::text[]) WITH ORDINALITY AS h(hull, c)
      JOIN LATERAL (SELECT (m->>0)::float8 AS x, (m->>1)::float8 AS y FROM jsonb_array_elements(${JSON.stringify(members)}::jsonb -> (h.c::int - 1)) m) p ON true
      GROUP BY h.c, h.hull ORDER BY h.c`.execute(t.tdb.db);
    expect(hulls.every((h) => h.same)).toBe(true);
    expect(hulls).toHaveLength(clusters.length);
    // Polygons are counter-clockwise and closed, as ST_ConvexHull returns them.
    for (const c of clusters.filter((x) => x.geometry.type === 'Polygon')) {
      const ring = (c.geometry.coordinates as number[][][])[0]!;
      expect(ring[0]).toEqual(ring[ring.length - 1]);
      let area = 0;
      for (let k = 0; k + 1 < ring.length; k++) area += ring[k]![0]! * ring[k + 1]![1]! - ring[k + 1]![0]! * ring[k]![1]!;
      expect(area).toBeGreaterThan(0);
    }
  });

  it('polygon clusters: hull of the members\' exterior rings, as ST_ConvexHull of the polygons', async () => {
    const square = (x: number, y: number, d: number): unknown => ({ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]] } });
    const data = fc([square(0, 0, 1), square(1.5, 0, 1), square(0.7, 1.5, 2), square(50, 50, 1), square(3, 0.2, 0.5)]);
    const res = await post<ClusterResponse>('clusters', { data, crs: 'none', eps: 0.6, minPoints: 2 });
    expect(res.status).toBe(200);
    expect(res.body.features.map((f) => f.cluster)).toEqual([0, 0, 0, null, 0]);
    const { rows } = await sql<{ same: boolean }>`
      SELECT ST_Equals(ST_ConvexHull(ST_Collect(ARRAY[ST_MakeEnvelope(0, 0, 1, 1), ST_MakeEnvelope(1.5, 0, 2.5, 1), ST_MakeEnvelope(0.7, 1.5, 2.7, 3.5), ST_MakeEnvelope(3, 0.2, 3.5, 0.7)])),
                      ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(res.body.clusters.features[0]!.geometry)}), 0)) AS same`.execute(t.tdb.db);
    expect(rows[0]!.same).toBe(true);
  });

  it('EPSG:4326: eps in metres, hull in lon/lat, time span per cluster', async () => {
    const KX = 111_319.490_793_273_6; // metres per degree of longitude at the equator (see above)
    const pts = fc([
      point(0, 0, { at: '2024-03-01T08:00:00Z' }, 'p1'),
      point(9 / KX, 0, { at: '2024-03-05T08:00:00Z' }, 'p2'), // 9 m east
      point(18 / KX, 0, { at: '2024-02-20T08:00:00Z' }, 'p3'), // 18 m east
      point(40 / KX, 0, { at: '2024-03-02T08:00:00Z' }, 'p4'), // 22 m from p3
    ]);
    const res = await post<ClusterResponse>('clusters', { data: pts, crs: 'EPSG:4326', eps: 10, minPoints: 2, timeProperty: 'at' });
    expect(res.status).toBe(200);
    expect(clustersOf(res.body)).toEqual([0, 0, 0, null]);
    const [cluster] = res.body.clusters.features;
    expect(cluster!.properties).toEqual({ cluster: 0, count: 3, start: '2024-02-20T08:00:00.000Z', end: '2024-03-05T08:00:00.000Z' });
    const coords = cluster!.geometry.coordinates as number[][];
    expect(cluster!.geometry.type).toBe('LineString');
    expect(coords.map((c) => c[0]! * KX).sort((x, y) => x - y)).toEqual([expect.closeTo(0, 3), expect.closeTo(18, 3)]); // lon/lat are rounded to 1e-9° (0.1 mm)
  });
});

describe('counts per cell (arithmetic binning)', () => {
  it('counts points per square cell (hand-computed, crs none)', async () => {
    const data = fc([point(10, 10), point(20, 20), point(150, 50), point(-10, 5), point(99.999, 99.999)]);
    const res = await post<CellCollection>('counts', { data, crs: 'none', shape: 'square', size: 100 });
    expect(res.status).toBe(200);
    expect(res.body.features.map((f) => [f.id, f.properties.count])).toEqual([
      ['-1,0', 1],
      ['0,0', 3],
      ['1,0', 1],
    ]);
    expect(res.body.features[1]!.geometry.coordinates).toEqual([[[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]]]);
  });

  it('numbers hexagons exactly as ST_HexagonGrid and matches its join-and-count', async () => {
    // 500 pseudo-random points in a 1 km square; away from cell edges both methods agree exactly.
    let s = 12345;
    const rnd = (): number => ((s = (s * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
    const xy = Array.from({ length: 500 }, () => [rnd() * 1000 - 300, rnd() * 1000 - 200] as const);
    const res = await post<CellCollection>('counts', { data: fc(xy.map(([x, y]) => point(x, y))), crs: 'none', shape: 'hex', size: 50 });
    expect(res.status).toBe(200);
    const { rows } = await sql<{ i: number; j: number; count: number }>`
      SELECT h.i, h.j, count(*)::int AS count
      FROM unnest(${xy.map((p) => p[0])}::float8[], ${xy.map((p) => p[1])}::float8[]) AS u(x, y)
      JOIN ST_HexagonGrid(50, ST_MakeEnvelope(-400, -300, 800, 900)) h ON ST_Intersects(h.geom, ST_MakePoint(u.x, u.y))
      GROUP BY h.i, h.j ORDER BY h.i, h.j`.execute(t.tdb.db);
    expect(res.body.features.map((f) => [f.properties.i, f.properties.j, f.properties.count])).toEqual(rows.map((r) => [r.i, r.j, r.count]));
    expect(res.body.features.reduce((sum, f) => sum + f.properties.count!, 0)).toBe(500);
  });

  it('EPSG:4326: square cells in metres come back as lon/lat polygons', async () => {
    const KX = 111_319.490_793_273_6;
    const KY = 110_574.275_821_594_3;
    // origin [0, 0]: cell (0, 0) spans 0–100 m east and north of it.
    const data = fc([point(50 / KX, 50 / KY), point(60 / KX, 10 / KY), point(150 / KX, 50 / KY)]);
    const res = await post<CellCollection>('counts', { data, crs: 'EPSG:4326', shape: 'square', size: 100, origin: [0, 0] });
    expect(res.body.features.map((f) => [f.id, f.properties.count])).toEqual([
      ['0,0', 2],
      ['1,0', 1],
    ]);
    const ring = res.body.features[0]!.geometry.coordinates[0]!;
    expect(ring[2]![0]).toBeCloseTo(100 / KX, 8); // lon/lat are rounded to 1e-9°
    expect(ring[2]![1]).toBeCloseTo(100 / KY, 8);
  });
});

describe('quartic kernel density', () => {
  it('one point: 3/(π r²) at its own cell, (1 − (d/r)²)² times that one cell away, zero beyond r', async () => {
    const r = 100;
    const res = await post<CellCollection>('density', { data: fc([point(500, 500)]), crs: 'none', radius: r, cellSize: 25, origin: [500, 500] });
    expect(res.status).toBe(200);
    const at = (id: string): number | undefined => res.body.features.find((f) => f.id === id)?.properties.density;
    const k0 = 3 / (Math.PI * r * r);
    expect(at('0,0')).toBeCloseTo(k0, 15);
    expect(at('1,0')).toBeCloseTo(k0 * (1 - (25 / r) ** 2) ** 2, 15);
    expect(at('2,2')).toBeCloseTo(k0 * (1 - (50 ** 2 + 50 ** 2) / r ** 2) ** 2, 15);
    expect(at('4,0')).toBeUndefined(); // d = r: the kernel is 0 at the edge
    expect(res.body.features.find((f) => f.id === '0,0')!.geometry.coordinates[0]![0]).toEqual([487.5, 487.5]);
    // Σ density · cell area ≈ 1 (the kernel integrates to one).
    expect(res.body.features.reduce((s, f) => s + f.properties.density!, 0) * 25 * 25).toBeCloseTo(1, 2);
  });

  it('EPSG:4326: radius in metres; the default origin is the data centre rounded to 0.01°', async () => {
    const res = await post<CellCollection>('density', { data: fc([point(113.65, 34.75), point(113.6501, 34.7501)]), crs: 'EPSG:4326', radius: 50, cellSize: 10 });
    expect(res.status).toBe(200);
    expect(res.body.summary.parameters.origin).toEqual([113.65, 34.75]);
    expect(res.body.features.find((f) => f.id === '0,0')!.properties.density).toBeGreaterThan(3 / (Math.PI * 2500));
  });
});

describe('bad input is refused and leaves the database unchanged', () => {
  const six = fc([point(0, 0, { v: 1 }), point(1, 0, { v: 2 }), point(2, 0, { v: 3 }), point(3, 0, { v: 4 })]);

  async function relationCount(): Promise<number> {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_class`.execute(t.tdb.db);
    return rows[0]!.n;
  }

  it.each([
    ['value property missing', 422, 'VALUE_MISSING', 'hotspots', { data: six, crs: 'none', value: 'nope', weights: { type: 'distance', max: 1 } }],
    ['non-numeric value', 422, 'VALUE_NOT_NUMERIC', 'hotspots', { data: fc([point(0, 0, { v: '1' }), point(1, 0, { v: 2 }), point(2, 0, { v: 3 })]), crs: 'none', value: 'v', weights: { type: 'knn', k: 1 } }],
    ['mixed geometry types', 422, 'MIXED_GEOMETRY_TYPES', 'weights', { data: fc([point(0, 0), { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] } }]), crs: 'none', weights: { type: 'knn', k: 1 } }],
    ['contiguity on points', 422, 'CONTIGUITY_NEEDS_POLYGONS', 'local-moran', { data: six, crs: 'none', value: 'v', weights: { type: 'queen' } }],
    ['self-links for Moran', 422, 'WEIGHTS_INVALID', 'global-moran', { data: six, crs: 'none', value: 'v', weights: { type: 'distance', max: 1, self: true } }],
    ['inverse-distance weights', 422, 'WEIGHTS_UNSUPPORTED', 'hotspots', { data: six, crs: 'none', value: 'v', weights: { type: 'distance', max: 1, binary: false } }],
    ['GAL with an unknown id', 422, 'WEIGHTS_INVALID', 'local-moran', { data: six, crs: 'none', value: 'v', weights: { type: 'explicit', gal: '4\n0 1\n9\n1 0\n2 0\n3 0\n' } }],
    ['duplicate ids', 422, 'DUPLICATE_ID', 'weights', { data: fc([point(0, 0, {}, 'x'), point(1, 0, {}, 'x')]), crs: 'none', weights: { type: 'knn', k: 1 } }],
    ['lon/lat out of range', 422, 'COORDINATE_OUT_OF_RANGE', 'weights', { data: fc([point(500, 0), point(1, 0)]), crs: 'EPSG:4326', weights: { type: 'knn', k: 1 } }],
    ['polygons for counts', 422, 'POINTS_REQUIRED', 'counts', { data: fc([{ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] } }]), crs: 'none', shape: 'hex', size: 1 }],
    ['a density grid too large', 422, 'TOO_MANY_CELLS', 'density', { data: fc([point(0, 0), point(1e6, 1e6)]), crs: 'none', radius: 1, cellSize: 1 }],
    ['an invalid time', 422, 'TIME_INVALID', 'clusters', { data: fc([point(0, 0, { at: 'yesterday' })]), crs: 'none', eps: 1, minPoints: 1, timeProperty: 'at' }],
    ['an unknown weights type', 400, undefined, 'hotspots', { data: six, crs: 'none', value: 'v', weights: { type: 'gabriel' } }],
    ['a line geometry', 400, undefined, 'weights', { data: fc([{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[0, 0], [1, 1]] } }]), crs: 'none', weights: { type: 'knn', k: 1 } }],
  ])('%s → %i %s', async (_name, status, expectedReason, path, payload) => {
    const before = await relationCount();
    const res = await post<ErrorResponse>(path, payload);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    if (expectedReason) expect(reason(res.body)).toBe(expectedReason);
    expect(await relationCount()).toBe(before);
  });

  it.each([
    ['clusters', 'eps', '{"eps":1e999,"minPoints":1}'],
    ['counts', 'size', '{"shape":"hex","size":1e999}'],
    ['density', 'cellSize', '{"radius":1,"cellSize":1e999}'],
    ['density', 'radius', '{"radius":1e999,"cellSize":1}'],
    ['weights', 'weights/max', '{"weights":{"type":"distance","max":1e999}}'],
  ])('refuses a JSON 1e999 (Infinity) as %s %s (found by server/http/bad-input.db.test.ts: a 500, or eps null in a 200)', async (path, field, rest) => {
    const data = JSON.stringify(six);
    const res = await t.inject({ method: 'POST', url: `/api/v1/analysis/${path}`, headers: { 'content-type': 'application/json' }, payload: `{"data":${data},"crs":"none",${rest.slice(1)}` });
    expect(res.statusCode).toBe(400);
    const error = res.json<ErrorResponse>().error;
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'body' } });
    expect(JSON.stringify(error.details)).toContain(`/${field}`);
  });

  it('refuses more than 50,000 features with TOO_MANY_FEATURES', async () => {
    const many = fc(Array.from({ length: 50_001 }, (_, i) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [i % 1000, Math.floor(i / 1000)] }, properties: null })));
    const res = await post<ErrorResponse>('weights', { data: many, crs: 'none', weights: { type: 'knn', k: 1 } });
    expect([413, 422]).toContain(res.status);
    if (res.status === 422) expect(reason(res.body)).toBe('TOO_MANY_FEATURES');
  });
});
