/**
 * The in-memory index against PostGIS ST_Covers on 100,000 points over the generated medium demo
 * district: random points, grid vertices and points on grid edges (exact edge midpoints and points
 * interpolated along edges). The expected grid list per point comes from one SQL over all points
 * (unnest), ordered by code then id as gridsCoveringAt orders them; the tie rule (lowest code wins,
 * the others are candidates) is the only difference allowed — and compared too.
 * Also: the in-memory roster agrees with the registry's SQL `onDutyAt` over grids and instants, and the
 * lookup's responder (the fallback chain) with the registry's SQL `responderAt`, which event routing
 * uses off the memory path; some staff are on leave (whole days, afternoons) that week, and some grid
 * workers work night shifts across midnight.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoCity } from '../../../scripts/generate/demo-city';
import { createTestDatabase, type TestDatabase } from '../../test/database';
import { insertDemoDispatchData } from '../demo/demo.service';
import { onDutyAt, responderAt } from '../registry/roster.service';
import { shanghaiClock } from './dispatch-roster';
import { DispatchService } from './dispatch.service';
import { seededRandom } from '../../test/seeded-random';


let tdb: TestDatabase;
let service: DispatchService;

beforeAll(async () => {
  tdb = await createTestDatabase();
  const city = generateDemoCity({ size: 'medium' });
  await insertDemoDispatchData(tdb.db, city, '2025-01-01T00:00:00+08:00');
  // Leave in the compared week (2025-06-02 is a Monday): every 5th staff member a whole day, every 5th
  // but one an afternoon, so the chain skips people on leave at every level.
  await sql`
    INSERT INTO roster_exceptions (kind, staff_id, starts_at, ends_at, reason)
    SELECT 'leave', id, (d + CASE WHEN id % 5 = 0 THEN time '00:00' ELSE time '12:00' END) AT TIME ZONE 'Asia/Shanghai',
           (d + CASE WHEN id % 5 = 0 THEN interval '1 day' ELSE interval '18 hours' END) AT TIME ZONE 'Asia/Shanghai', 'test'
    FROM (SELECT id, date '2025-06-02' + (id % 7) AS d FROM staff WHERE id % 5 IN (0, 1)) s`.execute(tdb.db);
  // Night shifts across midnight (the demo has none): every 3rd assigned grid worker every night, from
  // 20:00–23:00 (by staff id) to 06:00, stored as two rows. Grids with two such workers order them
  // by their evening start after midnight too; leave above falls on either day of a shift.
  await sql`
    INSERT INTO roster_shifts (staff_id, scope_code, weekday, start_time, end_time)
    SELECT a.staff_id, a.grid_code, d,
           CASE part WHEN 0 THEN time '20:00' + (a.staff_id % 4) * interval '1 hour' ELSE time '00:00' END,
           CASE part WHEN 0 THEN time '24:00' ELSE time '06:00' END
    FROM (SELECT DISTINCT staff_id, grid_code FROM staff_assignments WHERE staff_id % 3 = 0) a, generate_series(1, 7) d, generate_series(0, 1) part`.execute(tdb.db);
  service = new DispatchService(tdb.db);
  await service.refresh();
}, 120_000);

afterAll(async () => {
  await tdb?.drop();
});

describe('agreement with PostGIS', () => {
  it('matches ST_Covers on 100,000 points, including edges and vertices', async () => {
    const snap = await service.current();
    const grids = snap.spatial.grids;
    expect(grids.length).toBeGreaterThan(50);
    const random = seededRandom(6);
    const [w, s, e, n] = grids.reduce((b, g) => [Math.min(b[0], g.geom.bbox[0]), Math.min(b[1], g.geom.bbox[1]), Math.max(b[2], g.geom.bbox[2]), Math.max(b[3], g.geom.bbox[3])], [Infinity, Infinity, -Infinity, -Infinity]);
    const lon: number[] = [];
    const lat: number[] = [];
    const kinds: string[] = [];
    const pickEdge = (): [number, number, number, number] => {
      const g = grids[Math.floor(random() * grids.length)]!;
      const ring = g.geom.polygons[0]![0]!;
      const i = Math.floor(random() * (ring.length / 2 - 1));
      return [ring[2 * i]!, ring[2 * i + 1]!, ring[2 * i + 2]!, ring[2 * i + 3]!];
    };
    const margin = 0.002;
    for (let i = 0; i < 100_000; i++) {
      const r = i % 10;
      if (r < 6) {
        lon.push(w - margin + random() * (e - w + 2 * margin));
        lat.push(s - margin + random() * (n - s + 2 * margin));
        kinds.push('random');
      } else if (r < 8) {
        const [ax, ay] = pickEdge();
        lon.push(ax);
        lat.push(ay);
        kinds.push('vertex');
      } else if (r === 8) {
        const [ax, ay, bx, by] = pickEdge();
        lon.push((ax + bx) / 2);
        lat.push((ay + by) / 2);
        kinds.push('edge-midpoint');
      } else {
        const [ax, ay, bx, by] = pickEdge();
        const f = random();
        lon.push(ax + f * (bx - ax));
        lat.push(ay + f * (by - ay));
        kinds.push('edge-interpolated');
      }
    }
    const started = performance.now();
    const { rows } = await sql<{ i: number; codes: string[] }>`
      SELECT p.i::int AS i, array_agg(g.code ORDER BY g.code, g.id) AS codes
      FROM unnest(${lon}::float8[], ${lat}::float8[]) WITH ORDINALITY AS p(lon, lat, i)
      JOIN grids g ON g.geom && ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326) AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))
      JOIN layouts l ON l.id = g.layout_id AND l.status = 'published'
      GROUP BY p.i`.execute(tdb.db);
    const sqlMs = performance.now() - started;
    const expected = new Map<number, string[]>(rows.map((r) => [r.i - 1, r.codes]));

    const memStarted = performance.now();
    const disagreements: Array<{ i: number; kind: string; lon: number; lat: number; postgis: string[]; memory: string[] }> = [];
    let ambiguous = 0;
    let covered = 0;
    for (let i = 0; i < lon.length; i++) {
      const memory = snap.spatial.gridsCovering(lon[i]!, lat[i]!).map((g) => g.code);
      const postgis = expected.get(i) ?? [];
      if (memory.length > 1) ambiguous += 1;
      if (memory.length > 0) covered += 1;
      if (memory.join() !== postgis.join()) disagreements.push({ i, kind: kinds[i]!, lon: lon[i]!, lat: lat[i]!, postgis, memory });
    }
    const memMs = performance.now() - memStarted;
    console.log(`100,000 points: ${covered} covered, ${ambiguous} on shared edges/vertices (tie rule: lowest code); ${disagreements.length} disagreements; PostGIS ${sqlMs.toFixed(0)} ms, memory ${memMs.toFixed(0)} ms`);
    expect(disagreements.slice(0, 5)).toEqual([]);
    expect(ambiguous).toBeGreaterThan(10_000);

    // The service's answer applies the tie rule on the same candidates: grid = first, candidates = rest.
    for (let i = 0; i < 2_000; i++) {
      const answer = await service.lookupPoint({ lon: lon[i]!, lat: lat[i]! });
      const postgis = expected.get(i) ?? [];
      if (postgis.length === 0) continue;
      expect([answer.grid?.code, ...answer.candidates.map((c) => c.code)]).toEqual(postgis);
      expect(answer.ambiguous).toBe(postgis.length > 1);
    }
  }, 120_000);

  it('agrees with the registry SQL onDutyAt on who is on duty', async () => {
    const snap = await service.current();
    const random = seededRandom(7);
    const base = Date.parse('2025-06-02T00:00:00+08:00');
    let compared = 0;
    let found = 0;
    let afterMidnight = 0;
    for (let k = 0; k < 300; k++) {
      const g = snap.spatial.grids[Math.floor(random() * snap.spatial.grids.length)]!;
      // Whole and half hours over a week, plus instants just around them.
      const at = base + Math.floor(random() * 7 * 48) * 1_800_000 + (k % 3 === 0 ? -1 : 0);
      const sqlAnswer = await onDutyAt(tdb.db, g.code, new Date(at));
      const mine = snap.roster.onDuty(g.code, g.communityCode, at)[0];
      expect(mine?.staff.code ?? null, `${g.code} ${new Date(at).toISOString()}`).toBe(sqlAnswer?.staffCode ?? null);
      if (mine) {
        expect([mine.level, mine.via, mine.role]).toEqual([sqlAnswer?.level, sqlAnswer?.via, sqlAnswer?.role]);
        found += 1;
        // The demo's grid workers never work 00:00–06:00: a grid-level weekly answer then is a night shift.
        const clock = shanghaiClock(at);
        if (mine.level === 'grid' && mine.via === 'weekly' && clock.seconds < 6 * 3600) {
          expect(mine.startedMs, `${g.code} ${new Date(at).toISOString()}`).toBeLessThan(clock.midnightMs);
          afterMidnight += 1;
        }
      }
      compared += 1;
    }
    expect(compared).toBe(300);
    expect(found).toBeGreaterThan(50);
    // Grid workers answering after midnight in a night shift that started the evening before.
    expect(afterMidnight).toBeGreaterThan(10);
  }, 60_000);

  it('agrees with the registry SQL responderAt on who answers (the fallback chain)', async () => {
    const { rows: places } = await sql<{ code: string; lon: number; lat: number }>`
      SELECT g.code, ST_X(p) AS lon, ST_Y(p) AS lat FROM (
        SELECT g.code, ST_PointOnSurface(g.geom) AS p FROM grids g JOIN layouts l ON l.id = g.layout_id AND l.status = 'published' WHERE g.code IS NOT NULL
      ) g ORDER BY g.code`.execute(tdb.db);
    const random = seededRandom(8);
    const base = Date.parse('2025-06-02T00:00:00+08:00');
    const steps = new Map<string, number>();
    for (let k = 0; k < 300; k++) {
      const place = places[Math.floor(random() * places.length)]!;
      const at = base + Math.floor(random() * 7 * 48) * 1_800_000 + (k % 3 === 0 ? -1 : 0);
      const answer = await service.lookupPoint({ lon: place.lon, lat: place.lat, at: new Date(at).toISOString() });
      if (answer.grid?.code !== place.code) continue;
      const sqlAnswer = await responderAt(tdb.db, place.code, new Date(at));
      const label = `${place.code} ${new Date(at).toISOString()}`;
      expect(sqlAnswer && { staffCode: sqlAnswer.staffCode, role: sqlAnswer.role, step: sqlAnswer.step }, label).toEqual(answer.responder && { staffCode: answer.responder.staffCode, role: answer.responder.role, step: answer.responder.step });
      const step = answer.responder?.step ?? 'none';
      steps.set(step, (steps.get(step) ?? 0) + 1);
    }
    console.log(`responder steps compared: ${JSON.stringify(Object.fromEntries(steps))}`);
    expect([...steps.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(250);
    expect(steps.size).toBeGreaterThan(2);
  }, 60_000);
});
