import { createHash } from 'node:crypto';
import * as turf from '@turf/turf';
import type { Polygon, Position } from 'geojson';
import { describe, expect, it } from 'vitest';
import { validateResidentIdNumber } from '../../server/modules/registry/resident-id';
import { type DemoCity, generateDemoCity } from './demo-city';
import { polygonBbox, bboxCentre } from './geometry';
import { readingOrder } from '../../server/modules/grids/grid-codes';

const SEED = 7;
const city = generateDemoCity({ size: 'small', seed: SEED });
const buildings = [...city.buildings];
const households = [...city.households];
const residents = [...city.residents];
const organisations = [...city.organisations];

function hashCity(c: DemoCity): string {
  const hash = createHash('sha256');
  const feed = (label: string, records: Iterable<unknown>) => {
    hash.update(`\n#${label}\n`);
    for (const record of records) hash.update(`${JSON.stringify(record)}\n`);
  };
  feed('divisions', c.divisions);
  feed('roads', c.roads);
  feed('grids', c.grids);
  feed('buildings', c.buildings);
  feed('households', c.households);
  feed('residents', c.residents);
  feed('organisations', c.organisations);
  feed('staff', c.staff);
  feed('assignments', c.assignments);
  feed('roster', c.roster);
  return hash.digest('hex');
}

const key = (p: Position) => `${p[0]},${p[1]}`;

describe('determinism', () => {
  it('gives identical output for the same seed and different output for another', () => {
    const first = hashCity(generateDemoCity({ size: 'small', seed: SEED }));
    expect(hashCity(generateDemoCity({ size: 'small', seed: SEED }))).toBe(first);
    expect(hashCity(city)).toBe(first);
    expect(hashCity(generateDemoCity({ size: 'small', seed: SEED + 1 }))).not.toBe(first);
  });

  it('re-iterating a lazy collection yields the same records', () => {
    expect([...city.residents]).toEqual(residents);
  });
});

describe('codes', () => {
  it('uses 6/9/12/15/5-digit codes nested in their parents', () => {
    const byCode = new Map(city.divisions.map((d) => [d.code, d]));
    for (const d of city.divisions) {
      const digits = { district: 6, street: 9, community: 12 }[d.level];
      expect(d.code).toMatch(new RegExp(`^\\d{${digits}}$`));
      if (d.level === 'district') expect(d.parentCode).toBeNull();
      else expect(d.code.startsWith(d.parentCode ?? 'x') && byCode.has(d.parentCode ?? '')).toBe(true);
    }
    const communities = new Set(city.divisions.filter((d) => d.level === 'community').map((d) => d.code));
    for (const g of city.grids) {
      expect(g.code).toMatch(/^\d{15}$/);
      expect(g.code.startsWith(g.communityCode) && communities.has(g.communityCode)).toBe(true);
    }
    const seen = new Set<string>();
    for (const b of buildings) {
      expect(b.code).toMatch(/^\d{5}$/);
      expect(seen.has(`${b.communityCode}-${b.code}`)).toBe(false);
      seen.add(`${b.communityCode}-${b.code}`);
    }
  });

  it('has unique household and resident keys', () => {
    expect(new Set(households.map((h) => h.key)).size).toBe(households.length);
    expect(new Set(residents.map((r) => r.key)).size).toBe(residents.length);
    const householdKeys = new Set(households.map((h) => h.key));
    expect(residents.every((r) => householdKeys.has(r.householdKey))).toBe(true);
  });
});

describe('grid layout', () => {
  const communities = city.divisions.filter((d) => d.level === 'community');

  it('has valid polygons with counter-clockwise exteriors', () => {
    for (const g of city.grids) {
      const ring = g.geom.coordinates[0] ?? [];
      expect(turf.kinks(g.geom).features).toHaveLength(0);
      expect(turf.booleanClockwise(ring)).toBe(false);
      expect(key(ring[0] ?? [])).toBe(key(ring[ring.length - 1] ?? []));
    }
  });

  it.each(communities.map((c) => [c.code, c] as const))('tiles community %s exactly', (_code, community) => {
    const grids = city.grids.filter((g) => g.communityCode === community.code);
    const gridArea = grids.reduce((sum, g) => sum + turf.area(g.geom), 0);
    const communityArea = turf.area(community.boundary);
    expect(Math.abs(gridArea - communityArea) / communityArea).toBeLessThan(1e-9);
    for (let a = 0; a < grids.length; a++) {
      for (let b = a + 1; b < grids.length; b++) {
        const overlap = turf.intersect(turf.featureCollection([turf.feature((grids[a] as { geom: Polygon }).geom), turf.feature((grids[b] as { geom: Polygon }).geom)]));
        expect(overlap ? turf.area(overlap) : 0).toBeLessThan(1e-3);
      }
    }
    // Same vertices: every boundary vertex of the community is a vertex of one of its grids.
    const gridVertices = new Set(grids.flatMap((g) => (g.geom.coordinates[0] ?? []).map(key)));
    for (const p of community.boundary.coordinates[0]?.[0] ?? []) expect(gridVertices.has(key(p))).toBe(true);
  });

  it('tiles the district with streets and streets with communities', () => {
    for (const parent of city.divisions.filter((d) => d.level !== 'community')) {
      const children = city.divisions.filter((d) => d.parentCode === parent.code);
      const sum = children.reduce((s, d) => s + turf.area(d.boundary), 0);
      expect(Math.abs(sum - turf.area(parent.boundary)) / turf.area(parent.boundary)).toBeLessThan(1e-9);
    }
  });

  it('numbers grids in the server\'s reading order (north→south rows, west→east within a row)', () => {
    for (const community of communities) {
      const grids = city.grids.filter((g) => g.communityCode === community.code).sort((a, b) => a.sequence - b.sequence);
      expect(grids.map((g) => g.sequence)).toEqual(grids.map((_, k) => k + 1));
      const shuffled = [...grids].reverse().map((g) => ({ id: g.sequence, point: bboxCentre(g.geom) as [number, number], bbox: polygonBbox(g.geom) }));
      expect(readingOrder(shuffled).map((g) => g.id)).toEqual(grids.map((g) => g.sequence));
      for (const g of grids) {
        expect(g.code.slice(12)).toBe(String(g.sequence).padStart(3, '0'));
        expect(g.name).toBe(`第${g.sequence}网格`);
      }
    }
  });

  it('has both grid kinds', () => {
    expect(city.grids.some((g) => g.kind === '专属')).toBe(true);
    expect(city.grids.some((g) => g.kind === '综合')).toBe(true);
  });
});

describe('buildings', () => {
  const grids = new Map(city.grids.map((g) => [g.code, g]));

  it('stand inside their grid, apart from each other and off the roads', () => {
    for (const b of buildings) {
      const grid = grids.get(b.gridCode);
      expect(grid && turf.booleanWithin(b.footprint, grid.geom)).toBe(true);
      expect(turf.booleanClockwise(b.footprint.coordinates[0] ?? [])).toBe(false);
      for (const road of city.roads) expect(turf.lineIntersect(road.geom, b.footprint).features).toHaveLength(0);
    }
    for (let a = 0; a < buildings.length; a++) {
      for (let b = a + 1; b < buildings.length; b++) {
        const [x, y] = [buildings[a], buildings[b]];
        if (x && y && x.gridCode === y.gridCode) expect(turf.booleanIntersects(x.footprint, y.footprint)).toBe(false);
      }
    }
  });

  it('puts organisations inside their grid', () => {
    for (const o of organisations) {
      const grid = grids.get(o.gridCode);
      expect(grid && turf.booleanWithin(o.geom, grid.geom)).toBe(true);
    }
    expect(new Set(organisations.map((o) => o.kind))).toEqual(new Set(['shop', 'school', 'agency']));
  });
});

describe('households and residents', () => {
  it('puts 300–500 households in most 综合 grids, with a few outliers for the balance check', () => {
    const counts = new Map<string, number>();
    for (const h of households) counts.set(h.gridCode, (counts.get(h.gridCode) ?? 0) + 1);
    const general = city.grids.filter((g) => g.kind === '综合').map((g) => counts.get(g.code) ?? 0);
    const inRange = general.filter((n) => n >= 300 && n <= 500).length;
    expect(inRange / general.length).toBeGreaterThanOrEqual(0.75);
    expect(inRange).toBeLessThan(general.length);
    expect(households.length).toBeGreaterThan(3000);
    expect(residents.length).toBeGreaterThan(7500);
  });

  it('gives every resident a valid, unique ID number matching birth date and gender', () => {
    for (const r of residents) {
      const result = validateResidentIdNumber(r.idNumber, { today: city.referenceDate });
      expect(result).toMatchObject({ valid: true, birthDate: r.birthDate, gender: r.gender });
    }
    expect(new Set(residents.map((r) => r.idNumber)).size).toBe(residents.length);
  });

  it('gives plausible phones, relations and tags', () => {
    for (const r of residents) if (r.phone !== null) expect(r.phone).toMatch(/^1[3-9]\d{9}$/);
    const phones = residents.flatMap((r) => (r.phone ? [r.phone] : []));
    expect(new Set(phones).size).toBe(phones.length);
    const heads = residents.filter((r) => r.relation === '户主').length;
    expect(heads).toBe(households.filter((h) => h.tenure !== 'vacant').length);
    const tagged = residents.filter((r) => r.tags.length > 0).length;
    expect(tagged / residents.length).toBeLessThan(0.15);
    for (const r of residents) if (r.tags.includes('独居老人')) expect(Number(r.birthDate.slice(0, 4))).toBeLessThanOrEqual(1965);
  });
});

describe('staff and roster', () => {
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  const covered = (scope: string, weekday: number, at: string) =>
    city.roster.some((s) => s.scopeCode === scope && s.weekday === weekday && minutes(s.start) <= minutes(at) && minutes(at) < minutes(s.end));

  it('assigns one 网格长 and one or two workers per grid', () => {
    for (const g of city.grids) {
      const roles = city.assignments.filter((a) => a.gridCode === g.code).map((a) => a.role);
      expect(roles.filter((r) => r === '网格长')).toHaveLength(1);
      expect(roles.length - 1).toBeGreaterThanOrEqual(1);
      expect(roles.length - 1).toBeLessThanOrEqual(2);
    }
    const codes = new Set(city.staff.map((s) => s.code));
    expect(codes.size).toBe(city.staff.length);
    expect(city.assignments.every((a) => codes.has(a.staffCode))).toBe(true);
  });

  it('covers working hours in every grid, leaves nights to the duty officers', () => {
    for (const g of city.grids) {
      for (const weekday of [1, 2, 3, 4, 5]) for (const at of ['08:30', '12:00', '17:29']) expect(covered(g.code, weekday, at)).toBe(true);
      expect(covered(g.code, 3, '23:00')).toBe(false);
    }
    const street = city.divisions.find((d) => d.level === 'street');
    expect(street && covered(street.code, 3, '23:00')).toBe(true);
    // Some grid evenings are covered and some are not, so the fallback has both cases.
    const evenings = city.grids.flatMap((g) => [1, 2, 3, 4, 5].map((d) => covered(g.code, d, '19:00')));
    expect(evenings.some(Boolean) && !evenings.every(Boolean)).toBe(true);
  });
});
