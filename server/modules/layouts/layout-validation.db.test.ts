/**
 * The layout topology report on real PostGIS. Fixtures are small layouts inside one community rectangle
 * near Zhengzhou (≈ 366 m × 334 m); expected areas and lengths come from turf (spherical, independent of
 * PostGIS's spheroid), so they agree within a fraction of a percent.
 */
import { area as turfArea, featureCollection, intersect, length as turfLength, lineString, polygon as turfPolygon } from '@turf/turf';
import type { MultiPolygon, Polygon } from 'geojson';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../../contracts/common';
import type { GapProblem, LayoutProblem, LayoutValidationReport, OverlapProblem, SliverProblem } from '../../contracts/layout-validation';
import type { Database } from '../../db/database';
import { fromGeoJson } from '../../db/postgis';
import { AppError } from '../../http/errors';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, lattice, M_LAT, M_LON, newDivisions, newGrid, newLayout, rect } from '../../test/factories';
import { validateLayout, validateLayouts } from './layout-validation.service';

const W = 113.6, S = 34.75, E = 113.604, N = 34.753;
const NO_BOUNDARY_COMMUNITY = '410105001002';

let t: TestApp;
let db: Database;

beforeAll(async () => {
  t = await createTestApp();
  db = t.tdb.db;
  await newDivisions(db);
  await newDivisions(db, { community: NO_BOUNDARY_COMMUNITY, communityBoundary: null });
});
afterAll(async () => t?.close());

/** A fresh draft layout of the community holding these grids; returns its id and the grid ids. */
async function layoutOf(geoms: Array<Polygon | MultiPolygon>, community?: string): Promise<{ layoutId: number; gridIds: number[] }> {
  const layoutId = await newLayout(db, community ? { community } : {});
  const gridIds: number[] = [];
  for (const g of geoms) {
    if (g.type === 'Polygon') gridIds.push(await newGrid(db, layoutId, g));
    else {
      const { rows } = await sql<{ id: number }>`INSERT INTO grids (layout_id, geom) VALUES (${layoutId}, ${fromGeoJson(g)}) RETURNING id`.execute(db);
      gridIds.push(rows[0]?.id ?? -1);
    }
  }
  return { layoutId, gridIds };
}

const ofKind = <K extends LayoutProblem['kind']>(r: LayoutValidationReport, kind: K): Array<Extract<LayoutProblem, { kind: K }>> =>
  r.problems.filter((p): p is Extract<LayoutProblem, { kind: K }> => p.kind === kind);

/** A lattice whose interior vertices are jittered but shared: neighbours have identical edges. */
function jitteredLattice(cols: number, rows: number, seed: number): Polygon[] {
  let s = seed;
  const rand = (): number => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  const dx = (E - W) / cols, dy = (N - S) / rows;
  const v: Array<Array<[number, number]>> = [];
  for (let j = 0; j <= rows; j += 1) {
    const row: Array<[number, number]> = [];
    for (let i = 0; i <= cols; i += 1) {
      const inner = i > 0 && i < cols && j > 0 && j < rows;
      // Awkward non-terminating decimals on purpose: floating noise must not become overlaps or gaps.
      row.push([W + i * dx + (inner ? rand() * dx * 0.6 : 0), S + j * dy + (inner ? rand() * dy * 0.6 : 0)]);
    }
    v.push(row);
  }
  const at = (i: number, j: number): [number, number] => v[j]?.[i] ?? [0, 0];
  const out: Polygon[] = [];
  for (let j = 0; j < rows; j += 1) {
    for (let i = 0; i < cols; i += 1) {
      out.push({ type: 'Polygon', coordinates: [[at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1), at(i, j)]] });
    }
  }
  return out;
}

const turfAreaOf = (p: Polygon): number => turfArea(turfPolygon(p.coordinates));

describe('clean tilings', () => {
  it.each([
    ['a 3 × 2 lattice of the boundary rectangle', () => lattice(W, S, E, N, 3, 2)],
    ['a 7 × 9 lattice with non-terminating coordinates', () => lattice(W, S, E, N, 7, 9)],
    ['a jittered 6 × 5 lattice with shared vertices', () => jitteredLattice(6, 5, 42)],
  ])('%s: no problems, publishable', async (_name, cells) => {
    const { layoutId, gridIds } = await layoutOf(cells());
    const report = await validateLayout(db, layoutId);
    expect(report.problems).toEqual([]);
    expect(report.summary).toMatchObject({ overlaps: 0, gaps: 0, outside: 0, slivers: 0, multipart: 0, errors: 0, warnings: 0, publishable: true });
    expect(report.gridCount).toBe(gridIds.length);
    expect(report.summary.timingMs).toBeGreaterThan(0);
    expect(report.options).toEqual({ overlapToleranceM2: 1, gapToleranceM2: 1, outsideToleranceM2: 1, minAreaM2: 100, minCompactness: 0.05, householdsMin: 300, householdsMax: 500, strict: false });
  });
});

describe('overlaps', () => {
  it('reports two squares overlapping by a 10 m × 20 m strip, with the intersection as geometry', async () => {
    const x0 = 113.601, y0 = 34.751;
    const a = rect(x0, y0, x0 + 50 * M_LON, y0 + 20 * M_LAT);
    const b = rect(x0 + 40 * M_LON, y0, x0 + 90 * M_LON, y0 + 20 * M_LAT);
    const { layoutId, gridIds } = await layoutOf([a, b]);
    const report = await validateLayout(db, layoutId);
    const overlaps = ofKind(report, 'overlap');
    expect(overlaps).toHaveLength(1);
    const o = overlaps[0] as OverlapProblem;
    const expected = turfArea(intersect(featureCollection([turfPolygon(a.coordinates), turfPolygon(b.coordinates)])) ?? turfPolygon([]));
    expect(expected).toBeGreaterThan(190);
    expect(o.areaM2).toBeCloseTo(expected, -1);
    expect(Math.abs(o.areaM2 - expected) / expected).toBeLessThan(0.01);
    expect(Math.abs(o.areaM2 - 200) / 200).toBeLessThan(0.01);
    expect(o).toMatchObject({ severity: 'error', gridIds, gridCodes: [null, null] });
    expect(o.geometry.type).toMatch(/Polygon$/);
    expect(report.summary).toMatchObject({ overlaps: 1, publishable: false });
  });

  it.each([
    ['ignored at the default tolerance', {}, 0],
    ['reported with a 0.1 m² tolerance', { overlapToleranceM2: 0.1 }, 1],
  ])('a 0.5 m² overlap is %s', async (_name, options, expectedCount) => {
    const x0 = 113.6015, y0 = 34.7515;
    // 0.05 m × 10 m = 0.5 m²
    const a = rect(x0, y0, x0 + 20.05 * M_LON, y0 + 10 * M_LAT);
    const b = rect(x0 + 20 * M_LON, y0, x0 + 40 * M_LON, y0 + 10 * M_LAT);
    const { layoutId } = await layoutOf([a, b]);
    const report = await validateLayout(db, layoutId, options);
    const overlaps = ofKind(report, 'overlap');
    expect(overlaps).toHaveLength(expectedCount);
    if (expectedCount > 0) expect(overlaps[0]?.areaM2).toBeCloseTo(0.5, 1);
    expect(report.summary.publishable).toBe(expectedCount === 0);
  });
});

describe('gaps', () => {
  // West column A; B south-east; C north of B in the middle column; the gap is the north-east corner,
  // bordered by B along its south edge and by C along its west edge.
  const x1 = 113.601, x2 = 113.602;
  it.each([
    ['the south neighbour (183 m edge vs 111 m)', 34.752, 'B'],
    ['the west neighbour (278 m edge vs 183 m)', 34.7505, 'C'],
  ] as const)('suggests %s', async (_name, yMid, suggested) => {
    const A = rect(W, S, x1, N), B = rect(x1, S, E, yMid), C = rect(x1, yMid, x2, N);
    const { layoutId, gridIds } = await layoutOf([A, B, C]);
    const [, idB, idC] = gridIds;
    const report = await validateLayout(db, layoutId);
    const gaps = ofKind(report, 'gap');
    expect(gaps).toHaveLength(1);
    const gap = gaps[0] as GapProblem;
    const expectedArea = turfAreaOf(rect(x2, yMid, E, N));
    expect(Math.abs(gap.areaM2 - expectedArea) / expectedArea).toBeLessThan(0.01);
    expect(gap.gridIds).toEqual([idB, idC]);
    expect(gap.suggestedGridId).toBe(suggested === 'B' ? idB : idC);
    const edge = suggested === 'B' ? lineString([[x2, yMid], [E, yMid]]) : lineString([[x2, yMid], [x2, N]]);
    const expectedEdge = turfLength(edge, { units: 'meters' });
    expect(Math.abs((gap.sharedEdgeM ?? 0) - expectedEdge) / expectedEdge).toBeLessThan(0.01);
    expect(gap.severity).toBe('warning');
    expect(report.summary).toMatchObject({ gaps: 1, overlaps: 0, outside: 0, publishable: true });

    const strict = await validateLayout(db, layoutId, { strict: true });
    expect(ofKind(strict, 'gap')[0]?.severity).toBe('error');
    expect(strict.summary).toMatchObject({ gaps: 1, errors: 1, publishable: false });
  });

  it('reports each gap polygon separately; an empty layout is one gap of the whole boundary', async () => {
    const cells = lattice(W, S, E, N, 3, 3);
    const { layoutId } = await layoutOf([cells[0], cells[2], cells[4], cells[6], cells[8]].filter((c): c is Polygon => c !== undefined));
    const report = await validateLayout(db, layoutId);
    // The four edge-middle cells are missing; they touch each other only at corners of the centre.
    expect(ofKind(report, 'gap')).toHaveLength(4);
    expect(ofKind(report, 'gap').every((g) => g.gridIds.length === 3 && g.suggestedGridId !== null)).toBe(true);

    const empty = await validateLayout(db, (await layoutOf([])).layoutId);
    const [whole] = ofKind(empty, 'gap');
    expect(whole).toMatchObject({ gridIds: [], suggestedGridId: null, sharedEdgeM: null });
    expect(Math.abs((whole?.areaM2 ?? 0) - turfAreaOf(rect(W, S, E, N))) / turfAreaOf(rect(W, S, E, N))).toBeLessThan(0.01);
  });

  it('reports gaps: null with a note when the community has no boundary', async () => {
    const { layoutId } = await layoutOf([rect(W, S, 113.601, 34.751)], NO_BOUNDARY_COMMUNITY);
    const report = await validateLayout(db, layoutId);
    expect(report.summary.gaps).toBeNull();
    expect(report.summary.outside).toBe(0);
    expect(report.summary.publishable).toBe(true);
    expect(report.notes.map((n) => n.code)).toContain('COMMUNITY_HAS_NO_BOUNDARY');
  });
});

describe('outside the boundary', () => {
  it('reports the part of a grid beyond the community boundary as an error', async () => {
    const cells = lattice(W, S, E, N, 2, 1);
    const east = rect(113.602, S, E + 0.0005, N);
    const { layoutId, gridIds } = await layoutOf([cells[0] ?? rect(W, S, 113.602, N), east]);
    const report = await validateLayout(db, layoutId);
    const outside = ofKind(report, 'outside');
    expect(outside).toHaveLength(1);
    const expected = turfAreaOf(rect(E, S, E + 0.0005, N));
    expect(Math.abs((outside[0]?.areaM2 ?? 0) - expected) / expected).toBeLessThan(0.01);
    expect(outside[0]).toMatchObject({ severity: 'error', gridIds: [gridIds[1]] });
    expect(report.summary).toMatchObject({ outside: 1, gaps: 0, publishable: false });
  });
});

describe('slivers and multi-part grids', () => {
  const x0 = 113.601, y0 = 34.7502;
  it.each([
    ['a 2 m × 300 m strip is thin', rect(x0, y0, x0 + 2 * M_LON, y0 + 300 * M_LAT), ['thin']],
    ['an 8 m × 8 m square is small', rect(x0, y0, x0 + 8 * M_LON, y0 + 8 * M_LAT), ['small']],
    ['a 1 m × 80 m strip is both', rect(x0, y0, x0 + 1 * M_LON, y0 + 80 * M_LAT), ['small', 'thin']],
  ] as const)('%s', async (_name, geom, reasons) => {
    const { layoutId, gridIds } = await layoutOf([geom]);
    const report = await validateLayout(db, layoutId);
    const slivers = ofKind(report, 'sliver');
    expect(slivers).toHaveLength(1);
    const s = slivers[0] as SliverProblem;
    expect(s).toMatchObject({ severity: 'warning', gridIds, part: 1, reasons });
    // Polsby–Popper from turf's area and perimeter, independently.
    const ring = geom.coordinates[0] ?? [];
    const perimeter = turfLength(lineString(ring), { units: 'meters' });
    const compactness = (4 * Math.PI * turfAreaOf(geom)) / perimeter ** 2;
    expect(Math.abs(s.compactness - compactness) / compactness).toBeLessThan(0.01);
    expect(Math.abs(s.perimeterM - perimeter) / perimeter).toBeLessThan(0.01);
    expect(report.summary.publishable).toBe(true);
  });

  it('reports a grid of two disjoint polygons as multi-part, and its tiny part as a sliver', async () => {
    const big = rect(x0, y0, x0 + 100 * M_LON, y0 + 100 * M_LAT);
    const tiny = rect(x0 + 200 * M_LON, y0, x0 + 205 * M_LON, y0 + 5 * M_LAT);
    const multi: MultiPolygon = { type: 'MultiPolygon', coordinates: [big.coordinates, tiny.coordinates] };
    const { layoutId, gridIds } = await layoutOf([multi]);
    const report = await validateLayout(db, layoutId);
    const multipart = ofKind(report, 'multipart');
    expect(multipart).toHaveLength(1);
    expect(multipart[0]).toMatchObject({ severity: 'warning', gridIds, parts: 2, geometry: { type: 'MultiPolygon' } });
    const slivers = ofKind(report, 'sliver');
    expect(slivers).toHaveLength(1);
    expect(slivers[0]).toMatchObject({ gridIds, part: 2, reasons: ['small'] });
    expect(report.summary).toMatchObject({ multipart: 1, slivers: 1, warnings: 2 + (report.summary.gaps ?? 0) });
    // Warnings only: publishable unless strict.
    expect(report.summary.publishable).toBe(true);
    expect((await validateLayout(db, layoutId, { strict: true })).summary.publishable).toBe(false);
  });
});

describe('households', () => {
  it('reports every grid as unknown with a note while no household is linked to the layout', async () => {
    const { layoutId, gridIds } = await layoutOf(lattice(W, S, E, N, 2, 1));
    const report = await validateLayout(db, layoutId);
    expect(report.households).toEqual(gridIds.map((gridId) => ({ gridId, gridCode: null, households: null, status: 'unknown' })));
    expect(report.summary.households).toBeNull();
    expect(report.notes.map((n) => n.code)).toContain('HOUSEHOLDS_UNKNOWN');
    expect(report.summary.publishable).toBe(true);
  });

  it('counts the live households linked to each grid against the target range', async () => {
    const { layoutId, gridIds } = await layoutOf(lattice(W, S, E, N, 3, 1));
    const [g1, g2, g3] = gridIds;
    const { rows } = await sql<{ id: number }>`
      INSERT INTO buildings (community_code, code, geom) VALUES (${COMMUNITY}, '00001', ST_SetSRID(ST_MakePoint(113.6005, 34.7505), 4326))
      RETURNING id`.execute(db);
    const building = rows[0]?.id;
    // 250 (under), 400 (ok), 600 (over) with the default 300–500 range, plus 50 deleted ones on g2.
    await sql`INSERT INTO households (building_id, room, grid_id, deleted_at, deleted_reason)
              SELECT ${building}::int, n::text,
                     CASE WHEN n <= 250 THEN ${g1}::int WHEN n <= 650 THEN ${g2}::int WHEN n <= 1250 THEN ${g3}::int ELSE ${g2}::int END,
                     CASE WHEN n > 1250 THEN now() END, CASE WHEN n > 1250 THEN 'moved' END
              FROM generate_series(1, 1300) n`.execute(db);
    const report = await validateLayout(db, layoutId);
    expect(report.households.map((h) => [h.households, h.status])).toEqual([[250, 'under'], [400, 'ok'], [600, 'over']]);
    expect(ofKind(report, 'households').map((p) => [p.gridIds[0], p.status, p.geometry.type])).toEqual([[g1, 'under', 'Polygon'], [g3, 'over', 'Polygon']]);
    expect(report.summary).toMatchObject({ households: 2, warnings: 2, publishable: true });
    expect(report.notes.map((n) => n.code)).not.toContain('HOUSEHOLDS_UNKNOWN');
    expect((await validateLayout(db, layoutId, { strict: true })).summary.publishable).toBe(false);
    const wide = await validateLayout(db, layoutId, { householdsMin: 200, householdsMax: 700 });
    expect(wide.summary.households).toBe(0);
  });
});

describe('errors and batches', () => {
  it('throws LAYOUT_NOT_FOUND (404) for an unknown layout, directly and over HTTP', async () => {
    await expect(validateLayout(db, 987_654)).rejects.toMatchObject({ code: 'LAYOUT_NOT_FOUND', statusCode: 404 });
    await expect(validateLayout(db, 987_654)).rejects.toBeInstanceOf(AppError);
    const res = await t.inject('/api/v1/layouts/987654/validation');
    expect(res.statusCode).toBe(404);
    expect(res.json<ErrorResponse>().error.code).toBe('LAYOUT_NOT_FOUND');
  });

  it('rejects contradictory options', async () => {
    const { layoutId } = await layoutOf([]);
    await expect(validateLayout(db, layoutId, { householdsMin: 600, householdsMax: 500 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', statusCode: 400, details: { field: 'householdsMin' } });
  });

  it('refuses a household bound past the integer range over HTTP (1e30 was a 500)', async () => {
    const { layoutId } = await layoutOf([]);
    const res = await t.inject(`/api/v1/layouts/${layoutId}/validation?householdsMax=1000000000000000000000000000000`);
    expect(res.statusCode).toBe(400);
    expect(res.json<ErrorResponse>().error).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'querystring' } });
  });

  it('serves the report over HTTP through its response schema, options from the query string', async () => {
    const x0 = 113.601, y0 = 34.751;
    const a = rect(x0, y0, x0 + 50 * M_LON, y0 + 20 * M_LAT);
    const b = rect(x0 + 40 * M_LON, y0, x0 + 90 * M_LON, y0 + 20 * M_LAT);
    const { layoutId } = await layoutOf([a, b]);
    const res = await t.inject(`/api/v1/layouts/${layoutId}/validation?strict=true&minAreaM2=10`);
    expect(res.statusCode).toBe(200);
    const report = res.json<LayoutValidationReport>();
    expect(report.options).toMatchObject({ strict: true, minAreaM2: 10, overlapToleranceM2: 1 });
    expect(report.problems.map((p) => [p.kind, p.severity])).toEqual([['overlap', 'error'], ['gap', 'error']]);
    expect(report.problems[0]).toHaveProperty('areaM2');
    expect(report.problems[1]).toHaveProperty('suggestedGridId');
  });

  it('validates many layouts at once with the same results as one by one', async () => {
    const clean = await layoutOf(lattice(W, S, E, N, 2, 2));
    const gappy = await layoutOf([rect(W, S, 113.603, N)]);
    const reports = await validateLayouts(db, [gappy.layoutId, clean.layoutId]);
    expect(reports.map((r) => r.layoutId)).toEqual([gappy.layoutId, clean.layoutId]);
    const strip = (r: LayoutValidationReport): unknown => ({ ...r, summary: { ...r.summary, timingMs: 0 } });
    expect(reports.map(strip)).toEqual([strip(await validateLayout(db, gappy.layoutId)), strip(await validateLayout(db, clean.layoutId))]);
    await expect(validateLayouts(db, [clean.layoutId, 987_655])).rejects.toMatchObject({ code: 'LAYOUT_NOT_FOUND' });
  });
});
