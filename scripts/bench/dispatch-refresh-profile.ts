/**
 * Event-loop stalls while dispatch rebuilds its in-memory index (issue #6), on the demo generator's
 * large district: `flock /tmp/wangge-bench.lock npx tsx scripts/bench/dispatch-refresh-profile.ts`.
 *
 * The server is the dispatch route (its service following PostgreSQL's announcements, as in the app).
 * Refreshes are caused the way production causes them — by SQL that fires the triggers: a roster change
 * (an UPDATE of one staff row → `wangge_roster_changed`) and a layout publish (a published grid renamed
 * → `wangge_data_changed` 'grids', as a publish announces it since migration 0028).
 * It uses only the service's public API, so the same script measures older code (a worktree of `main`).
 *
 * 1. Idle: each kind of refresh 8 times; the longest event-loop stall (perf_hooks monitorEventLoopDelay,
 *    1 ms resolution) from the SQL until every rebuild it caused is done, how long until the new data is
 *    served, what was rebuilt in how many slices (where the service reports it), and the
 *    longest garbage-collection pause meanwhile; and as a control, as long a window with no refresh.
 * 2. Under load: autocannon (50 connections, child process) for BENCH_DURATION_S seconds with no
 *    refresh, then as long with a roster change or a layout publish every 250 ms (alternating):
 *    lookup p99/p99.9/max latency and the longest stall. Rounds alternate; medians are reported.
 */
import os from 'node:os';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import Fastify from 'fastify';
import { NotificationHub } from '../../server/db/notifications';
import { dispatchRoutes } from '../../server/modules/dispatch/dispatch.routes';
import { DispatchService } from '../../server/modules/dispatch/dispatch.service';
import { runCli } from '../cli';
import { median, withScratchDatabase, writeResults } from './bench-kit';
import { lookupPaths, runAutocannon, seedLargeDistrict, type AutocannonResult } from './dispatch-bench-data';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IDLE_REPEATS = 8;
const REFRESH_EVERY_MS = 250;

type Kind = 'roster' | 'layout';
const KINDS = ['none', 'roster', 'layout'] as const;

runCli(async () => {
  await withScratchDatabase('dispatchrefresh', async (handle) => {
    const data = await seedLargeDistrict(handle);
    const dispatch = new DispatchService(handle.db);
    const hub = new NotificationHub(handle.pool);
    dispatch.attach(hub);
    await hub.start();
    const snap = await dispatch.refresh();
    const app = Fastify();
    await app.register(dispatchRoutes, { dispatch });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const grids = snap.spatial.grids;
    const bbox = grids.reduce<[number, number, number, number]>((b, g) => [Math.min(b[0], g.geom.bbox[0]), Math.min(b[1], g.geom.bbox[1]), Math.max(b[2], g.geom.bbox[2]), Math.max(b[3], g.geom.bbox[3])], [Infinity, Infinity, -Infinity, -Infinity]);
    const paths = lookupPaths(bbox);
    const { rows: ids } = await handle.pool.query<{ staff: number; layout: number; community: string }>(
      `SELECT (SELECT min(id) FROM staff) AS staff, l.id AS layout, l.community_code AS community FROM layouts l WHERE l.status = 'published' ORDER BY l.id LIMIT 1`,
    );
    const target = ids[0];
    if (!target) throw new Error('no published layout');
    console.log(`${grids.length} grids, ${data.staff} staff, ${data.shifts} shifts; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);

    // Garbage-collection pauses (the main thread stops for them too), to tell them from the rebuild's own work.
    let gcPauses: number[] = [];
    const gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcPauses.push(e.duration);
    });
    gcObserver.observe({ entryTypes: ['gc'] });

    const change = async (kind: Kind): Promise<void> => {
      if (kind === 'roster') await handle.pool.query('UPDATE staff SET phone = phone WHERE id = $1', [target.staff]);
      else {
        // A published grid renamed (back and forth), so the published grids really change.
        await handle.pool.query(`UPDATE grids SET name = CASE WHEN name LIKE '%′' THEN left(name, -1) ELSE name || '′' END WHERE id = (SELECT min(id) FROM grids WHERE layout_id = $1)`, [target.layout]);
      }
    };
    /** Resolves after the next completed rebuild (onRefresh fires once coalesced rebuilds are done). */
    const nextRefresh = (): Promise<void> =>
      new Promise((resolve) => {
        dispatch.onRefresh = () => {
          dispatch.onRefresh = undefined;
          resolve();
        };
      });

    // 1. Idle refreshes.
    type Report = { rebuilt: string[]; slices: number; longestSliceMs: number; busyMs: number };
    // What each rebuild did, where the service reports it (older code does not). A publish announces on
    // two channels, so it may cause two rebuilds (the second finds nothing new): a window sums them.
    let reports: Report[] = [];
    (dispatch as { onRebuild?: (r: Report) => void }).onRebuild = (r) => reports.push(r);
    const windowReport = (): Report | undefined =>
      reports.length === 0
        ? undefined
        : {
            rebuilt: [...new Set(reports.flatMap((r) => r.rebuilt))],
            slices: reports.reduce((n, r) => n + r.slices, 0),
            longestSliceMs: Math.max(...reports.map((r) => r.longestSliceMs)),
            busyMs: reports.reduce((n, r) => n + r.busyMs, 0),
          };
    /** Until every rebuild the change announced is done: live (no rebuild under way) for 3 × 20 ms. */
    const settled = async (): Promise<void> => {
      for (let quiet = 0; quiet < 3; ) {
        await new Promise((r) => setTimeout(r, 20));
        quiet = dispatch.live ? quiet + 1 : 0;
      }
    };
    // 'none': a window as long as a layout refresh with nothing happening — this machine's own noise.
    const idle: Record<(typeof KINDS)[number], { stallMs: number[]; servedAfterMs: number[]; gcMaxMs: number[]; rebuilds: Report[] }> = {
      none: { stallMs: [], servedAfterMs: [], gcMaxMs: [], rebuilds: [] },
      roster: { stallMs: [], servedAfterMs: [], gcMaxMs: [], rebuilds: [] },
      layout: { stallMs: [], servedAfterMs: [], gcMaxMs: [], rebuilds: [] },
    };
    for (let i = 0; i < IDLE_REPEATS; i++) {
      for (const kind of KINDS) {
        const h = monitorEventLoopDelay({ resolution: 1 });
        const done = kind === 'none' ? new Promise((r) => setTimeout(r, median(idle.layout.servedAfterMs.length > 0 ? idle.layout.servedAfterMs : [100]))) : nextRefresh();
        const started = performance.now();
        gcPauses = [];
        reports = [];
        h.enable();
        if (kind !== 'none') await change(kind);
        await done;
        const servedAfter = performance.now() - started;
        // A stall at the very end of the rebuild shows once the next timer fires.
        await settled();
        h.disable();
        idle[kind].stallMs.push(h.max / 1e6);
        idle[kind].servedAfterMs.push(servedAfter);
        idle[kind].gcMaxMs.push(Math.max(0, ...gcPauses));
        const report = windowReport();
        if (report && kind !== 'none') idle[kind].rebuilds.push(report);
      }
    }
    const idleSummary = Object.fromEntries(
      KINDS.map((k) => {
        const r = idle[k].rebuilds;
        return [
          k,
          {
            medianStallMs: round(median(idle[k].stallMs)),
            worstStallMs: round(Math.max(...idle[k].stallMs)),
            medianServedAfterMs: round(median(idle[k].servedAfterMs)),
            medianLongestGcMs: round(median(idle[k].gcMaxMs)),
            ...(r.length > 0
              ? { rebuilt: r[r.length - 1]?.rebuilt.join('+'), slices: median(r.map((x) => x.slices)), longestSliceMs: round(Math.max(...r.map((x) => x.longestSliceMs))), busyMs: round(median(r.map((x) => x.busyMs))) }
              : {}),
          },
        ];
      }),
    );
    console.table(idleSummary);

    // 2. Under load.
    const underLoad = async (refreshing: boolean): Promise<AutocannonResult & { stallMs: number; refreshes: number }> => {
      const h = monitorEventLoopDelay({ resolution: 1 });
      let stop = false;
      let refreshes = 0;
      const driver = (async () => {
        if (!refreshing) return;
        for (let i = 0; !stop; i++) {
          await new Promise((r) => setTimeout(r, REFRESH_EVERY_MS));
          if (stop) break;
          await change(i % 2 === 0 ? 'roster' : 'layout');
          refreshes += 1;
        }
      })();
      h.enable();
      const r = await runAutocannon(url, paths, {}, DURATION_S, 50);
      h.disable();
      stop = true;
      await driver;
      await dispatch.refresh();
      return { ...r, stallMs: h.max / 1e6, refreshes };
    };
    await runAutocannon(url, paths, {}, 2, 50);
    const rounds: Array<{ quiet: Awaited<ReturnType<typeof underLoad>>; refreshing: Awaited<ReturnType<typeof underLoad>> }> = [];
    for (let i = 0; i < ROUNDS; i++) {
      const quiet = await underLoad(false);
      const refreshing = await underLoad(true);
      rounds.push({ quiet, refreshing });
      console.log(
        `round ${i + 1}: quiet ${Math.round(quiet.rps)} req/s p99 ${quiet.p99} ms p99.9 ${quiet.p999} ms max ${quiet.max} ms stall ${round(quiet.stallMs)} ms; ` +
          `refreshing (${refreshing.refreshes}×) ${Math.round(refreshing.rps)} req/s p99 ${refreshing.p99} ms p99.9 ${refreshing.p999} ms max ${refreshing.max} ms stall ${round(refreshing.stallMs)} ms; load average ${os.loadavg()[0]?.toFixed(1)}`,
      );
    }
    const mid = (pick: (r: (typeof rounds)[number]) => Awaited<ReturnType<typeof underLoad>>) => ({
      rps: Math.round(median(rounds.map((r) => pick(r).rps))),
      p50: median(rounds.map((r) => pick(r).p50)),
      p99: median(rounds.map((r) => pick(r).p99)),
      p999: median(rounds.map((r) => pick(r).p999)),
      max: median(rounds.map((r) => pick(r).max)),
      stallMs: round(median(rounds.map((r) => pick(r).stallMs))),
      errors: rounds.reduce((n, r) => n + pick(r).errors, 0),
    });
    const results = { grids: grids.length, idle: idleSummary, idleRaw: idle, quiet: mid((r) => r.quiet), refreshing: { ...mid((r) => r.refreshing), everyMs: REFRESH_EVERY_MS }, perRound: rounds, loadAverage: os.loadavg() };
    console.table({ 'no refresh': results.quiet, [`refresh every ${REFRESH_EVERY_MS} ms`]: results.refreshing });
    console.log(`results: ${writeResults('dispatch-refresh', results)}`);
    gcObserver.disconnect();
    await app.close();
    await hub.close();
  });
});

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
