import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PopulationReport } from '../../contracts/population';
import { permissionsOf, type Principal } from '../../auth/principal';
import { withScope } from '../../db/scoped';
import { createTestApp, type TestApp } from '../../test/app';
import { COMMUNITY, newDivisions } from '../../test/factories';
import { populationReport } from './population.service';

const G1 = `${COMMUNITY}001`;
const G2 = `${COMMUNITY}002`;
let t: TestApp;

/** `n` present residents in grid `grid`, in `households` households, the first `tagged` low-income. */
async function residents(grid: string, n: number, households: number, tagged = 0, floating = 0, birthDate = '1980-01-01'): Promise<void> {
  await withScope(t.tdb.db, { all: true, prefixes: [] }, async (trx) => {
    const { rows } = await sql<{ id: number }>`
      INSERT INTO buildings (community_code, code, geom, grid_code)
      VALUES (${COMMUNITY}, ${String(Math.floor(Math.random() * 99999)).padStart(5, '0')}, ST_SetSRID(ST_MakePoint(113.6, 34.75), 4326), ${grid}) RETURNING id`.execute(trx);
    const building = rows[0]?.id ?? 0;
    const hh: number[] = [];
    for (let h = 0; h < households; h += 1) {
      const r = await sql<{ id: number }>`INSERT INTO households (building_id, unit, room, grid_code, community_code) VALUES (${building}, '1', ${String(100 + h)}, ${grid}, ${COMMUNITY}) RETURNING id`.execute(trx);
      hh.push(r.rows[0]?.id ?? 0);
    }
    for (let i = 0; i < n; i += 1) {
      await sql`INSERT INTO residents (household_id, name, gender, birth_date, id_number_enc, id_number_hmac, registration, tags, grid_code, community_code)
                VALUES (${hh[i % households] ?? null}, '居民', 'F', ${birthDate}, ${randomBytes(40)}, ${randomBytes(32)},
                        ${i < floating ? 'floating' : 'registered'}, ${i < tagged ? ['low_income'] : []}::text[], ${grid}, ${COMMUNITY})`.execute(trx);
    }
  });
}

beforeAll(async () => {
  t = await createTestApp();
  await newDivisions(t.tdb.db);
  await residents(G1, 12, 4, 3, 6); // 12 people, 4 households, 3 low-income, 6 floating
  await residents(G2, 4, 2); // a grid of four people: everything there is small
});
afterAll(async () => t.close());

describe('population aggregates for analysts', () => {
  it('shows counts of 5 and more, and "<5" for smaller ones, with no totals', async () => {
    const res = await t.inject({ url: `/api/v1/analysis/population?unit=grid&within=${COMMUNITY}`, as: 'analyst' });
    expect(res.statusCode).toBe(200);
    const report = res.json<PopulationReport>();
    expect(report.rows).toEqual([
      { code: G1, residents: 12, households: '<5', floating: 6, foreign: '<5', aged65Plus: '<5', lowIncome: '<5', elderlyAlone: '<5' },
      { code: G2, residents: '<5', households: '<5', floating: '<5', foreign: '<5', aged65Plus: '<5', lowIncome: '<5', elderlyAlone: '<5' },
    ]);
    expect(JSON.stringify(report)).not.toMatch(/"residents":4\b|"total/);
  });

  it('keeps a scoped analyst inside the scope and refuses the registry itself', async () => {
    const local = await t.userWith({ roles: ['analyst'], scope: [G2] });
    const mine = (await t.inject({ url: '/api/v1/analysis/population', as: { token: local.token } })).json<PopulationReport>();
    expect(mine.rows.map((r) => r.code)).toEqual([G2]);
    expect((await t.inject({ url: `/api/v1/analysis/population?within=${G1}`, as: { token: local.token } })).statusCode).toBe(403);
    expect((await t.inject({ url: '/api/v1/residents', as: 'analyst' })).statusCode).toBe(403);
  });

  it('counts ages on the China-time date: at 01:00 Beijing time on a 65th birthday the person is 65', async () => {
    const G3 = `${COMMUNITY}003`;
    await residents(G3, 5, 5, 0, 0, '2035-01-01');
    const analyst: Principal = { kind: 'user', userId: null, username: 'test', roles: ['analyst'], permissions: permissionsOf(['analyst']), scope: { all: true, prefixes: [] } };
    // 2099-12-31T17:00Z is 2100-01-01 01:00 in Asia/Shanghai: the 65th birthday, though still the 31st in UTC.
    const report = await populationReport(t.tdb.db, analyst, { unit: 'grid', within: G3 }, new Date('2099-12-31T17:00:00Z'));
    expect(report.rows).toEqual([expect.objectContaining({ code: G3, residents: 5, aged65Plus: 5 })]);
    const dayBefore = await populationReport(t.tdb.db, analyst, { unit: 'grid', within: G3 }, new Date('2099-12-31T15:59:00Z'));
    expect(dayBefore.rows).toEqual([expect.objectContaining({ code: G3, aged65Plus: '<5' })]);
  });
});
