import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiToken, Me, SessionTokens, User } from '../../contracts/auth';
import type { ErrorResponse } from '../../contracts/common';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../../test/app';
import { ensureInitialAdmin } from './user.service';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const code = (res: { json: <T>() => T }): string => res.json<ErrorResponse>().error.code;
/** Each test signs in from its own address, so per-address limits of one test never hit another. */
let ipCounter = 10;
const nextIp = (): string => `10.0.0.${(ipCounter += 1)}`;

async function signIn(username: string, password: string, ip: string): Promise<LightMyRequestResponse> {
  return t.inject({ method: 'POST', url: '/api/v1/auth/sign-in', as: 'anonymous', payload: { username, password }, remoteAddress: ip });
}

describe('sign-in and sessions', () => {
  it('signs in, answers /me, refreshes with rotation, and signs out', async () => {
    const ip = nextIp();
    const user = await t.userWith({ roles: ['planner'], scope: ['410105'] });
    const res = await signIn(user.username, TEST_PASSWORD, ip);
    expect(res.statusCode).toBe(200);
    const tokens = res.json<SessionTokens>();
    expect(tokens.accessToken).toMatch(/^wga_/);
    expect(tokens.refreshToken).toMatch(/^wgr_/);
    expect(tokens.expiresIn).toBe(900);
    expect(tokens.user).toMatchObject({ username: user.username, roles: ['planner'], scope: { all: false, prefixes: ['410105'] } });

    const me = await t.inject({ url: '/api/v1/auth/me', as: { token: tokens.accessToken } });
    expect(me.json<Me>()).toMatchObject({ kind: 'user', username: user.username });
    expect(me.json<Me>().permissions).toContain('layouts:publish');

    // only hashes are stored
    const stored = await sql<{ n: number }>`SELECT count(*)::int AS n FROM sessions WHERE access_hash = ${tokens.accessToken} OR refresh_hash = ${tokens.refreshToken}`.execute(t.tdb.db);
    expect(stored.rows[0]?.n).toBe(0);

    const refreshed = await t.inject({ method: 'POST', url: '/api/v1/auth/refresh', as: 'anonymous', payload: { refreshToken: tokens.refreshToken }, remoteAddress: ip });
    expect(refreshed.statusCode).toBe(200);
    const next = refreshed.json<SessionTokens>();
    expect(next.accessToken).not.toBe(tokens.accessToken);
    // the old access token stops working once rotated
    expect((await t.inject({ url: '/api/v1/auth/me', as: { token: tokens.accessToken } })).statusCode).toBe(401);
    expect((await t.inject({ url: '/api/v1/auth/me', as: { token: next.accessToken } })).statusCode).toBe(200);

    const out = await t.inject({ method: 'POST', url: '/api/v1/auth/sign-out', as: { token: next.accessToken } });
    expect(out.statusCode).toBe(204);
    const after = await t.inject({ url: '/api/v1/auth/me', as: { token: next.accessToken } });
    expect(after.statusCode).toBe(401);
    expect(after.json<ErrorResponse>().error).toMatchObject({ code: 'UNAUTHENTICATED', details: { reason: 'revoked' } });
    expect((await t.inject({ method: 'POST', url: '/api/v1/auth/refresh', as: 'anonymous', payload: { refreshToken: next.refreshToken }, remoteAddress: ip })).statusCode).toBe(401);
  });

  it('revokes the whole family when a refresh token is used twice', async () => {
    const user = await t.userWith({ roles: ['dispatcher'] });
    const first = await t.inject({ method: 'POST', url: '/api/v1/auth/refresh', as: 'anonymous', payload: { refreshToken: user.refreshToken }, remoteAddress: nextIp() });
    const legit = first.json<SessionTokens>();
    const replay = await t.inject({ method: 'POST', url: '/api/v1/auth/refresh', as: 'anonymous', payload: { refreshToken: user.refreshToken }, remoteAddress: nextIp() });
    expect(replay.statusCode).toBe(401);
    expect(code(replay)).toBe('REFRESH_TOKEN_REUSED');
    // the thief's replay also ends the legitimate successor
    expect((await t.inject({ url: '/api/v1/auth/me', as: { token: legit.accessToken } })).statusCode).toBe(401);
    const audit = await t.inject({ url: '/api/v1/audit?action=auth.refresh_reuse', as: 'auditor' });
    expect(audit.json<{ entries: unknown[] }>().entries.length).toBeGreaterThan(0);
  });

  it('refuses expired access tokens with TOKEN_EXPIRED', async () => {
    const user = await t.userWith({ roles: ['analyst'] });
    await sql`UPDATE sessions SET access_expires_at = now() - interval '1 second' WHERE user_id = ${user.id}`.execute(t.tdb.db);
    const res = await t.inject({ url: '/api/v1/auth/me', as: { token: user.token } });
    expect(res.statusCode).toBe(401);
    expect(code(res)).toBe('TOKEN_EXPIRED');
    expect(res.headers['www-authenticate']).toMatch(/Bearer/);
  });

  it('answers a wrong password and an unknown user alike, and audits both', async () => {
    const ip = nextIp();
    const user = await t.userWith({ roles: ['analyst'] });
    const wrong = await signIn(user.username, 'not-the-password', ip);
    const unknown = await signIn('nobody-here', 'not-the-password', ip);
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json<ErrorResponse>()).toEqual(unknown.json<ErrorResponse>());
    const log = await t.inject({ url: '/api/v1/audit?action=auth.sign_in&outcome=failure', as: 'auditor' });
    const reasons = log.json<{ entries: Array<{ details: { reason: string } }> }>().entries.map((e) => e.details.reason);
    expect(reasons).toEqual(expect.arrayContaining(['wrong_password', 'unknown_user']));
  });

  it('locks an account after repeated failures, even against the right password', async () => {
    const user = await t.userWith({ roles: ['analyst'] });
    for (let i = 0; i < 5; i += 1) expect((await signIn(user.username, 'wrong-password-x', nextIp())).statusCode).toBe(401);
    const locked = await signIn(user.username, TEST_PASSWORD, nextIp());
    expect(locked.statusCode).toBe(423);
    expect(code(locked)).toBe('ACCOUNT_LOCKED');
    // an admin unlocks it
    const unlock = await t.inject({ method: 'PATCH', url: `/api/v1/users/${user.id}`, payload: { unlock: true } });
    expect(unlock.statusCode).toBe(200);
    expect((await signIn(user.username, TEST_PASSWORD, nextIp())).statusCode).toBe(200);
  });

  it('backs off an address after many failures across accounts', async () => {
    const ip = nextIp();
    await sql`INSERT INTO sign_in_failures (ip, username) SELECT ${ip}, 'x' || g FROM generate_series(1, 20) g`.execute(t.tdb.db);
    const user = await t.userWith({ roles: ['analyst'] });
    const res = await signIn(user.username, TEST_PASSWORD, ip);
    expect(res.statusCode).toBe(429);
    expect(code(res)).toBe('RATE_LIMITED');
    expect(res.headers['retry-after']).toBeDefined();
  });

  it('forces a one-time password to be changed, and a change revokes the other sessions', async () => {
    const created = await t.inject({ method: 'POST', url: '/api/v1/users', payload: { username: 'new-worker', roles: ['grid_worker'], scope: { all: false, prefixes: ['410105001001001'] } } });
    expect(created.statusCode).toBe(201);
    const { user, oneTimePassword } = created.json<{ user: User; oneTimePassword: string }>();
    expect(user.mustChangePassword).toBe(true);
    const a = (await signIn('new-worker', oneTimePassword, nextIp())).json<SessionTokens>();
    const b = (await signIn('new-worker', oneTimePassword, nextIp())).json<SessionTokens>();
    expect(a.user.mustChangePassword).toBe(true);
    const blocked = await t.inject({ url: '/api/v1/divisions', as: { token: a.accessToken } });
    expect(blocked.statusCode).toBe(200); // public routes stay open
    const needsChange = await t.inject({ method: 'POST', url: '/api/v1/layouts/1/publish', as: { token: a.accessToken }, payload: {} });
    expect(code(needsChange)).toBe('PASSWORD_CHANGE_REQUIRED');

    const weak = await t.inject({ method: 'POST', url: '/api/v1/auth/password', as: { token: a.accessToken }, payload: { currentPassword: oneTimePassword, newPassword: 'short' } });
    expect(code(weak)).toBe('PASSWORD_TOO_WEAK');
    const wrong = await t.inject({ method: 'POST', url: '/api/v1/auth/password', as: { token: a.accessToken }, payload: { currentPassword: 'nope-nope-nope', newPassword: 'a much better passphrase' } });
    expect(code(wrong)).toBe('INVALID_CREDENTIALS');
    const changed = await t.inject({ method: 'POST', url: '/api/v1/auth/password', as: { token: a.accessToken }, payload: { currentPassword: oneTimePassword, newPassword: 'a much better passphrase' } });
    expect(changed.statusCode).toBe(204);
    expect((await t.inject({ url: '/api/v1/auth/me', as: { token: a.accessToken } })).json<Me>().mustChangePassword).toBe(false);
    expect((await t.inject({ url: '/api/v1/auth/me', as: { token: b.accessToken } })).statusCode).toBe(401);
    expect((await signIn('new-worker', 'a much better passphrase', nextIp())).statusCode).toBe(200);
  });
});

describe('rate limits', () => {
  it('limits sign-in requests per address with 429 RATE_LIMITED', async () => {
    const limited = await createTestApp({ signInRateLimitPerMinute: 3 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const res = await limited.inject({ method: 'POST', url: '/api/v1/auth/sign-in', as: 'anonymous', payload: { username: 'x', password: 'y' }, remoteAddress: '10.9.9.9' });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) expect(code(res)).toBe('RATE_LIMITED');
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      // another address is not affected
      const other = await limited.inject({ method: 'POST', url: '/api/v1/auth/sign-in', as: 'anonymous', payload: { username: 'x', password: 'y' }, remoteAddress: '10.9.9.10' });
      expect(other.statusCode).toBe(401);
    } finally {
      await limited.close();
    }
  });
});

describe('API tokens', () => {
  it('creates a token with a subset of roles inside the scope, lists it without the secret, and revokes it', async () => {
    const manager = await t.userWith({ roles: ['community_manager', 'dispatcher'], scope: ['410105001001'] });
    const as = { token: manager.token };
    const tooMuch = await t.inject({ method: 'POST', url: '/api/v1/auth/tokens', as, payload: { name: 'hotline', roles: ['planner'] } });
    expect(code(tooMuch)).toBe('FORBIDDEN');
    const wider = await t.inject({ method: 'POST', url: '/api/v1/auth/tokens', as, payload: { name: 'hotline', roles: ['dispatcher'], scope: { all: false, prefixes: ['410105'] } } });
    expect(code(wider)).toBe('OUT_OF_SCOPE');
    const created = await t.inject({ method: 'POST', url: '/api/v1/auth/tokens', as, payload: { name: 'hotline', roles: ['dispatcher'], scope: { all: false, prefixes: ['410105001001002'] } } });
    expect(created.statusCode).toBe(201);
    const { token, apiToken } = created.json<{ token: string; apiToken: ApiToken }>();
    expect(token).toMatch(/^wgt_/);

    const me = (await t.inject({ url: '/api/v1/auth/me', as: { token } })).json<Me>();
    expect(me).toMatchObject({ kind: 'token', roles: ['dispatcher'], scope: { all: false, prefixes: ['410105001001002'] } });
    expect(me.permissions).not.toContain('registry:read');
    // a token cannot mint tokens
    expect(code(await t.inject({ method: 'POST', url: '/api/v1/auth/tokens', as: { token }, payload: { name: 'x', roles: ['dispatcher'] } }))).toBe('FORBIDDEN');

    const list = await t.inject({ url: '/api/v1/auth/tokens', as });
    expect(JSON.stringify(list.json())).not.toContain(token);
    expect(list.json<{ tokens: ApiToken[] }>().tokens.map((x) => x.id)).toContain(apiToken.id);
    // another user cannot see or revoke it
    const other = await t.userWith({ roles: ['dispatcher'] });
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${apiToken.id}`, as: { token: other.token } })).statusCode).toBe(404);

    expect((await t.inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${apiToken.id}`, as })).statusCode).toBe(204);
    const revoked = await t.inject({ url: '/api/v1/auth/me', as: { token } });
    expect(revoked.statusCode).toBe(401);
  });

  it('loses the roles its creator loses', async () => {
    const user = await t.userWith({ roles: ['planner', 'analyst'] });
    const { token } = (await t.inject({ method: 'POST', url: '/api/v1/auth/tokens', as: { token: user.token }, payload: { name: 'etl', roles: ['planner'] } })).json<{ token: string }>();
    expect((await t.inject({ method: 'PATCH', url: `/api/v1/users/${user.id}`, payload: { roles: ['analyst'] } })).statusCode).toBe(200);
    expect((await t.inject({ url: '/api/v1/auth/me', as: { token } })).json<Me>().roles).toEqual([]);
  });
});

describe('user administration', () => {
  it('audits permission changes with before and after, and refuses to remove the last admin', async () => {
    const user = await t.userWith({ roles: ['grid_worker'], scope: ['410105001001001'] });
    const res = await t.inject({ method: 'PATCH', url: `/api/v1/users/${user.id}`, payload: { roles: ['community_manager'], scope: { all: false, prefixes: ['410105001001'] } } });
    expect(res.statusCode).toBe(200);
    const log = await t.inject({ url: `/api/v1/audit?action=user.permissions_change&targetId=${user.id}`, as: 'auditor' });
    expect(log.json<{ entries: Array<{ details: unknown }> }>().entries[0]?.details).toMatchObject({
      before: { roles: ['grid_worker'], scope: { prefixes: ['410105001001001'] } },
      after: { roles: ['community_manager'], scope: { prefixes: ['410105001001'] } },
    });

    const admins = (await t.inject('/api/v1/users')).json<{ users: User[] }>().users.filter((u) => u.roles.includes('admin'));
    expect(admins).toHaveLength(1);
    const last = await t.inject({ method: 'PATCH', url: `/api/v1/users/${admins[0]?.id ?? 0}`, payload: { disabled: true } });
    expect(code(last)).toBe('LAST_ADMIN');
  });

  it('disabling a user ends their sessions at once; reset issues a one-time password', async () => {
    const user = await t.userWith({ roles: ['planner'] });
    expect((await t.inject({ method: 'PATCH', url: `/api/v1/users/${user.id}`, payload: { disabled: true } })).statusCode).toBe(200);
    expect((await t.inject({ url: '/api/v1/auth/me', as: { token: user.token } })).statusCode).toBe(401);
    expect((await signIn(user.username, TEST_PASSWORD, nextIp())).statusCode).toBe(401);

    const other = await t.userWith({ roles: ['planner'] });
    const reset = await t.inject({ method: 'POST', url: `/api/v1/users/${other.id}/password-reset` });
    const { oneTimePassword } = reset.json<{ oneTimePassword: string }>();
    expect((await t.inject({ url: '/api/v1/auth/me', as: { token: other.token } })).statusCode).toBe(401);
    expect((await signIn(other.username, oneTimePassword, nextIp())).json<SessionTokens>().user.mustChangePassword).toBe(true);
  });

  it('refuses a duplicate username and an invalid scope', async () => {
    await t.userWith({ roles: ['analyst'], username: 'taken-name' });
    const dup = await t.inject({ method: 'POST', url: '/api/v1/users', payload: { username: 'taken-name', roles: [], scope: { all: false, prefixes: [] } } });
    expect(code(dup)).toBe('USER_EXISTS');
    const bad = await t.inject({ method: 'POST', url: '/api/v1/users', payload: { username: 'x-y', roles: ['root'], scope: { all: false, prefixes: ["'; DROP TABLE users;--"] } } });
    expect(code(bad)).toBe('VALIDATION_FAILED');
  });
});

describe('first run', () => {
  it('creates one administrator with a one-time password only when none exists', async () => {
    const fresh = await createTestApp();
    try {
      const first = await ensureInitialAdmin(fresh.tdb.db);
      expect(first?.username).toBe('admin');
      expect(await ensureInitialAdmin(fresh.tdb.db)).toBeUndefined();
      const res = await fresh.inject({ method: 'POST', url: '/api/v1/auth/sign-in', as: 'anonymous', payload: { username: 'admin', password: first?.oneTimePassword } });
      expect(res.json<SessionTokens>().user).toMatchObject({ roles: ['admin'], mustChangePassword: true, scope: { all: true } });
    } finally {
      await fresh.close();
    }
  });
});
