import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database';
import { validateLayout } from '../layouts/layout-validation.service';
import { loadDemoIfEmpty } from './demo.service';

describe('the demo city loaded on first start', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(async () => tdb.drop());

  it('loads into an empty database once, with one published layout per community that validates clean', async () => {
    const first = await loadDemoIfEmpty(tdb.db);
    expect(first.loaded).toBe(true);
    expect(first.summary.communities).toBeGreaterThanOrEqual(3);
    const again = await loadDemoIfEmpty(tdb.db);
    expect(again.loaded).toBe(false);

    const { rows } = await sql<{ community_code: string; id: number; grids: number }>`
      SELECT l.community_code, l.id, (SELECT count(*) FROM grids g WHERE g.layout_id = l.id)::int AS grids
      FROM layouts l WHERE l.status = 'published' ORDER BY l.community_code`.execute(tdb.db);
    expect(rows).toHaveLength(first.summary.communities ?? -1);
    expect(rows.reduce((s, r) => s + r.grids, 0)).toBe(first.summary.grids);
    for (const layout of rows) {
      const report = await validateLayout(tdb.db, layout.id);
      expect(report.summary.overlaps).toBe(0);
      expect(report.summary.gaps).toBe(0);
      expect(report.summary.outside).toBe(0);
      expect(report.summary.publishable).toBe(true);
    }
  });
});
