import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Geometry, Position } from 'geojson';
import initSqlJs from 'sql.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../../contracts/common';
import { EXCHANGE_MEDIA_TYPES, type ExchangeFormat } from '../../contracts/exchange';
import type { GridFeature } from '../../contracts/grid';
import type { LayoutCollection } from '../../contracts/layout';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, countRows, newDivisions, rect } from '../../test/factories';
import { ensureDebianPackages } from '../../test/system-packages';
import { readLayer, writeLayer } from './exchange';

const W = 113.6;
const S = 34.75;

/** Free attributes of every type, Chinese text, a comma, quotes and a line break. */
const GRIDS = [
  {
    geometry: rect(113.6, 34.75, 113.601234567, 34.751),
    properties: { name: '金水一网格', kind: 'general', code: `${COMMUNITY}001`, 楼栋数: 12, 比例: 0.25, 启用: true, 说明: '东区, "老旧小区"\n二期', 标签: { 类型: ['住宅', '商业'], n: 3 } },
  },
  {
    // A hole: rings survive every format.
    geometry: {
      type: 'Polygon',
      coordinates: [
        [[113.601234567, 34.75], [113.602, 34.75], [113.602, 34.751], [113.601234567, 34.751], [113.601234567, 34.75]],
        [[113.6014, 34.7502], [113.6014, 34.7505], [113.6018, 34.7505], [113.6018, 34.7502], [113.6014, 34.7502]],
      ],
    },
    properties: { name: '学校专属网格', kind: 'dedicated', code: `${COMMUNITY}002`, 楼栋数: 3, 比例: 1.5, 启用: false, 说明: '', 标签: { 类型: [], n: 0 } },
  },
  {
    // Two parts: a MultiPolygon among Polygons (promoted to multi in FlatGeobuf/GeoPackage, unwrapped again on import).
    geometry: {
      type: 'MultiPolygon',
      coordinates: [
        [[[113.602, 34.75], [113.603, 34.75], [113.603, 34.7505], [113.602, 34.7505], [113.602, 34.75]]],
        [[[113.603, 34.751], [113.604, 34.751], [113.604, 34.752], [113.603, 34.752], [113.603, 34.751]]],
      ],
    },
    properties: { name: '三号网格', kind: 'general', 楼栋数: 40 },
  },
];

let t: TestApp;
let source: LayoutCollection;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'wangge-exchange-'));

beforeAll(async () => {
  t = await createTestApp();
  await newDivisions(t.tdb.db);
  const res = await t.inject({
    method: 'POST',
    url: `/api/v1/communities/${COMMUNITY}/layouts/import`,
    payload: { type: 'FeatureCollection', name: '源布局', features: GRIDS.map((g) => ({ type: 'Feature', ...g })) },
  });
  expect(res.statusCode, res.body).toBe(201);
  source = res.json<LayoutCollection>();
});
afterAll(async () => t.close());

async function exportFile(format: ExchangeFormat, query = ''): Promise<Buffer> {
  const res = await t.inject({ url: `/api/v1/layouts/${source.layout.id}/export?format=${format}${query}` });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toContain(EXCHANGE_MEDIA_TYPES[format]);
  expect(res.headers['content-disposition']).toMatch(/^attachment; filename="layout_410105001001_\d+(-gcj02|-bd09)?\.(geojson|csv|fgb|gpkg)"$/);
  return res.rawPayload;
}

async function importFile(bytes: Buffer, query: string, contentType = 'application/octet-stream'): Promise<ReturnType<TestApp['inject']>> {
  return t.inject({ method: 'POST', url: `/api/v1/communities/${COMMUNITY}/layouts/import?${query}`, headers: { 'content-type': contentType }, payload: bytes });
}

const free = (f: GridFeature): Record<string, unknown> => {
  const { layoutId: _l, version: _v, areaM2: _a, ...rest } = f.properties as Record<string, unknown>;
  return rest;
};

function firstPosition(g: Geometry | null | undefined): Position {
  const c = (g as { coordinates: unknown } | null | undefined)?.coordinates;
  return ((c as unknown[]).flat(4) as number[]).slice(0, 2);
}

/**
 * What a format cannot tell apart, applied to the expected side: CSV has no empty string distinct from
 * an empty cell; GDAL writes booleans to CSV as 1/0 and JSON objects to FlatGeobuf/CSV as JSON text.
 */
type Lossy = 'csv' | 'gdal-csv' | 'gdal-fgb';
function expectedProperties(props: Record<string, unknown>, lossy?: Lossy): Record<string, unknown> {
  if (!lossy) return props;
  return Object.fromEntries(
    Object.entries(props)
      .filter(([, v]) => v !== '' || lossy === 'gdal-fgb')
      .map(([k, v]) => [k, lossy === 'gdal-csv' && typeof v === 'boolean' ? (v ? 1 : 0) : v]),
  );
}
function receivedProperties(props: Record<string, unknown>, lossy?: Lossy): Record<string, unknown> {
  if (lossy !== 'gdal-csv' && lossy !== 'gdal-fgb') return props;
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, typeof v === 'string' && /^[{[]/.test(v) ? (JSON.parse(v) as unknown) : v]));
}

function expectSameGrids(back: LayoutCollection, tolerance: number | 'exact', lossy?: Lossy): void {
  expect(back.features).toHaveLength(source.features.length);
  source.features.forEach((f, i) => {
    const b = back.features[i] as GridFeature;
    expect(receivedProperties(free(b), lossy)).toEqual(expectedProperties(free(f), lossy));
    if (tolerance === 'exact') expect(b.geometry).toEqual(f.geometry);
    else {
      expect(b.geometry.type).toBe(f.geometry.type);
      const want = (f.geometry.coordinates as unknown[]).flat(3) as number[];
      const got = (b.geometry.coordinates as unknown[]).flat(3) as number[];
      expect(got).toHaveLength(want.length);
      got.forEach((v, k) => expect(Math.abs(v - (want[k] ?? NaN))).toBeLessThan(tolerance));
    }
  });
}

const FORMATS: ExchangeFormat[] = ['geojson', 'csv', 'fgb', 'gpkg'];

describe('export → import round trip', () => {
  it('keeps the source layout as planned (≤ 9 decimals, Chinese text, every attribute type)', () => {
    expect(JSON.stringify(source.features[0]?.geometry)).toContain('[113.601234567,34.75]');
    expect(source.features.map((f) => f.properties.name)).toEqual(['金水一网格', '学校专属网格', '三号网格']);
  });

  for (const format of FORMATS) {
    it(`${format}, WGS-84: coordinates bit for bit, properties intact`, async () => {
      const bytes = await exportFile(format);
      const res = await importFile(bytes, `format=${format}`);
      expect(res.statusCode, res.body).toBe(201);
      const back = res.json<LayoutCollection>();
      expect(back.layout.id).not.toBe(source.layout.id);
      expectSameGrids(back, 'exact', format === 'csv' ? 'csv' : undefined);
    });

    for (const crs of ['gcj02', 'bd09'] as const) {
      it(`${format}, ${crs}: converted on the way out and back within 1e-7°`, async () => {
        const bytes = await exportFile(format, `&crs=${crs}`);
        // The file really is shifted (GCJ-02 moves Zhengzhou by a few hundred metres).
        const read = await readLayer(format, bytes, { crs: 'wgs84' });
        const shifted = firstPosition(read.features[0]?.geometry);
        expect(Math.abs((shifted[0] ?? 0) - W)).toBeGreaterThan(1e-3);
        const res = await importFile(bytes, `format=${format}&crs=${crs}`);
        expect(res.statusCode, res.body).toBe(201);
        expectSameGrids(res.json<LayoutCollection>(), 1e-7, format === 'csv' ? 'csv' : undefined);
      });
    }
  }

  it('GeoPackage, FlatGeobuf and GeoJSON files say they are GCJ-02, so a re-import needs no crs', async () => {
    for (const format of ['geojson', 'fgb', 'gpkg'] as const) {
      const bytes = await exportFile(format, '&crs=gcj02');
      const res = await importFile(bytes, '', EXCHANGE_MEDIA_TYPES[format]);
      expect(res.statusCode, `${format}: ${res.body}`).toBe(201);
      expectSameGrids(res.json<LayoutCollection>(), 1e-7);
    }
  });

  it('finds the format from the content type or the first bytes, and names the draft after the file', async () => {
    const fgb = await exportFile('fgb');
    const res = await importFile(fgb, 'name=%E5%AF%BC%E5%85%A5');
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json<LayoutCollection>().layout.name).toBe('导入');
    const csv = await importFile(await exportFile('csv'), '', 'text/csv');
    expect(csv.statusCode, csv.body).toBe(201);
    expect(csv.json<LayoutCollection>().layout.name).toBe('import');
    const gpkg = await importFile(await exportFile('gpkg'), '');
    expect(gpkg.json<LayoutCollection>().layout.name).toMatch(/^layout_410105001001_\d+$/);
  });

  it('still takes a GeoJSON FeatureCollection as JSON, now also in GCJ-02', async () => {
    const gcj = (await readLayer('geojson', await exportFile('geojson', '&crs=gcj02'), { crs: 'wgs84' })).features;
    const res = await t.inject({
      method: 'POST',
      url: `/api/v1/communities/${COMMUNITY}/layouts/import?crs=gcj02`,
      payload: { type: 'FeatureCollection', features: gcj.map((f) => ({ type: 'Feature', geometry: f.geometry, properties: f.properties })) },
    });
    expect(res.statusCode, res.body).toBe(201);
    expectSameGrids(res.json<LayoutCollection>(), 1e-7);
  });

  it('CSV with lon/lat columns round-trips a point layer (format layer only: grids are polygons)', async () => {
    const points = [
      { geometry: { type: 'Point', coordinates: [113.612345678, 34.751] } as Geometry, properties: { 名称: '站点 1', n: 1 } },
      { geometry: { type: 'Point', coordinates: [113.6, 34.7] } as Geometry, properties: { 名称: '站点, "2"', n: 2 } },
    ];
    for (const crs of ['wgs84', 'gcj02'] as const) {
      const file = await writeLayer('csv', { name: 'stops', features: points }, { csvGeometry: 'lonlat', crs });
      expect(new TextDecoder('utf-8', { ignoreBOM: true }).decode(file.bytes)).toMatch(/^\uFEFFlon,lat,名称,n\r\n/);
      const back = await readLayer('csv', file.bytes, { crs });
      expect(back.features.map((f) => f.properties)).toEqual(points.map((p) => p.properties));
      if (crs === 'wgs84') expect(back.features.map((f) => f.geometry)).toEqual(points.map((p) => p.geometry));
    }
    const res = await t.inject({ url: `/api/v1/layouts/${source.layout.id}/export?format=csv&geometry=lonlat` });
    expect(res.statusCode).toBe(422);
    expect(res.json<ErrorResponse>().error.details).toMatchObject({ reason: 'GEOMETRY_TYPE' });
  });
});

describe('division export', () => {
  it("exports a district's streets and communities with codes, names and boundaries in every format", async () => {
    for (const format of FORMATS) {
      const res = await t.inject({ url: `/api/v1/divisions/410105/export?format=${format}`, as: 'analyst' });
      expect(res.statusCode, res.body).toBe(200);
      const read = await readLayer(format, res.rawPayload, { textFields: ['code', 'parentCode'] });
      expect(read.features.map((f) => [f.properties.code, f.properties.name, f.properties.level, f.properties.boundarySource])).toEqual([
        ['410105001', '花园路街道', 'street', 'derived'],
        ['410105001001', '示范社区', 'community', 'stored'],
      ]);
      expect(read.features.every((f) => f.geometry?.type === 'MultiPolygon')).toBe(true);
    }
    const communities = await t.inject({ url: '/api/v1/divisions/410105/export?format=geojson&level=community' });
    expect(communities.json<{ features: unknown[] }>().features).toHaveLength(1);
    expect((await t.inject('/api/v1/divisions/419999/export?format=geojson')).statusCode).toBe(404);
  });
});

// An independent reader and producer: GDAL (Debian gdal-bin), installed by the test setup if missing.
const hasGdal = ensureDebianPackages('/usr/bin/ogrinfo', ['gdal-bin']);
if (!hasGdal) console.warn('skipping the GDAL exchange tests: gdal-bin is not installed and cannot be (not root)');
const gdal = (cmd: string, args: string[]): string => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, CPL_DEBUG: 'OFF' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};

describe.skipIf(!hasGdal)('GDAL reads our files and writes files we read', () => {
  const FIELDS = ['id', 'code', 'name', 'kind', 'areaM2', '楼栋数', '比例', '启用', '说明', '标签'];

  for (const format of FORMATS) {
    it(`ogrinfo reads the ${format} export: feature count, field names, CRS`, async () => {
      const file = path.join(tmp, `layout.${format}`);
      writeFileSync(file, await exportFile(format));
      const info = gdal('ogrinfo', ['-ro', '-al', '-so', ...(format === 'csv' ? ['-oo', 'GEOM_POSSIBLE_NAMES=WKT', '-oo', 'KEEP_GEOM_COLUMNS=NO'] : []), file]);
      expect(info).toMatch(/Feature Count: 3/);
      for (const name of FIELDS) expect(info, info).toMatch(new RegExp(`^${name}: `, 'm'));
      if (format !== 'csv') expect(info).toMatch(/WGS 84/);
      if (format === 'fgb' || format === 'gpkg') expect(info).toMatch(/Geometry: Multi Polygon/);
    });
  }

  it('ogrinfo reads a GCJ-02 GeoPackage as geographic degrees named GCJ-02', async () => {
    const file = path.join(tmp, 'gcj.gpkg');
    writeFileSync(file, await exportFile('gpkg', '&crs=gcj02'));
    expect(gdal('ogrinfo', ['-ro', '-al', '-so', file])).toMatch(/GCJ-02/);
  });

  for (const [driver, ext, extra] of [['GPKG', 'gpkg', []], ['FlatGeobuf', 'fgb', []], ['CSV', 'csv', ['-lco', 'GEOMETRY=AS_WKT']], ['GeoJSON', 'geojson', []]] as const) {
    it(`imports GDAL's own ${driver} output of a layer (ogr2ogr as an independent producer)`, async () => {
      const input = path.join(tmp, 'gdal-in.geojson');
      writeFileSync(input, await exportFile('geojson'));
      const output = path.join(tmp, `gdal-out.${ext}`);
      gdal('ogr2ogr', ['-f', driver, output, input, '-nln', 'gdal_grids', ...extra]);
      const res = await importFile(readFileSync(output), `format=${ext}`);
      expect(res.statusCode, res.body).toBe(201);
      expectSameGrids(res.json<LayoutCollection>(), 'exact', driver === 'CSV' ? 'gdal-csv' : driver === 'FlatGeobuf' ? 'gdal-fgb' : undefined);
    });
  }

  it('refuses a projected GeoPackage by its declared CRS instead of storing metres as degrees', async () => {
    const input = path.join(tmp, 'gdal-in.geojson');
    writeFileSync(input, await exportFile('geojson'));
    const output = path.join(tmp, 'gdal-3857.gpkg');
    gdal('ogr2ogr', ['-f', 'GPKG', output, input, '-t_srs', 'EPSG:3857']);
    const before = await countRows(t.tdb.db, 'layouts');
    const res = await importFile(readFileSync(output), 'format=gpkg');
    expect(res.statusCode).toBe(422);
    expect(res.json<ErrorResponse>().error.details).toMatchObject({ reason: 'CRS_UNSUPPORTED' });
    expect(await countRows(t.tdb.db, 'layouts')).toBe(before);
  });
});

describe('hostile and wrong files: clear codes, nothing written', () => {
  async function refused(bytes: Uint8Array | string, query: string, status: number, code: string, reason?: string, contentType?: string): Promise<ErrorResponse['error']> {
    const before = [await countRows(t.tdb.db, 'layouts'), await countRows(t.tdb.db, 'grids')];
    const res = await importFile(Buffer.from(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes), query, contentType);
    expect(res.statusCode, res.body).toBe(status);
    const error = res.json<ErrorResponse>().error;
    expect(error.code).toBe(code);
    if (reason) expect(error.details).toMatchObject({ reason });
    expect([await countRows(t.tdb.db, 'layouts'), await countRows(t.tdb.db, 'grids')]).toEqual(before);
    return error;
  }

  it('an unknown format', async () => {
    await refused('x', 'format=shp', 400, 'UNSUPPORTED_FORMAT');
    expect((await t.inject({ url: `/api/v1/layouts/${source.layout.id}/export?format=kml` })).json<ErrorResponse>().error.code).toBe('UNSUPPORTED_FORMAT');
  });

  it('a format other than GeoJSON beside a JSON body (found by server/http/bad-input.db.test.ts: it was ignored and the import ran)', async () => {
    const before = [await countRows(t.tdb.db, 'layouts'), await countRows(t.tdb.db, 'grids')];
    const payload = { type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: rect(113.6, 34.75, 113.601, 34.751) }] };
    for (const format of ['shp', 'csv']) {
      const res = await t.inject({ method: 'POST', url: `/api/v1/communities/${COMMUNITY}/layouts/import?format=${format}`, payload });
      expect(res.statusCode, format).toBe(400);
      expect(res.json<ErrorResponse>().error.code, format).toBe('UNSUPPORTED_FORMAT');
    }
    expect([await countRows(t.tdb.db, 'layouts'), await countRows(t.tdb.db, 'grids')]).toEqual(before);
  });

  it('an unsupported content type', async () => {
    const res = await importFile(Buffer.from('x'), '', 'image/png');
    expect(res.statusCode).toBe(415);
  });

  it('an empty body and a file that is not what it claims', async () => {
    await refused(new Uint8Array(0), 'format=geojson', 422, 'IMPORT_FAILED', 'FILE_EMPTY');
    await refused(await exportFile('fgb'), 'format=gpkg', 422, 'IMPORT_FAILED', 'FORMAT_MISMATCH');
    await refused('{"type": "FeatureCollection", "features": [', 'format=geojson', 422, 'IMPORT_FAILED', 'FILE_CORRUPT');
  });

  it('a truncated FlatGeobuf file', async () => {
    const fgb = await exportFile('fgb');
    for (const cut of [6, 20, Math.floor(fgb.length / 2), fgb.length - 3]) {
      await refused(fgb.subarray(0, cut), 'format=fgb', 422, 'IMPORT_FAILED', 'FILE_CORRUPT');
    }
  });

  it('a FlatGeobuf header declaring 2^40 features behind a spatial index (zip-bomb-like)', async () => {
    const fgb = new Uint8Array(await exportFile('fgb'));
    // Patch features_count in place: find the little-endian 3 (uint64) the header holds.
    const headerLength = new DataView(fgb.buffer).getUint32(8, true);
    const header = fgb.subarray(12, 12 + headerLength);
    let patched = false;
    for (let i = 0; i + 8 <= header.length && !patched; i += 4) {
      const v = new DataView(header.buffer, header.byteOffset + i, 8);
      if (v.getBigUint64(0, true) === 3n) {
        v.setBigUint64(0, 2n ** 40n, true);
        patched = true;
      }
    }
    expect(patched).toBe(true);
    await refused(fgb, 'format=fgb', 422, 'IMPORT_FAILED', 'TOO_MANY_FEATURES');
  });

  it('an SQLite database that is not a GeoPackage, and a damaged one', async () => {
    const SQL = await initSqlJs();
    const db = new SQL.Database();
    db.run("CREATE TABLE grids (name TEXT); INSERT INTO grids VALUES ('网格')");
    const plain = db.export();
    db.close();
    await refused(plain, 'format=gpkg', 422, 'IMPORT_FAILED', 'NOT_A_GEOPACKAGE');
    const gpkg = await exportFile('gpkg');
    await refused(gpkg.subarray(0, 2000), 'format=gpkg', 422, 'IMPORT_FAILED', 'FILE_CORRUPT');
    const noise = Buffer.from(gpkg);
    for (let i = 1024; i < noise.length; i += 7) noise[i] = (noise[i] ?? 0) ^ 0x5a;
    await refused(noise, 'format=gpkg', 422, 'IMPORT_FAILED');
  });

  it('a GeoPackage whose geometry declares two billion points, and one whose layer is a view', async () => {
    const SQL = await initSqlJs();
    const db = new SQL.Database(new Uint8Array(await exportFile('gpkg')));
    const table = String(db.exec('SELECT table_name FROM gpkg_contents')[0]?.values[0]?.[0]);
    // GP header (8 bytes, no envelope) + WKB polygon: 1 ring of 2^31 points, then almost nothing.
    const blob = new Uint8Array([0x47, 0x50, 0, 0x01, 0xe6, 0x10, 0, 0, 1, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0]);
    db.run(`UPDATE "${table}" SET geom = ? WHERE fid = 1`, [blob]);
    await refused(db.export(), 'format=gpkg', 422, 'IMPORT_FAILED', 'FILE_CORRUPT');
    db.run(`ALTER TABLE "${table}" RENAME TO base; CREATE VIEW "${table}" AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM base, r`);
    await refused(db.export(), 'format=gpkg', 422, 'IMPORT_FAILED', 'NOT_A_GEOPACKAGE');
    db.close();
  });

  it('CSV with broken quoting, ragged rows or no geometry column', async () => {
    const e = await refused('WKT,name\n"POLYGON ((0 0, 1 0, 1 1, 0 0))","a"b"\n', 'format=csv', 422, 'IMPORT_FAILED', 'CSV_MALFORMED');
    expect(e.message).toMatch(/line 2/);
    await refused('WKT,name\n"POLYGON ((0 0, 1 0, 1 1, 0 0))\n', 'format=csv', 422, 'IMPORT_FAILED', 'CSV_MALFORMED');
    await refused('WKT,name\n"POLYGON ((0 0, 1 0, 1 1, 0 0))",a,extra\n', 'format=csv', 422, 'IMPORT_FAILED', 'CSV_MALFORMED');
    await refused('name,kind\na,general\n', 'format=csv', 422, 'IMPORT_FAILED', 'GEOMETRY_MISSING');
    await refused('WKT,name\n"POLYGON ((113.6 34.75, 113.601",x\n', 'format=csv', 422, 'IMPORT_FAILED', 'FILE_CORRUPT');
  });

  it('features that cannot be grids: points, lines, no geometry', async () => {
    const fc = (geometry: unknown): string => JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry, properties: {} }] });
    await refused(fc({ type: 'Point', coordinates: [W, S] }), 'format=geojson', 422, 'IMPORT_FAILED', 'GEOMETRY_TYPE');
    await refused(fc(null), 'format=geojson', 422, 'IMPORT_FAILED', 'GEOMETRY_MISSING');
    await refused(fc({ type: 'GeometryCollection', geometries: [] }), 'format=geojson', 422, 'IMPORT_FAILED', 'GEOMETRY_TYPE');
    await refused('WKT,name\n,a\n', 'format=csv', 422, 'IMPORT_FAILED', 'GEOMETRY_MISSING');
    const bad = await refused(`WKT,name,kind\n"${'POLYGON ((113.6 34.75, 113.601 34.75, 113.601 34.751, 113.6 34.75))'}",x,castle\n`, 'format=csv', 422, 'IMPORT_FAILED');
    expect(bad.details).toMatchObject({ errors: [{ featureIndex: 0, code: 'VALIDATION_FAILED' }] });
  });

  it("a bad feature's where is the file's own: CSV line and column, FlatGeobuf/GeoPackage feature index, GeoJSON path", async () => {
    const square = 'POLYGON ((113.6 34.75, 113.601 34.75, 113.601 34.751, 113.6 34.751, 113.6 34.75))';
    const bowTie = 'POLYGON ((113.6 34.75, 113.601 34.751, 113.601 34.75, 113.6 34.751, 113.6 34.75))';
    // Line 2 a code of another community, line 3 (after a quoted name spanning two lines) a bow-tie.
    const csv = await refused(`code,WKT_Geom,name\n999999999999001,"${square}","two\nlines"\n,"${bowTie}",b\n`, 'format=csv', 422, 'IMPORT_FAILED');
    expect(csv.details).toMatchObject({
      errors: [
        { featureIndex: 0, code: 'VALIDATION_FAILED', details: { in: 'body', line: 2, field: 'code' } },
        { featureIndex: 1, code: 'GEOMETRY_INVALID', details: { in: 'body', line: 4, field: 'WKT_Geom', reason: 'SELF_INTERSECTION' } },
      ],
    });
    const kind = await refused(`WKT,name,kind\n"${square}",a,general\n"${square}",x,castle\n`, 'format=csv', 422, 'IMPORT_FAILED');
    expect(kind.details).toMatchObject({ errors: [{ featureIndex: 1, code: 'VALIDATION_FAILED', details: { in: 'body', line: 3, field: 'kind', value: 'castle' } }] });

    const polygon = (ring: number[][]): Geometry => ({ type: 'Polygon', coordinates: [ring] });
    const layer = {
      name: 'bad',
      features: [
        { geometry: polygon([[W, S], [W + 0.001, S], [W + 0.001, S + 0.001], [W, S + 0.001], [W, S]]), properties: { name: 'a' } },
        { geometry: polygon([[W, S], [W + 0.001, S + 0.001], [W + 0.001, S], [W, S + 0.001], [W, S]]), properties: { name: 'b' } },
      ],
    };
    const expected: Record<'fgb' | 'gpkg' | 'geojson', Record<string, unknown>> = {
      fgb: { in: 'body', featureIndex: 1, field: 'geometry' },
      gpkg: { in: 'body', featureIndex: 1, field: 'geom' },
      geojson: { in: 'body', field: 'features/1/geometry' },
    };
    for (const format of ['fgb', 'gpkg', 'geojson'] as const) {
      const file = await writeLayer(format, layer);
      const e = await refused(file.bytes, `format=${format}`, 422, 'IMPORT_FAILED');
      const details = (e.details as { errors: Array<{ featureIndex: number; details: Record<string, unknown> }> }).errors;
      expect(details.map((x) => x.featureIndex), format).toEqual([1]);
      expect(details[0]?.details, format).toMatchObject({ ...expected[format], reason: 'SELF_INTERSECTION' });
      if (format !== 'geojson') expect(details[0]?.details, format).not.toHaveProperty('line');
    }
  });

  it('text holding NUL inside the file (a JSON escape, past the request check), with where', async () => {
    const square = { type: 'Polygon', coordinates: [[[W, S], [W + 0.001, S], [W + 0.001, S + 0.001], [W, S + 0.001], [W, S]]] };
    const fc = `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":${JSON.stringify(square)},"properties":{"name":"a"}},{"type":"Feature","geometry":${JSON.stringify(square)},"properties":{"name":"b\\u0000c"}}]}`;
    const e = await refused(fc, 'format=geojson', 422, 'IMPORT_FAILED', 'TEXT_HOLDS_NUL', 'application/geo+json');
    expect(e.details).toMatchObject({ in: 'body', feature: 2, path: '/name' });
  });

  it('too many features and too many vertices', async () => {
    const rows = Array.from({ length: 20_001 }, (_, i) => `"POINT (${W} ${S})",${i}`);
    await refused(`WKT,n\n${rows.join('\n')}\n`, 'format=csv', 422, 'IMPORT_FAILED', 'TOO_MANY_FEATURES');
    const ring: Position[] = Array.from({ length: t.config.maxVertices + 10 }, (_, i) => {
      const a = (2 * Math.PI * i) / (t.config.maxVertices + 10);
      return [W + 0.001 * Math.cos(a), S + 0.001 * Math.sin(a)];
    });
    ring.push(ring[0] as Position);
    const big = JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'Polygon', coordinates: [ring] }, properties: {} }] });
    await refused(big, 'format=geojson', 422, 'IMPORT_FAILED', 'TOO_MANY_VERTICES');
  });

  it('a projected or foreign CRS declared in GeoJSON', async () => {
    const fc = JSON.stringify({ type: 'FeatureCollection', crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::3857' } }, features: [] });
    await refused(fc, 'format=geojson', 422, 'IMPORT_FAILED', 'CRS_UNSUPPORTED');
  });

  it('drafts of other communities stay out of reach of a scoped planner', async () => {
    const planner = await t.userWith({ roles: ['planner'], scope: ['410105002'] });
    const res = await t.inject({ url: `/api/v1/layouts/${source.layout.id}/export?format=gpkg`, as: planner });
    expect(res.statusCode).toBe(403);
    const imp = await t.inject({ method: 'POST', url: `/api/v1/communities/${COMMUNITY}/layouts/import?format=fgb`, as: planner, headers: { 'content-type': 'application/flatgeobuf' }, payload: await exportFile('fgb') });
    expect(imp.statusCode).toBe(403);
    expect((await t.inject({ url: `/api/v1/layouts/${source.layout.id}/export`, as: 'anonymous' })).statusCode).toBe(401);
  });
});
