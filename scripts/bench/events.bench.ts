/**
 * Events benchmark (issue #7), ratios against baselines measured in the same run:
 *
 * 1. Intake throughput: `reportEvent` (routing to the grid in force, on-duty staff, duplicate hint,
 *    deadlines, Idempotency-Key claim, transition row; every event durable before it is answered) against
 *    a bare INSERT of the same rows through `pg` (the event rows intake stored, every column, into the
 *    events table), same concurrency, each its own durable commit. Target ≥ 0.5×.
 *    GROUP COMMIT: intake as the app ships it gathers concurrent intakes into one statement and one
 *    commit (server/modules/events/intake-group-commit.ts; each caller answered after that commit), so
 *    its figure is intake WITH group commit; the baseline is NOT batched (one INSERT, one commit per row).
 *    Also printed, for continuity with earlier figures: intake WITHOUT group commit (each event its own
 *    statement and commit, `groupCommit: false`), and against a 7-column INSERT into an index-free table
 *    (a lower bar to no one's schema: it writes a fraction of the row and no index).
 *    Routing as the app does it: from the dispatch index kept live by NOTIFY (a NotificationHub on the
 *    pool); the PostGIS fallback (index not live) is measured too, for reference.
 * 2. Listing with filters at 1M events (generated in SQL): `listEventPage` against the very same SQL
 *    (`listEventsQuery`) sent through `pg`, p50/p99 per filter. Target p99 < 50 ms. Then OGC API items
 *    pages of the events collection (no target): the service's plan against the planner's.
 *
 * `npx tsx scripts/bench/events.bench.ts` (or `npm run bench -- events`). EVENTS_BENCH_ROWS overrides 1M;
 * EVENTS_BENCH_PARTS=intake or =listing runs one part;
 * EVENTS_BENCH_EXPLAIN=1 prints each filter's plan (EXPLAIN ANALYZE of its first query).
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { permissionsOf, type Principal } from '../../server/auth/principal';
import type { CreateEventBody, EventListQuery } from '../../server/contracts/events';
import type { Database } from '../../server/db/database';
import { SYSTEM_ACTOR } from '../../server/modules/audit/audit.service';
import { NotificationHub } from '../../server/db/notifications';
import { DataChangeAnnouncer } from '../../server/db/data-changes';
import { DispatchService } from '../../server/modules/dispatch/dispatch.service';
import { listEventsQuery, type EventFilter } from '../../server/modules/events/event.repository';
import { listEventPage, reportEvent, type EventContext } from '../../server/modules/events/event.service';
import { findCollection } from '../../server/modules/ogc/ogc-collections';
import { queryItems, type ItemsQuery } from '../../server/modules/ogc/ogc.repository';
import { groupCommitOf } from '../../server/modules/events/intake-group-commit';
import { createRegistryCipher } from '../../server/modules/registry/registry-crypto';
import { median, percentile, withScratchDatabase, writeResults } from './bench-kit';
import { CHANNELS, COLS, COMMUNITY, E, N, ROWS, runPool, S, seededRandom, setUpCommunity, SUBTYPES, W } from './events-bench-data';
import { IDEMPOTENCY_KEY } from '../../server/http/errors';

const INTAKE_EVENTS = Number(process.env.EVENTS_BENCH_INTAKE ?? 2000);
const CONCURRENCY = 8;
const INTAKE_ROUNDS = Number(process.env.EVENTS_BENCH_ROUNDS ?? 3);
const LIST_ROWS = Number(process.env.EVENTS_BENCH_ROWS ?? 1_000_000);
const LIST_RUNS = 200;
/** `intake`, `listing` or both (default): which part of the benchmark to run. */
const PARTS = (process.env.EVENTS_BENCH_PARTS ?? 'intake,listing').split(',');

const admin: Principal = { kind: 'user', userId: null, username: 'bench', roles: ['admin'], permissions: permissionsOf(['admin']), scope: { all: true, prefixes: [] } };

const rand = seededRandom(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;



/** The dispatch index as the app keeps it: loaded, then kept in sync by NOTIFY over the pool. */
async function liveDispatch(db: Database, pool: pg.Pool): Promise<{ dispatch: DispatchService; hub: NotificationHub }> {
  const dispatch = new DispatchService(db);
  const hub = new NotificationHub(pool);
  dispatch.attach(hub);
  await hub.start();
  await dispatch.refresh();
  if (!dispatch.live) throw new Error('dispatch index is not live');
  return { dispatch, hub };
}

async function benchIntake(db: Database, pool: pg.Pool, dispatch: DispatchService): Promise<Record<string, unknown>> {
  const cipher = createRegistryCipher(randomBytes(32).toString('base64'));
  // As the app wires it: each intake announces new events to the tile caches after commit, coalesced.
  const changes = new DataChangeAnnouncer(db);
  const groupCommit = process.env.EVENTS_BENCH_GROUP_INFLIGHT ? { maxInFlight: Number(process.env.EVENTS_BENCH_GROUP_INFLIGHT) } : {};
  const ctx: EventContext = { db, cipher, dispatch, groupCommit, onEventsCreated: () => changes.announce('events') };
  const unbatchedCtx: EventContext = { ...ctx, groupCommit: false };
  const postgisCtx: EventContext = { db, cipher, groupCommit, onEventsCreated: () => changes.announce('events') };
  const bodies: CreateEventBody[] = Array.from({ length: INTAKE_EVENTS }, (_, i) => ({
    category: pick(SUBTYPES),
    description: `基准测试事件 ${i}`,
    channel: pick(CHANNELS) as CreateEventBody['channel'],
    location: { type: 'Point', coordinates: [W + rand() * (E - W), S + rand() * (N - S)] },
    reporter: { name: '测试', phone: '13800000000' },
  }));
  await pool.query(`CREATE TABLE bare_events (category text, description text, channel text, occurred_at timestamptz, reported_at timestamptz, geom geometry(Point, 4326), reporter text)`);
  // Warm both paths (plans, connections) before timing.
  for (const b of bodies.slice(0, 20)) await reportEvent(ctx, admin, b, { source: 'api', principalKey: 'bench', actor: SYSTEM_ACTOR });
  for (const b of bodies.slice(0, 20)) await reportEvent(postgisCtx, admin, b, { source: 'api', principalKey: 'bench', actor: SYSTEM_ACTOR });
  await pool.query('TRUNCATE events CASCADE');

  // INTAKE_ROUNDS rounds, each: the index-free INSERT, intake, then the same rows (below); the machine is
  // shared, so each round's ratios are taken and their medians reported.
  let k = 0;
  const rounds: Array<{ bareSeconds: number; intakeSeconds: number; sameRowsSeconds: number; unbatchedSeconds: number; meanBatch: number }> = [];
  const group = groupCommitOf(db);
  let r = { n: 0, routed: 0, staffed: 0, keys: 0, transitions: 0 };
  for (let round = 0; round < INTAKE_ROUNDS; round++) {
    await pool.query('TRUNCATE events, bare_events CASCADE');
    const bareSeconds = await runPool(bodies, CONCURRENCY, (b) =>
      pool.query(`INSERT INTO bare_events VALUES ($1, $2, $3, now(), now(), ST_SetSRID(ST_MakePoint($4, $5), 4326), $6)`, [
        b.category, b.description, b.channel, b.location!.coordinates[0], b.location!.coordinates[1], '测*',
      ]),
    );
    const before = { ...group.stats };
    const intakeSeconds = await runPool(bodies, CONCURRENCY, (b) =>
      reportEvent(ctx, admin, b, { source: 'api', principalKey: 'bench', idempotency: { key: `bench-${k++}`, where: IDEMPOTENCY_KEY }, actor: SYSTEM_ACTOR }),
    );
    const meanBatch = (group.stats.intakes - before.intakes) / Math.max(1, group.stats.batches - before.batches);
    const { rows } = await pool.query<{ n: number; routed: number; staffed: number; keys: number; transitions: number }>(
      `SELECT count(*)::int AS n, count(grid_id)::int AS routed, count(responsible_staff_id)::int AS staffed,
              (SELECT count(*)::int FROM event_idempotency_keys WHERE status_code = 201 AND event_id IS NOT NULL) AS keys,
              (SELECT count(*)::int FROM event_transitions WHERE action = 'report') AS transitions FROM events`,
    );
    r = rows[0]!;
    if (r.n !== INTAKE_EVENTS || r.routed !== INTAKE_EVENTS || r.keys !== INTAKE_EVENTS || r.transitions !== INTAKE_EVENTS) {
      throw new Error(`intake stored ${r.n} events, ${r.routed} routed, ${r.keys} keys, ${r.transitions} transitions`);
    }
    // The baseline the issue names: a bare INSERT of the same rows through pg — the very event rows intake
    // stored (every column, into the events table with its indexes and constraints), one durable
    // statement each at the same concurrency, without routing, idempotency, transition or duplicate hint.
    const { rows: stored } = await pool.query<Record<string, unknown>>('SELECT * FROM events ORDER BY id');
    await pool.query('TRUNCATE events CASCADE');
    const columns = Object.keys(stored[0] ?? {}).filter((c) => c !== 'id');
    const insertRow = `INSERT INTO events (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;
    const sameRowsSeconds = await runPool(stored, CONCURRENCY, (row) => pool.query(insertRow, columns.map((c) => row[c])));
    const { rows: copied } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    if (copied[0]?.n !== INTAKE_EVENTS) throw new Error(`the same-rows baseline stored ${copied[0]?.n} rows`);
    // For continuity: the same intake without group commit (each event its own statement and commit).
    await pool.query('TRUNCATE events CASCADE');
    const unbatchedSeconds = await runPool(bodies, CONCURRENCY, (b) =>
      reportEvent(unbatchedCtx, admin, b, { source: 'api', principalKey: 'bench', idempotency: { key: `bench-${k++}`, where: IDEMPOTENCY_KEY }, actor: SYSTEM_ACTOR }),
    );
    rounds.push({ bareSeconds, intakeSeconds, sameRowsSeconds, unbatchedSeconds, meanBatch });
    console.log(`round ${round + 1}: intake (group commit, ${meanBatch.toFixed(1)} events a commit) ${(INTAKE_EVENTS / intakeSeconds).toFixed(0)}/s, same rows ${(INTAKE_EVENTS / sameRowsSeconds).toFixed(0)}/s (${(sameRowsSeconds / intakeSeconds).toFixed(2)}×); without group commit ${(INTAKE_EVENTS / unbatchedSeconds).toFixed(0)}/s (${(sameRowsSeconds / unbatchedSeconds).toFixed(2)}×); index-free table ${(INTAKE_EVENTS / bareSeconds).toFixed(0)}/s (${(bareSeconds / intakeSeconds).toFixed(2)}×)`);
  }
  const mid = (f: (x: (typeof rounds)[number]) => number): number => median(rounds.map(f));
  const intakeSeconds = mid((x) => x.intakeSeconds);
  const bareSeconds = mid((x) => x.bareSeconds);
  const sameRowsSeconds = mid((x) => x.sameRowsSeconds);
  const ratioSameRows = mid((x) => x.sameRowsSeconds / x.intakeSeconds);
  const ratioIndexFree = mid((x) => x.bareSeconds / x.intakeSeconds);
  const ratioUnbatched = mid((x) => x.sameRowsSeconds / x.unbatchedSeconds);
  const unbatchedPerS = INTAKE_EVENTS / mid((x) => x.unbatchedSeconds);
  // The fallback when the index is not live (PostGIS routing and the registry roster), for reference.
  await pool.query('TRUNCATE events CASCADE');
  const postgisSeconds = await runPool(bodies, CONCURRENCY, (b) =>
    reportEvent(postgisCtx, admin, b, { source: 'api', principalKey: 'bench', idempotency: { key: `bench-pg-${k++}`, where: IDEMPOTENCY_KEY }, actor: SYSTEM_ACTOR }),
  );
  const { rows: sync } = await pool.query<{ synchronous_commit: string; fsync: string }>(`SELECT current_setting('synchronous_commit') AS synchronous_commit, current_setting('fsync') AS fsync`);
  const intakePerS = INTAKE_EVENTS / intakeSeconds;
  const barePerS = INTAKE_EVENTS / bareSeconds;
  const sameRowsPerS = INTAKE_EVENTS / sameRowsSeconds;
  const postgisPerS = INTAKE_EVENTS / postgisSeconds;
  console.log(`intake with group commit (median of ${INTAKE_ROUNDS} rounds): ${intakePerS.toFixed(0)} events/s (routed ${r.routed}, with on-duty staff ${r.staffed}); bare INSERT of the same event rows (one commit each): ${sameRowsPerS.toFixed(0)} rows/s; ratio ${ratioSameRows.toFixed(2)}× (target ≥ 0.5×; synchronous_commit=${sync[0]?.synchronous_commit}, fsync=${sync[0]?.fsync}, concurrency ${CONCURRENCY})`);
  console.log(`  intake without group commit (one statement and commit per event, for continuity): ${unbatchedPerS.toFixed(0)} events/s, ratio ${ratioUnbatched.toFixed(2)}×`);
  console.log(`  against a 7-column INSERT into an index-free table (${barePerS.toFixed(0)} rows/s): ${ratioIndexFree.toFixed(2)}×`);
  console.log(`intake with PostGIS routing (dispatch index not live): ${postgisPerS.toFixed(0)} events/s, ratio ${(postgisPerS / sameRowsPerS).toFixed(2)}× the same rows`);
  return {
    intakePerS,
    sameRowsPerS,
    ratio: ratioSameRows,
    groupCommit: true,
    unbatchedPerS,
    ratioUnbatched,
    indexFreeTablePerS: barePerS,
    ratioToIndexFreeTable: ratioIndexFree,
    rounds,
    postgisPerS,
    postgisRatio: postgisPerS / sameRowsPerS,
  };
}

async function generateEvents(pool: pg.Pool, n: number): Promise<void> {
  const started = performance.now();
  // Points uniform over the community; the grid code follows from the lattice cell, so it agrees with ST_Covers.
  await pool.query(`
    INSERT INTO events (taxonomy_version, category_code, description, channel, occurred_at, reported_at, geom, grid_code, grid_name, layout_id,
                        community_code, street_code, state, stage, stage_due_at, due_at, closed_at)
    SELECT 1, cats[1 + (i % ${SUBTYPES.length})], 'generated', chans[1 + ((i / 7) % 5)], rep, rep, ST_SetSRID(ST_MakePoint(x, y), 4326),
           '${COMMUNITY}' || lpad((floor((y - ${S}) / ${(N - S) / ROWS}) * ${COLS} + floor((x - ${W}) / ${(E - W) / COLS}) + 1)::int::text, 3, '0'),
           '', (SELECT id FROM layouts LIMIT 1), '${COMMUNITY}', '410105001', st,
           CASE WHEN st IN ('closed', 'rejected') THEN NULL ELSE 'handle' END,
           CASE WHEN st IN ('closed', 'rejected') THEN NULL ELSE rep + interval '3 days' END,
           rep + interval '5 days', CASE WHEN st = 'closed' THEN rep + interval '2 days' END
    FROM (
      SELECT i, ${W} + random() * ${E - W - 1e-9} AS x, ${S} + random() * ${N - S - 1e-9} AS y,
             now() - random() * interval '365 days' AS rep,
             (ARRAY['closed','closed','closed','closed','closed','rejected','reported','accepted','dispatched','in_progress','resolved','verified'])[1 + floor(random() * 12)::int] AS st
      FROM generate_series(1, ${n}) i
    ) g, (SELECT ARRAY[${SUBTYPES.map((s) => `'${s}'`).join(',')}] AS cats, ARRAY[${CHANNELS.map((c) => `'${c}'`).join(',')}] AS chans) c`);
  await pool.query('ANALYZE events');
  console.log(`generated ${n.toLocaleString('en')} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** The repository filter listEventPage builds for a query (admin: no scope). */
function filterOf(q: EventListQuery): EventFilter {
  const bbox = q.bbox?.split(',').map(Number) as [number, number, number, number] | undefined;
  return {
    scopePrefixes: null, limit: (q.limit ?? 100) + 1,
    ...(q.grid ? { grid: q.grid } : {}), ...(q.community ? { community: q.community } : {}), ...(q.state ? { states: q.state.split(',') } : {}),
    ...(q.category ? { category: q.category } : {}), ...(q.channel ? { channel: q.channel } : {}), ...(q.overdue === undefined ? {} : { overdue: q.overdue }),
    ...(q.from ? { from: new Date(q.from) } : {}), ...(q.to ? { to: new Date(q.to) } : {}), ...(bbox ? { bbox } : {}), ...(q.after === undefined ? {} : { after: q.after }),
  };
}

async function benchListing(db: Database, pool: pg.Pool): Promise<Record<string, unknown>> {
  await pool.query('TRUNCATE events CASCADE');
  await generateEvents(pool, LIST_ROWS);
  const ctx: EventContext = { db, cipher: createRegistryCipher(randomBytes(32).toString('base64')) };
  const grid = (): string => `${COMMUNITY}${String(1 + Math.floor(rand() * COLS * ROWS)).padStart(3, '0')}`;
  const box = (): string => {
    const x = W + rand() * (E - W - 0.005), y = S + rand() * (N - S - 0.005);
    return `${x},${y},${x + 0.005},${y + 0.005}`;
  };
  const week = (): { from: string; to: string } => {
    const to = Date.now() - rand() * 300 * 86_400_000;
    return { from: new Date(to - 7 * 86_400_000).toISOString(), to: new Date(to).toISOString() };
  };
  const scenarios: Array<[string, () => EventListQuery]> = [
    ['grid', () => ({ grid: grid(), limit: 100 })],
    ['grid + open states', () => ({ grid: grid(), state: 'reported,accepted,dispatched,in_progress', limit: 100 })],
    ['state + category', () => ({ state: pick(['dispatched', 'in_progress', 'resolved']), category: pick(['dispute', 'environment', 'facility']), limit: 100 })],
    ['overdue in a grid', () => ({ grid: grid(), overdue: true, limit: 100 })],
    ['bbox 500 m', () => ({ bbox: box(), limit: 100 })],
    ['week + channel', () => ({ ...week(), channel: pick(CHANNELS) as EventListQuery['channel'], limit: 100 })],
    ['community, page 2 (keyset)', () => ({ community: COMMUNITY, after: LIST_ROWS - Math.floor(rand() * 1000), limit: 100 })],
  ];
  const results: Record<string, unknown> = {};
  let worstP99 = 0;
  for (const [name, make] of scenarios) {
    const queries = Array.from({ length: LIST_RUNS }, make);
    for (const q of queries.slice(0, 10)) await listEventPage(ctx, admin, q);
    if (process.env.EVENTS_BENCH_EXPLAIN) {
      const compiled = listEventsQuery(filterOf(queries[0]!)).compile(db);
      const { rows: plan } = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${compiled.sql}`, compiled.parameters as unknown[]);
      console.log(`-- ${name}\n${plan.map((p) => p['QUERY PLAN']).join('\n')}`);
    }
    const api: number[] = [];
    const raw: number[] = [];
    for (const q of queries) {
      let t0 = performance.now();
      await listEventPage(ctx, admin, q);
      api.push(performance.now() - t0);
      // The baseline: the same SQL listEventPage sends (its limit + 1 rows), straight through pg.
      const compiled = listEventsQuery(filterOf(q)).compile(db);
      t0 = performance.now();
      await pool.query(compiled.sql, compiled.parameters as unknown[]);
      raw.push(performance.now() - t0);
    }
    api.sort((a, b) => a - b);
    raw.sort((a, b) => a - b);
    const r = { apiP50: percentile(api, 50), apiP99: percentile(api, 99), rawP50: percentile(raw, 50), rawP99: percentile(raw, 99) };
    worstP99 = Math.max(worstP99, r.apiP99);
    results[name] = r;
    console.log(`list ${name.padEnd(28)} service p50 ${r.apiP50.toFixed(1)} ms, p99 ${r.apiP99.toFixed(1)} ms | same SQL via pg p50 ${r.rawP50.toFixed(1)} ms, p99 ${r.rawP99.toFixed(1)} ms`);
  }
  console.log(`listing at ${LIST_ROWS.toLocaleString('en')} events: worst p99 ${worstP99.toFixed(1)} ms (target < 50 ms)`);
  return { rows: LIST_ROWS, worstP99, scenarios: results, ogc: await benchOgcPages(db) };
}

/**
 * OGC API items pages of the events collection at LIST_ROWS events (what QGIS asks while panning), no
 * target: the service's plan choice (ogc.repository.ts queryItems: a capped count, then the first rows
 * in key order when many match) against the planner's own plan for the same page (walk budget 0: every
 * match fetched and sorted), alternating, in the same run.
 */
async function benchOgcPages(db: Database): Promise<Record<string, unknown>> {
  const events = findCollection('events');
  if (!events) throw new Error('no events collection');
  const box = (side: number): [number, number, number, number] => {
    const x = W + rand() * (E - W - side), y = S + rand() * (N - S - side);
    return [x, y, x + side, y + side];
  };
  const scenarios: Array<[string, () => ItemsQuery]> = [
    ['no filter, first page', () => ({ filters: [], limit: 100, offset: 0, flip: false })],
    ['bbox 1 km (~80k match)', () => ({ bbox: box(0.01), filters: [], limit: 100, offset: 0, flip: false })],
    ['bbox 500 m (~20k match)', () => ({ bbox: box(0.005), filters: [], limit: 100, offset: 0, flip: false })],
    ['bbox 1 km, page 11', () => ({ bbox: box(0.01), filters: [], limit: 100, offset: 1000, flip: false })],
    ['bbox 200 m (~3k match)', () => ({ bbox: box(0.002), filters: [], limit: 100, offset: 0, flip: false })],
  ];
  const results: Record<string, unknown> = {};
  for (const [name, make] of scenarios) {
    const queries = Array.from({ length: 40 }, make);
    const service: number[] = [];
    const planner: number[] = [];
    for (const q of queries) {
      let t0 = performance.now();
      const a = await queryItems(db, events, { scopePrefixes: null }, q);
      service.push(performance.now() - t0);
      t0 = performance.now();
      const b = await queryItems(db, events, { scopePrefixes: null }, q, { walkBudget: 0 });
      planner.push(performance.now() - t0);
      if (JSON.stringify(a.features) !== JSON.stringify(b.features)) throw new Error(`OGC ${name}: the two plans disagree`);
    }
    const r = { p50: percentile(service.sort((a, b) => a - b), 50), p99: percentile(service, 99), plannerP50: percentile(planner.sort((a, b) => a - b), 50), plannerP99: percentile(planner, 99) };
    results[name] = r;
    console.log(`OGC items ${name.padEnd(26)} service p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms | planner's plan p50 ${r.plannerP50.toFixed(1)} ms, p99 ${r.plannerP99.toFixed(1)} ms (${(r.plannerP50 / r.p50).toFixed(1)}× the service's p50)`);
  }
  return results;
}

await withScratchDatabase('events', async ({ db, pool }) => {
  await setUpCommunity(db);
  const { dispatch, hub } = await liveDispatch(db, pool);
  const intake = PARTS.includes('intake') ? await benchIntake(db, pool, dispatch) : null;
  await hub.close();
  const listing = PARTS.includes('listing') ? await benchListing(db, pool) : null;
  console.log(`results: ${writeResults('events', { intake, listing })}`);
});
