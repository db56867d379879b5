/**
 * Footprints checked ahead on extra connections (import-geometry.ts) must land exactly as the serial
 * check in the import's own statement leaves them: the same rows, codes, grids and stored geometry
 * (repairs included), the same row-level errors on the same lines in the same order, whatever the
 * batch size and number of connections. A failure while checking ahead rolls everything back and
 * leaves no connection or table behind.
 */
import { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REGISTRY_KEY } from '../../../config';
import { createTestDatabase, type TestDatabase } from '../../../test/database';
import { COMMUNITY, newDivisions, newGrid, newLayout, rect } from '../../../test/factories';
import { createRegistryCipher } from '../registry-crypto';
import type { RowError } from './import-rows';
import { importStream, type ImportReport, type ImportRequest } from './import.service';

let tdb: TestDatabase;
const G1 = `${COMMUNITY}001`;
const G2 = `${COMMUNITY}002`;
const cipher = createRegistryCipher(TEST_REGISTRY_KEY);

const bowTie = (x: number, y: number): unknown => ({ type: 'Polygon', coordinates: [[[x, y], [x + 0.0002, y + 0.0002], [x + 0.0002, y], [x, y + 0.0002], [x, y]]] });
// A shell whose ring touches itself at a point (the most common invalidity of the SF footprints).
const pinched = (x: number, y: number): unknown => ({
  type: 'Polygon',
  coordinates: [[[x, y], [x + 0.0004, y], [x + 0.0004, y + 0.0004], [x + 0.0002, y + 0.0002], [x + 0.0001, y + 0.0004], [x + 0.0002, y + 0.0002], [x, y + 0.0004], [x, y]]],
});

/** Every kind of row the check distinguishes, in two grids, with problems found in Node and in SQL. */
const features = [
  { type: 'Feature', properties: { id: 'a-1', name: '1号楼', floors: 6 }, geometry: rect(113.6005, 34.7505, 113.6008, 34.7508) },
  { type: 'Feature', properties: { id: 'a-2', name: 'tab\tand\nnewline \\ backslash' }, geometry: bowTie(113.601, 34.751) },
  { type: 'Feature', properties: { id: 'a-3', use: 'commercial' }, geometry: rect(113.6025, 34.7505, 113.6028, 34.7508) },
  { type: 'Feature', properties: { id: 'a-4', floors: 'many' }, geometry: bowTie(113.6012, 34.7512) },
  { type: 'Feature', properties: { id: 'a-5' }, geometry: { type: 'Point', coordinates: [113.6031, 34.7515] } },
  // Unknown community and an invalid footprint: the community problem is the one reported.
  { type: 'Feature', properties: { id: 'a-6', communityCode: '410105001999' }, geometry: bowTie(113.6013, 34.7513) },
  { type: 'Feature', properties: { id: 'a-7' }, geometry: pinched(113.6001, 34.7501) },
  // A repeat of a-2's id: a duplicate only if a-2 itself is accepted (repaired).
  { type: 'Feature', properties: { id: 'a-2', name: 'again' }, geometry: rect(113.6035, 34.7505, 113.6038, 34.7508) },
  { type: 'Feature', properties: { id: 'a-9' }, geometry: { type: 'MultiPolygon', coordinates: [rect(113.6001, 34.7521, 113.6003, 34.7523).coordinates, (bowTie(113.6031, 34.7521) as { coordinates: number[][][] }).coordinates] } },
  { type: 'Feature', properties: { id: 'a-10' }, geometry: rect(113.6021, 34.7521, 113.6024, 34.7524) },
];
const collection = JSON.stringify({ type: 'FeatureCollection', features });

interface Landed {
  report: ImportReport;
  errors: RowError[];
  rows: Array<{ id: number; external_id: string; code: string; name: string; grid_code: string | null; community_code: string | null; geom: string }>;
}

async function importOnce(req: Partial<ImportRequest>): Promise<Landed> {
  const client = new pg.Client({ connectionString: tdb.url });
  await client.connect();
  const errors: RowError[] = [];
  try {
    const report = await importStream(client, Readable.from([collection]), {
      entity: 'buildings',
      format: 'geojson',
      mode: 'skip-bad-rows',
      cipher,
      effectiveDate: '2025-01-15',
      onError: (e) => errors.push(e),
      ...req,
    });
    const { rows } = await tdb.pool.query<Landed['rows'][number]>(
      `SELECT id, external_id, code, name, grid_code, community_code, encode(ST_AsEWKB(geom), 'hex') AS geom FROM buildings ORDER BY id`,
    );
    return { report: { ...report, durationMs: 0 }, errors, rows };
  } finally {
    await client.end();
  }
}

/** Connections for checking ahead, each recorded so the test can see that all were closed. */
function connections(opts: { failOnQuery?: number } = {}): { connect(): Promise<pg.Client>; opened: pg.Client[]; ended: Set<pg.Client> } {
  const opened: pg.Client[] = [];
  const ended = new Set<pg.Client>();
  return {
    opened,
    ended,
    async connect() {
      const c = new pg.Client({ connectionString: tdb.url, application_name: 'geometry-ahead-test' });
      await c.connect();
      opened.push(c);
      const end = c.end.bind(c);
      c.end = (async () => {
        ended.add(c);
        await end();
      });
      if (opts.failOnQuery !== undefined) {
        let n = 0;
        const query = c.query.bind(c) as (...args: unknown[]) => Promise<unknown>;
        (c as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) => {
          n += 1;
          return n === opts.failOnQuery ? Promise.reject(new Error('simulated failure of a geometry check')) : query(...args);
        };
      }
      return c;
    },
  };
}

const reset = (): Promise<unknown> => tdb.pool.query('TRUNCATE buildings RESTART IDENTITY CASCADE');

beforeAll(async () => {
  tdb = await createTestDatabase();
  await newDivisions(tdb.db);
  const layoutId = await newLayout(tdb.db, { status: 'published' });
  await newGrid(tdb.db, layoutId, rect(113.6, 34.75, 113.602, 34.753), { code: G1 });
  await newGrid(tdb.db, layoutId, rect(113.602, 34.75, 113.604, 34.753), { code: G2 });
});
afterAll(async () => {
  await tdb.drop();
});

describe('geometry checked ahead on other connections', () => {
  it.each([
    ['rejecting invalid footprints', false],
    ['repairing them (--make-valid)', true],
  ])('lands the same rows and reports the same errors as the serial check, %s', async (_label, makeValid) => {
    await reset();
    const serial = await importOnce({ makeValid });
    // Sanity: the fixture exercises what it claims to, on the serial path.
    expect(serial.errors).toContainEqual({ line: 4, field: 'floors', reason: 'must be a whole number' });
    expect(serial.errors).toContainEqual({ line: 6, field: 'communityCode', reason: 'unknown community 410105001999' });
    expect(serial.errors.some((e) => e.field === 'geometry')).toBe(!makeValid);
    expect(serial.rows.map((r) => r.grid_code)).toContain(G2);
    for (const [count, batchRows] of [[1, 1000], [3, 2], [2, 1]] as const) {
      await reset();
      const pool = connections();
      const ahead = await importOnce({ makeValid, geometryConnections: { count, connect: () => pool.connect(), batchRows } });
      expect(ahead).toEqual(serial);
      expect(pool.opened).toHaveLength(count);
      expect(pool.ended.size).toBe(count);
    }
  });

  it('without extra connections to be had, checks in the import\'s own statement and lands the same', async () => {
    await reset();
    const serial = await importOnce({ makeValid: true });
    await reset();
    const pool = connections();
    let calls = 0;
    const refused = await importOnce({
      makeValid: true,
      geometryConnections: {
        count: 2,
        connect: () => {
          calls += 1;
          // The first connects, the second is refused (as at max_connections): neither is used, both closed.
          return calls === 1 ? pool.connect() : Promise.reject(new Error('sorry, too many clients already'));
        },
      },
    });
    expect(refused).toEqual(serial);
    expect(pool.ended.size).toBe(pool.opened.length);
  });

  it('a second import of the same file checked ahead changes nothing', async () => {
    await reset();
    const pool = connections();
    const first = await importOnce({ makeValid: true, geometryConnections: { count: 2, connect: () => pool.connect(), batchRows: 3 } });
    expect(first.report).toMatchObject({ committed: true, updated: 0, unchanged: 0 });
    const again = await importOnce({ makeValid: true, geometryConnections: { count: 2, connect: () => pool.connect(), batchRows: 3 } });
    expect(again.report).toMatchObject({ committed: true, inserted: 0, updated: 0, unchanged: first.report.inserted });
    expect(again.rows).toEqual(first.rows);
  });

  it('all-or-nothing with a footprint rejected ahead writes nothing', async () => {
    await reset();
    const pool = connections();
    const strict = await importOnce({ mode: 'all-or-nothing', geometryConnections: { count: 2, connect: () => pool.connect(), batchRows: 2 } });
    expect(strict.report).toMatchObject({ committed: false, inserted: 0 });
    expect(strict.errors).toContainEqual({ line: 2, field: 'geometry', reason: expect.stringMatching(/^GEOMETRY_INVALID: Self-intersection/) as unknown });
    expect(strict.rows).toEqual([]);
  });

  it('a failure while checking ahead rolls back and leaves no connection or table behind', async () => {
    await reset();
    const pool = connections({ failOnQuery: 3 });
    await expect(importOnce({ makeValid: true, geometryConnections: { count: 2, connect: () => pool.connect(), batchRows: 1 } })).rejects.toThrow('simulated failure');
    expect(pool.ended.size).toBe(2);
    // A closed session leaves pg_stat_activity a moment after its Terminate message.
    for (let i = 0; i < 50; i += 1) {
      const { rows: left } = await tdb.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'geometry-ahead-test'`);
      if (left[0]?.n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { rows } = await tdb.pool.query<{ buildings: number; sessions: number; staging: number }>(`
      SELECT (SELECT count(*)::int FROM buildings) AS buildings,
             (SELECT count(*)::int FROM pg_stat_activity WHERE application_name = 'geometry-ahead-test') AS sessions,
             (SELECT count(*)::int FROM pg_class WHERE relname LIKE 'import%') AS staging`);
    expect(rows[0]).toEqual({ buildings: 0, sessions: 0, staging: 0 });
  });
});
