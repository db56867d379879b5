/**
 * Where an event intake's time goes (issue #7), against the bare INSERT of the same row: Node CPU per event
 * (process.cpuUsage), PostgreSQL CPU per event (the cluster's processes, from /proc) and pg round trips
 * per event at concurrency 8 as in events.bench.ts (group commit on, or INTAKE_PROFILE_UNBATCHED=1; batch
 * slots INTAKE_PROFILE_INFLIGHT), then the plan of every statement inside `events_report_batch` for a
 * lone intake and a batch of 8 (auto_explain: ANALYZE, BUFFERS, WAL, nested) and of the bare INSERT.
 * INTAKE_PROFILE_CPUPROF=file writes a V8 CPU profile of the intake phase.
 * Not a benchmark with a target: a diagnosis. Run through the lock:
 * `flock /tmp/wangge-bench.lock npx tsx scripts/bench/intake-profile.ts` (INTAKE_PROFILE_OPEN=N first
 * stores N open events, to see the duplicate search with many open events nearby).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../server/config';
import { Session } from 'node:inspector';
import { sql } from 'kysely';
import pg from 'pg';
import { permissionsOf, type Principal } from '../../server/auth/principal';
import type { CreateEventBody } from '../../server/contracts/events';
import { openDatabase } from '../../server/db/database';
import { NotificationHub } from '../../server/db/notifications';
import { SYSTEM_ACTOR } from '../../server/modules/audit/audit.service';
import { DispatchService } from '../../server/modules/dispatch/dispatch.service';
import { reportEvent, type EventContext } from '../../server/modules/events/event.service';
import { groupCommitOf } from '../../server/modules/events/intake-group-commit';
import { createRegistryCipher } from '../../server/modules/registry/registry-crypto';
import { withScratchDatabase } from './bench-kit';
import { CHANNELS, E, N, runPool, S, seededRandom, setUpCommunity, SUBTYPES, W } from './events-bench-data';
import { IDEMPOTENCY_KEY } from '../../server/http/errors';

const EVENTS = 2000;
const OPEN = Number(process.env.INTAKE_PROFILE_OPEN ?? 0);
const admin: Principal = { kind: 'user', userId: null, username: 'bench', roles: ['admin'], permissions: permissionsOf(['admin']), scope: { all: true, prefixes: [] } };

const rand = seededRandom(7);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const body = (i: number): CreateEventBody => ({
  category: pick(SUBTYPES), description: `基准测试事件 ${i}`, channel: pick(CHANNELS) as CreateEventBody['channel'],
  location: { type: 'Point', coordinates: [W + rand() * (E - W), S + rand() * (N - S)] }, reporter: { name: '测试', phone: '13800000000' },
});



/** A V8 CPU profile of the intake phase only (INTAKE_PROFILE_CPUPROF=file.cpuprofile). */
async function startProfiler(): Promise<() => Promise<object>> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<{ profile?: object }>((resolve, reject) => session.post(method, params ?? {}, (err, r) => (err ? reject(err) : resolve(r as { profile?: object }))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
  return async () => (await post('Profiler.stop')).profile ?? {};
}

/** CPU seconds used so far by the PostgreSQL cluster serving this run (postmaster and its children). */
function postgresCpuSeconds(): number {
  const pidFile = path.join(PROJECT_ROOT, '.data/pg/postmaster.pid');
  if (!existsSync(pidFile)) return NaN;
  const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // f[1] = ppid, f[11] = utime, f[12] = stime (fields 4, 14, 15 of proc(5))
      if (Number(pid) === postmaster || Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100;
}

/** Counts every query sent through any pg client of this process. */
let queries = 0;
const originalQuery = Reflect.get(pg.Client.prototype, 'query') as (this: pg.Client, ...a: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  queries++;
  return originalQuery.apply(this, args);
} as typeof pg.Client.prototype.query;

await withScratchDatabase('intakeprof', async ({ db, pool, url }) => {
  await setUpCommunity(db);
  const dispatch = new DispatchService(db);
  const hub = new NotificationHub(pool);
  dispatch.attach(hub);
  await hub.start();
  await dispatch.refresh();
  const cipher = createRegistryCipher(randomBytes(32).toString('base64'));
  const ctx: EventContext = { db, cipher, dispatch, groupCommit: process.env.INTAKE_PROFILE_UNBATCHED ? false : { maxInFlight: Number(process.env.INTAKE_PROFILE_INFLIGHT ?? 2), maxBatch: Number(process.env.INTAKE_PROFILE_MAXBATCH ?? 64) } };
  let k = 0;
  const intake = (b: CreateEventBody): Promise<unknown> => reportEvent(ctx, admin, b, { source: 'api', principalKey: 'bench', idempotency: { key: `p-${k++}`, where: IDEMPOTENCY_KEY }, actor: SYSTEM_ACTOR });
  for (let i = 0; i < 50; i++) await intake(body(i));
  if (OPEN > 0) {
    // As in events.bench.ts rounds: from an emptied table (TRUNCATE drops the statistics plans were made with).
    await pool.query('TRUNCATE events CASCADE');
    const s = await runPool(Array.from({ length: OPEN }, (_, i) => body(i)), 8, intake);
    console.log(`stored ${OPEN} open events first, from an empty table: ${(OPEN / s).toFixed(0)}/s`);
  }

  // 1. Node CPU and round trips per event, concurrency 8.
  const bodies = Array.from({ length: EVENTS }, (_, i) => body(i));
  const profiler = process.env.INTAKE_PROFILE_CPUPROF ? await startProfiler() : undefined;
  const g0 = { ...groupCommitOf(db).stats };
  let q0 = queries, c0 = process.cpuUsage(), p0 = postgresCpuSeconds();
  const intakeS = await runPool(bodies, 8, intake);
  let c = process.cpuUsage(c0);
  if (profiler) writeFileSync(process.env.INTAKE_PROFILE_CPUPROF!, JSON.stringify(await profiler()));
  const intakeQ = queries - q0;
  const intakeCpu = (c.user + c.system) / EVENTS;
  const intakeSys = c.system / EVENTS;
  const intakePg = ((postgresCpuSeconds() - p0) * 1e6) / EVENTS;
  const { rows: stored } = await pool.query<Record<string, unknown>>(`SELECT * FROM events ORDER BY id DESC LIMIT ${EVENTS}`);
  const columns = Object.keys(stored[0] ?? {}).filter((x) => x !== 'id');
  const insertRow = `INSERT INTO events (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;
  q0 = queries; c0 = process.cpuUsage(); p0 = postgresCpuSeconds();
  const bareS = await runPool(stored, 8, (row) => pool.query(insertRow, columns.map((x) => row[x])));
  c = process.cpuUsage(c0);
  const barePg = ((postgresCpuSeconds() - p0) * 1e6) / EVENTS;
  const g = groupCommitOf(db).stats;
  const batches = g.batches - g0.batches;
  console.log(`group commit: ${batches} batches, ${((g.intakes - g0.intakes) / Math.max(1, batches)).toFixed(1)} intakes a batch, ${g.fallbacks - g0.fallbacks} fallbacks`);
  console.log(`intake: ${(EVENTS / intakeS).toFixed(0)}/s, Node CPU ${intakeCpu.toFixed(0)} µs/event (kernel ${intakeSys.toFixed(0)}), ${(intakeQ / EVENTS).toFixed(2)} pg queries/event; PostgreSQL CPU ${intakePg.toFixed(0)} µs/event`);
  console.log(`bare INSERT of the same rows: ${(EVENTS / bareS).toFixed(0)}/s, Node CPU ${((c.user + c.system) / EVENTS).toFixed(0)} µs/row (kernel ${(c.system / EVENTS).toFixed(0)}), ${((queries - q0) / EVENTS).toFixed(2)} pg queries/row; PostgreSQL CPU ${barePg.toFixed(0)} µs/row; ratio ${(bareS / intakeS).toFixed(2)}×`);

  // 2. Plans: every statement inside events_report_batch, and the bare INSERT, on one connection.
  const one = openDatabase(url, { max: 1 });
  await sql`LOAD 'auto_explain'`.execute(one.db);
  await sql`SET auto_explain.log_min_duration = 0`.execute(one.db);
  await sql`SET auto_explain.log_analyze = on`.execute(one.db);
  await sql`SET auto_explain.log_buffers = on`.execute(one.db);
  await sql`SET auto_explain.log_wal = on`.execute(one.db);
  await sql`SET auto_explain.log_nested_statements = on`.execute(one.db);
  await sql`SET auto_explain.log_level = notice`.execute(one.db);
  const client = await one.pool.connect();
  const notices: string[] = [];
  client.on('notice', (n) => notices.push(n.message ?? ''));
  client.release();
  const oneCtx: EventContext = { db: one.db, cipher, dispatch, groupCommit: { maxInFlight: 1 } };
  const several = (n: number, tag: string) => Promise.all(Array.from({ length: n }, (_, i) => reportEvent(oneCtx, admin, body(i), { source: 'api', principalKey: 'bench', idempotency: { key: `${tag}-${k++}`, where: IDEMPOTENCY_KEY }, actor: SYSTEM_ACTOR })));
  // Warm both plans (events_report alone; events_report_batch: one goes alone, the rest together).
  for (let i = 0; i < 8; i++) await several(4, 'w');
  notices.length = 0;
  await several(9, 'b');
  console.log('---- events_report_batch, one alone then 8 together (auto_explain, nested) ----');
  for (const n of notices) console.log(n);
  notices.length = 0;
  await reportEvent(oneCtx, admin, body(1), { source: 'api', principalKey: 'bench', idempotency: { key: `x-${k++}`, where: IDEMPOTENCY_KEY }, actor: SYSTEM_ACTOR });
  console.log('---- events_report_batch, one event (auto_explain, nested) ----');
  for (const n of notices) console.log(n);
  notices.length = 0;
  const row = stored[0]!;
  await one.pool.query(insertRow, columns.map((x) => row[x]));
  console.log('---- bare INSERT of the same row ----');
  for (const n of notices) console.log(n);
  // Serial latency, one connection: intake against the bare INSERT (auto_explain off again).
  await sql`SET auto_explain.log_min_duration = -1`.execute(one.db);
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) await reportEvent(oneCtx, admin, body(i), { source: 'api', principalKey: 'bench', idempotency: { key: `y-${k++}`, where: IDEMPOTENCY_KEY }, actor: SYSTEM_ACTOR });
  const t1 = performance.now();
  for (let i = 0; i < 200; i++) await one.pool.query(insertRow, columns.map((x) => stored[i]![x]));
  const t2 = performance.now();
  console.log(`serial (one connection): intake ${((t1 - t0) / 200).toFixed(2)} ms, bare INSERT ${((t2 - t1) / 200).toFixed(2)} ms`);
  await one.close();
  await hub.close();
});
