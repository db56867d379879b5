/**
 * Households and residents over HTTP: keyset paging, If-Match on edits and deletes, soft delete closing
 * their history, and a household that still has present residents refusing deletion.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, newDivisions, newGrid, newLayout, rect } from '../../test/factories';
import { residentIdCheckDigit } from './resident-id';

let t: TestApp;
const G1 = `${COMMUNITY}001`;
let buildingId: number;

const json = (res: { body: string }): Record<string, unknown> => JSON.parse(res.body) as Record<string, unknown>;
const errorOf = (res: { body: string }): Record<string, unknown> => json(res).error as Record<string, unknown>;

function idFor(seq: number): string {
  const first17 = `410105197506070${String(seq * 2 + 1).padStart(2, '0').slice(-2)}`;
  return first17 + residentIdCheckDigit(first17);
}

async function newHousehold(room: string): Promise<number> {
  const h = await t.inject({ method: 'POST', url: '/api/v1/households', payload: { buildingId, unit: '1', room } });
  expect(h.statusCode).toBe(201);
  return json(h).id as number;
}

async function newResident(householdId: number, seq: number): Promise<number> {
  const r = await t.inject({ method: 'POST', url: '/api/v1/residents', payload: { householdId, name: `居民${seq}`, gender: 'M', birthDate: '1975-06-07', idNumber: idFor(seq), registration: 'registered' } });
  expect(r.statusCode, r.body).toBe(201);
  return json(r).id as number;
}

beforeAll(async () => {
  t = await createTestApp();
  await newDivisions(t.tdb.db);
  const layoutId = await newLayout(t.tdb.db, { status: 'published' });
  await newGrid(t.tdb.db, layoutId, rect(113.6, 34.75, 113.604, 34.753), { code: G1 });
  const b = await t.inject({ method: 'POST', url: '/api/v1/buildings', payload: { name: '1号楼', geometry: rect(113.6005, 34.7505, 113.6008, 34.7508) } });
  buildingId = json(b).id as number;
});
afterAll(async () => t.close());

describe('households and residents', () => {
  it('pages households and residents by id, with next only on a full page', async () => {
    const households = [await newHousehold('101'), await newHousehold('102'), await newHousehold('103')];
    for (const [i, h] of households.entries()) await newResident(h, 10 + i);
    const first = json(await t.inject(`/api/v1/households?building=${buildingId}&limit=2`));
    expect((first.items as { id: number }[]).map((h) => h.id)).toEqual(households.slice(0, 2));
    expect(first.next).toBe(households[1]);
    const second = json(await t.inject(`/api/v1/households?building=${buildingId}&limit=2&after=${String(first.next)}`));
    expect((second.items as { id: number }[]).map((h) => h.id)).toEqual(households.slice(2));
    expect(second.next).toBeNull();
    const residents = json(await t.inject(`/api/v1/residents?grid=${G1}&limit=2`));
    expect(residents.items).toHaveLength(2);
    expect(residents.next).toBe((residents.items as { id: number }[])[1]?.id);
    const full = json(await t.inject(`/api/v1/residents?grid=${G1}&limit=3`));
    expect(full.next).toBe((full.items as { id: number }[])[2]?.id);
    expect(json(await t.inject(`/api/v1/residents?grid=${G1}&limit=4`)).next).toBeNull();
    const bad = await t.inject(`/api/v1/residents?bbox=${encodeURIComponent('113.61,34.75,113.60,34.76')}`);
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad)).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'bbox' } });
  });

  it('edits a household tenure under If-Match and refuses to delete it while residents are present', async () => {
    const h = await newHousehold('201');
    const r = await newResident(h, 30);
    const patch = (etag: string) => t.inject({ method: 'PATCH', url: `/api/v1/households/${h}`, headers: { 'if-match': etag }, payload: { tenure: 'rented', effectiveDate: '2025-05-01' } });
    const stale = await patch('"4"');
    expect(stale.statusCode).toBe(412);
    expect(errorOf(stale)).toMatchObject({ code: 'VERSION_CONFLICT', message: `Household ${h} is at version 1, not 4.`, details: { current: 1 } });
    const ok = await patch('"1"');
    expect(ok.statusCode).toBe(200);
    expect(json(ok)).toMatchObject({ tenure: 'rented', version: 2 });
    const { rows } = await sql<{ change: string; valid_from: string }>`SELECT change, valid_from FROM household_history WHERE household_id = ${h} ORDER BY id`.execute(t.tdb.db);
    expect(rows.map((x) => x.change)).toEqual(['registered', 'details']);
    expect(rows[1]?.valid_from).toBe('2025-05-01');
    const del = (over: Record<string, unknown> = {}) => t.inject({ method: 'DELETE', url: `/api/v1/households/${h}`, payload: { reason: '整户迁出' }, ...over });
    const occupied = await del();
    expect(occupied.statusCode).toBe(409);
    expect(errorOf(occupied)).toMatchObject({ code: 'CONFLICT', details: { householdId: h } });

    const staleDelete = await t.inject({ method: 'DELETE', url: `/api/v1/residents/${r}`, headers: { 'if-match': '"9"' }, payload: { reason: '迁出本市' } });
    expect(staleDelete.statusCode).toBe(412);
    expect(errorOf(staleDelete)).toMatchObject({ code: 'VERSION_CONFLICT', message: `Resident ${r} is at version 1, not 9.` });
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/residents/${r}`, headers: { 'if-match': '"1"' }, payload: { reason: '迁出本市' } })).statusCode).toBe(204);
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/residents/${r}`, payload: { reason: '迁出本市' } })).statusCode).toBe(204);
    const { rows: rh } = await sql<{ change: string }>`SELECT change FROM resident_history WHERE resident_id = ${r} ORDER BY id`.execute(t.tdb.db);
    expect(rh.map((x) => x.change)).toEqual(['registered', 'deleted']);
    expect(json(await t.inject(`/api/v1/residents/${r}`)).deletedAt).toEqual(expect.any(String));

    expect((await del({ headers: { 'if-match': '"2"' } })).statusCode).toBe(204);
    expect((await del()).statusCode).toBe(204);
    const { rows: hh } = await sql<{ change: string }>`SELECT change FROM household_history WHERE household_id = ${h} ORDER BY id`.execute(t.tdb.db);
    expect(hh.map((x) => x.change)).toEqual(['registered', 'details', 'deleted']);
    expect(json(await t.inject(`/api/v1/households/${h}`))).toMatchObject({ version: 3 });
    const missing = await t.inject({ method: 'DELETE', url: '/api/v1/households/999999', payload: { reason: '不存在的' } });
    expect(missing.statusCode).toBe(404);
    expect(errorOf(missing)).toMatchObject({ code: 'NOT_FOUND', details: { householdId: 999999 } });
  });
  it('refuses to edit a deleted resident or household, or to move a resident into a deleted household (a deleted resident counted again in the monthly report)', async () => {
    const h = await newHousehold('301');
    const gone = await newHousehold('302');
    const r = await newResident(h, 40);
    const staying = await newResident(h, 41);
    const month = new Date().toISOString().slice(0, 7);
    const residentsAtMonthEnd = async (): Promise<number> => json(await t.inject(`/api/v1/registry/monthly?month=${month}&scope=${G1}`)).residents as number;
    const before = await residentsAtMonthEnd();
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/residents/${r}`, payload: { reason: '迁出本市' } })).statusCode).toBe(204);
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/households/${gone}`, payload: { reason: '整户迁出' } })).statusCode).toBe(204);
    expect(await residentsAtMonthEnd()).toBe(before - 1);

    const edit = await t.inject({ method: 'PATCH', url: `/api/v1/residents/${r}`, headers: { 'if-match': '*' }, payload: { name: '改名' } });
    expect(edit.statusCode).toBe(409);
    expect(errorOf(edit)).toMatchObject({ code: 'CONFLICT', details: { in: 'params', field: 'id', residentId: r } });
    const move = await t.inject({ method: 'PATCH', url: `/api/v1/residents/${staying}`, headers: { 'if-match': '*' }, payload: { householdId: gone } });
    expect(move.statusCode).toBe(409);
    expect(errorOf(move)).toMatchObject({ code: 'CONFLICT', details: { in: 'body', field: 'householdId', householdId: gone } });
    const tenure = await t.inject({ method: 'PATCH', url: `/api/v1/households/${gone}`, headers: { 'if-match': '*' }, payload: { tenure: 'rented' } });
    expect(tenure.statusCode).toBe(409);
    expect(errorOf(tenure)).toMatchObject({ code: 'CONFLICT', details: { in: 'params', field: 'id', householdId: gone } });

    // Nothing changed: versions, history and the month's count as they were.
    expect(json(await t.inject(`/api/v1/residents/${r}`))).toMatchObject({ name: '居民40', version: 2 });
    expect(json(await t.inject(`/api/v1/residents/${staying}`))).toMatchObject({ householdId: h, version: 1 });
    expect(json(await t.inject(`/api/v1/households/${gone}`))).toMatchObject({ tenure: 'owned', version: 2 });
    const { rows } = await sql<{ change: string }>`SELECT change FROM resident_history WHERE resident_id IN (${r}, ${staying}) ORDER BY id`.execute(t.tdb.db);
    expect(rows.map((x) => x.change)).toEqual(['registered', 'registered', 'deleted']);
    expect(await residentsAtMonthEnd()).toBe(before - 1);
  });

  it('refuses a change dated before the resident\'s current state (out of order, it made the monthly report count them twice)', async () => {
    const h = await newHousehold('401');
    const created = await t.inject({ method: 'POST', url: '/api/v1/residents', payload: { householdId: h, name: '补录', gender: 'M', birthDate: '1975-06-07', idNumber: idFor(45), registration: 'registered', effectiveDate: '2025-01-01' } });
    expect(created.statusCode, created.body).toBe(201);
    const r = json(created).id as number;
    const patch = (payload: Record<string, unknown>) => t.inject({ method: 'PATCH', url: `/api/v1/residents/${r}`, headers: { 'if-match': '*' }, payload });
    expect((await patch({ tags: ['low_income'], effectiveDate: '2025-06-01' })).statusCode).toBe(200);
    const early = await patch({ registration: 'floating', effectiveDate: '2025-03-01' });
    expect(early.statusCode, early.body).toBe(422);
    expect(errorOf(early)).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'body', field: 'effectiveDate', currentFrom: '2025-06-01' } });
    expect(json(await t.inject(`/api/v1/residents/${r}`))).toMatchObject({ registration: 'registered', version: 2 });
    const april = json(await t.inject(`/api/v1/registry/monthly?month=2025-04&scope=${G1}`));
    expect(april.residents).toBe(1);
    // The same day as the current state, or later, is in order.
    expect((await patch({ registration: 'floating', effectiveDate: '2025-06-01' })).statusCode).toBe(200);
  });

  it('refuses to make a resident present again in a household deleted since they moved out', async () => {
    const h = await newHousehold('501');
    const r = await newResident(h, 50);
    const patch = (payload: Record<string, unknown>) => t.inject({ method: 'PATCH', url: `/api/v1/residents/${r}`, headers: { 'if-match': '*' }, payload });
    expect((await patch({ status: 'moved_out' })).statusCode).toBe(200);
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/households/${h}`, payload: { reason: '整户迁出' } })).statusCode).toBe(204);
    const back = await patch({ status: 'present' });
    expect(back.statusCode, back.body).toBe(409);
    expect(errorOf(back)).toMatchObject({ code: 'CONFLICT', details: { in: 'body', field: 'householdId', householdId: h } });
    expect(json(await t.inject(`/api/v1/residents/${r}`))).toMatchObject({ status: 'moved_out', version: 2 });
    // Into a live household, the move back is fine.
    const other = await newHousehold('502');
    expect((await patch({ status: 'present', householdId: other })).statusCode).toBe(200);
  });
});
