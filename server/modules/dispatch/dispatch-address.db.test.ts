/**
 * Address lookup: buildings, organisations and named places by free Chinese text, queries of 2, 3 and
 * more characters, with the real Zhengzhou bus stop names (../shared, skipped when absent) as places.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, lattice, newDivisions, newGrid, newLayout } from '../../test/factories';
import { insertNamedPlaces } from './dispatch.repository';

let t: TestApp;
const STOPS = path.join(PROJECT_ROOT, '../shared/data/real/zhengzhou_bus_stops_2013.geojson');

interface AddressAnswer {
  candidates: Array<{ kind: string; name: string; address: string; score: number; grid: { code: string } | null }>;
  best: { grid: { code: string } | null } | null;
}

async function search(q: string): Promise<AddressAnswer> {
  const res = await t.inject(`/api/v1/dispatch/lookup?address=${encodeURIComponent(q)}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

beforeAll(async () => {
  t = await createTestApp();
  const db = t.tdb.db;
  await newDivisions(db);
  const layout = await newLayout(db, { status: 'published' });
  const [a, b] = lattice(113.6, 34.75, 113.604, 34.753, 2, 1);
  await newGrid(db, layout, a!, { code: `${COMMUNITY}001`, name: '一网格' });
  await newGrid(db, layout, b!, { code: `${COMMUNITY}002`, name: '二网格' });
  await sql`
    INSERT INTO buildings (community_code, code, name, address, geom) VALUES
      (${COMMUNITY}, '00001', '3号楼', '花园路街道金水路12号院3号楼', ST_SetSRID(ST_MakePoint(113.601, 34.751), 4326)),
      (${COMMUNITY}, '00002', '5号楼', '花园路街道金水路12号院5号楼', ST_SetSRID(ST_MakePoint(113.603, 34.751), 4326))`.execute(db);
  await sql`
    INSERT INTO organisations (code, name, kind, address, geom) VALUES
      ('O1', '建设银行花园路支行', 'agency', '花园路8号', ST_SetSRID(ST_MakePoint(113.6035, 34.752), 4326))`.execute(db);
  await insertNamedPlaces(db, [
    { name: '建设路桐柏路站', kind: 'bus_stop', source: 'inline', externalId: '1', lon: 113.6015, lat: 34.7525 },
    { name: '建设路嵩山路站', kind: 'bus_stop', source: 'inline', externalId: '2', lon: 113.7, lat: 34.8 },
  ]);
  if (existsSync(STOPS)) {
    const fc = JSON.parse(readFileSync(STOPS, 'utf8')) as { features: Array<{ properties: { name: string }; geometry: { coordinates: [number, number] } }> };
    const places = fc.features.map((f, i) => ({ name: f.properties.name, kind: 'bus_stop' as const, source: 'zhengzhou_bus_stops_2013', externalId: String(i), lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] }));
    expect(await insertNamedPlaces(db, places)).toBe(places.length);
    // Loading twice does not duplicate.
    expect(await insertNamedPlaces(db, places)).toBe(0);
  }
  await sql`ANALYZE`.execute(db);
});

afterAll(async () => {
  await t?.close();
});

describe('address lookup', () => {
  it('finds a building by street and building number (more than 3 characters, two words)', async () => {
    const r = await search('花园路街道 3号楼');
    expect(r.candidates[0]).toMatchObject({ kind: 'building', name: '3号楼', grid: { code: `${COMMUNITY}001` } });
    expect(r.best?.grid?.code).toBe(`${COMMUNITY}001`);
  });

  it('ranks the exact stop first for road + cross road', async () => {
    const r = await search('建设路桐柏路');
    expect(r.candidates[0]).toMatchObject({ kind: 'place', name: '建设路桐柏路站', grid: { code: `${COMMUNITY}001` } });
  });

  it('answers 3-character queries from the trigram index', async () => {
    const r = await search('建设路');
    expect(r.candidates.length).toBeGreaterThan(1);
    for (const c of r.candidates) expect(`${c.name}${c.address}`).toContain('建设路');
  });

  it('answers 2-character queries through the bigram index', async () => {
    const r = await search('建设');
    expect(r.candidates.length).toBeGreaterThan(1);
    for (const c of r.candidates) expect(`${c.name}${c.address}`).toContain('建设');
    expect(r.candidates.map((c) => c.kind)).toContain('place');
    const bank = await search('银行');
    expect(bank.candidates.find((c) => c.kind === 'organisation')).toMatchObject({ name: '建设银行花园路支行', grid: { code: `${COMMUNITY}002` } });
    // The plan uses the bigram GIN index, not a scan.
    const { rows } = await sql<{ 'QUERY PLAN': string }>`EXPLAIN SELECT id FROM named_places WHERE dispatch_bigrams(name) @> ARRAY['建设']::text[]`.execute(t.tdb.db);
    if (existsSync(STOPS)) expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/named_places_bigrams/);
  });

  it('finds real stop names when the Zhengzhou bus stops are present', async (ctx) => {
    if (!existsSync(STOPS)) {
      ctx.skip('../shared/data/real/zhengzhou_bus_stops_2013.geojson is absent: real stop names not loaded');
      return;
    }
    const r = await search('紫荆山');
    expect(r.candidates.length).toBeGreaterThan(0);
    expect(r.candidates[0]?.name).toContain('紫荆山');
    // No stop of that exact name in 2013: the trigram similarity fallback offers the nearest names.
    const fuzzy = await search('花园路农业路站');
    expect(fuzzy.candidates[0]?.name).toMatch(/^花园路/);
  });

  it('returns no candidates (not an error) for text that matches nothing', async () => {
    const r = await search('不存在的地方');
    expect(r).toMatchObject({ candidates: [], best: null });
  });
});
