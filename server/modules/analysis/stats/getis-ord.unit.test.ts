import { describe, expect, it } from 'vitest';
import { benjaminiHochberg } from './fdr';
import { parseGal } from './gal';
import { confidenceBin, getisOrd } from './getis-ord';
import { twoSidedP } from './normal';
import { distanceBandNeighbours, spatialWeights } from './weights';
import { describeWithReference, expectSignificant, readReference, readReferenceCsv } from './reference-data.fixture';

describeWithReference('Getis-Ord on the Getis & Ord (1996) grid (getisord.csv)', () => {
  const rows = readReferenceCsv('getisord.csv');
  const coords = rows.map((r) => [Number(r.x), Number(r.y)]);
  const val = rows.map((r) => Number(r.val));
  // spdep's example reports cell `length(xyz$val) - 136` = 120 (1-based): index 119 here.
  const cell = val.length - 136 - 1;

  // Expected: output of the examples on the spdep reference page for localG
  // (r-spatial.github.io/spdep/reference/localG.html), e.g.
  //   nb30 <- dnearneigh(xycoords, 0, 30); G30 <- localG(xyz$val, nb2listw(nb30, style="B"))
  //   G30[length(xyz$val)-136]  #> [1] 1.221979
  it.each([
    [30, 1.221979],
    [60, 1.748098],
    [90, 1.986135],
    [120, 1.893374],
    [150, 1.237454],
  ])('Gi at d = %i m is %d (spdep localG)', (d, expected) => {
    const w = spatialWeights(distanceBandNeighbours(coords, d), { transform: 'B' });
    const result = getisOrd(val, w);
    expect(result.star).toBe(false);
    expectSignificant(result.z[cell], expected, 7, `G${d}`);
  });

  it('Gi* at d = 30 m: 1.45078 (eq. 14.2), 1.447943 with the n − 1 variance of Getis & Ord (1996) p. 267', () => {
    const w = spatialWeights(distanceBandNeighbours(coords, 30), { transform: 'B', includeSelf: true });
    const result = getisOrd(val, w);
    expect(result.star).toBe(true);
    // spdep localG example: G30s[length(xyz$val)-136] #> [1] 1.45078
    expectSignificant(result.z[cell], 1.45078, 6, 'G30s');
    // … and G30s[…] * sqrt(SS/n) / sqrt(var(val)) #> [1] 1.447943, the value printed in the 1996 chapter.
    const n = val.length;
    expectSignificant(result.z[cell]! * Math.sqrt((n - 1) / n), 1.447943, 7, 'G30s (n-1)');
  });

  it('row-standardised weights give the same z as binary (Ord & Getis 1995 general form)', () => {
    const nb = distanceBandNeighbours(coords, 60);
    const b = getisOrd(val, spatialWeights(nb, { transform: 'B' }));
    const r = getisOrd(val, spatialWeights(nb, { transform: 'R' }));
    r.z.forEach((z, i) => expect(z).toBeCloseTo(b.z[i]!, 10));
  });
});

describeWithReference('Getis-Ord on esda’s six points (esda_6points.geojson values)', () => {
  // Points and y from esda's G_Local docstring / esda/tests/test_getisord.py, with
  // libpysal DistanceBand(points, threshold=15) (binary).
  const points = [[10, 10], [20, 10], [40, 10], [15, 20], [30, 20], [30, 30]];
  const y = [2, 3, 3.2, 5, 8, 7];
  const nb = distanceBandNeighbours(points, 15);

  it('Gi, binary: esda G_Local(y, w, transform="B").Zs', () => {
    const expected = [-1.0136729, -0.04361589, 1.31558703, -0.31412676, 1.15373986, 1.77833941];
    const { z } = getisOrd(y, spatialWeights(nb, { transform: 'B' }));
    expected.forEach((e, i) => expect(Math.abs(z[i]! - e)).toBeLessThan(5e-8));
  });

  it('Gi*, binary: esda G_Local(y, w, transform="B", star=True).Zs', () => {
    const expected = [-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331];
    const { z } = getisOrd(y, spatialWeights(nb, { transform: 'B', includeSelf: true }));
    expected.forEach((e, i) => expect(Math.abs(z[i]! - e)).toBeLessThan(5e-8));
  });

  it('uses the same coordinates and values as the shared esda_6points.geojson', () => {
    const fc = JSON.parse(readReference('esda_6points.geojson')) as {
      features: { geometry: { coordinates: number[] }; properties: { y: number } }[];
    };
    expect(fc.features.map((f) => f.geometry.coordinates)).toEqual(points);
    expect(fc.features.map((f) => f.properties.y)).toEqual(y);
  });
});

describeWithReference('Gi* on afcon with the LISA paper neighbours (afcon_paper.gal)', () => {
  it('matches spdep localG(afcon$totcon, nb2listw(include.self(paper.nb))) to the printed 3 decimals', () => {
    // spdep reference page for localmoran, example output:
    //   resG <- localG(afcon$totcon, nb2listw(include.self(paper.nb)))
    //   print(data.frame(resG[oid], row.names=afcon$name[oid]), digits=2)
    const expected: Record<string, number> = {
      'THE GAMBIA': -0.984, MALI: -1.699, SENEGAL: -1.463, BENIN: -1.301, MAURITANIA: -0.605, NIGER: -1.049, 'IVORY COAST': -1.417,
      GUINEA: -1.449, 'BURKINA FASO': -1.751, LIBERIA: -1.041, 'SIERRA LEONE': -0.87, GHANA: -1.103, TOGO: -0.991, CAMEROON: -1.133,
      NIGERIA: -1.173, GABON: -0.789, 'CENTRAL AFRICAN REPUBLIC': 1.173, CHAD: 0.463, CONGO: -0.203, ZAIRE: 2.023, ANGOLA: 1.235,
      UGANDA: 3.336, KENYA: 3.503, TANZANIA: 1.098, BURUNDI: 0.774, RWANDA: 1.457, SOMALIA: 1.183, ETHIOPIA: 2.627, ZAMBIA: 0.753,
      ZIMBABWE: -0.2, MALAWI: 0.212, MOZAMBIQUE: -0.288, 'SOUTH AFRICA': -0.868, LESOTHO: -0.298, BOTSWANA: 0.041, SWAZILAND: -0.659,
      MOROCCO: 0.022, ALGERIA: -0.363, TUNISIA: 0.579, LIBYA: 2.553, SUDAN: 4.039, EGYPT: 4.421,
    };
    const afcon = readReferenceCsv('afcon.csv');
    const gal = parseGal(readReference('afcon_paper.gal'), afcon.map((r) => r.row!));
    const { z } = getisOrd(
      afcon.map((r) => Number(r.totcon)),
      spatialWeights(gal.neighbours, { transform: 'R', includeSelf: true }),
    );
    afcon.forEach((r, i) => expect(Math.abs(z[i]! - expected[r.name!]!), r.name).toBeLessThanOrEqual(0.0005 + 1e-12));
  });
});

describe('Getis-Ord edge cases', () => {
  it('reports islands as null (not NaN), and bins them 0', () => {
    const points = [[0, 0], [10, 0], [20, 0], [0, 10], [10, 10], [500, 500]];
    const x = [1, 2, 3, 4, 5, 6];
    for (const includeSelf of [false, true]) {
      const w = spatialWeights(distanceBandNeighbours(points, 10), { includeSelf });
      expect(w.islands).toEqual([5]);
      const result = getisOrd(x, w);
      expect(result.z[5]).toBeNull();
      expect(result.p[5]).toBeNull();
      expect(result.g[5]).toBeNull();
      expect(result.bin[5]).toBe(0);
      expect(result.z.slice(0, 5).every((v) => v !== null && Number.isFinite(v))).toBe(true);
    }
  });

  it('gives null for constant data', () => {
    const w = spatialWeights(distanceBandNeighbours([[0, 0], [1, 0], [2, 0], [3, 0]], 1), { includeSelf: true });
    expect(getisOrd([5, 5, 5, 5], w).z).toEqual([null, null, null, null]);
  });

  it('computes G_i as the share of the total (Getis & Ord 1992)', () => {
    const w = spatialWeights(distanceBandNeighbours([[0, 0], [1, 0], [2, 0]], 1));
    const { g } = getisOrd([1, 2, 4], w);
    expect(g).toEqual([2 / 6, 5 / 5, 2 / 3]);
  });

  it('bins at ArcGIS 90/95/99 % and applies Benjamini–Hochberg when asked', () => {
    expect(confidenceBin(2.6, twoSidedP(2.6))).toBe(3);
    expect(confidenceBin(-2.0, twoSidedP(2.0))).toBe(-2);
    expect(confidenceBin(1.7, twoSidedP(1.7))).toBe(1);
    expect(confidenceBin(1.6, twoSidedP(1.6))).toBe(0);
    expect(confidenceBin(null, null)).toBe(0);
    // A lone high value among 200 points on a line: significant raw, less so after FDR.
    const points = Array.from({ length: 200 }, (_, i) => [i, 0]);
    const x = points.map((_, i) => (i === 100 || i === 101 ? 30 : (i * 7919) % 10));
    const w = spatialWeights(distanceBandNeighbours(points, 1), { includeSelf: true });
    const raw = getisOrd(x, w);
    const fdr = getisOrd(x, w, { fdr: true });
    expect(fdr.pFdr).toEqual(benjaminiHochberg(raw.p));
    fdr.bin.forEach((b, i) => expect(b).toBe(confidenceBin(raw.z[i]!, raw.pFdr[i]!)));
    expect(fdr.bin.filter((b) => b !== 0).length).toBeLessThan(raw.bin.filter((b) => b !== 0).length);
    expect(fdr.bin[100]).toBeGreaterThan(0);
  });
});

describe('benjaminiHochberg', () => {
  it('matches a hand computation (R p.adjust(c(.01, .04, .03, .005), "BH"))', () => {
    // Sorted: .005, .01, .03, .04 → m·p/k = .02, .02, .04, .04; running minimum from the top.
    expect(benjaminiHochberg([0.01, 0.04, 0.03, 0.005])).toEqual([0.02, 0.04, 0.04, 0.02]);
  });

  it('takes the running minimum from the largest p and passes nulls through', () => {
    // m = 3 non-null, sorted .5, .6, .9 → m·p/k = 1.5, .9, .9 → running minimum from the top: .9 each.
    const adjusted = benjaminiHochberg([0.9, null, 0.5, 0.6]);
    expect(adjusted[1]).toBeNull();
    for (const i of [0, 2, 3]) expect(adjusted[i]).toBeCloseTo(0.9, 15);
    // m·p/k > 1 for the smallest p is capped by the monotone minimum: .9·2/1 = 1.8 → .95.
    expect(benjaminiHochberg([0.9, 0.95])).toEqual([0.95, 0.95]);
    expect(benjaminiHochberg([])).toEqual([]);
  });
});
