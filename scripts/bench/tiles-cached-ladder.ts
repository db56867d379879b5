/**
 * Where a cached tile's time goes against a bare route (issue #9, cached tiles ≥ 0.6 × a bare Fastify
 * route): not a benchmark with a target, a ladder for whoever works on the cached path. Same data as
 * tiles.bench.ts; one process serves every rung, and rounds alternate them seconds apart (wrk, 50
 * connections, 3 s a rung). Each rung: requests a second, its ratio to rung A in the same round, and
 * this process's CPU a request (steadier than req/s on a shared machine: wrk competes for the cores).
 *
 *   A  a bare route in a fresh Fastify (the benchmark's baseline)
 *   B  the same bare route inside buildApp (every global hook: security headers, auth, ...)
 *   C  B with a tile's headers (ETag, Cache-Control, Vary, Content-Encoding) behind events:read
 *   D  cached grids z15 tiles, E cached events z15 tiles (bearer token)
 *   F  E asked by a gzip-only client (the others send a browser's Accept-Encoding and get Brotli)
 *
 * `flock /tmp/wangge-bench.lock npx tsx scripts/bench/tiles-cached-ladder.ts`; ROUNDS (3), RUNGS=A,D,E
 * picks rungs, PROFILE=AE writes V8 CPU profiles of those rungs to /tmp/rung-<letter>.cpuprofile.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Session } from 'node:inspector/promises';
import Fastify from 'fastify';
import { buildApp } from '../../server/app';
import { testConfig } from '../../server/config';
import { runCli } from '../cli';
import { loadTileBenchData, tilesCovering } from './tile-bench-data';
import { withScratchDatabase, median } from './bench-kit';
const run = promisify(execFile);
async function load(url: string, paths: string[], headers: Record<string, string> = {}, s = 3): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wangge-wrk-'));
  const script = path.join(dir, 'p.lua');
  const fields = Object.entries({ 'Accept-Encoding': 'gzip, deflate, br, zstd', ...headers }).map(([k, v]) => `[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join(', ');
  writeFileSync(script, `local paths = {${paths.map((p) => JSON.stringify(p)).join(',')}}\nlocal i = 0\nrequest = function()\n i = i % #paths + 1\n return wrk.format("GET", paths[i], { ${fields} })\nend\n`);
  const { stdout } = await run('wrk', ['-t2', '-c50', `-d${s}s`, '-s', script, url]);
  if (/Non-2xx/.test(stdout)) throw new Error(url + ' non-2xx');
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
}
runCli(async () => {
  await withScratchDatabase('tilesladder', async (handle) => {
    const config = testConfig();
    const data = await loadTileBenchData(handle, config, 20_000);
    const z15 = tilesCovering(data.bbox, 15);
    const sample = Buffer.alloc(5588, 7);
    const bare = Fastify();
    bare.get('/t/:z/:x/:y', async (_r, reply) => reply.type('application/vnd.mapbox-vector-tile').send(sample));
    const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });
    const app = await buildApp({ config, db: handle.db, pool: handle.pool });
    app.get('/bare/:z/:x/:y', { config: { permission: 'public' } }, (_r, reply) => { void reply.type('application/vnd.mapbox-vector-tile').send(sample); });
    app.get('/hdrs/:z/:x/:y', { config: { permission: 'events:read' } }, (_r, reply) => {
      void reply.header('etag', '"abcdefghijklmnopqrstuvwxyz0"').header('cache-control', 'private, max-age=0, must-revalidate').header('vary', 'accept-encoding').type('application/vnd.mapbox-vector-tile').header('content-encoding', 'gzip').send(sample);
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => setTimeout(r, 300));
    const P = (f: (z: number, x: number, y: number) => string): string[] => z15.map(([z, x, y]) => f(z, x, y));
    const rungs: Array<[string, string, string[], Record<string, string>]> = [
      ['A fresh bare', bareUrl, P((z, x, y) => `/t/${z}/${x}/${y}`), {}],
      ['B app bare public', url, P((z, x, y) => `/bare/${z}/${x}/${y}`), {}],
      ['C app headers+auth', url, P((z, x, y) => `/hdrs/${z}/${x}/${y}`), data.auth],
      ['D grids cached', url, P((z, x, y) => `/tiles/grids/${z}/${x}/${y}.mvt`), {}],
      ['E events15 cached', url, P((z, x, y) => `/tiles/events/${z}/${x}/${y}.mvt`), data.auth],
      ['F events15 cached, gzip only', url, P((z, x, y) => `/tiles/events/${z}/${x}/${y}.mvt`), { ...data.auth, 'Accept-Encoding': 'gzip' }],
    ];
    for (const [, u, p, h] of rungs) await load(u, p, h, 1);
    const res = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    const only = process.env.RUNGS?.split(',');
    for (let r = 0; r < Number(process.env.ROUNDS ?? 3); r++) {
      for (const [name, u, p, h] of rungs) {
        if (only && !only.includes(name[0]!)) continue;
        const c0 = process.cpuUsage();
        const v = await load(u, p, h);
        const c = process.cpuUsage(c0);
        res.set(name, [...(res.get(name) ?? []), v]);
        cpu.set(name, [...(cpu.get(name) ?? []), (c.user + c.system) / (v * 3)]);
      }
      console.log(`round ${r}: ` + [...res].map(([n, v]) => `${n} ${Math.round(v.at(-1)!)} (${(v.at(-1)! / res.get('A fresh bare')!.at(-1)!).toFixed(2)})`).join(', ') + ` load ${os.loadavg()[0]!.toFixed(1)}`);
    }
    const a = res.get('A fresh bare')!;
    for (const [n, v] of res) console.log(`${n}: median ratio ${median(v.map((x, i) => x / a[i]!)).toFixed(2)}, Node CPU ${median(cpu.get(n)!).toFixed(1)} µs a request (rounds ${cpu.get(n)!.map((x) => x.toFixed(1)).join(' / ')})`);
    if (process.env.PROFILE) {
      const sess = new Session(); sess.connect(); await sess.post('Profiler.enable'); await sess.post('Profiler.setSamplingInterval', { interval: 100 });
      for (const [name, u, p, h] of rungs) {
        if (!process.env.PROFILE.includes(name[0]!)) continue;
        await sess.post('Profiler.start');
        const rps = await load(u, p, h, 3);
        const { profile } = await sess.post('Profiler.stop');
        writeFileSync(`/tmp/rung-${name[0]}.cpuprofile`, JSON.stringify(profile));
        console.log(`profiled ${name}: ${Math.round(rps)}/s`);
      }
    }
    await app.close(); await bare.close();
  });
});
