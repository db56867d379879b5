/**
 * The authorization matrix: every registered route × every role (plus anonymous), from the app's own
 * route table, so a new route is covered the moment it exists (and one without a decided permission
 * does not even register). Because expected and actual both come from ROLE_PERMISSIONS, hand-written
 * expectations below pin the sensitive corners of that table: a careless edit to it fails here.
 */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../contracts/common';
import { createTestApp, type TestApp } from '../test/app';
import { PERMISSIONS, ROLE_PERMISSIONS, ROLES, permissionsOf, type Permission, type Role } from './principal';
import { registerAuth } from './request-auth';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

/** A concrete URL for a route pattern: numeric ids, a 12-digit code, a file name for wildcards. */
function sampleUrl(pattern: string): string {
  return pattern
    .replace(/:code/g, '410105001001')
    .replace(/:(\w+)/g, '1')
    .replace(/\*/g, 'x.json');
}

const actors: Array<Role | 'anonymous'> = ['anonymous', ...ROLES];

describe('authorization matrix (route table × roles)', () => {
  it('has every route decided, and covers the API', () => {
    const routes = t.app.routePermissions;
    expect(routes.length).toBeGreaterThan(30);
    for (const r of routes) expect(['public', 'authenticated', ...PERMISSIONS]).toContain(r.permission);
    const find = (method: string, url: string): string | undefined => routes.find((r) => r.method === method && r.url === url)?.permission;
    // the public surface is exactly what the brief names (plus sign-in/refresh)
    expect(find('GET', '/health')).toBe('public');
    expect(find('GET', '/api/v1/grids')).toBe('public');
    expect(find('GET', '/api/v1/grids/at')).toBe('public');
    expect(find('GET', '/api/v1/divisions')).toBe('public');
    expect(find('POST', '/api/v1/auth/sign-in')).toBe('public');
    const publicApi = routes.filter((r) => r.permission === 'public' && r.url.startsWith('/api/') && r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`);
    const allowedPublic = new Set([
      'GET /api/v1/config',
      'GET /api/v1/divisions',
      'GET /api/v1/divisions/:code',
      'GET /api/v1/grids',
      'GET /api/v1/grids/at',
      'POST /api/v1/auth/sign-in',
      'POST /api/v1/auth/refresh',
    ]);
    // Public API routes of later modules (tiles, OGC, Open311 intake) must be added here on purpose.
    const unexpected = publicApi.filter((r) => !allowedPublic.has(r));
    expect(unexpected.filter((r) => !/^(GET|POST) \/api\/v1\/(tiles|ogc|open311)/.test(r))).toEqual([]);
  });

  it('refuses to register a route without a permission', async () => {
    const app = Fastify();
    registerAuth(app, { db: t.tdb.db });
    expect(() => app.get('/undecided', async () => 'x')).toThrow(/declares no valid config.permission/);
    expect(() => app.get('/typo', { config: { permission: 'layouts:raed' as Permission } }, async () => 'x')).toThrow(/declares no valid config.permission/);
    expect(() => app.get('/decided', { config: { permission: 'public' } }, async () => 'x')).not.toThrow();
    await app.close();
  });

  it('answers every route × actor as the policy table says', async () => {
    const routes = t.app.routePermissions.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS');
    const failures: string[] = [];
    for (const route of routes) {
      for (const actor of actors) {
        // A fresh session per request: sign-out and password change must not spoil the next one.
        const as = actor === 'anonymous' ? 'anonymous' : { token: (await t.userWith({ roles: [actor] })).token };
        const res = await t.inject({ method: route.method as 'GET', url: sampleUrl(route.url), as, ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: {} }) });
        const code = res.statusCode >= 400 ? res.json<ErrorResponse>().error.code : undefined;
        let expected: 'allowed' | 401 | 403;
        if (route.permission === 'public') expected = 'allowed';
        else if (actor === 'anonymous') expected = 401;
        else if (route.permission === 'authenticated' || permissionsOf([actor]).has(route.permission)) expected = 'allowed';
        else expected = 403;
        const ok =
          expected === 'allowed'
            ? res.statusCode !== 401 && !(res.statusCode === 403 && code === 'FORBIDDEN') && res.statusCode < 500
            : expected === 401
              ? res.statusCode === 401 && code === 'UNAUTHENTICATED'
              : res.statusCode === 403 && code === 'FORBIDDEN';
        if (!ok) failures.push(`${actor} ${route.method} ${route.url} (${route.permission}): expected ${expected}, got ${res.statusCode} ${code ?? ''}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('hand-written expectations (pin the policy table)', () => {
  it('pins what sensitive roles may and may not do', () => {
    const has = (role: Role, p: Permission): boolean => ROLE_PERMISSIONS[role].includes(p);
    expect(has('grid_worker', 'layouts:publish')).toBe(false);
    expect(has('grid_worker', 'layouts:write')).toBe(false);
    expect(has('grid_worker', 'registry:read')).toBe(true);
    expect(has('grid_worker', 'registry:export')).toBe(false);
    expect(has('dispatcher', 'registry:read')).toBe(false);
    expect(has('dispatcher', 'staff:read')).toBe(true);
    expect(has('analyst', 'registry:read')).toBe(false);
    expect(has('analyst', 'registry:unmask')).toBe(false);
    expect(has('analyst', 'analysis:read')).toBe(true);
    expect(has('analyst', 'reports:read')).toBe(true);
    expect(has('analyst', 'events:read')).toBe(false);
    expect(has('analyst', 'staff:read')).toBe(false);
    expect(has('planner', 'registry:read')).toBe(false);
    expect(has('planner', 'users:admin')).toBe(false);
    expect([...ROLE_PERMISSIONS.auditor]).toEqual(['audit:read']);
    for (const role of ROLES) if (role !== 'admin') expect(has(role, 'users:admin'), role).toBe(false);
    for (const role of ROLES) if (role !== 'admin' && role !== 'auditor') expect(has(role, 'audit:read'), role).toBe(false);
    const unmaskers = ROLES.filter((r) => has(r, 'registry:unmask'));
    expect(unmaskers.sort()).toEqual(['admin', 'community_manager', 'street_manager']);
    const exporters = ROLES.filter((r) => has(r, 'registry:export'));
    expect(exporters.sort()).toEqual(['admin', 'community_manager', 'street_manager']);
    // The grid worker asks for extensions; the offices and the command centre decide on them.
    expect(has('grid_worker', 'events:write')).toBe(true);
    expect(has('grid_worker', 'events:supervise')).toBe(false);
    const supervisors = ROLES.filter((r) => has(r, 'events:supervise'));
    expect(supervisors.sort()).toEqual(['admin', 'community_manager', 'dispatcher', 'street_manager']);
    // Every supervisor also works events (the transitions route needs events:write first).
    for (const role of supervisors) expect(has(role, 'events:write'), role).toBe(true);
    const configurers = ROLES.filter((r) => has(r, 'events:configure'));
    expect(configurers).toEqual(['admin']);
  });

  it.each([
    ['grid_worker', 'POST', '/api/v1/layouts/1/publish', 403],
    ['analyst', 'POST', '/api/v1/layouts/1/publish', 403],
    ['dispatcher', 'DELETE', '/api/v1/layouts/1', 403],
    ['planner', 'GET', '/api/v1/audit', 403],
    ['planner', 'GET', '/api/v1/users', 403],
    ['community_manager', 'POST', '/api/v1/users', 403],
    ['grid_worker', 'POST', '/api/v1/event-categories', 403],
    ['community_manager', 'POST', '/api/v1/event-categories', 403],
    ['dispatcher', 'POST', '/api/v1/event-categories', 403],
    ['auditor', 'GET', '/api/v1/layouts/1', 403],
    ['auditor', 'POST', '/api/v1/divisions', 403],
    ['auditor', 'GET', '/api/v1/audit', 200],
    ['auditor', 'GET', '/api/v1/audit/verify', 200],
    ['anonymous', 'GET', '/api/v1/audit', 401],
    ['anonymous', 'GET', '/api/v1/layouts/1', 401],
    ['anonymous', 'GET', '/api/v1/grids?layout=1', 401],
    ['auditor', 'GET', '/api/v1/grids?layout=1', 403],
    ['anonymous', 'GET', '/api/v1/grids', 200],
    ['anonymous', 'GET', '/api/v1/divisions', 200],
    // the planner passes the permission check; layout 1 does not exist in this database
    ['planner', 'GET', '/api/v1/grids?layout=1', 404],
  ] as const)('%s %s %s → %i', async (role, method, url, status) => {
    const res = await t.inject({ method, url, as: role, ...(method === 'POST' ? { payload: {} } : {}) });
    if (status === 200) expect(res.statusCode).toBeLessThan(400);
    else expect(res.statusCode).toBe(status);
  });

  it('the taxonomy route needs events:configure (it needed only events:write)', () => {
    const route = t.app.routePermissions.find((r) => r.method === 'POST' && r.url === '/api/v1/event-categories');
    expect(route?.permission).toBe('events:configure');
  });

  it('audits a refused permission', async () => {
    const worker = await t.userWith({ roles: ['grid_worker'] });
    await t.inject({ method: 'POST', url: '/api/v1/layouts/1/publish', as: { token: worker.token }, payload: {} });
    const log = await t.inject({ url: `/api/v1/audit?action=access.denied&actorUserId=${worker.id}`, as: 'auditor' });
    const entries = log.json<{ entries: Array<{ details: { permission: string; route: string } }> }>().entries;
    expect(entries[0]?.details).toMatchObject({ permission: 'layouts:publish', route: '/api/v1/layouts/:id/publish' });
  });
});
