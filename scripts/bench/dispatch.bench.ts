/**
 * Dispatch lookup benchmark (issue #6): the full point lookup (grid + staff + on-duty + fallback, from
 * the in-memory index) against a bare Fastify route returning a constant, autocannon at 50
 * connections, same run. Two lookups are measured:
 *  - "full app": buildApp with every hook, including the per-request bearer-token check (one DB query
 *    per request, server/auth, issue #4);
 *  - "dispatch route": the same dispatch plugin and service in a Fastify instance without the auth
 *    hooks — the cost of dispatch itself.
 * Target: ≥ 0.6 × the bare route, p99 ≤ 5 ms. Demo city size large (≈10k grids).
 */
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { buildApp } from '../../server/app';
import { testConfig } from '../../server/config';
import { generateDemoCity } from '../generate/demo-city';
import { insertDivisions, insertGridsBulk, insertPublishedLayouts, insertStaffBulk } from '../../server/modules/demo/demo.repository';
import { dispatchRoutes } from '../../server/modules/dispatch/dispatch.routes';
import { DispatchService } from '../../server/modules/dispatch/dispatch.service';
import { issueSession } from '../../server/modules/users/auth.service';
import { insertUser } from '../../server/modules/users/user.repository';
import { hashPassword } from '../../server/auth/password';
import { NotificationHub } from '../../server/db/notifications';
import { runCli } from '../cli';
import { withScratchDatabase, writeResults } from './bench-kit';

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const STAFF_ROLE: Record<string, string> = { 网格长: 'grid_leader', 专职网格员: 'full_time_worker', 兼职网格员: 'part_time_worker', 社区值班员: 'community_duty_officer', 街道值班员: 'street_duty_officer' };

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, paths: string[], headers: Record<string, string> = {}): Promise<Load> {
  let i = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    headers,
    requests: [{ setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length] ?? '/' }) }],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.non2xx + result.errors };
}

runCli(async () => {
  await withScratchDatabase('dispatch', async (handle) => {
    const city = generateDemoCity({ size: 'large' });
    await insertDivisions(handle.db, city.divisions.map((d) => ({ code: d.code, level: d.level, name: d.name, parentCode: d.parentCode, boundary: d.boundary })));
    const communities = city.divisions.filter((d) => d.level === 'community').map((d) => d.code);
    const layoutOf = await insertPublishedLayouts(handle.db, communities, '2025-01-01T00:00:00Z');
    await insertGridsBulk(handle.db, city.grids.map((g) => ({ layoutId: layoutOf.get(g.communityCode) ?? 0, code: g.code, name: g.name, kind: g.kind === '专属' ? 'dedicated' : 'general', geom: g.geom })));
    await insertStaffBulk(
      handle.db,
      city.staff.map((s) => ({ ...s, role: STAFF_ROLE[s.role] ?? 'part_time_worker' })),
      city.assignments.map((a) => ({ ...a, role: STAFF_ROLE[a.role] ?? 'part_time_worker' })),
      city.roster,
    );
    await handle.pool.query('ANALYZE');

    const dispatch = new DispatchService(handle.db);
    // Kept in sync by LISTEN like in the server (without it, memory is trusted for 1 s only).
    const hub = new NotificationHub(handle.pool);
    dispatch.attach(hub);
    await hub.start();
    const snap = await dispatch.refresh();
    const [w, s, e, n] = snap.spatial.grids.reduce((b, g) => [Math.min(b[0], g.geom.bbox[0]), Math.min(b[1], g.geom.bbox[1]), Math.max(b[2], g.geom.bbox[2]), Math.max(b[3], g.geom.bbox[3])], [Infinity, Infinity, -Infinity, -Infinity]);
    let seed = 1;
    const random = (): number => ((seed = (seed * 16807) % 2_147_483_647) / 2_147_483_647);
    const paths = Array.from({ length: 5_000 }, () => `/api/v1/dispatch/lookup?lon=${(w + random() * (e - w)).toFixed(7)}&lat=${(s + random() * (n - s)).toFixed(7)}`);
    console.log(`${snap.spatial.grids.length} grids, ${city.staff.length} staff, ${city.roster.length} shifts`);

    // Full app: every hook, bearer token of a dispatcher.
    const config = testConfig({ logLevel: 'silent' });
    const app = await buildApp({ config, db: handle.db, pool: handle.pool });
    const user = await insertUser(handle.db, { username: 'bench-dispatcher', displayName: 'bench', passwordHash: await hashPassword('bench-password-123'), roles: ['dispatcher'], scope: { all: true, prefixes: [] }, mustChangePassword: false });
    if (!user) throw new Error('bench user not created');
    const session = await issueSession(handle.db, user, config);
    const appUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    const full = await load(appUrl, paths, { authorization: `Bearer ${session.accessToken}` });
    await app.close();

    // The dispatch plugin alone (no auth hooks): the cost of the lookup itself.
    const bareDispatch = Fastify();
    await bareDispatch.register(dispatchRoutes, { dispatch });
    const routeUrl = await bareDispatch.listen({ port: 0, host: '127.0.0.1' });
    const route = await load(routeUrl, paths);
    await bareDispatch.close();
    await hub.close();

    // Baseline: a bare route returning a constant.
    const bare = Fastify();
    bare.get('/api/v1/dispatch/lookup', async () => ({ ok: true }));
    const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });
    const bareLoad = await load(bareUrl, paths);
    await bare.close();

    const results = {
      grids: snap.spatial.grids.length,
      connections: CONNECTIONS,
      durationS: DURATION_S,
      fullApp: { ...full, ratioToBare: full.rps / bareLoad.rps },
      dispatchRoute: { ...route, ratioToBare: route.rps / bareLoad.rps, target: 0.6, p99TargetMs: 5 },
      bareRoute: bareLoad,
    };
    console.table({
      'full app (auth DB lookup per request)': { 'req/s': Math.round(full.rps), p50: full.p50, p99: full.p99, errors: full.errors, ratio: `${results.fullApp.ratioToBare.toFixed(2)} × bare` },
      'dispatch route (no auth hooks)': { 'req/s': Math.round(route.rps), p50: route.p50, p99: route.p99, errors: route.errors, ratio: `${results.dispatchRoute.ratioToBare.toFixed(2)} × bare (target ≥ 0.6, p99 ≤ 5 ms)` },
      'bare Fastify route': { 'req/s': Math.round(bareLoad.rps), p50: bareLoad.p50, p99: bareLoad.p99, errors: bareLoad.errors, ratio: '' },
    });
    console.log(`results: ${writeResults('dispatch', results)}`);
  });
});
