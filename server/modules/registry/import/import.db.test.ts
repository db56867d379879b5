/**
 * Imports: the CLI as a child process against this file's database, and the API import — row-level
 * error reports (line, field, reason), all-or-nothing vs skip-bad-rows, and idempotency (a second run
 * of the same file changes nothing).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, TEST_REGISTRY_KEY } from '../../../config';
import { createTestApp, type TestApp } from '../../../test/app';
import { COMMUNITY, newDivisions, newGrid, newLayout, rect } from '../../../test/factories';
import { residentIdCheckDigit } from '../resident-id';

const run = promisify(execFile);
let t: TestApp;
let dir: string;
const G1 = `${COMMUNITY}001`;
const G2 = `${COMMUNITY}002`;
const MID = 113.602;

function idFor(birthDate: string, gender: 'M' | 'F', seq: number): string {
  const seq3 = String(seq * 2 + (gender === 'M' ? 1 : 0)).padStart(3, '0').slice(-3);
  const first17 = `410105${birthDate.replaceAll('-', '')}${seq3}`;
  return first17 + residentIdCheckDigit(first17);
}

interface CliResult {
  code: number;
  summary: { rows: number; inserted: number; updated: number; unchanged: number; rejected: number; committed: boolean; report: string | null };
  stderr: string;
}

async function cli(...args: string[]): Promise<CliResult> {
  const env = { ...process.env, DATABASE_URL: t.tdb.url, REGISTRY_KEY: TEST_REGISTRY_KEY };
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'scripts/import-registry.ts', ...args], { cwd: PROJECT_ROOT, env, timeout: 60_000 });
    return { code: 0, summary: JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as CliResult['summary'], stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, summary: JSON.parse(e.stdout.trim().split('\n').pop() || '{}') as CliResult['summary'], stderr: e.stderr };
  }
}

const count = async (table: 'buildings' | 'households' | 'residents' | 'resident_history' | 'organisations' | 'staff'): Promise<number> =>
  (await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(t.tdb.db)).rows[0]?.n ?? 0;

beforeAll(async () => {
  t = await createTestApp();
  dir = mkdtempSync(path.join(os.tmpdir(), 'wangge-import-'));
  await newDivisions(t.tdb.db);
  const layoutId = await newLayout(t.tdb.db, { status: 'published' });
  await newGrid(t.tdb.db, layoutId, rect(113.6, 34.75, MID, 34.753), { code: G1 });
  await newGrid(t.tdb.db, layoutId, rect(MID, 34.75, 113.604, 34.753), { code: G2 });
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await t.close();
});

describe('CLI import', () => {
  it('imports building footprints with an error report, then a second run changes nothing', async () => {
    const features = [
      { type: 'Feature', properties: { id: 'ext-1', name: '1号楼', floors: 6 }, geometry: rect(113.6005, 34.7505, 113.6008, 34.7508) },
      { type: 'Feature', properties: { id: 'ext-2', name: '2号楼', use: 'commercial' }, geometry: rect(113.6025, 34.7505, 113.6028, 34.7508) },
      // A bow-tie: invalid.
      { type: 'Feature', properties: { id: 'ext-3' }, geometry: { type: 'Polygon', coordinates: [[[113.601, 34.751], [113.6012, 34.7512], [113.6012, 34.751], [113.601, 34.7512], [113.601, 34.751]]] } },
      { type: 'Feature', properties: { id: 'ext-4', floors: 'many' }, geometry: rect(113.6015, 34.7505, 113.6018, 34.7508) },
      { type: 'Feature', properties: { id: 'ext-1', name: 'again' }, geometry: rect(113.6005, 34.7505, 113.6008, 34.7508) },
    ];
    const file = path.join(dir, 'buildings.geojson');
    writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features }));

    const strict = await cli('buildings', file);
    expect(strict.code).toBe(1);
    expect(strict.summary).toMatchObject({ rows: 5, rejected: 3, committed: false, inserted: 0 });
    expect(await count('buildings')).toBe(0);
    const report = readFileSync(`${file}.errors.csv`, 'utf8').trim().split('\n');
    expect(report[0]).toBe('line,field,reason');
    expect(report.slice(1).sort()).toEqual(['3,geometry,GEOMETRY_INVALID: Self-intersection[113.6011 34.7511]', '4,floors,must be a whole number', '5,externalId,duplicate of line 1']);
    expect(strict.stderr).toContain('NOT imported');

    const lenient = await cli('buildings', file, '--mode', 'skip-bad-rows');
    expect(lenient.summary).toMatchObject({ rows: 5, rejected: 3, committed: true, inserted: 2 });
    const { rows } = await sql<{ external_id: string; code: string; grid_code: string; community_code: string }>`
      SELECT external_id, code, grid_code, community_code FROM buildings ORDER BY external_id`.execute(t.tdb.db);
    expect(rows).toEqual([
      { external_id: 'ext-1', code: '00001', grid_code: G1, community_code: COMMUNITY },
      { external_id: 'ext-2', code: '00002', grid_code: G2, community_code: COMMUNITY },
    ]);
    const again = await cli('buildings', file, '--mode', 'skip-bad-rows');
    expect(again.summary).toMatchObject({ inserted: 0, updated: 0, unchanged: 2 });
    expect(await count('buildings')).toBe(2);
    // --make-valid repairs the bow-tie instead.
    const repaired = await cli('buildings', file, '--mode', 'skip-bad-rows', '--make-valid');
    expect(repaired.summary).toMatchObject({ inserted: 1, unchanged: 2, rejected: 2 });
  });

  it('imports households and residents (encrypted in the stream) on natural keys, idempotently', async () => {
    const households = path.join(dir, 'households.csv');
    writeFileSync(households, ['buildingExternalId,unit,room,tenure', 'ext-1,1,101,owned', 'ext-1,1,102,rented', 'ext-2,,1F,other', 'nope,1,101,owned', 'ext-1,1,101,owned', ''].join('\n'));
    const h1 = await cli('households', households, '--mode', 'skip-bad-rows', '--effective-date', '2025-01-15');
    expect(h1.summary).toMatchObject({ rows: 5, inserted: 3, rejected: 2 });
    expect(readFileSync(`${households}.errors.csv`, 'utf8')).toContain('5,building,no such building');
    expect((await cli('households', households, '--mode', 'skip-bad-rows')).summary).toMatchObject({ inserted: 0, unchanged: 3 });

    const good = idFor('1980-01-02', 'F', 1);
    const badCheck = good.slice(0, 17) + (good.endsWith('0') ? '1' : '0');
    const residents = path.join(dir, 'residents.ndjson');
    const rowsOf = (name: string) => [
      { buildingExternalId: 'ext-1', unit: '1', room: '101', name, gender: 'F', birthDate: '1980-01-02', idNumber: good, phone: '13812345678', relation: '户主', tags: ['低保'] },
      { buildingExternalId: 'ext-1', unit: '1', room: '101', name: '坏校验', gender: 'F', birthDate: '1980-01-02', idNumber: badCheck },
      { buildingExternalId: 'ext-1', unit: '1', room: '101', name: '坏日期', gender: 'M', birthDate: '1987-02-29', idNumber: '410105198702290011' },
      { buildingExternalId: 'ext-1', unit: '1', room: '101', name: '性别错', gender: 'M', birthDate: '1980-01-02', idNumber: idFor('1980-01-02', 'F', 2) },
      { buildingExternalId: 'ext-2', unit: '', room: '1F', name: '二号', gender: 'M', birthDate: '1990-05-06', idNumber: idFor('1990-05-06', 'M', 3), registration: 'floating', tags: ['不存在'] },
      { buildingExternalId: 'ext-2', unit: '', room: '1F', name: '二号', gender: 'M', birthDate: '1990-05-06', idNumber: idFor('1990-05-06', 'M', 4), registration: 'floating' },
    ];
    writeFileSync(residents, rowsOf('张丽').map((r) => JSON.stringify(r)).join('\n') + '\n{broken\n');

    const strict = await cli('residents', residents);
    expect(strict.code).toBe(1);
    expect(await count('residents')).toBe(0);
    const report = readFileSync(`${residents}.errors.csv`, 'utf8');
    for (const line of ['2,idNumber,CHECKSUM', '3,idNumber,BIRTH_DATE', '4,idNumber,GENDER_MISMATCH', '5,tags,unknown tag', '7,,malformed JSON']) expect(report).toContain(line);

    const first = await cli('residents', residents, '--mode', 'skip-bad-rows', '--effective-date', '2025-01-15');
    expect(first.summary).toMatchObject({ rows: 7, inserted: 2, rejected: 5, committed: true });
    const stored = await sql<{ name: string; enc: Buffer; tags: string[]; relation: string; grid_code: string }>`
      SELECT name, id_number_enc AS enc, tags, relation, grid_code FROM residents ORDER BY id`.execute(t.tdb.db);
    expect(stored.rows.map((r) => [r.name, r.tags, r.relation, r.grid_code])).toEqual([['张丽', ['low_income'], 'head', G1], ['二号', [], 'other', G2]]);
    expect(stored.rows[0]?.enc.toString('latin1')).not.toContain(good);
    const second = await cli('residents', residents, '--mode', 'skip-bad-rows');
    expect(second.summary).toMatchObject({ inserted: 0, updated: 0, unchanged: 2 });
    expect(await count('resident_history')).toBe(2);

    // A changed name is an update on the same natural key, with one history row.
    writeFileSync(residents, JSON.stringify(rowsOf('张丽华')[0]) + '\n');
    expect((await cli('residents', residents, '--effective-date', '2025-02-01')).summary).toMatchObject({ updated: 1, inserted: 0 });
    expect(await count('residents')).toBe(2);
    expect(await count('resident_history')).toBe(3);
    const api = JSON.parse((await t.inject('/api/v1/residents?grid=' + G1)).body) as { items: Array<{ name: string; idNumber: string; phone: string }> };
    expect(api.items).toMatchObject([{ name: '张丽华', idNumber: `${good.slice(0, 6)}********${good.slice(14)}`, phone: '138****5678' }]);
  });

  it('places households and residents by every way of naming their building, mixed in one file', async () => {
    const { rows: b } = await sql<{ id: number; external_id: string; code: string }>`
      SELECT id, external_id, code FROM buildings WHERE external_id IN ('ext-1', 'ext-2') ORDER BY external_id`.execute(t.tdb.db);
    const [b1, b2] = b;
    if (!b1 || !b2) throw new Error('the footprint import did not leave ext-1 and ext-2');
    const households = path.join(dir, 'households-mixed.csv');
    writeFileSync(households, [
      'buildingId,buildingExternalId,communityCode,buildingCode,unit,room,tenure',
      `${b2.id},,,,3,301,owned`, // by id
      `,ext-2,,,3,302,owned`, // by external id
      `,,${COMMUNITY},${b1.code},3,303,rented`, // by community + building code
      `,,${COMMUNITY},99999,3,304,owned`, // no such building
    ].join('\n'));
    const h = await cli('households', households, '--mode', 'skip-bad-rows');
    expect(h.summary).toMatchObject({ rows: 4, inserted: 3, rejected: 1 });
    expect(readFileSync(`${households}.errors.csv`, 'utf8')).toContain('5,building,no such building');
    const placed = await sql<{ room: string; building_id: number; grid_code: string }>`
      SELECT room, building_id, grid_code FROM households WHERE unit = '3' ORDER BY room`.execute(t.tdb.db);
    expect(placed.rows).toEqual([
      { room: '301', building_id: b2.id, grid_code: G2 },
      { room: '302', building_id: b2.id, grid_code: G2 },
      { room: '303', building_id: b1.id, grid_code: G1 },
    ]);

    const h301 = await sql<{ id: number }>`SELECT id FROM households WHERE unit = '3' AND room = '301'`.execute(t.tdb.db);
    const residents = path.join(dir, 'residents-mixed.ndjson');
    writeFileSync(residents, [
      { householdId: h301.rows[0]?.id, name: '按户号', gender: 'F', birthDate: '1970-03-04', idNumber: idFor('1970-03-04', 'F', 11) },
      { householdKey: `${COMMUNITY}-${b1.code}-3-303`, name: '按户键', gender: 'M', birthDate: '1971-03-04', idNumber: idFor('1971-03-04', 'M', 12) },
      { communityCode: COMMUNITY, buildingCode: b2.code, unit: '3', room: '302', name: '按楼号', gender: 'F', birthDate: '1972-03-04', idNumber: idFor('1972-03-04', 'F', 13) },
      { buildingExternalId: 'ext-2', unit: '3', room: '301', name: '按外部号', gender: 'M', birthDate: '1973-03-04', idNumber: idFor('1973-03-04', 'M', 14) },
    ].map((r) => JSON.stringify(r)).join('\n'));
    expect((await cli('residents', residents)).summary).toMatchObject({ rows: 4, inserted: 4, rejected: 0, committed: true });
    const landed = await sql<{ name: string; room: string; grid_code: string }>`
      SELECT r.name, h.room, r.grid_code FROM residents r JOIN households h ON h.id = r.household_id WHERE h.unit = '3' ORDER BY r.birth_date`.execute(t.tdb.db);
    expect(landed.rows).toEqual([
      { name: '按户号', room: '301', grid_code: G2 },
      { name: '按户键', room: '303', grid_code: G1 },
      { name: '按楼号', room: '302', grid_code: G2 },
      { name: '按外部号', room: '301', grid_code: G2 },
    ]);
  });

  it('imports organisations and staff; employee changes become history', async () => {
    const orgs = path.join(dir, 'organisations.csv');
    writeFileSync(orgs, ['code,name,kind,employees,lng,lat,openedOn', 'S1,便利店,shop,3,113.6006,34.7506,2024-01-01', 'S2,"饭店, 大",shop,x,113.6026,34.7506,2024-01-01'].join('\n'));
    expect((await cli('organisations', orgs, '--mode', 'skip-bad-rows')).summary).toMatchObject({ inserted: 1, rejected: 1 });
    writeFileSync(orgs, ['code,name,kind,employees,lng,lat', 'S1,便利店,shop,5,113.6006,34.7506'].join('\n'));
    expect((await cli('organisations', orgs, '--effective-date', '2025-03-01')).summary).toMatchObject({ updated: 1 });
    const { rows } = await sql<{ employees: number; valid_from: string }>`SELECT employees, valid_from FROM organisation_history ORDER BY valid_from`.execute(t.tdb.db);
    expect(rows).toEqual([{ employees: 3, valid_from: '2024-01-01' }, { employees: 5, valid_from: '2025-03-01' }]);

    const staff = path.join(dir, 'staff.csv');
    writeFileSync(staff, ['code,name,gender,phone,role,unitCode', `W1,网格员甲,女,13800000001,专职网格员,${G1}`, `w2,小写,M,13800000002,full_time_worker,${G1}`].join('\n'));
    const s = await cli('staff', staff, '--mode', 'skip-bad-rows');
    expect(s.summary).toMatchObject({ inserted: 1, rejected: 1 });
    expect((await cli('staff', staff, '--mode', 'skip-bad-rows')).summary).toMatchObject({ unchanged: 1 });
    expect(existsSync(`${staff}.errors.csv`)).toBe(true);
  });
});

describe('API import', () => {
  it('uses the same checks and report, enforces scope, and is idempotent', async () => {
    const csv = ['buildingExternalId,unit,room,tenure', 'ext-1,2,201,owned', 'ext-2,2,201,owned', 'ext-1,2,202,sold'].join('\n');
    const post = (mode: string, as?: { token: string }) =>
      t.inject({ method: 'POST', url: `/api/v1/registry/import?entity=households&mode=${mode}`, headers: { 'content-type': 'text/csv' }, payload: csv, ...(as ? { as } : {}) });
    const strict = await post('all-or-nothing');
    expect(strict.statusCode).toBe(422);
    expect((JSON.parse(strict.body) as { error: unknown }).error).toMatchObject({ code: 'IMPORT_FAILED', details: { committed: false, rejected: 1, errors: [{ line: 4, field: 'tenure' }] } });
    const worker = await t.userWith({ roles: ['grid_worker'], scope: [G1] });
    const scoped = await post('skip-bad-rows', worker);
    expect(scoped.statusCode).toBe(200);
    expect(JSON.parse(scoped.body)).toMatchObject({ inserted: 1, rejected: 2, errors: [{ line: 3, field: 'place', reason: expect.stringContaining('OUT_OF_SCOPE') as unknown }, { line: 4, field: 'tenure' }] });
    const admin = await post('skip-bad-rows');
    expect(JSON.parse(admin.body)).toMatchObject({ inserted: 1, unchanged: 1, rejected: 1 });
    expect(JSON.parse((await post('skip-bad-rows')).body)).toMatchObject({ inserted: 0, unchanged: 2 });

    const geo = await t.inject({
      method: 'POST',
      url: '/api/v1/registry/import?entity=buildings',
      headers: { 'content-type': 'application/geo+json' },
      payload: JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { id: 'api-1', name: 'API楼' }, geometry: rect(113.6001, 34.7501, 113.6002, 34.7502) }] }),
    });
    expect(JSON.parse(geo.body)).toMatchObject({ inserted: 1, committed: true });
    expect((await t.inject({ method: 'POST', url: '/api/v1/registry/import?entity=staff', headers: { 'content-type': 'text/csv' }, payload: 'code\nX', as: 'dispatcher' })).statusCode).toBe(403);
    // NUL written as a JSON escape reaches the rows only once the file is parsed (the request check sees
    // six ASCII characters): it is a row error on its line and field, and nothing is written.
    const buildingsBefore = await sql<{ n: number }>`SELECT count(*)::int AS n FROM buildings`.execute(t.tdb.db);
    const nul = await t.inject({
      method: 'POST',
      url: '/api/v1/registry/import?entity=buildings&mode=all-or-nothing',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: [
        JSON.stringify({ id: 'api-2', name: '好楼', geometry: rect(113.6003, 34.7501, 113.6004, 34.7502) }),
        `{"id":"api-3","name":"坏\\u0000楼","geometry":${JSON.stringify(rect(113.6005, 34.7501, 113.6006, 34.7502))}}`,
        `{"id":"api-4","address":"x","unit":"\\u0000","geometry":${JSON.stringify(rect(113.6007, 34.7501, 113.6008, 34.7502))}}`,
      ].join('\n'),
    });
    expect(nul.statusCode).toBe(422);
    expect((JSON.parse(nul.body) as { error: unknown }).error).toMatchObject({
      code: 'IMPORT_FAILED',
      details: { committed: false, rejected: 1, errors: [{ line: 2, field: 'name', reason: 'must not contain the NUL character (U+0000)' }] },
    });
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM buildings`.execute(t.tdb.db)).rows).toEqual(buildingsBefore.rows);
    expect((await t.inject({ method: 'POST', url: '/api/v1/registry/import?entity=staff', headers: { 'content-type': 'text/plain' }, payload: 'code\nX' })).statusCode).toBe(415);
  });

  it('matches a building named by code alone in the community its footprint lies in (was a 500 on the unique code, twice for the same file)', async () => {
    const created = await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { name: '编码楼', geometry: { type: 'Point', coordinates: [113.6011, 34.7521] } } });
    expect(created.statusCode, created.body).toBe(201);
    const { id, code } = JSON.parse(created.body) as { id: number; code: string };
    const post = (csv: string) => t.inject({ method: 'POST', url: '/api/v1/registry/import?entity=buildings', headers: { 'content-type': 'text/csv' }, payload: csv });
    const before = await count('buildings');
    const renamed = await post(`name,code,lng,lat\n改名楼,${code},113.6011,34.7521\n`);
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(JSON.parse(renamed.body)).toMatchObject({ inserted: 0, updated: 1, rejected: 0 });
    expect(JSON.parse((await t.inject(`/api/v1/buildings/${id}`)).body)).toMatchObject({ name: '改名楼', code, communityCode: COMMUNITY, version: 2 });
    // A new code: inserted once, then the same file again changes nothing.
    const file = 'name,code,lng,lat\n新楼,00990,113.6012,34.7522\n';
    expect(JSON.parse((await post(file)).body)).toMatchObject({ inserted: 1, updated: 0 });
    const again = await post(file);
    expect(again.statusCode, again.body).toBe(200);
    expect(JSON.parse(again.body)).toMatchObject({ inserted: 0, updated: 0, unchanged: 1 });
    expect(await count('buildings')).toBe(before + 1);
  });

  it('moving a footprint to another grid by import carries its residents there in their history too', async () => {
    const created = await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { name: '迁移楼', externalId: 'move-1', geometry: rect(113.6006, 34.7522, 113.6008, 34.7524) } });
    const building = JSON.parse(created.body) as { id: number; gridCode: string };
    expect(building.gridCode).toBe(G1);
    const h = JSON.parse((await t.inject({ method: 'POST', url: '/api/v1/households', payload: { buildingId: building.id, unit: '1', room: '101' } })).body) as { id: number };
    const r = await t.inject({ method: 'POST', url: '/api/v1/residents', payload: { householdId: h.id, name: '随楼', gender: 'F', birthDate: '1990-03-04', idNumber: idFor('1990-03-04', 'F', 7), registration: 'registered', effectiveDate: '2026-01-01' } });
    expect(r.statusCode, r.body).toBe(201);
    const residentId = (JSON.parse(r.body) as { id: number }).id;
    const moved = await t.inject({
      method: 'POST',
      url: '/api/v1/registry/import?entity=buildings&effectiveDate=2026-01-15',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: JSON.stringify({ externalId: 'move-1', name: '迁移楼', geometry: rect(113.6036, 34.7522, 113.6038, 34.7524) }),
    });
    expect(JSON.parse(moved.body)).toMatchObject({ updated: 1, committed: true });
    const { rows } = await sql<{ change: string; grid_code: string; valid_from: string }>`
      SELECT change, grid_code, valid_from FROM resident_history WHERE resident_id = ${residentId} ORDER BY id`.execute(t.tdb.db);
    expect(rows.map((x) => [x.change, x.grid_code])).toEqual([['registered', G1], ['regrid', G2]]);
    expect(rows[1]?.valid_from).toBe('2026-01-15');
  });

  it('a deleted shop brought back by an import counts again in the monthly shop employment', async () => {
    const created = await t.inject({ method: 'POST', url: '/api/v1/organisations', payload: { code: 'SHOP-BACK', name: '回归小店', kind: 'shop', employees: 3, geometry: { type: 'Point', coordinates: [113.6007, 34.7526] }, openedOn: '2024-01-01' } });
    expect(created.statusCode, created.body).toBe(201);
    const month = new Date().toISOString().slice(0, 7);
    const shops = async () => {
      const r = JSON.parse((await t.inject(`/api/v1/registry/monthly?month=${month}&scope=${G1}`)).body) as { shops: number; shopEmployees: number };
      return { shops: r.shops, shopEmployees: r.shopEmployees };
    };
    const before = await shops();
    const id = (JSON.parse(created.body) as { id: number }).id;
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/organisations/${id}`, payload: { reason: '停业' } })).statusCode).toBe(204);
    expect(await shops()).toEqual({ shops: before.shops - 1, shopEmployees: before.shopEmployees - 3 });
    const back = await t.inject({
      method: 'POST',
      url: '/api/v1/registry/import?entity=organisations',
      headers: { 'content-type': 'text/csv' },
      payload: 'code,name,kind,employees,lng,lat,openedOn\nSHOP-BACK,回归小店,shop,3,113.6007,34.7526,2024-01-01\n',
    });
    expect(JSON.parse(back.body)).toMatchObject({ updated: 1, committed: true });
    expect(JSON.parse((await t.inject(`/api/v1/organisations/${id}`)).body)).toMatchObject({ deletedAt: null });
    expect(await shops()).toEqual(before);
  });

  it('a grid worker cannot pull another grid\'s building (and the people in it) into their grid by importing it with a new footprint', async () => {
    const created = await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { name: '邻格楼', externalId: 'steal-1', geometry: rect(113.6009, 34.7527, 113.6011, 34.7529) } });
    const building = JSON.parse(created.body) as { id: number; gridCode: string };
    expect(building.gridCode).toBe(G1);
    const h = JSON.parse((await t.inject({ method: 'POST', url: '/api/v1/households', payload: { buildingId: building.id, unit: '1', room: '101' } })).body) as { id: number };
    const r = await t.inject({ method: 'POST', url: '/api/v1/residents', payload: { householdId: h.id, name: '邻居', gender: 'M', birthDate: '1970-05-06', idNumber: idFor('1970-05-06', 'M', 9), registration: 'registered' } });
    expect(r.statusCode, r.body).toBe(201);
    const residentId = (JSON.parse(r.body) as { id: number }).id;
    const worker2 = await t.userWith({ roles: ['grid_worker'], scope: [G2] });
    const pulled = await t.inject({
      method: 'POST',
      url: '/api/v1/registry/import?entity=buildings',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: JSON.stringify({ externalId: 'steal-1', name: '邻格楼', geometry: rect(113.6039, 34.7527, 113.6041, 34.7529) }),
      as: worker2,
    });
    expect(pulled.statusCode, pulled.body).toBe(422);
    expect((JSON.parse(pulled.body) as { error: unknown }).error).toMatchObject({ code: 'IMPORT_FAILED', details: { errors: [{ line: 1, field: 'place', reason: expect.stringContaining('OUT_OF_SCOPE') as unknown }] } });
    expect(JSON.parse((await t.inject(`/api/v1/buildings/${building.id}`)).body)).toMatchObject({ gridCode: G1, version: 1 });
    expect((await t.inject({ url: `/api/v1/residents/${residentId}`, as: worker2 })).statusCode).toBe(404);
  });
});
