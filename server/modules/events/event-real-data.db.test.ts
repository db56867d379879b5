/**
 * Real data: 4,984 San Francisco 311 cases (2008–2016) with their real opened/closed times, imported
 * against grids built from SF's census tracts (a fictional community hierarchy, see
 * scripts/import-sf311.ts), and their per-grid KPIs. Skips when ../shared/data is absent.
 */
import { existsSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KpiReport } from '../../contracts/events';
import { buildSfGrids, formatKpiTable, importSf311, SF_CASES, SF_DISTRICT, SF_TRACTS } from '../../../scripts/import-sf311';
import { createTestApp, type TestApp } from '../../test/app';

const available = existsSync(SF_CASES) && existsSync(SF_TRACTS);
if (!available) console.warn(`skipping the SF311 real-data events test: ${SF_CASES} or ${SF_TRACTS} is absent (they live in ../shared/data)`);

describe.skipIf(!available)('SF311 cases on census-tract grids', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  }, 300_000);
  afterAll(async () => t?.close());

  it('imports every case, routes them to tract grids and computes per-grid KPIs', async () => {
    const grids = await buildSfGrids(t.tdb.db);
    expect(grids.grids).toBe(195);
    const result = await importSf311(t.tdb.db);
    expect(result.imported).toBe(4984);
    // A few cases lie on Treasure Island or the water outside the tracts.
    expect(result.routed).toBeGreaterThan(4900);

    const res = await t.inject(`/api/v1/events/kpis?from=2008-01-01T00:00:00Z&to=2017-01-01T00:00:00Z&by=grid&scope=${SF_DISTRICT}`);
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json<KpiReport>();
    const total = report.rows.reduce((n, r) => n + r.events, 0);
    expect(total).toBe(result.routed);
    const ranked = report.rows.filter((r) => r.rank !== null);
    expect(ranked.every((r) => r.events >= 10)).toBe(true);
    expect(report.rows.filter((r) => r.rank === null).every((r) => r.events < 10)).toBe(true);
    // Ranks follow the on-time closure rate.
    for (let i = 1; i < ranked.length; i += 1) expect(ranked[i]!.onTimeClosureRate).toBeLessThanOrEqual(ranked[i - 1]!.onTimeClosureRate);
    const { rows } = await sql<{ closed: number }>`SELECT count(*)::int AS closed FROM events WHERE state = 'closed'`.execute(t.tdb.db);
    expect(report.rows.reduce((n, r) => n + r.closed, 0)).toBeLessThanOrEqual(rows[0]!.closed);
    console.log(`SF311: ${result.imported} cases, ${result.routed} routed to ${report.rows.length} grids, ${ranked.length} ranked (≥ 10 events)\n${formatKpiTable(report.rows, 10)}`);
  }, 300_000);
});
