/**
 * The shared geometry fixtures (data/fixtures/geojson/{valid,invalid}) against the HTTP API and against
 * PostGIS itself, table-driven like Turf's test/true|false folders: every valid file is stored, every
 * invalid one is refused with a 4xx naming the expected reason and leaves the database unchanged.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config';
import type { ErrorResponse } from '../../contracts/common';
import { createTestApp, type TestApp } from '../../test/app';
import { countRows, newDivisions, newLayout } from '../../test/factories';
import { diagnoseGeometry } from './grid.repository';

const FIXTURES = path.join(PROJECT_ROOT, 'data/fixtures/geojson');
const load = (kind: 'valid' | 'invalid'): Array<[string, Record<string, unknown>]> =>
  readdirSync(path.join(FIXTURES, kind))
    .filter((f) => f.endsWith('.geojson'))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(path.join(FIXTURES, kind, f), 'utf8')) as Record<string, unknown>]);

const asFeature = (fixture: Record<string, unknown>): Record<string, unknown> =>
  fixture.type === 'Feature' ? fixture : { type: 'Feature', geometry: fixture, properties: {} };

let t: TestApp;
let layoutId: number;
beforeAll(async () => {
  t = await createTestApp();
  await newDivisions(t.tdb.db);
  layoutId = await newLayout(t.tdb.db);
});
afterAll(async () => t.close());

describe('valid fixtures are stored', () => {
  it.each(load('valid'))('%s', async (_file, fixture) => {
    const res = await t.inject({ method: 'POST', url: `/api/v1/layouts/${layoutId}/grids`, payload: asFeature(fixture) });
    expect(res.statusCode).toBe(201);
    await sql`DELETE FROM grids`.execute(t.tdb.db);
  });
});

describe('invalid fixtures are refused with their reason and change nothing', () => {
  it.each(load('invalid'))('%s', async (_file, fixture) => {
    const res = await t.inject({ method: 'POST', url: `/api/v1/layouts/${layoutId}/grids`, payload: asFeature(fixture) });
    const err = res.json<ErrorResponse>().error;
    if (res.statusCode === 400) {
      // gate 1: the route schema (shape, ranges) caught it first
      expect(err.code).toBe('VALIDATION_FAILED');
    } else {
      expect(res.statusCode).toBe(422);
      expect(err.code).toBe('GEOMETRY_INVALID');
      expect((err.details as { reason: string }).reason).toBe(fixture.expect);
    }
    expect(await countRows(t.tdb.db, 'grids')).toBe(0);
  });
});

describe('PostGIS agrees with the recorded ST_IsValidDetail reason (gate 3)', () => {
  // "valid…" marks cases only gates 1 and 2 stop; "parse error"/"no geometry" never reach GEOS.
  const recorded = load('invalid').filter(([, f]) => typeof f.postgis === 'string' && !/^(valid|parse error|no geometry)/.test(f.postgis));
  it.each(recorded)('%s', async (_file, fixture) => {
    const geometry = fixture.type === 'Feature' ? fixture.geometry : fixture;
    const expected = String(fixture.postgis);
    const diagnosis = await diagnoseGeometry(t.tdb.db, geometry);
    expect(diagnosis.valid).toBe(false);
    // GEOS ends exception texts with a newline
    expect(diagnosis.reason?.trim()).toBe(expected);
  });
});
