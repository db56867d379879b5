/**
 * Rebuilding the in-memory dispatch index (issue #6): the build yields to the event loop between small
 * steps instead of blocking it for the whole build, and an index joined from a rebuilt layer and a
 * reused one answers exactly as one built from scratch. Data: the demo generator's large district
 * (1,010 grids), as the rows PostGIS would return (WKB).
 */
import type { MultiPolygon, Polygon } from 'geojson';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateDemoCity } from '../../../scripts/generate/demo-city';
import { seededRandom } from '../../test/seeded-random';
import { DivisionLayer, GridLayer, SpatialIndex } from './dispatch-index';
import { newSliceStats, runAll, runSliced, type Steps } from './dispatch-steps';
import type { DivisionSnapshotRow, GridSnapshotRow } from './dispatch.repository';

/** Little-endian WKB of a Polygon or MultiPolygon, as ST_AsBinary writes it. */
function wkb(geom: Polygon | MultiPolygon): Uint8Array {
  const polygons = geom.type === 'Polygon' ? [geom.coordinates] : geom.coordinates;
  const parts: number[] = [];
  const u8 = (n: number) => parts.push(n);
  const u32 = (n: number) => parts.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  const f64 = (x: number) => parts.push(...new Uint8Array(new Float64Array([x]).buffer));
  const polygon = (rings: number[][][]) => {
    u8(1);
    u32(3);
    u32(rings.length);
    for (const ring of rings) {
      u32(ring.length);
      for (const [x, y] of ring) {
        f64(x!);
        f64(y!);
      }
    }
  };
  if (geom.type === 'Polygon') polygon(geom.coordinates);
  else {
    u8(1);
    u32(6);
    u32(polygons.length);
    for (const p of polygons) polygon(p);
  }
  return Uint8Array.from(parts);
}

const EFFECTIVE_FROM = new Date('2025-01-01T00:00:00Z');
let gridRows: GridSnapshotRow[];
let divisionRows: DivisionSnapshotRow[];
/** One community whose layout the tests replace, and its boundary (the exact union of its grids). */
let merged: { communityCode: string; boundary: MultiPolygon };

beforeAll(() => {
  const city = generateDemoCity({ size: 'large' });
  gridRows = city.grids
    .map((g, i) => ({ id: i + 1, code: g.code, name: g.name, kind: g.kind === '专属' ? ('dedicated' as const) : ('general' as const), layoutId: 1, communityCode: g.communityCode, effectiveFrom: EFFECTIVE_FROM, wkb: wkb(g.geom) }))
    .sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : a.id - b.id));
  divisionRows = city.divisions
    .map((d) => ({ code: d.code, level: d.level, name: d.name, parentCode: d.parentCode, wkb: d.level === 'community' ? wkb(d.boundary) : null }))
    .sort((a, b) => (a.code < b.code ? -1 : 1));
  const community = city.divisions.find((d) => d.level === 'community')!;
  merged = { communityCode: community.code, boundary: community.boundary };
});

/** A publish in one community: its grids replaced by one grid covering the whole community. */
function publishMerged(rows: readonly GridSnapshotRow[]): GridSnapshotRow[] {
  const kept = rows.filter((r) => r.communityCode !== merged.communityCode);
  const grid: GridSnapshotRow = { id: 100_000, code: `${merged.communityCode}900`, name: '合并网格', kind: 'general', layoutId: 2, communityCode: merged.communityCode, effectiveFrom: new Date('2025-06-01T00:00:00Z'), wkb: wkb(merged.boundary) };
  return [...kept, grid].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : a.id - b.id));
}

/** Random points over the district and points on grid vertices and edges. */
function probePoints(index: SpatialIndex, n: number): Array<[number, number]> {
  const random = seededRandom(66);
  const [w, s, e, nn] = index.grids.reduce((b, g) => [Math.min(b[0], g.geom.bbox[0]), Math.min(b[1], g.geom.bbox[1]), Math.max(b[2], g.geom.bbox[2]), Math.max(b[3], g.geom.bbox[3])], [Infinity, Infinity, -Infinity, -Infinity]);
  const points: Array<[number, number]> = [];
  // A margin outside the grids, for nearest-grid and outside answers.
  const m = 0.003;
  for (let i = 0; i < n; i++) points.push([w - m + random() * (e - w + 2 * m), s - m + random() * (nn - s + 2 * m)]);
  for (let i = 0; i < n / 4; i++) {
    const ring = index.grids[Math.floor(random() * index.grids.length)]!.geom.polygons[0]![0]!;
    const k = 2 * Math.floor(random() * (ring.length / 2 - 1));
    const t = random();
    points.push([ring[k]!, ring[k + 1]!], [ring[k]! + t * (ring[k + 2]! - ring[k]!), ring[k + 1]! + t * (ring[k + 3]! - ring[k + 1]!)]);
  }
  return points;
}

/** Everything a lookup reads from the spatial index at a point, as plain data. */
function answersAt(index: SpatialIndex, [lon, lat]: [number, number]): unknown {
  const covering = index.gridsCovering(lon, lat);
  const near = covering.length === 0 ? index.nearestGrid(lon, lat, 100) : null;
  const community = index.communityAt(lon, lat);
  const first = covering[0] ?? near?.grid;
  return {
    covering: covering.map((g) => [g.id, g.code, g.coversView, g.insideMessage]),
    exactly: index.gridsCoveringExactly(lon, lat).map((g) => g.id),
    near: near ? [near.grid.code, near.distanceM] : null,
    names: first ? index.namesAt(first.position) : null,
    community: community?.code ?? null,
    communityNames: index.namesOf(community?.code ?? null),
    validFromMs: index.validFromMs,
  };
}

function expectSameAnswers(actual: SpatialIndex, expected: SpatialIndex, points: Array<[number, number]>): void {
  let differing = 0;
  for (const p of points) {
    if (JSON.stringify(answersAt(actual, p)) !== JSON.stringify(answersAt(expected, p))) differing += 1;
  }
  expect(differing).toBe(0);
}

/** Counts the event loop's turns (a setImmediate chain) until `stop` is called. */
function countTurns(): { turns: () => number; stop: () => void } {
  let counting = true;
  let turns = 0;
  const probe = (): void => {
    if (!counting) return;
    turns += 1;
    setImmediate(probe);
  };
  setImmediate(probe);
  return { turns: () => turns, stop: () => (counting = false) };
}

describe('a rebuild in steps', () => {
  it('lets a timer and other callbacks run while it builds, and returns the same index as a build in one go', async () => {
    let building = true;
    const loop = countTurns();
    const timerFired = new Promise<boolean>((resolve) => setTimeout(() => resolve(building), 0));
    const stats = newSliceStats();
    const index = await runSliced(SpatialIndex.fromRows(gridRows, divisionRows), undefined, stats);
    building = false;
    loop.stop();
    // A request arriving when the rebuild starts is served before the rebuild ends.
    expect(await timerFired).toBe(true);
    expect(stats.slices).toBeGreaterThan(1);
    expect(loop.turns()).toBeGreaterThanOrEqual(stats.slices - 1);
    expectSameAnswers(index, SpatialIndex.of(gridRows, divisionRows), probePoints(index, 4_000));
  });

  it('does its heavy work a grid at a time: parsing, the flatbush, the raster and the names each yield along the way', () => {
    // Counted in steps, not time: how much a step may hold is fixed by the code, not by this machine's speed.
    const count = <T>(steps: Steps<T>): { steps: number; value: T } => {
      let n = 0;
      for (;;) {
        const s = steps.next();
        n += 1;
        if (s.done) return { steps: n, value: s.value };
      }
    };
    const grids = count(GridLayer.build(gridRows));
    // Each grid is rasterised in its own steps (filling, then marking its edges).
    expect(grids.steps).toBeGreaterThan(2 * gridRows.length);
    const divisions = count(DivisionLayer.build(divisionRows));
    expect(divisions.steps).toBeGreaterThan(1);
    const joined = count(SpatialIndex.build(grids.value, divisions.value));
    expect(joined.steps).toBeGreaterThanOrEqual(Math.floor(gridRows.length / 64));
  });

  it('with a slice budget of 0 yields after every step: the event loop turns once per step', async () => {
    const loop = countTurns();
    const stats = newSliceStats();
    await runSliced(GridLayer.build(gridRows), 0, stats);
    loop.stop();
    expect(stats.slices).toBeGreaterThan(2 * gridRows.length);
    expect(loop.turns()).toBeGreaterThanOrEqual(stats.slices - 1);
  });
});

describe('a partial rebuild', () => {
  it('a new layout joined with the division layer already serving answers as a build from scratch', async () => {
    const before = SpatialIndex.of(gridRows, divisionRows);
    const published = publishMerged(gridRows);
    const grids = await runSliced(GridLayer.build(published));
    const incremental = await runSliced(SpatialIndex.build(grids, before.divisionLayer));
    expect(incremental.divisionLayer).toBe(before.divisionLayer);
    const scratch = SpatialIndex.of(published, divisionRows);
    const points = [...probePoints(before, 4_000), ...probePoints(scratch, 1_000)];
    expectSameAnswers(incremental, scratch, points);
    // And the new layout is what it answers: the merged grid covers its community.
    const inside = points.find((p) => before.communityAt(...p)?.code === merged.communityCode && before.gridsCovering(...p).length === 1)!;
    expect(incremental.gridsCovering(...inside).map((g) => g.code)).toEqual([`${merged.communityCode}900`]);
    expect(before.gridsCovering(...inside).map((g) => g.code)).not.toEqual([`${merged.communityCode}900`]);
  });

  it('new divisions joined with the grid layer already serving answer as a build from scratch', async () => {
    const before = SpatialIndex.of(gridRows, divisionRows);
    // A community renamed and its street renamed: every grid of it must show the new names.
    const renamed = divisionRows.map((d) =>
      d.code === merged.communityCode ? { ...d, name: '新名社区' } : d.code === merged.communityCode.slice(0, 9) ? { ...d, name: '新名街道' } : d,
    );
    const divisions = await runSliced(DivisionLayer.build(renamed));
    const incremental = await runSliced(SpatialIndex.build(before.gridLayer, divisions));
    expect(incremental.gridLayer).toBe(before.gridLayer);
    const scratch = runAll(SpatialIndex.fromRows(gridRows, renamed));
    expectSameAnswers(incremental, scratch, probePoints(before, 4_000));
    const grid = before.grids.find((g) => g.communityCode === merged.communityCode)!;
    expect(incremental.namesAt(grid.position)).toMatchObject({ community: { name: '新名社区' }, street: { name: '新名街道' } });
    expect(before.namesAt(grid.position).community?.name).not.toBe('新名社区');
  });
});
