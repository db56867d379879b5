// No database is queried here (parse and cache paths only); it sits with the auth tests of the db project.
import { describe, expect, it } from 'vitest';
import type { Database } from '../db/database';
import { authenticateHeader } from './authenticate';
import { PrincipalCache } from './principal-cache';
import { ANONYMOUS, permissionsOf, type Principal } from './principal';
import { newToken } from './tokens';

// Never queried here: every token below is either refused before any lookup or answered from the cache.
const db = {} as Database;

function principalFor(userId: number): Principal {
  return { kind: 'token', userId, username: `u${userId}`, roles: ['dispatcher'], permissions: permissionsOf(['dispatcher']), scope: { all: true, prefixes: [] }, tokenId: userId, mustChangePassword: false };
}

describe('authenticateHeader: repeated headers, the principal cache and refusals', () => {
  it('answers a repeated header as the first time, and still refuses every other header', async () => {
    const cache = new PrincipalCache();
    const a = newToken('api').token;
    const b = newToken('api').token;
    cache.set(a, principalFor(1), Infinity, cache.generation());
    cache.set(b, principalFor(2), Infinity, cache.generation());
    for (let i = 0; i < 3; i++) expect(authenticateHeader(db, `Bearer ${a}`, cache)).toMatchObject({ userId: 1 });
    // A different token right after: its own principal, not the remembered one.
    expect(authenticateHeader(db, `Bearer ${b}`, cache)).toMatchObject({ userId: 2 });
    expect(authenticateHeader(db, `bearer ${a}`, cache)).toMatchObject({ userId: 1 });
    expect(authenticateHeader(db, undefined, cache)).toBe(ANONYMOUS);
    expect(() => authenticateHeader(db, `Bearer ${a}x`, cache)).toThrow(/not a Wangge token/);
    expect(() => authenticateHeader(db, `Basic ${a}`, cache)).toThrow(/Bearer <token>/);
    expect(() => authenticateHeader(db, `Bearer ${newToken('refresh').token}`, cache)).toThrow(/refresh token/);
    // The cache decides nothing for long: once it forgets the user, the same header is looked up again.
    cache.forgetUser(1);
    const lookup = { selectFrom: () => { throw new Error('looked up in the database'); } } as unknown as Database;
    await expect(authenticateHeader(lookup, `Bearer ${a}`, cache)).rejects.toThrow(/looked up in the database/);
  });
});
