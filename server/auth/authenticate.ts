/**
 * From a bearer token to a Principal. Access tokens belong to a session, API tokens to a machine
 * client; either way the user's current roles and scope bound what the token can do, so demoting or
 * disabling a user takes effect on the next request.
 */
import type { Database } from '../db/database';
import { AppError } from '../http/errors';
import { findApiTokenByHash, findSessionByAccessHash, touchApiToken, type TokenOwner } from '../modules/users/session.repository';
import type { PrincipalCache } from './principal-cache';
import { ANONYMOUS, permissionsOf, scopeWithin, type Principal, type Role, type Scope } from './principal';
import { hashToken, tokenKind } from './tokens';

/** The part of `a` that also lies inside `b`. */
export function intersectScopes(a: Scope, b: Scope): Scope {
  if (a.all) return b;
  if (b.all) return a;
  const prefixes = [
    ...a.prefixes.filter((p) => scopeWithin({ all: false, prefixes: [p] }, b)),
    ...b.prefixes.filter((p) => scopeWithin({ all: false, prefixes: [p] }, a)),
  ];
  return { all: false, prefixes: [...new Set(prefixes)] };
}

function unauthenticated(reason: 'malformed' | 'unknown' | 'revoked' | 'wrong_kind', message: string): AppError {
  return new AppError('UNAUTHENTICATED', 401, message, { reason });
}

export function principalOf(owner: TokenOwner): Principal {
  const roles: Role[] = owner.tokenRoles ? owner.tokenRoles.filter((r) => owner.userRoles.includes(r)) : owner.userRoles;
  const scope = owner.tokenScope ? intersectScopes(owner.tokenScope, owner.userScope) : owner.userScope;
  return {
    kind: owner.tokenId === undefined ? 'user' : 'token',
    userId: owner.userId,
    username: owner.username,
    roles,
    permissions: permissionsOf(roles),
    scope,
    ...(owner.sessionId === undefined ? {} : { sessionId: owner.sessionId }),
    ...(owner.tokenId === undefined ? {} : { tokenId: owner.tokenId }),
    mustChangePassword: owner.mustChangePassword,
  };
}

/**
 * The principal of an `Authorization` header; anonymous without one. Bad tokens are refused, never
 * ignored. With a cache, a token authenticated moments ago is answered from memory (principal-cache.ts).
 */
export function authenticateHeader(db: Database, header: string | undefined, cache?: PrincipalCache): Principal | Promise<Principal> {
  if (header === undefined || header === '') return ANONYMOUS;
  const match = /^Bearer ([^\s]{1,200})$/i.exec(header.trim());
  if (!match?.[1]) throw unauthenticated('malformed', 'Send the token as "Authorization: Bearer <token>".');
  const token = match[1];
  const kind = tokenKind(token);
  if (kind === undefined) throw unauthenticated('malformed', 'The bearer token is not a Wangge token.');
  if (kind === 'refresh') throw unauthenticated('wrong_kind', 'A refresh token only works at POST /api/v1/auth/refresh.');
  // Cached by the token itself: the SHA-256 (the database's key) is computed on a miss only.
  const cached = cache?.get(token);
  if (cached) return cached;
  return cache ? cache.lookUpOnce(token, () => lookUpToken(db, kind, token, cache)) : lookUpToken(db, kind, token, undefined);
}

async function lookUpToken(db: Database, kind: 'access' | 'api', token: string, cache: PrincipalCache | undefined): Promise<Principal> {
  const generation = cache?.generation() ?? 0;
  const hash = hashToken(token);
  const lookedUpAt = Date.now();
  const owner = kind === 'access' ? await findSessionByAccessHash(db, hash) : await findApiTokenByHash(db, hash);
  if (!owner) throw unauthenticated('unknown', 'The bearer token is not valid.');
  if (owner.status === 'revoked') throw unauthenticated('revoked', 'The token has been revoked; sign in again.');
  if (owner.status === 'expired') {
    throw new AppError('TOKEN_EXPIRED', 401, kind === 'access' ? 'The access token has expired; refresh it at POST /api/v1/auth/refresh.' : 'The API token has expired.', { kind });
  }
  if (owner.tokenId !== undefined) await touchApiToken(db, owner.tokenId);
  const principal = principalOf(owner);
  // The expiry is measured from before the query was sent, so clock skew cannot stretch it.
  cache?.set(token, principal, owner.expiresInMs === undefined ? Infinity : lookedUpAt + owner.expiresInMs, generation);
  return principal;
}
