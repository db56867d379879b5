/**
 * The community the event benchmarks run in (events.bench.ts, intake-profile.ts): a 10 × 10 lattice of
 * grids over about 3.6 km × 3.3 km, each with a full-time worker on duty around the clock, and the
 * helpers both use to make and send intakes.
 */
import { sql } from 'kysely';
import type { Database } from '../../server/db/database';

export const COMMUNITY = '410105001001';
export const W = 113.6, S = 34.75, E = 113.64, N = 34.78;
export const COLS = 10, ROWS = 10;
export const SUBTYPES = ['dispute.neighbour', 'dispute.property', 'environment.garbage', 'environment.street_cleaning', 'facility.street_light', 'facility.road', 'safety.fire', 'other.other'];
export const CHANNELS = ['patrol', 'hotline', 'resident', 'video', 'assigned'];

export { seededRandom } from '../../server/test/seeded-random';

/** Divisions, a published layout of COLS × ROWS grids, their staff, assignments and round-the-clock shifts. */
export async function setUpCommunity(db: Database): Promise<void> {
  await sql`INSERT INTO divisions (code, level, name) VALUES ('410105', 'district', '金水区')`.execute(db);
  await sql`INSERT INTO divisions (code, level, name, parent_code) VALUES ('410105001', 'street', '花园路街道', '410105')`.execute(db);
  await sql`INSERT INTO divisions (code, level, name, parent_code, geom) VALUES (${COMMUNITY}, 'community', '示范社区', '410105001', ST_Multi(ST_MakeEnvelope(${W}, ${S}, ${E}, ${N}, 4326)))`.execute(db);
  await sql`INSERT INTO layouts (community_code, status, effective_from, published_at) VALUES (${COMMUNITY}, 'published', '2020-01-01', '2020-01-01')`.execute(db);
  await sql`
    INSERT INTO grids (layout_id, code, name, geom)
    SELECT l.id, ${COMMUNITY}::text || lpad((j * ${COLS} + i + 1)::text, 3, '0'), '网格' || (j * ${COLS} + i + 1),
           ST_MakeEnvelope(${W}::float8 + i * ${(E - W) / COLS}::float8, ${S}::float8 + j * ${(N - S) / ROWS}::float8,
                           ${W}::float8 + (i + 1) * ${(E - W) / COLS}::float8, ${S}::float8 + (j + 1) * ${(N - S) / ROWS}::float8, 4326)
    FROM layouts l, generate_series(0, ${COLS - 1}) i, generate_series(0, ${ROWS - 1}) j`.execute(db);
  await sql`INSERT INTO staff (code, name, phone, role, unit_code)
            SELECT 'S' || substr(code, 13), '网格员' || substr(code, 13), '1380000' || substr(code, 13), 'full_time_worker', code FROM grids`.execute(db);
  await sql`INSERT INTO staff_assignments (staff_id, grid_code, role, from_date) SELECT id, unit_code, 'full_time_worker', '2020-01-01' FROM staff`.execute(db);
  await sql`INSERT INTO roster_shifts (staff_id, scope_code, weekday, start_time, end_time)
            SELECT s.id, s.unit_code, d, '00:00', '24:00' FROM staff s, generate_series(1, 7) d`.execute(db);
}

/** Run `fn` over `items` with `concurrency` in flight; seconds taken. */
export async function runPool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
  return (performance.now() - started) / 1000;
}
