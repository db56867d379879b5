/**
 * Sign-in, refresh with rotation and reuse detection, sign-out and password change.
 *
 * Brute force meets three brakes: a per-address request rate (http/rate-limit.ts), a per-address
 * failure budget in the database (shared by every server process), and a per-account lockout with
 * exponential backoff. Unknown usernames cost a scrypt like known ones and answer the same.
 */
import { randomUUID } from 'node:crypto';
import { permissionsOf, type Principal } from '../../auth/principal';
import { dummyPasswordHash, hashPassword, passwordWeakness, verifyPassword } from '../../auth/password';
import { hashToken, newToken, tokenKind } from '../../auth/tokens';
import type { Me, SessionTokens } from '../../contracts/auth';
import type { Database } from '../../db/database';
import { AppError } from '../../http/errors';
import { writeAudit, type AuditActor } from '../audit/audit.service';
import { familyOfSession, findSessionByRefreshHash, insertSession, markRotated, revokeFamily, revokeSession, revokeUserSessions } from './session.repository';
import {
  countRecentFailuresFromIp,
  findUserById,
  findUserByUsername,
  recordFailedSignIn,
  recordSignInFailureFromIp,
  resetFailedSignIns,
  updateUserRow,
  type UserRecord,
} from './user.repository';

/** Consecutive failures after which an account locks (1, 2, 4 … 60 minutes). */
export const ACCOUNT_LOCK_THRESHOLD = 5;
/** Failed sign-ins from one address within the window after which it must wait. */
export const IP_FAILURE_LIMIT = 20;
export const IP_FAILURE_WINDOW_MINUTES = 15;

export interface SessionSettings {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

export function meOf(user: Pick<UserRecord, 'id' | 'username' | 'roles' | 'scope' | 'mustChangePassword'>, kind: 'user' | 'token' = 'user'): Me {
  return {
    kind,
    userId: user.id,
    username: user.username,
    roles: user.roles,
    permissions: [...permissionsOf(user.roles)],
    scope: user.scope,
    mustChangePassword: user.mustChangePassword,
  };
}

export function meOfPrincipal(p: Principal): Me {
  if (p.kind === 'anonymous' || p.userId === null || p.username === null) throw new AppError('UNAUTHENTICATED', 401, 'Not signed in.');
  return { kind: p.kind, userId: p.userId, username: p.username, roles: p.roles, permissions: [...p.permissions], scope: p.scope, mustChangePassword: p.mustChangePassword === true };
}

/** A new session (access + refresh pair) for a user; `familyId` continues a rotated family. */
export async function issueSession(db: Database, user: UserRecord, settings: SessionSettings, client: Partial<ClientInfo> = {}, familyId: string = randomUUID()): Promise<SessionTokens> {
  const access = newToken('access');
  const refresh = newToken('refresh');
  await insertSession(db, {
    userId: user.id,
    familyId,
    accessHash: access.hash,
    accessTtlSeconds: settings.accessTokenTtlSeconds,
    refreshHash: refresh.hash,
    refreshTtlSeconds: settings.refreshTokenTtlSeconds,
    ip: client.ip ?? null,
    userAgent: client.userAgent ?? null,
  });
  return {
    tokenType: 'Bearer',
    accessToken: access.token,
    expiresIn: settings.accessTokenTtlSeconds,
    refreshToken: refresh.token,
    refreshExpiresIn: settings.refreshTokenTtlSeconds,
    user: meOf(user),
  };
}

const clientActor = (client: ClientInfo, user?: { id: number; username: string }): AuditActor => ({
  kind: user ? 'user' : 'anonymous',
  userId: user?.id ?? null,
  name: user?.username ?? null,
  ip: client.ip,
});

const invalidCredentials = (): AppError => new AppError('INVALID_CREDENTIALS', 401, 'Wrong username or password.');

export async function signIn(db: Database, username: string, password: string, client: ClientInfo, settings: SessionSettings): Promise<SessionTokens> {
  const failuresFromIp = await countRecentFailuresFromIp(db, client.ip, IP_FAILURE_WINDOW_MINUTES);
  if (failuresFromIp >= IP_FAILURE_LIMIT) {
    await writeAudit(db, { actor: clientActor(client), action: 'auth.sign_in', outcome: 'denied', details: { username: username.slice(0, 64), reason: 'address_backoff' } });
    throw new AppError('RATE_LIMITED', 429, `Too many failed sign-ins from your address; wait ${IP_FAILURE_WINDOW_MINUTES} minutes.`, { retryAfterSeconds: IP_FAILURE_WINDOW_MINUTES * 60 });
  }

  const user = await findUserByUsername(db, username.normalize('NFKC').toLowerCase());
  if (user?.lockedUntil && new Date(user.lockedUntil) > new Date()) {
    await writeAudit(db, { actor: clientActor(client), action: 'auth.sign_in', outcome: 'denied', target: { type: 'user', id: user.id }, details: { username: user.username, reason: 'locked' } });
    const retryAfterSeconds = Math.ceil((new Date(user.lockedUntil).getTime() - Date.now()) / 1000);
    throw new AppError('ACCOUNT_LOCKED', 423, 'Too many failed sign-ins; the account is locked for a while.', { retryAfterSeconds });
  }

  const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
  if (!user || !ok || user.disabled) {
    await db.transaction().execute(async (trx) => {
      await recordSignInFailureFromIp(trx, client.ip, username);
      const lock = user && !user.disabled ? await recordFailedSignIn(trx, user.id, ACCOUNT_LOCK_THRESHOLD) : undefined;
      await writeAudit(trx, {
        actor: clientActor(client),
        action: 'auth.sign_in',
        outcome: 'failure',
        ...(user ? { target: { type: 'user', id: user.id } } : {}),
        details: { username: username.slice(0, 64), reason: !user ? 'unknown_user' : user.disabled ? 'disabled' : 'wrong_password', ...(lock?.lockedUntil ? { lockedUntil: lock.lockedUntil.toISOString() } : {}) },
      });
    });
    throw invalidCredentials();
  }

  return db.transaction().execute(async (trx) => {
    await resetFailedSignIns(trx, user.id);
    const tokens = await issueSession(trx, user, settings, client);
    await writeAudit(trx, { actor: clientActor(client, user), action: 'auth.sign_in', target: { type: 'user', id: user.id }, details: { mustChangePassword: user.mustChangePassword } });
    return tokens;
  });
}

/**
 * A refresh token works once: it is exchanged for a new pair in the same family. Presenting it again
 * means two parties hold it (one stole it), so the whole family is revoked and both must sign in.
 */
export async function refreshSession(db: Database, refreshToken: string, client: ClientInfo, settings: SessionSettings): Promise<SessionTokens> {
  // Every refusal here is about the one input, the body's refresh token.
  const where = { in: 'body', field: 'refreshToken' } as const;
  if (tokenKind(refreshToken) !== 'refresh') throw new AppError('UNAUTHENTICATED', 401, 'That is not a refresh token.', { ...where, reason: 'malformed' });
  const outcome = await db.transaction().execute(async (trx): Promise<AppError | SessionTokens> => {
    const found = await findSessionByRefreshHash(trx, hashToken(refreshToken));
    if (!found) return new AppError('UNAUTHENTICATED', 401, 'The refresh token is not valid.', { ...where, reason: 'unknown' });
    const user = await findUserById(trx, found.userId);
    const actor = clientActor(client, user);
    if (found.rotated) {
      const revoked = await revokeFamily(trx, found.familyId, 'refresh_token_reuse');
      await writeAudit(trx, { actor, action: 'auth.refresh_reuse', outcome: 'denied', target: { type: 'user', id: found.userId }, details: { familyId: found.familyId, revokedSessions: revoked } });
      return new AppError('REFRESH_TOKEN_REUSED', 401, 'This refresh token was already used; every session of its sign-in is now revoked. Sign in again.', where);
    }
    if (found.revoked || !user) return new AppError('UNAUTHENTICATED', 401, 'The session has been revoked; sign in again.', { ...where, reason: 'revoked' });
    if (found.expired) return new AppError('TOKEN_EXPIRED', 401, 'The refresh token has expired; sign in again.', { ...where, kind: 'refresh' });
    await markRotated(trx, found.sessionId);
    return issueSession(trx, user, settings, client, found.familyId);
  });
  // Errors are returned, not thrown, so the revocation of a reused family commits.
  if (outcome instanceof AppError) throw outcome;
  return outcome;
}

export async function signOut(db: Database, principal: Principal, ip: string | null): Promise<void> {
  if (principal.kind !== 'user' || principal.sessionId === undefined) {
    throw new AppError('FORBIDDEN', 403, 'Only a signed-in session can sign out; revoke API tokens at DELETE /api/v1/auth/tokens/{id}.');
  }
  const sessionId = principal.sessionId;
  await db.transaction().execute(async (trx) => {
    const family = await familyOfSession(trx, sessionId);
    if (family !== undefined) await revokeFamily(trx, family, 'sign_out');
    else await revokeSession(trx, sessionId, 'sign_out');
    await writeAudit(trx, { actor: { kind: 'user', userId: principal.userId, name: principal.username, ip }, action: 'auth.sign_out', target: { type: 'user', id: principal.userId ?? 0 } });
  });
}

/** Change one's own password; every other session of the user is revoked, this one stays. */
export async function changePassword(db: Database, principal: Principal, currentPassword: string, newPassword: string, ip: string | null): Promise<void> {
  if (principal.kind !== 'user' || principal.userId === null || principal.sessionId === undefined) {
    throw new AppError('FORBIDDEN', 403, 'Only a signed-in user can change their password.');
  }
  const user = await findUserById(db, principal.userId);
  if (!user) throw new AppError('UNAUTHENTICATED', 401, 'Not signed in.');
  const actor: AuditActor = { kind: 'user', userId: user.id, name: user.username, ip };
  if (!(await verifyPassword(currentPassword, user.passwordHash))) {
    await writeAudit(db, { actor, action: 'auth.password_change', outcome: 'failure', target: { type: 'user', id: user.id }, details: { reason: 'wrong_current_password' } });
    throw new AppError('INVALID_CREDENTIALS', 401, 'The current password is wrong.', { in: 'body', field: 'currentPassword' });
  }
  const weakness = passwordWeakness(newPassword, user.username);
  if (weakness) throw new AppError('PASSWORD_TOO_WEAK', 422, `The new password is too weak: ${weakness}.`, { in: 'body', field: 'newPassword', reason: weakness });
  if (await verifyPassword(newPassword, user.passwordHash)) throw new AppError('PASSWORD_TOO_WEAK', 422, 'The new password must differ from the current one.', { in: 'body', field: 'newPassword', reason: 'unchanged' });
  const passwordHash = await hashPassword(newPassword);
  const sessionId = principal.sessionId;
  await db.transaction().execute(async (trx) => {
    await updateUserRow(trx, user.id, { passwordHash, mustChangePassword: false });
    const family = await familyOfSession(trx, sessionId);
    const revoked = await revokeUserSessions(trx, user.id, 'password_change', family);
    await writeAudit(trx, { actor, action: 'auth.password_change', target: { type: 'user', id: user.id }, details: { revokedSessions: revoked } });
  });
}
