/**
 * Dispatch lookup benchmark (issue #6, "Speed"): the full point lookup — grid, staff, on duty and
 * fallback chain, from the in-memory index — through the whole app, authenticated as a hotline client
 * would be (a dispatcher's API token in `Authorization`), against a bare Fastify route returning a
 * constant JSON body of the same size, each server warmed first, 50 connections over loopback.
 *
 * Two load generators, each in its own process (in the server's process a generator would take the CPU
 * the server needs on this two-core machine):
 * - autocannon, the protocol: its figures are the ones held to the target;
 * - wrk (C, Debian's package), the stricter reference: it needs less CPU per request than autocannon,
 *   leaves the server more, and its threads sleep between answers, so every answer costs the kernel a
 *   wake-up; a slower server pays more of those per request (measured: 17 µs kernel time a lookup against
 *   10 µs under autocannon), which widens the gap to the bare route. Both are reported.
 *
 * Also measured, for diagnosis: the dispatch plugin alone in a Fastify instance without the app's hooks.
 * BENCH_ROUNDS (3) rounds alternate the servers and generators; medians are reported (the machine is
 * shared). Target: full lookup ≥ 0.6 × the bare route, p99 ≤ 5 ms. Data: the demo generator's large district.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { buildApp } from '../../server/app';
import { testConfig } from '../../server/config';
import { NotificationHub } from '../../server/db/notifications';
import { dispatchRoutes } from '../../server/modules/dispatch/dispatch.routes';
import { DispatchService } from '../../server/modules/dispatch/dispatch.service';
import { ensureDebianPackages } from '../../server/test/system-packages';
import { runCli } from '../cli';
import { median, withScratchDatabase, writeResults } from './bench-kit';
import { lookupPaths, runAutocannon, seedLargeDistrict } from './dispatch-bench-data';

const run = promisify(execFile);

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_S = 2;

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** This process's CPU time (user + system) per request answered, in µs: every server here is in-process, one loaded at a time. */
  cpuUs: number;
  /** Of which in the kernel (system time: sockets, loopback TCP), µs per request. */
  sysUs: number;
}

/**
 * wrk cycling through the paths with the given headers. The requests are formatted once in `init`, so
 * wrk spends its CPU on sockets, not on Lua string building.
 */
async function load(url: string, paths: string[], headers: Record<string, string>, durationS = DURATION_S): Promise<Load> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wangge-wrk-'));
  const script = path.join(dir, 'dispatch.lua');
  const luaHeaders = Object.entries(headers)
    .map(([k, v]) => `[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
    .join(', ');
  writeFileSync(
    script,
    `local paths = {${paths.map((p) => JSON.stringify(p)).join(',')}}
local requests = {}
local i = 0
init = function(args)
  for k, p in ipairs(paths) do requests[k] = wrk.format("GET", p, { ${luaHeaders} }) end
  -- each wrk thread starts at its own place in the list
  i = math.random(#requests) - 1
end
request = function()
  i = i % #requests + 1
  return requests[i]
end
`,
  );
  try {
    const cpuBefore = process.cpuUsage();
    const { stdout } = await run('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${durationS}s`, '--latency', '-s', script, url]);
    const cpu = process.cpuUsage(cpuBefore);
    const num = (re: RegExp): number => Number(re.exec(stdout)?.[1] ?? NaN);
    const ms = (re: RegExp): number => {
      const m = re.exec(stdout);
      if (!m) return NaN;
      const v = Number(m[1]);
      return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
    };
    const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
    return {
      rps: num(/Requests\/sec:\s+([\d.]+)/),
      p50: ms(/ 50%\s+([\d.]+)(us|ms|s)/),
      p99: ms(/ 99%\s+([\d.]+)(us|ms|s)/),
      errors: (Number.isNaN(non2xx) ? 0 : non2xx) + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
      cpuUs: Math.round((10 * (cpu.user + cpu.system)) / num(/(\d+) requests in /)) / 10,
      sysUs: Math.round((10 * cpu.system) / num(/(\d+) requests in /)) / 10,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** autocannon (child process) as a Load: CPU per request is this process's, as for wrk. */
async function loadAutocannon(url: string, paths: string[], headers: Record<string, string>, durationS = DURATION_S): Promise<Load> {
  const cpuBefore = process.cpuUsage();
  const r = await runAutocannon(url, paths, headers, durationS, CONNECTIONS);
  const cpu = process.cpuUsage(cpuBefore);
  return { rps: r.rps, p50: r.p50, p99: r.p99, errors: r.errors, cpuUs: Math.round((10 * (cpu.user + cpu.system)) / r.total) / 10, sysUs: Math.round((10 * cpu.system) / r.total) / 10 };
}

/** Warm the server's JIT, then measure. */
async function measure(url: string, paths: string[], headers: Record<string, string> = {}, generator = load): Promise<Load> {
  await generator(url, paths, headers, WARMUP_S);
  return generator(url, paths, headers);
}

runCli(async () => {
  if (!ensureDebianPackages('/usr/bin/wrk', ['wrk'])) throw new Error('wrk is needed: sudo apt-get install -y wrk');
  await withScratchDatabase('dispatch', async (handle) => {
    const data = await seedLargeDistrict(handle);
    const { auth } = data;

    // The full app, as served: every hook, LISTEN for data and credential changes.
    const app = await buildApp({ config: testConfig({ logLevel: 'silent' }), db: handle.db, pool: handle.pool });
    const appUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    const dispatch = new DispatchService(handle.db);
    const snap = await dispatch.refresh();
    const [w, s, e, n] = snap.spatial.grids.reduce((b, g) => [Math.min(b[0], g.geom.bbox[0]), Math.min(b[1], g.geom.bbox[1]), Math.max(b[2], g.geom.bbox[2]), Math.max(b[3], g.geom.bbox[3])], [Infinity, Infinity, -Infinity, -Infinity]);
    const paths = lookupPaths([w, s, e, n]);
    console.log(`${snap.spatial.grids.length} grids, ${data.staff} staff, ${data.shifts} shifts`);

    // Answer sizes, so the baseline sends as many bytes; and a check that the token works.
    let bytes = 0;
    const sample = paths.slice(0, 200);
    for (const p of sample) {
      const res = await fetch(appUrl + p, { headers: auth });
      if (res.status !== 200) throw new Error(`lookup answered ${res.status}: ${await res.text()}`);
      bytes += (await res.arrayBuffer()).byteLength;
    }
    const answerBytes = Math.round(bytes / sample.length);
    const bareBody = JSON.stringify({ padding: 'x'.repeat(Math.max(0, answerBytes - 14)) });

    // Baseline: a bare Fastify route returning a constant JSON body of the same size.
    const bare = Fastify();
    bare.get('/api/v1/dispatch/lookup', async (_request, reply) => reply.type('application/json; charset=utf-8').send(bareBody));
    const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });

    // Diagnosis: the dispatch plugin alone (no auth, rate-limit or error hooks).
    const hub = new NotificationHub(handle.pool);
    dispatch.attach(hub);
    await hub.start();
    const alone = Fastify();
    await alone.register(dispatchRoutes, { dispatch });
    const aloneUrl = await alone.listen({ port: 0, host: '127.0.0.1' });

    // Rounds alternate the servers and generators, so a burst of other work on this shared machine falls
    // on all of them alike; each figure is the median of its rounds, each ratio the median of per-round ratios.
    const rounds: Array<{ bare: Load; full: Load; route: Load; acBare: Load; acFull: Load }> = [];
    for (let i = 0; i < ROUNDS; i++) {
      const acBare = await measure(bareUrl, paths, auth, loadAutocannon);
      const acFull = await measure(appUrl, paths, auth, loadAutocannon);
      const b = await measure(bareUrl, paths, auth);
      const f = await measure(appUrl, paths, auth);
      const r = await measure(aloneUrl, paths);
      rounds.push({ bare: b, full: f, route: r, acBare, acFull });
      console.log(
        `round ${i + 1}: autocannon: bare ${Math.round(acBare.rps)} req/s (${acBare.cpuUs} µs CPU/req), full lookup ${Math.round(acFull.rps)} (${(acFull.rps / acBare.rps).toFixed(2)}×, p99 ${acFull.p99} ms, ${acFull.cpuUs} µs CPU/req); ` +
          `wrk: bare ${Math.round(b.rps)} req/s (${b.cpuUs} µs CPU/req), full lookup ${Math.round(f.rps)} (${(f.rps / b.rps).toFixed(2)}×, p99 ${f.p99} ms, ${f.cpuUs} µs CPU/req), route alone ${Math.round(r.rps)} (${(r.rps / b.rps).toFixed(2)}×, ${r.cpuUs} µs CPU/req); load average ${os.loadavg()[0]?.toFixed(1)}`,
      );
    }
    await bare.close();
    await app.close();
    await alone.close();
    await hub.close();
    const med = (xs: number[]): number => median(xs);
    const mid = (pick: (r: (typeof rounds)[number]) => Load): Load => ({
      rps: med(rounds.map((r) => pick(r).rps)),
      p50: med(rounds.map((r) => pick(r).p50)),
      p99: med(rounds.map((r) => pick(r).p99)),
      errors: rounds.reduce((n, r) => n + pick(r).errors, 0),
      cpuUs: med(rounds.map((r) => pick(r).cpuUs)),
      sysUs: med(rounds.map((r) => pick(r).sysUs)),
    });
    const bareLoad = mid((r) => r.bare);
    const full = mid((r) => r.full);
    const route = mid((r) => r.route);
    const acBare = mid((r) => r.acBare);
    const acFull = mid((r) => r.acFull);

    const results = {
      grids: snap.spatial.grids.length,
      connections: CONNECTIONS,
      durationS: DURATION_S,
      answerBytes,
      rounds: ROUNDS,
      fullLookup: { ...acFull, ratioToBare: med(rounds.map((r) => r.acFull.rps / r.acBare.rps)), generator: 'autocannon', target: 0.6, p99TargetMs: 5 },
      fullLookupWrk: { ...full, ratioToBare: med(rounds.map((r) => r.full.rps / r.bare.rps)), generator: 'wrk' },
      dispatchRouteAlone: { ...route, ratioToBare: med(rounds.map((r) => r.route.rps / r.bare.rps)) },
      bareRoute: { ...acBare, bytes: bareBody.length, generator: 'autocannon' },
      bareRouteWrk: { ...bareLoad, generator: 'wrk' },
      perRound: rounds,
    };
    const row = (l: Load, ratio: string) => ({ 'req/s': Math.round(l.rps), 'p50 ms': l.p50, 'p99 ms': l.p99, 'CPU µs/req': l.cpuUs, 'of which kernel': l.sysUs, errors: l.errors, ratio });
    console.table({
      'autocannon: full lookup (app, API token)': row(acFull, `${results.fullLookup.ratioToBare.toFixed(2)} × bare (target ≥ 0.6, p99 ≤ 5 ms)`),
      [`autocannon: bare Fastify route (${bareBody.length} B constant)`]: row(acBare, ''),
      'wrk: full lookup (app, API token)': row(full, `${results.fullLookupWrk.ratioToBare.toFixed(2)} × bare (stricter reference)`),
      'wrk: dispatch route alone (no app hooks)': row(route, `${results.dispatchRouteAlone.ratioToBare.toFixed(2)} × bare`),
      [`wrk: bare Fastify route (${bareBody.length} B constant)`]: row(bareLoad, ''),
    });
    console.log(`results: ${writeResults('dispatch', results)}`);
  });
});
