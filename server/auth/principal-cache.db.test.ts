/**
 * The principal cache (principal-cache.ts): a cached token must never outlive its revocation — not in
 * this process (the very next request), and not in another one (once PostgreSQL's NOTIFY arrives, which
 * a direct SQL change here stands in for) — and must never answer for another token.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../contracts/common';
import type { Me } from '../contracts/auth';
import { createTestApp, type TestApp } from '../test/app';
import { PrincipalCache } from './principal-cache';
import { ANONYMOUS, permissionsOf, type Principal } from './principal';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await t.app.ready();
});
afterAll(async () => t.close());

const me = (token: string) => t.inject({ url: '/api/v1/auth/me', as: { token } });
const errorCode = (res: { json: <T>() => T }): string => res.json<ErrorResponse>().error.code;

/** Resolves when this process has heard PostgreSQL announce a credential change of the user. */
function announced(userId: number): Promise<void> {
  const cache = t.app.principalCache;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no wangge_auth_changed for user ${userId} within 2 s`)), 2_000);
    cache.onInvalidate = (who) => {
      if (who !== userId && who !== '*') return;
      clearTimeout(timer);
      cache.onInvalidate = undefined;
      resolve();
    };
  });
}

async function cachedToken(roles: Parameters<TestApp['userWith']>[0]['roles']): Promise<{ id: number; token: string }> {
  const user = await t.userWith({ roles });
  expect((await me(user.token)).statusCode).toBe(200);
  expect(t.app.principalCache.get(user.token)).toBeDefined();
  return { id: user.id, token: user.token };
}

async function createApiToken(ownerToken: string, roles: string[]): Promise<{ id: number; token: string }> {
  const res = await t.inject({ method: 'POST', url: '/api/v1/auth/tokens', as: { token: ownerToken }, payload: { name: 'hotline', roles } });
  expect(res.statusCode).toBe(201);
  const body = res.json<{ token: string; apiToken: { id: number } }>();
  return { id: body.apiToken.id, token: body.token };
}

describe('principal cache: revocation in this process', () => {
  it('refuses a signed-out token on the very next request', async () => {
    const user = await cachedToken(['dispatcher']);
    expect((await t.inject({ method: 'POST', url: '/api/v1/auth/sign-out', as: { token: user.token } })).statusCode).toBe(204);
    const next = await me(user.token);
    expect(next.statusCode).toBe(401);
    expect(errorCode(next)).toBe('UNAUTHENTICATED');
  });

  it('refuses a revoked API token on the very next request', async () => {
    const owner = await cachedToken(['dispatcher']);
    const api = await createApiToken(owner.token, ['dispatcher']);
    expect((await me(api.token)).statusCode).toBe(200);
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${api.id}`, as: { token: owner.token } })).statusCode).toBe(204);
    expect((await me(api.token)).statusCode).toBe(401);
  });

  it('applies a role change by an administrator on the next request', async () => {
    const user = await cachedToken(['dispatcher']);
    const lookup = () => t.inject({ url: '/api/v1/dispatch/lookup?lon=113.6&lat=34.7', as: { token: user.token } });
    expect((await lookup()).statusCode).not.toBe(403);
    expect((await t.inject({ method: 'PATCH', url: `/api/v1/users/${user.id}`, payload: { roles: ['analyst'] } })).statusCode).toBe(200);
    const denied = await lookup();
    expect([denied.statusCode, errorCode(denied)]).toEqual([403, 'FORBIDDEN']);
    expect((await me(user.token)).json<Me>().roles).toEqual(['analyst']);
  });

  it('refuses the old access token after a refresh rotates it', async () => {
    const user = await t.userWith({ roles: ['dispatcher'] });
    expect((await me(user.token)).statusCode).toBe(200);
    const refreshed = await t.inject({ method: 'POST', url: '/api/v1/auth/refresh', as: 'anonymous', payload: { refreshToken: user.refreshToken } });
    expect(refreshed.statusCode).toBe(200);
    expect((await me(user.token)).statusCode).toBe(401);
  });
});

describe('principal cache: changes announced by PostgreSQL (another process)', () => {
  it('refuses a session revoked directly in SQL once the NOTIFY arrives', async () => {
    const user = await cachedToken(['dispatcher']);
    const heard = announced(user.id);
    await sql`UPDATE sessions SET revoked_at = now(), revoked_reason = 'test' WHERE user_id = ${user.id}`.execute(t.tdb.db);
    await heard;
    expect(t.app.principalCache.get(user.token)).toBeUndefined();
    const next = await me(user.token);
    expect([next.statusCode, errorCode(next)]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('refuses an API token revoked directly in SQL', async () => {
    const owner = await cachedToken(['dispatcher']);
    const api = await createApiToken(owner.token, ['dispatcher']);
    expect((await me(api.token)).statusCode).toBe(200);
    const heard = announced(owner.id);
    await sql`UPDATE api_tokens SET revoked_at = now() WHERE id = ${api.id}`.execute(t.tdb.db);
    await heard;
    expect((await me(api.token)).statusCode).toBe(401);
  });

  it('applies roles changed and a user disabled directly in SQL', async () => {
    const user = await cachedToken(['dispatcher', 'analyst']);
    let heard = announced(user.id);
    await sql`UPDATE users SET roles = '{analyst}' WHERE id = ${user.id}`.execute(t.tdb.db);
    await heard;
    expect((await me(user.token)).json<Me>().roles).toEqual(['analyst']);
    heard = announced(user.id);
    await sql`UPDATE users SET disabled = true WHERE id = ${user.id}`.execute(t.tdb.db);
    await heard;
    expect((await me(user.token)).statusCode).toBe(401);
  });

  it('flushes nobody for bookkeeping updates (failed sign-ins, last use)', async () => {
    const user = await cachedToken(['dispatcher']);
    let flushed = false;
    t.app.principalCache.onInvalidate = () => (flushed = true);
    await sql`UPDATE users SET failed_sign_ins = failed_sign_ins + 1 WHERE id = ${user.id}`.execute(t.tdb.db);
    await sql`UPDATE api_tokens SET last_used_at = now()`.execute(t.tdb.db);
    // A NOTIFY would arrive within milliseconds; a round trip on the same pool gives it time.
    await sql`SELECT pg_sleep(0.2)`.execute(t.tdb.db);
    t.app.principalCache.onInvalidate = undefined;
    expect(flushed).toBe(false);
    expect(t.app.principalCache.get(user.token)).toBeDefined();
  });
});

describe('principal cache: isolation', () => {
  it('never answers one token with another token\'s principal', async () => {
    const a = await t.userWith({ roles: ['dispatcher'] });
    const b = await t.userWith({ roles: ['auditor'] });
    const api = await createApiToken(a.token, ['dispatcher']);
    for (let round = 0; round < 3; round += 1) {
      const [ma, mb, mt] = await Promise.all([me(a.token), me(b.token), me(api.token)]);
      expect(ma.json<Me>()).toMatchObject({ kind: 'user', username: a.username, roles: ['dispatcher'] });
      expect(mb.json<Me>()).toMatchObject({ kind: 'user', username: b.username, roles: ['auditor'] });
      expect(mt.json<Me>()).toMatchObject({ kind: 'token', username: a.username, roles: ['dispatcher'] });
    }
    // an unknown token of the right shape is never served from the cache
    const forged = `wga_${'A'.repeat(43)}`;
    expect((await me(forged)).statusCode).toBe(401);
  });
});

describe('PrincipalCache trust rules', () => {
  const principal = (userId: number): Principal => ({ ...ANONYMOUS, kind: 'user', userId, username: `u${userId}`, roles: ['dispatcher'], permissions: permissionsOf(['dispatcher']) });

  it('keeps an entry for the TTL at most, and never beyond the token expiry', () => {
    let now = 1_000_000;
    const cache = new PrincipalCache({ now: () => now });
    // no notification hub: trusted for 1 s only
    cache.set('h1', principal(1), now + 60_000, cache.generation());
    now += 900;
    expect(cache.get('h1')?.userId).toBe(1);
    now += 200;
    expect(cache.get('h1')).toBeUndefined();

    const synced = new PrincipalCache({ now: () => now });
    (synced as unknown as { hub: { connected: boolean } }).hub = { connected: true };
    synced.set('h2', principal(2), now + 10_000, synced.generation());
    synced.set('h3', principal(3), now + 60_000, synced.generation());
    now += 10_000;
    expect(synced.get('h2')).toBeUndefined(); // the token expired
    expect(synced.get('h3')?.userId).toBe(3);
    now += 20_001;
    expect(synced.get('h3')).toBeUndefined(); // 30 s TTL
  });

  it('drops an answer looked up before an invalidation, and forgets per user', () => {
    const cache = new PrincipalCache();
    const before = cache.generation();
    cache.forgetUser(7);
    cache.set('stale', principal(7), Date.now() + 60_000, before);
    expect(cache.get('stale')).toBeUndefined();
    cache.set('a', principal(7), Date.now() + 60_000, cache.generation());
    cache.set('b', principal(8), Date.now() + 60_000, cache.generation());
    cache.forgetUser(7);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.userId).toBe(8);
    expect(Object.isFrozen(cache.get('b'))).toBe(true);
  });
});
