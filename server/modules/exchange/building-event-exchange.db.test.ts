/**
 * Buildings and events through the exchange formats, between two databases with the same divisions
 * and grids: export from A → import into B → export from B keeps geometry and properties, for every
 * format and for GCJ-02; event reporters stay masked unless unmasked with a purpose, and exports are
 * audited; importing events reports them through the intake (routing, idempotency).
 */
import type { Geometry } from 'geojson';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeFormat } from '../../contracts/exchange';
import type { Event } from '../../contracts/events';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, lattice, newDivisions, newGrid, newLayout } from '../../test/factories';
import { readLayer } from './exchange';

const G1 = `${COMMUNITY}001`;
const G2 = `${COMMUNITY}002`;

const BUILDINGS = [
  {
    name: '3号楼',
    address: '建设路12号院, "东区" 3号楼',
    use: 'residential',
    floors: 6,
    externalId: 'ext-0001',
    geometry: { type: 'Polygon', coordinates: [[[113.6005, 34.7505], [113.600812345, 34.7505], [113.600812345, 34.750734567], [113.6005, 34.750734567], [113.6005, 34.7505]]] },
  },
  {
    // A courtyard: a polygon with a hole.
    name: '商业综合楼',
    address: '金水路1号',
    use: 'mixed',
    floors: 18,
    geometry: {
      type: 'Polygon',
      coordinates: [
        [[113.6025, 34.7510], [113.6035, 34.7510], [113.6035, 34.7520], [113.6025, 34.7520], [113.6025, 34.7510]],
        [[113.6028, 34.7513], [113.6028, 34.7517], [113.6032, 34.7517], [113.6032, 34.7513], [113.6028, 34.7513]],
      ],
    },
  },
  { name: '岗亭', address: '', use: 'public', floors: null, geometry: { type: 'Point', coordinates: [113.6012, 34.7525] } },
];

const EVENTS = [
  { category: 'dispute.neighbour', description: '楼上漏水，邻里争执;\n"第二次"反映', channel: 'hotline', address: '建设路12号院3号楼', occurredAt: '2026-01-05T08:30:00.000Z', location: [113.6006, 34.7506], reporter: { name: '张三', phone: '13912345678' } },
  { category: 'facility.manhole', description: '井盖缺失', channel: 'patrol', location: [113.6031, 34.7521] },
  { category: 'dispute.neighbour', description: '噪音扰民', channel: 'resident', occurredAt: '2026-02-01T12:00:00.000Z', location: [113.6033, 34.7504], reporter: { phone: '13800001111' } },
];

async function setUpPlace(t: TestApp): Promise<void> {
  await newDivisions(t.tdb.db);
  const layoutId = await newLayout(t.tdb.db, { status: 'published', effectiveFrom: '2020-01-01T00:00:00Z' });
  const [a, b] = lattice(113.6, 34.75, 113.604, 34.753, 2, 1);
  await newGrid(t.tdb.db, layoutId, a!, { code: G1, name: '一网格' });
  await newGrid(t.tdb.db, layoutId, b!, { code: G2, name: '二网格' });
}

let a: TestApp;
let b: TestApp;
const sourceEvents: Event[] = [];

beforeAll(async () => {
  [a, b] = await Promise.all([createTestApp(), createTestApp()]);
  await Promise.all([setUpPlace(a), setUpPlace(b)]);
  for (const building of BUILDINGS) {
    const res = await a.inject({ method: 'POST', url: '/api/v1/buildings', payload: { ...building, communityCode: COMMUNITY } });
    expect(res.statusCode, res.body).toBe(201);
  }
  for (const e of EVENTS) {
    const { location, ...rest } = e;
    const res = await a.inject({ method: 'POST', url: '/api/v1/events', payload: { ...rest, location: { type: 'Point', coordinates: location } } });
    expect(res.statusCode, res.body).toBe(201);
    sourceEvents.push(res.json<Event>());
  }
  expect((await a.inject({ method: 'POST', url: `/api/v1/events/${sourceEvents[1]!.id}/transitions`, payload: { action: 'accept' } })).statusCode).toBe(200);
});
afterAll(async () => Promise.all([a?.close(), b?.close()]));

const FORMATS: Array<{ format: ExchangeFormat; query: string; label: string }> = [
  { format: 'geojson', query: '', label: 'GeoJSON' },
  { format: 'csv', query: '', label: 'CSV with WKT' },
  { format: 'fgb', query: '', label: 'FlatGeobuf' },
  { format: 'gpkg', query: '', label: 'GeoPackage' },
];

async function download(t: TestApp, url: string, as?: { token: string }): Promise<Buffer> {
  const res = await t.inject({ url, ...(as ? { as } : {}) });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-disposition']).toMatch(/^attachment; filename="/);
  return res.rawPayload;
}

async function upload(t: TestApp, url: string, bytes: Buffer, as?: { token: string }): Promise<ReturnType<TestApp['inject']>> {
  return t.inject({ method: 'POST', url, headers: { 'content-type': 'application/octet-stream' }, payload: bytes, ...(as ? { as } : {}) });
}

function coordinates(g: Geometry | null): number[] {
  return ((g as { coordinates: unknown } | null)?.coordinates as unknown[]).flat(4) as number[];
}

function expectClose(got: Geometry | null, want: Geometry | null, tolerance: number): void {
  expect(got?.type).toBe(want?.type);
  const g = coordinates(got);
  const w = coordinates(want);
  expect(g).toHaveLength(w.length);
  g.forEach((v, i) => expect(Math.abs(v - (w[i] ?? NaN))).toBeLessThan(tolerance));
}

/** A layer as { properties, geometry } per feature, ordered by a key. */
async function featuresOf(bytes: Buffer, format: ExchangeFormat, key: string, query: Parameters<typeof readLayer>[2] = {}) {
  const read = await readLayer(format, bytes, { textFields: ['code', 'communityCode', 'gridCode', 'externalId', 'name', 'address', 'category', 'description', 'reporterName', 'reporterPhone', 'occurredAt'], ...query });
  return read.features.sort((x, y) => String(x.properties[key]).localeCompare(String(y.properties[key])));
}

describe('buildings: export → import → export', () => {
  for (const { format, label } of FORMATS) {
    it(`keeps geometry and properties through ${label}, the grid derived again on import`, async () => {
      await sql`DELETE FROM buildings`.execute(b.tdb.db);
      const file = await download(a, `/api/v1/buildings/export?format=${format}`);
      const res = await upload(b, `/api/v1/buildings/import?format=${format}`, file);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ committed: true, rows: 3, inserted: 3, rejected: 0 });
      const want = await featuresOf(file, format, 'code');
      const got = await featuresOf(await download(b, `/api/v1/buildings/export?format=${format}`), format, 'code');
      expect(got.map((f) => f.properties)).toEqual(want.map((f) => f.properties));
      got.forEach((f, i) => expectClose(f.geometry, want[i]!.geometry, 1e-9));
      expect(want.map((f) => f.properties.gridCode)).toEqual([G1, G2, G1]);
      expect(want[0]?.properties).toMatchObject({ communityCode: COMMUNITY, code: '00001', externalId: 'ext-0001', name: '3号楼', address: '建设路12号院, "东区" 3号楼', use: 'residential', floors: 6 });
    });
  }

  it('round-trips through GCJ-02: the file is shifted, the import shifts back', async () => {
    await sql`DELETE FROM buildings`.execute(b.tdb.db);
    const wgs = await featuresOf(await download(a, '/api/v1/buildings/export?format=geojson'), 'geojson', 'code');
    const gcj = await download(a, '/api/v1/buildings/export?format=gpkg&crs=gcj02');
    const raw = await featuresOf(gcj, 'gpkg', 'code', { crs: 'wgs84' });
    // GCJ-02 moves points in Zhengzhou by a few hundred metres.
    expect(Math.abs(coordinates(raw[0]!.geometry)[0]! - coordinates(wgs[0]!.geometry)[0]!)).toBeGreaterThan(1e-3);
    const res = await upload(b, '/api/v1/buildings/import', gcj);
    expect(res.json()).toMatchObject({ committed: true, inserted: 3 });
    const back = await featuresOf(await download(b, '/api/v1/buildings/export?format=geojson'), 'geojson', 'code');
    back.forEach((f, i) => expectClose(f.geometry, wgs[i]!.geometry, 1e-6));
    expect(back.map((f) => f.properties.gridCode)).toEqual([G1, G2, G1]);
  });

  it('ignores a gridCode in the file (derived from the geometry) and refuses bad rows, writing nothing', async () => {
    await sql`DELETE FROM buildings`.execute(b.tdb.db);
    const fc = JSON.parse((await download(a, '/api/v1/buildings/export?format=geojson')).toString('utf8')) as { features: Array<{ properties: Record<string, unknown> }> };
    fc.features[0]!.properties.gridCode = G2;
    fc.features[1]!.properties.floors = 1000;
    const bad = await upload(b, '/api/v1/buildings/import?format=geojson', Buffer.from(JSON.stringify(fc)));
    expect(bad.statusCode).toBe(422);
    expect(await sql<{ n: number }>`SELECT count(*)::int AS n FROM buildings`.execute(b.tdb.db).then((r) => r.rows[0]?.n)).toBe(0);
    fc.features[1]!.properties.floors = 18;
    const ok = await upload(b, '/api/v1/buildings/import?format=geojson', Buffer.from(JSON.stringify(fc)));
    expect(ok.json()).toMatchObject({ inserted: 3 });
    const { rows } = await sql<{ grid_code: string }>`SELECT grid_code FROM buildings WHERE external_id = 'ext-0001'`.execute(b.tdb.db);
    expect(rows[0]?.grid_code).toBe(G1);
    expect((await upload(b, '/api/v1/buildings/import?format=geojson', Buffer.from(JSON.stringify(fc)), { token: await b.tokenFor('dispatcher') })).statusCode).toBe(403);
  });
  it('re-importing its own export changes nothing, in every format, even for coordinates drawn at full double precision', async () => {
    await sql`DELETE FROM buildings`.execute(b.tdb.db);
    // What a map editor sends: doubles with 13-14 decimals, not rounded to the 9 of API responses.
    const drawn = { type: 'Polygon', coordinates: [[[113.60051234567891, 34.75051234567891], [113.60081234567893, 34.75051234567891], [113.6008123456789, 34.7507123456789], [113.60051234567891, 34.75051234567891]]] };
    const created = await b.inject({ method: 'POST', url: '/api/v1/buildings', payload: { name: '手绘楼', externalId: 'drawn-1', geometry: drawn } });
    expect(created.statusCode, created.body).toBe(201);
    const stored = async () => (await sql<{ g: string }>`SELECT ST_AsEWKT(geom) AS g FROM buildings WHERE external_id = 'drawn-1'`.execute(b.tdb.db)).rows[0]?.g;
    const before = await stored();
    for (const { format } of FORMATS) {
      const res = await upload(b, `/api/v1/buildings/import?format=${format}`, await download(b, `/api/v1/buildings/export?format=${format}`));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json(), format).toMatchObject({ inserted: 0, updated: 0, unchanged: 1 });
    }
    expect(await stored()).toBe(before);
  });

  it("a bad row of a CSV file is reported on the file's own line (a quoted line break before it counted)", async () => {
    await sql`DELETE FROM buildings`.execute(b.tdb.db);
    const csv = 'name,address,floors,WKT\r\n岗亭,"金水路\r\n1号",2,POINT(113.6012 34.7525)\r\n门卫室,金水路2号,1000,POINT(113.6013 34.7525)\r\n';
    const res = await b.inject({ method: 'POST', url: '/api/v1/buildings/import', headers: { 'content-type': 'text/csv' }, payload: csv });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json()).toMatchObject({ error: { code: 'IMPORT_FAILED', details: { in: 'body', errors: [{ line: 4, field: 'floors' }] } } });
    const skipped = await b.inject({ method: 'POST', url: '/api/v1/buildings/import?mode=skip-bad-rows', headers: { 'content-type': 'text/csv' }, payload: csv });
    expect(skipped.json()).toMatchObject({ inserted: 1, rejected: 1, errors: [{ line: 4, field: 'floors' }] });
  });

  it('refuses a CSV whose lon or lat cell is empty (it became 0: a building off the coast of Africa) or whose header repeats a column (one of the two was dropped)', async () => {
    await sql`DELETE FROM buildings`.execute(b.tdb.db);
    const csv = async (text: string) => b.inject({ method: 'POST', url: '/api/v1/buildings/import', headers: { 'content-type': 'text/csv' }, payload: text });
    const halfEmpty = await csv('name,lon,lat\r\n岗亭,113.6012,34.7525\r\n门卫室,,34.7525\r\n');
    expect(halfEmpty.statusCode, halfEmpty.body).toBe(422);
    expect(halfEmpty.json()).toMatchObject({ error: { code: 'IMPORT_FAILED', details: { in: 'body', reason: 'CSV_MALFORMED', line: 3, field: 'lon' } } });
    const notNumber = await csv('name,lon,lat\r\n岗亭,113.6012,北纬34\r\n');
    expect(notNumber.statusCode, notNumber.body).toBe(422);
    expect(notNumber.json()).toMatchObject({ error: { code: 'IMPORT_FAILED', details: { in: 'body', reason: 'CSV_MALFORMED', line: 2, field: 'lat' } } });
    const twice = await csv('name,address,name,WKT\r\n岗亭,金水路1号,门卫室,POINT(113.6012 34.7525)\r\n');
    expect(twice.statusCode, twice.body).toBe(422);
    expect(twice.json()).toMatchObject({ error: { code: 'IMPORT_FAILED', details: { in: 'body', reason: 'CSV_MALFORMED', line: 1, field: 'name' } } });
    expect(await sql<{ n: number }>`SELECT count(*)::int AS n FROM buildings`.execute(b.tdb.db).then((r) => r.rows[0]?.n)).toBe(0);
    // Both cells empty is a feature without geometry, refused by the registry import as before.
    const ok = await csv('name,lon,lat\r\n岗亭,113.6012,34.7525\r\n');
    expect(ok.json()).toMatchObject({ committed: true, inserted: 1 });
  });
});

describe('events: export → import', () => {
  const reimport = async (format: ExchangeFormat, file: Buffer, extraQuery = '') => {
    // A user per round trip: Idempotency-Keys are per caller, so each starts fresh.
    const user = await b.userWith({ roles: ['dispatcher'] });
    const res = await upload(b, `/api/v1/events/import?format=${format}${extraQuery}`, file, { token: user.token });
    expect(res.statusCode, res.body).toBe(200);
    return { user, report: res.json<{ created: number; replayed: number; failed: number; events: Array<{ featureIndex: number; id: number }> }>() };
  };

  const eventsOf = async (ids: number[]): Promise<Event[]> => Promise.all(ids.map(async (id) => (await b.inject(`/api/v1/events/${id}`)).json<Event>()));

  for (const { format, label } of [...FORMATS, { format: 'csv' as const, label: 'CSV with lon/lat', query: '&geometry=lonlat' }]) {
    const q = label === 'CSV with lon/lat' ? '&geometry=lonlat' : '';
    it(`reports the file's events through intake via ${label}: same place, category, text, reporter and grid`, async () => {
      const file = await download(a, `/api/v1/events/export?format=${format}${q}&reporter=full&purpose=${encodeURIComponent('迁移到新系统')}`);
      const { user, report } = await reimport(format, file, q);
      expect(report).toMatchObject({ created: 3, replayed: 0, failed: 0 });
      const read = await readLayer(format, file, { textFields: ['description', 'category'], ...(q ? { csvGeometry: 'lonlat' } : {}) });
      const copies = await eventsOf(report.events.map((e) => e.id));
      copies.forEach((copy, i) => {
        const original = sourceEvents.find((e) => e.id === Number(read.features[report.events[i]!.featureIndex]!.properties.id))!;
        expect(copy.location.coordinates[0]).toBeCloseTo(original.location.coordinates[0], 7);
        expect(copy.location.coordinates[1]).toBeCloseTo(original.location.coordinates[1], 7);
        expect({ category: copy.category.code, description: copy.description, channel: copy.channel, address: copy.address, occurredAt: copy.occurredAt, reporter: copy.reporter, grid: copy.routing.gridCode })
          .toEqual({ category: original.category.code, description: original.description, channel: original.channel, address: original.address, occurredAt: original.occurredAt, reporter: original.reporter, grid: original.routing.gridCode });
        // Intake, not a restore: a new event in the first state, reported now, from an import.
        expect(copy).toMatchObject({ state: 'reported', source: 'import' });
      });
      // The same file again by the same user: every feature replays, nothing new.
      const again = await upload(b, `/api/v1/events/import?format=${format}${q}`, file, { token: user.token });
      expect(again.json()).toMatchObject({ created: 0, replayed: 3, failed: 0 });
    });
  }

  it('round-trips through GCJ-02 (file shifted, import shifts back)', async () => {
    const file = await download(a, '/api/v1/events/export?format=fgb&crs=gcj02');
    const shifted = await readLayer('fgb', file, { crs: 'wgs84' });
    expect(Math.abs(coordinates(shifted.features[0]!.geometry)[0]! - sourceEvents[0]!.location.coordinates[0])).toBeGreaterThan(1e-3);
    const { report } = await reimport('fgb', file);
    const copies = await eventsOf(report.events.map((e) => e.id));
    for (const copy of copies) {
      const original = sourceEvents.find((e) => e.description === copy.description)!;
      expect(Math.abs(copy.location.coordinates[0] - original.location.coordinates[0])).toBeLessThan(1e-6);
      expect(Math.abs(copy.location.coordinates[1] - original.location.coordinates[1])).toBeLessThan(1e-6);
      expect(copy.routing.gridCode).toBe(original.routing.gridCode);
    }
  });

  it('masks the reporter by default (and a masked reporter is not imported as a name); full contacts need registry:unmask and a purpose; every export is audited', async () => {
    const masked = (await download(a, '/api/v1/events/export?format=geojson')).toString('utf8');
    expect(masked).not.toMatch(/张三|13912345678|13800001111/);
    expect(masked).toContain('张*');
    const dispatcher = await a.tokenFor('dispatcher');
    const denied = await a.inject({ url: '/api/v1/events/export?reporter=full&purpose=test', as: { token: dispatcher } });
    expect(denied.statusCode).toBe(403);
    expect((await a.inject({ url: '/api/v1/events/export?reporter=full' })).statusCode).toBe(400);
    expect((await a.inject({ url: '/api/v1/events/export', as: 'analyst' })).statusCode).toBe(403);
    const none = (await download(a, '/api/v1/events/export?format=geojson&reporter=none')).toString('utf8');
    expect(none).not.toMatch(/reporter/);
    const full = (await download(a, `/api/v1/events/export?format=csv&reporter=full&purpose=${encodeURIComponent('回访')}`)).toString('utf8');
    expect(full).toContain('13912345678');
    const { rows } = await sql<{ details: { reporter: string; purpose?: string; rows: number } }>`
      SELECT details FROM audit_log WHERE action = 'event.export' ORDER BY id`.execute(a.tdb.db);
    expect(rows.map((r) => r.details.reporter)).toEqual(expect.arrayContaining(['masked', 'none', 'full']));
    expect(rows.find((r) => r.details.purpose === '回访')?.details.rows).toBe(3);

    const { report } = await reimport('geojson', Buffer.from(masked));
    const copies = await eventsOf(report.events.map((e) => e.id));
    expect(copies.map((c) => c.reporter)).toEqual([null, null, null]);
  });

  it('scopes the export to the caller, and refuses a file with a bad feature before reporting any', async () => {
    const worker = await a.userWith({ roles: ['grid_worker'], scope: [G2] });
    const mine = await readLayer('geojson', await download(a, '/api/v1/events/export?format=geojson', { token: worker.token }));
    expect(mine.features.map((f) => f.properties.gridCode)).toEqual([G2, G2]);

    const fc = JSON.parse((await download(a, '/api/v1/events/export?format=geojson')).toString('utf8')) as { features: Array<{ properties: Record<string, unknown>; geometry: unknown }> };
    fc.features[1]!.properties.category = 'no.such';
    fc.features[2]!.geometry = { type: 'Polygon', coordinates: [[[113.6, 34.75], [113.601, 34.75], [113.601, 34.751], [113.6, 34.75]]] };
    const before = await sql<{ n: number }>`SELECT count(*)::int AS n FROM events`.execute(b.tdb.db);
    const res = await upload(b, '/api/v1/events/import?format=geojson', Buffer.from(JSON.stringify(fc)));
    expect(res.statusCode).toBe(422);
    const err = res.json<{ error: { code: string; details: { errors: Array<{ featureIndex: number; code: string }> } } }>().error;
    expect(err.code).toBe('IMPORT_FAILED');
    expect(err.details.errors.map((e) => [e.featureIndex, e.code])).toEqual([[1, 'VALIDATION_FAILED'], [2, 'GEOMETRY_TYPE']]);
    const after = await sql<{ n: number }>`SELECT count(*)::int AS n FROM events`.execute(b.tdb.db);
    expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
  });

  it('an id imported before with other content is refused on its feature, naming the feature, not a header', async () => {
    const fc = JSON.parse((await download(a, '/api/v1/events/export?format=geojson')).toString('utf8')) as { features: Array<{ properties: Record<string, unknown>; geometry: { type: string; coordinates: number[] } }> };
    fc.features = fc.features.slice(0, 2).map((f, i) => ({ ...f, properties: { ...f.properties, id: `where-test-${i}` } }));
    const first = await upload(b, '/api/v1/events/import?format=geojson', Buffer.from(JSON.stringify(fc)));
    expect(first.statusCode).toBe(200);
    const moved = fc.features[1]!;
    moved.geometry = { ...moved.geometry, coordinates: [moved.geometry.coordinates[0]! + 0.0003, moved.geometry.coordinates[1]!] };
    const again = await upload(b, '/api/v1/events/import?format=geojson', Buffer.from(JSON.stringify(fc)));
    expect(again.statusCode).toBe(200);
    const report = again.json<{ replayed: number; failed: number; errors: Array<{ featureIndex: number; code: string; details: unknown }> }>();
    expect([report.replayed, report.failed]).toEqual([1, 1]);
    expect(report.errors).toEqual([{ featureIndex: 1, code: 'CONFLICT', message: expect.any(String) as string, details: { in: 'body', field: 'features/1/properties/id', reason: 'IDEMPOTENCY_KEY_REUSED' } }]);
  });

  it('in a CSV file, a refused id names the line and the id column, as that file shows it', async () => {
    const csv = (desc: string): Buffer => Buffer.from(`id,category,description,channel,lon,lat\ncsv-where-0,facility.manhole,井盖缺失,patrol,113.6031,34.7521\ncsv-where-1,facility.manhole,${desc},patrol,113.6032,34.7522\n`);
    const first = await upload(b, '/api/v1/events/import?format=csv&geometry=lonlat', csv('路灯不亮'));
    expect(first.statusCode, first.body).toBe(200);
    const again = await upload(b, '/api/v1/events/import?format=csv&geometry=lonlat', csv('路灯仍不亮'));
    expect(again.statusCode).toBe(200);
    const report = again.json<{ replayed: number; failed: number; errors: Array<{ featureIndex: number; code: string; details: unknown }> }>();
    expect([report.replayed, report.failed]).toEqual([1, 1]);
    // Line 1 is the header: the second feature is line 3.
    expect(report.errors).toEqual([{ featureIndex: 1, code: 'CONFLICT', message: expect.any(String) as string, details: { in: 'body', line: 3, field: 'id', reason: 'IDEMPOTENCY_KEY_REUSED' } }]);
  });
});
