/**
 * Large CLI imports drop the non-unique indexes and foreign keys of the tables they insert into and
 * rebuild them before commit (import.repository.ts deferIndexesForBulkLoad). The threshold is lowered
 * here so a few rows take that path: the data lands as on the row-by-row path, the catalogue ends up
 * exactly as the migrations made it, and a failure after the drop rolls everything back.
 */
import { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REGISTRY_KEY } from '../../../config';
import { createTestDatabase, type TestDatabase } from '../../../test/database';
import { COMMUNITY, newDivisions, newGrid, newLayout, rect } from '../../../test/factories';
import { createRegistryCipher } from '../registry-crypto';
import { residentIdCheckDigit } from '../resident-id';
import type { RowError } from './import-rows';
import { importStream, type ImportReport, type ImportRequest } from './import.service';

let tdb: TestDatabase;
const G1 = `${COMMUNITY}001`;
const cipher = createRegistryCipher(TEST_REGISTRY_KEY);

function idFor(birthDate: string, seq: number): string {
  const first17 = `410105${birthDate.replaceAll('-', '')}${String(seq * 2 + 1).padStart(3, '0').slice(-3)}`;
  return first17 + residentIdCheckDigit(first17);
}

/** Every index and constraint definition of the registry tables an import writes. */
async function catalogue(): Promise<string[]> {
  const { rows } = await tdb.pool.query<{ def: string }>(`
    SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i WHERE i.indrelid = ANY($1::regclass[])
    UNION ALL
    SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = ANY($1::regclass[])
    ORDER BY 1`, [['buildings', 'households', 'household_history', 'residents', 'resident_history']]);
  return rows.map((r) => r.def);
}

async function runImport(entity: ImportRequest['entity'], body: string, extra: Partial<ImportRequest> & { failAfter?: RegExp; statements?: string[] } = {}): Promise<{ report: ImportReport; errors: RowError[]; statements: string[] }> {
  const client = new pg.Client({ connectionString: tdb.url });
  await client.connect();
  const errors: RowError[] = [];
  const { failAfter, statements = [], ...req } = extra;
  try {
    const report = await importStream(client, Readable.from([body]), {
      entity,
      format: entity === 'buildings' ? 'geojson' : 'csv',
      mode: 'all-or-nothing',
      cipher,
      effectiveDate: '2025-01-15',
      bulkLoadMinRows: 1,
      onError: (e) => errors.push(e),
      onTiming: (_ms, text) => {
        const step = text.replace(/\s+/g, ' ').trim();
        statements.push(step);
        // A crash part-way through the upsert, after the indexes were dropped.
        if (failAfter?.test(step)) throw new Error(`simulated failure after: ${step.slice(0, 40)}`);
      },
      ...req,
    });
    return { report, errors, statements };
  } finally {
    await client.end();
  }
}

const count = async (table: string): Promise<number> => (await tdb.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n ?? 0;
const dropped = (statements: string[]): boolean => statements.some((s) => s.startsWith('DROP INDEX'));

const residentsCsv = (n: number, from = 0): string =>
  ['householdKey,name,gender,birthDate,idNumber,phone,tags', ...Array.from({ length: n }, (_, i) => `${COMMUNITY}-00001-1-10${(from + i) % 3},居民${from + i},M,1980-01-02,${idFor('1980-01-02', from + i)},1381234${String(from + i).padStart(4, '0')},低保`)].join('\n');

let original: string[];

beforeAll(async () => {
  tdb = await createTestDatabase();
  await newDivisions(tdb.db);
  const layoutId = await newLayout(tdb.db, { status: 'published' });
  await newGrid(tdb.db, layoutId, rect(113.6, 34.75, 113.604, 34.753), { code: G1 });
  original = await catalogue();
  const buildings = await runImport('buildings', JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { code: '00001', communityCode: COMMUNITY, name: '1号楼' }, geometry: rect(113.6005, 34.7505, 113.6008, 34.7508) }] }));
  expect(buildings.report).toMatchObject({ inserted: 1, committed: true });
  const households = await runImport('households', ['communityCode,buildingCode,unit,room', `${COMMUNITY},00001,1,100`, `${COMMUNITY},00001,1,101`, `${COMMUNITY},00001,1,102`].join('\n'));
  expect(households.report).toMatchObject({ inserted: 3, committed: true });
  expect(dropped(households.statements)).toBe(true);
});
afterAll(async () => {
  await tdb.close();
});

describe('bulk load (indexes and foreign keys rebuilt after a large insert)', () => {
  it('lands the rows with their history, and leaves every index and constraint as the migrations made it', async () => {
    const { report, statements } = await runImport('residents', residentsCsv(6));
    expect(report).toMatchObject({ inserted: 6, rejected: 0, committed: true });
    expect(dropped(statements)).toBe(true);
    expect(await catalogue()).toEqual(original);
    expect(await count('residents')).toBe(6);
    expect(await count('resident_history')).toBe(6);
    const { rows } = await tdb.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM residents WHERE grid_code = $1 AND household_id IS NOT NULL`, [G1]);
    expect(rows[0]?.n).toBe(6);
    // The same file again: nothing new to insert, so nothing is dropped, and nothing changes.
    const again = await runImport('residents', residentsCsv(6));
    expect(again.report).toMatchObject({ inserted: 0, unchanged: 6 });
    expect(dropped(again.statements)).toBe(false);
  });

  it('keeps maintaining indexes when the import is small relative to the table, or when told to', async () => {
    const small = await runImport('residents', residentsCsv(1, 6));
    expect(small.report).toMatchObject({ inserted: 1, committed: true });
    expect(dropped(small.statements)).toBe(false);
    const kept = await runImport('residents', residentsCsv(7, 7), { keepIndexes: true });
    expect(kept.report).toMatchObject({ inserted: 7, committed: true });
    expect(dropped(kept.statements)).toBe(false);
    expect(await catalogue()).toEqual(original);
  });

  it('rolls back the rows and restores the dropped indexes and foreign keys when the import fails after the drop', async () => {
    const before = { residents: await count('residents'), history: await count('resident_history') };
    const statements: string[] = [];
    await expect(runImport('residents', residentsCsv(40, 100), { failAfter: /^WITH ins AS \( INSERT INTO residents/, statements })).rejects.toThrow('simulated failure');
    expect(dropped(statements)).toBe(true);
    expect(await count('residents')).toBe(before.residents);
    expect(await count('resident_history')).toBe(before.history);
    expect(await catalogue()).toEqual(original);
  });

  it('all-or-nothing with a bad row writes nothing and touches no index', async () => {
    const bad = `${residentsCsv(40, 200)}\n${COMMUNITY}-00001-1-100,坏,M,1980-01-02,410105198001020000,,`;
    const { report, errors, statements } = await runImport('residents', bad);
    expect(report).toMatchObject({ committed: false, rejected: 1, inserted: 0 });
    expect(errors).toEqual([{ line: 42, field: 'idNumber', reason: expect.stringContaining('CHECKSUM') as unknown }]);
    expect(dropped(statements)).toBe(false);
    expect(await catalogue()).toEqual(original);
  });
});
