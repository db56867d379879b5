import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionsOf, type Principal, type Role } from '../../auth/principal';
import { TEST_REGISTRY_KEY } from '../../config';
import { withScope } from '../../db/scoped';
import { createTestDatabase, type TestDatabase } from '../../test/database';
import { COMMUNITY, M_LON, newDivisions, newGrid, newLayout, rect as rectOf } from '../../test/factories';
import type { BuildingInput } from '../../contracts/registry';

const rect = (w: number, s: number, e: number, n: number): BuildingInput['geometry'] & { type: 'Polygon' } => rectOf(w, s, e, n) as BuildingInput['geometry'] & { type: 'Polygon' };
import { createDraft, previewLayoutImpact, publishLayout } from '../layouts/layout.service';
import { createBuilding } from './building.service';
import { createRegistryCipher } from './registry-crypto';
import { computeMonthlyReport } from './registry-report.repository';
import { residentIdCheckDigit } from './resident-id';
import { createHousehold, createResident, getResident, listResidentPage, revealResident, updateResidentRecord, type RegistryContext } from './resident.service';
import { onDutyAt } from './roster.service';

let tdb: TestDatabase;
let ctx: RegistryContext;
const G1 = `${COMMUNITY}001`;
const G2 = `${COMMUNITY}002`;
// Community rect(113.6, 34.75, 113.604, 34.753) split at lng 113.602 into two grids.
const MID = 113.602;

function principal(roles: Role[], prefixes: string[] | 'all'): Principal {
  return { kind: 'user', userId: 1, username: roles.join('+'), roles, permissions: permissionsOf(roles), scope: prefixes === 'all' ? { all: true, prefixes: [] } : { all: false, prefixes } };
}
const admin = principal(['admin'], 'all');
const worker1 = principal(['grid_worker'], [G1]);
const manager = principal(['community_manager'], [COMMUNITY]);

/** A valid ID number for a birth date and gender (region 410105). */
function idFor(birthDate: string, gender: 'M' | 'F', seq = 1): string {
  const seq3 = String(seq * 2 + (gender === 'M' ? 1 : 0)).padStart(3, '0').slice(-3);
  const first17 = `410105${birthDate.replaceAll('-', '')}${seq3}`;
  return first17 + residentIdCheckDigit(first17);
}

let layoutId: number;
const people: Record<string, number> = {};

beforeAll(async () => {
  tdb = await createTestDatabase();
  ctx = { db: tdb.db, cipher: createRegistryCipher(TEST_REGISTRY_KEY) };
  await newDivisions(tdb.db);
  layoutId = await newLayout(tdb.db, { status: 'published' });
  await newGrid(tdb.db, layoutId, rect(113.6, 34.75, MID, 34.753), { code: G1 });
  await newGrid(tdb.db, layoutId, rect(MID, 34.75, 113.604, 34.753), { code: G2 });
  // A building in each grid; b3 straddles the edge with 70 % of its footprint in G2.
  const b1 = await createBuilding(tdb.db, admin, { geometry: rect(113.6005, 34.7505, 113.6008, 34.7508), name: '1号楼' });
  const b2 = await createBuilding(tdb.db, admin, { geometry: rect(113.6025, 34.7505, 113.6028, 34.7508), name: '2号楼' });
  const b3 = await createBuilding(tdb.db, admin, { geometry: rect(MID - 30 * M_LON, 34.7515, MID + 70 * M_LON, 34.7518), name: '3号楼' });
  for (const [key, b] of [['a', b1], ['b', b2], ['c', b3]] as const) {
    const h = await createHousehold(ctx, admin, { buildingId: b.id, unit: '1', room: '101' });
    const r = await createResident(ctx, admin, {
      householdId: h.id, name: `居民${key}`, gender: 'F', birthDate: '1980-01-02', idNumber: idFor('1980-01-02', 'F', key.charCodeAt(0)),
      phone: '13812345678', registration: key === 'b' ? 'floating' : 'registered', tags: key === 'a' ? ['low_income'] : [], effectiveDate: '2024-12-15',
    });
    people[key] = r.id;
  }
});
afterAll(async () => tdb.drop());

describe('ID numbers', () => {
  const base: { name: string; gender: 'M' | 'F'; birthDate: string; registration: 'registered' } = { name: '张三', gender: 'M', birthDate: '1990-05-06', registration: 'registered' as const };
  it('rejects a bad checksum, an impossible date and a gender or birth-date mismatch with the reason', async () => {
    const hh = (await listResidentPage(ctx, admin, {})).items[0]?.householdId ?? 0;
    const good = idFor('1990-05-06', 'M', 7);
    const badCheck = good.slice(0, 17) + (good.endsWith('0') ? '1' : '0');
    const cases: Array<[string, Partial<Pick<typeof base, 'gender' | 'birthDate'>>, string]> = [
      [badCheck, {}, 'CHECKSUM'],
      ['41010519900230123X', {}, 'BIRTH_DATE'],
      ['4101051990050612', {}, 'FORMAT'],
      [good, { gender: 'F' }, 'GENDER_MISMATCH'],
      [good, { birthDate: '1990-05-07' }, 'BIRTH_DATE_MISMATCH'],
    ];
    for (const [idNumber, over, reason] of cases) {
      await expect(createResident(ctx, admin, { ...base, ...over, householdId: hh, idNumber })).rejects.toMatchObject({ code: 'ID_NUMBER_INVALID', statusCode: 422, details: { field: 'idNumber', reason } });
    }
    const ok = await createResident(ctx, admin, { ...base, householdId: hh, idNumber: good.toLowerCase() });
    expect(ok.idNumber).toBe(`${good.slice(0, 6)}********${good.slice(14)}`);
  });
});

describe('personal data at rest', () => {
  it('returns masked values, stores ciphertext, finds by keyed hash, reveals only with unmask (audited)', async () => {
    const r = await getResident(ctx, admin, people.a ?? 0);
    expect(r.phone).toBe('138****5678');
    expect(r.idNumber).toMatch(/^410105\*{8}\d{3}[\dX]$/);
    const { rows } = await sql<{ enc: Buffer; hmac: Buffer }>`SELECT id_number_enc AS enc, id_number_hmac AS hmac FROM residents WHERE id = ${people.a}`.execute(tdb.db);
    const plain = idFor('1980-01-02', 'F', 'a'.charCodeAt(0));
    expect(rows[0]?.enc.toString('latin1')).not.toContain(plain);
    expect(rows[0]?.enc.toString('latin1')).not.toContain(plain.slice(6, 14));
    expect(rows[0]?.hmac.toString('latin1')).not.toContain(plain);
    expect((await listResidentPage(ctx, admin, { idNumber: plain })).items.map((x) => x.id)).toEqual([people.a]);
    await expect(revealResident(ctx, worker1, people.a ?? 0, 'checking')).rejects.toMatchObject({ statusCode: 403 });
    const revealed = await revealResident(ctx, manager, people.a ?? 0, '核实低保申请');
    expect(revealed).toEqual({ id: people.a, idNumber: plain, phone: '13812345678' });
    const { rows: audit } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log WHERE action = 'registry.unmask'`.execute(tdb.db);
    expect(audit[0]?.n).toBe(1);
  });
});

describe('derived grids', () => {
  it('puts a building straddling two grids in the one with the larger share, and its people with it', async () => {
    const { rows } = await sql<{ name: string; grid_code: string }>`SELECT name, grid_code FROM residents ORDER BY id LIMIT 3`.execute(tdb.db);
    expect(rows.map((r) => r.grid_code)).toEqual([G1, G2, G2]);
  });
});

describe('Row Level Security and scope', () => {
  it('a raw query through withScope sees only the scope’s residents, and nothing with an empty scope', async () => {
    const mine = await withScope(tdb.db, worker1.scope, async (trx) => (await sql<{ grid_code: string }>`SELECT grid_code FROM residents`.execute(trx)).rows);
    expect(mine.length).toBeGreaterThan(0);
    expect(new Set(mine.map((r) => r.grid_code))).toEqual(new Set([G1]));
    const none = await withScope(tdb.db, { all: false, prefixes: [] }, async (trx) => (await sql`SELECT * FROM residents`.execute(trx)).rows);
    expect(none).toEqual([]);
    const hist = await withScope(tdb.db, { all: false, prefixes: [] }, async (trx) => (await sql`SELECT * FROM resident_history`.execute(trx)).rows);
    expect(hist).toEqual([]);
  });

  it('a grid worker gets 404 / nothing for another grid’s residents by id, filter, bbox and export', async () => {
    await expect(getResident(ctx, worker1, people.b ?? 0)).rejects.toMatchObject({ statusCode: 404 });
    expect((await listResidentPage(ctx, worker1, { grid: G2 })).items).toEqual([]);
    expect((await listResidentPage(ctx, worker1, { bbox: '113.6020,34.750,113.604,34.753' })).items.map((r) => r.gridCode)).not.toContain(G2);
    await expect(updateResidentRecord(ctx, worker1, people.b ?? 0, [1], { name: 'x' })).rejects.toMatchObject({ statusCode: 404 });
    await expect(listResidentPage(ctx, principal(['dispatcher'], 'all'), {})).rejects.toMatchObject({ statusCode: 403 });
    const { exportResidents } = await import('./resident.service');
    await expect(exportResidents(ctx, worker1, { grid: G2 })).rejects.toMatchObject({ statusCode: 403 });
    const csv = await exportResidents(ctx, manager, { grid: G2 });
    expect(csv).not.toMatch(/\d{18}/);
  });
});

const EVERYWHERE = { all: true, prefixes: [] };

describe('re-division', () => {
  it('previews and then applies the moves of a new layout in the publish transaction', async () => {
    const draft = await createDraft(tdb.db, COMMUNITY, { from: 'empty' }, EVERYWHERE);
    // New edge further east: the straddling building now lies mostly in the western grid.
    const edge = MID + 40 * M_LON;
    await newGrid(tdb.db, draft.id, rect(113.6, 34.75, edge, 34.753), { code: G1 });
    await newGrid(tdb.db, draft.id, rect(edge, 34.75, 113.604, 34.753), { code: G2 });
    const impact = await previewLayoutImpact(tdb.db, draft.id, EVERYWHERE);
    expect(impact.moved).toEqual({ buildings: 1, households: 1, residents: 1 });
    expect(impact.moves.find((m) => m.fromGridCode === G2 && m.toGridCode === G1)).toMatchObject({ buildings: 1, residents: 1 });
    const result = await publishLayout(tdb.db, draft.id, { scope: EVERYWHERE });
    // Grid ids change with every layout, so every row is re-pointed; only b3 changes grid code.
    expect(result.rederived).toMatchObject({ buildings: 3, households: 3, residents: 4 });
    const { rows } = await sql<{ grid_code: string; grid_id: number }>`SELECT grid_code, grid_id FROM residents WHERE id = ${people.c}`.execute(tdb.db);
    expect(rows[0]?.grid_code).toBe(G1);
    // The move is history (only where the grid code changed), so the monthly report by grid follows it.
    const { rows: history } = await sql<{ resident_id: number; change: string; grid_code: string }>`
      SELECT resident_id, change, grid_code FROM resident_history WHERE change = 'regrid' ORDER BY id`.execute(tdb.db);
    expect(history).toEqual([{ resident_id: people.c, change: 'regrid', grid_code: G1 }]);
    const month = new Date().toISOString().slice(0, 7);
    const count = async (scope: string): Promise<number> => (await computeMonthlyReport(tdb.db, month, scope)).residents;
    expect(await count(G1) + (await count(G2))).toBe(await count(COMMUNITY));
  });
});

describe('history', () => {
  it('gives monthly counts from recorded changes', async () => {
    await updateResidentRecord(ctx, admin, people.b ?? 0, [1], { status: 'moved_out', effectiveDate: '2025-02-10' });
    const jan = await computeMonthlyReport(tdb.db, '2025-01', COMMUNITY);
    const feb = await computeMonthlyReport(tdb.db, '2025-02', COMMUNITY);
    expect(jan).toMatchObject({ residents: 3, floating: 1, lowIncome: 1, movedOut: 0 });
    expect(feb).toMatchObject({ residents: 2, floating: 0, lowIncome: 1, movedOut: 1 });
    expect((await computeMonthlyReport(tdb.db, '2024-11', COMMUNITY)).residents).toBe(0);
  });
});

describe('duty roster', () => {
  it('resolves one person across shift edges, leave, holidays and fallback to the community', async () => {
    const db = tdb.db;
    const { rows } = await sql<{ id: number; code: string }>`
      INSERT INTO staff (code, name, phone, role, unit_code) VALUES
        ('W1', '网格员甲', '13800000001', 'full_time_worker', ${G1}),
        ('W2', '网格长乙', '13800000002', 'grid_leader', ${G1}),
        ('C1', '社区值班丙', '13800000003', 'community_duty_officer', ${COMMUNITY})
      RETURNING id, code`.execute(db);
    const id = (code: string): number => rows.find((r) => r.code === code)?.id ?? 0;
    await sql`INSERT INTO staff_assignments (staff_id, grid_code, role, from_date) VALUES (${id('W1')}, ${G1}, 'full_time_worker', '2024-01-01'), (${id('W2')}, ${G1}, 'grid_leader', '2024-01-01')`.execute(db);
    // Monday 2025-03-03: W1 08:30–17:30, W2 17:30–21:00; community officer all day.
    await sql`INSERT INTO roster_shifts (staff_id, scope_code, weekday, start_time, end_time) VALUES
      (${id('W1')}, ${G1}, 1, '08:30', '17:30'), (${id('W2')}, ${G1}, 1, '17:30', '21:00'), (${id('C1')}, ${COMMUNITY}, 1, '00:00', '24:00')`.execute(db);
    const at = (local: string): Date => new Date(`${local}+08:00`);
    const who = async (local: string): Promise<string | undefined> => (await onDutyAt(db, G1, at(local)))?.staffCode;
    expect(await who('2025-03-03T08:29:59')).toBe('C1');
    expect(await who('2025-03-03T08:30:00')).toBe('W1');
    expect(await who('2025-03-03T17:29:59')).toBe('W1');
    expect(await who('2025-03-03T17:30:00')).toBe('W2');
    expect(await who('2025-03-03T21:00:00')).toBe('C1');
    expect(await who('2025-03-04T10:00:00')).toBeUndefined();
    await sql`INSERT INTO roster_exceptions (kind, staff_id, starts_at, ends_at, reason) VALUES ('leave', ${id('W1')}, ${at('2025-03-03T12:00:00').toISOString()}, ${at('2025-03-03T14:00:00').toISOString()}, '病假')`.execute(db);
    expect(await who('2025-03-03T13:00:00')).toBe('C1');
    await sql`INSERT INTO roster_exceptions (kind, scope_code, starts_at, ends_at, reason) VALUES ('holiday', '410105', ${at('2025-03-10T00:00:00').toISOString()}, ${at('2025-03-11T00:00:00').toISOString()}, '节日')`.execute(db);
    expect(await who('2025-03-10T10:00:00')).toBe('C1');
    await sql`INSERT INTO roster_exceptions (kind, staff_id, scope_code, starts_at, ends_at) VALUES ('extra', ${id('W2')}, ${G1}, ${at('2025-03-10T09:00:00').toISOString()}, ${at('2025-03-10T12:00:00').toISOString()})`.execute(db);
    expect(await who('2025-03-10T10:00:00')).toBe('W2');
    expect(await who('2025-03-03T10:00:00')).toBe('W1');
  });
});
