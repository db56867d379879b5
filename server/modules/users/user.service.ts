/**
 * Accounts, managed by holders of users:admin. Every change of roles, scope or status is audited
 * with before and after; disabling or resetting revokes the user's sessions at once.
 */
import type { Role } from '../../auth/principal';
import { hashPassword, passwordWeakness, randomPassword } from '../../auth/password';
import type { CreateUserBody, UpdateUserBody, User } from '../../contracts/auth';
import type { Database } from '../../db/database';
import { AppError, PATH_ID } from '../../http/errors';
import { SYSTEM_ACTOR, writeAudit, type AuditActor } from '../audit/audit.service';
import { revokeUserApiTokens } from './api-token.repository';
import { revokeUserSessions } from './session.repository';
import { anyAdminExists, countEnabledAdmins, lockInitialAdminCreation, findUserById, insertUser, listUserRecords, toUser, updateUserRow, type UserRecord } from './user.repository';

/** The user named by the path (`/users/:id`, `/users/:id/password-reset`). */
async function requireUser(db: Database, id: number, lock?: 'update'): Promise<UserRecord> {
  const user = await findUserById(db, id, lock);
  if (!user) throw new AppError('USER_NOT_FOUND', 404, `User ${id} does not exist.`, { ...PATH_ID, userId: id });
  return user;
}

export async function listUsers(db: Database): Promise<User[]> {
  return (await listUserRecords(db)).map(toUser);
}

export async function getUser(db: Database, id: number): Promise<User> {
  return toUser(await requireUser(db, id));
}

function normaliseScope(scope: { all: boolean; prefixes: string[] }): { all: boolean; prefixes: string[] } {
  return scope.all ? { all: true, prefixes: [] } : { all: false, prefixes: [...new Set(scope.prefixes)].sort() };
}

export async function createUser(db: Database, body: CreateUserBody, actor: AuditActor): Promise<{ user: User; oneTimePassword: string | null }> {
  const oneTimePassword = body.password === undefined ? randomPassword() : null;
  const password = body.password ?? (oneTimePassword as string);
  const weakness = body.password === undefined ? undefined : passwordWeakness(body.password, body.username);
  if (weakness) throw new AppError('PASSWORD_TOO_WEAK', 422, `The password is too weak: ${weakness}.`, { in: 'body', field: 'password', reason: weakness });
  const passwordHash = await hashPassword(password);
  return db.transaction().execute(async (trx) => {
    const created = await insertUser(trx, {
      username: body.username,
      displayName: body.displayName ?? '',
      passwordHash,
      roles: body.roles,
      scope: normaliseScope(body.scope),
      mustChangePassword: oneTimePassword !== null,
    });
    if (!created) throw new AppError('USER_EXISTS', 409, `The username ${body.username} is taken.`, { in: 'body', field: 'username', username: body.username });
    await writeAudit(trx, {
      actor,
      action: 'user.create',
      target: { type: 'user', id: created.id },
      details: { username: created.username, roles: created.roles, scope: created.scope },
    });
    return { user: toUser(created), oneTimePassword };
  });
}

export async function updateUser(db: Database, id: number, body: UpdateUserBody, actor: AuditActor): Promise<User> {
  return db.transaction().execute(async (trx) => {
    const before = await requireUser(trx, id, 'update');
    const roles = body.roles;
    const losesAdmin = (roles !== undefined && before.roles.includes('admin') && !roles.includes('admin')) || (body.disabled === true && before.roles.includes('admin'));
    if (losesAdmin && (await countEnabledAdmins(trx, id)) === 0) {
      const field = roles !== undefined && !roles.includes('admin') ? 'roles' : 'disabled';
      throw new AppError('LAST_ADMIN', 409, 'This is the last enabled administrator; make another one first.', { in: 'body', field, userId: id });
    }
    const scope = body.scope === undefined ? undefined : normaliseScope(body.scope);
    await updateUserRow(trx, id, {
      ...(body.displayName === undefined ? {} : { displayName: body.displayName }),
      ...(roles === undefined ? {} : { roles }),
      ...(scope === undefined ? {} : { scope }),
      ...(body.disabled === undefined ? {} : { disabled: body.disabled }),
      ...(body.unlock ? { unlock: true } : {}),
    });
    const after = await requireUser(trx, id);
    if (body.disabled === true && !before.disabled) {
      await revokeUserSessions(trx, id, 'disabled');
      await revokeUserApiTokens(trx, id);
    }
    const rolesChanged = roles !== undefined && !sameSet(before.roles, after.roles);
    const scopeChanged = scope !== undefined && (before.scope.all !== after.scope.all || !sameSet(before.scope.prefixes, after.scope.prefixes));
    if (rolesChanged || scopeChanged) {
      await writeAudit(trx, {
        actor,
        action: 'user.permissions_change',
        target: { type: 'user', id },
        details: { username: after.username, before: { roles: before.roles, scope: before.scope }, after: { roles: after.roles, scope: after.scope } },
      });
    }
    if (body.disabled !== undefined && body.disabled !== before.disabled) {
      await writeAudit(trx, { actor, action: body.disabled ? 'user.disable' : 'user.enable', target: { type: 'user', id }, details: { username: after.username } });
    }
    if (body.unlock) await writeAudit(trx, { actor, action: 'user.unlock', target: { type: 'user', id }, details: { username: after.username } });
    return toUser(after);
  });
}

function sameSet<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** A new one-time password (shown once); the user must change it at sign-in; sessions end now. */
export async function resetPassword(db: Database, id: number, actor: AuditActor): Promise<{ oneTimePassword: string }> {
  const oneTimePassword = randomPassword();
  const passwordHash = await hashPassword(oneTimePassword);
  await db.transaction().execute(async (trx) => {
    const user = await requireUser(trx, id, 'update');
    await updateUserRow(trx, id, { passwordHash, mustChangePassword: true });
    const revoked = await revokeUserSessions(trx, id, 'password_reset');
    await writeAudit(trx, { actor, action: 'user.password_reset', target: { type: 'user', id }, details: { username: user.username, revokedSessions: revoked } });
  });
  return { oneTimePassword };
}

/**
 * First run: when no administrator exists, create `admin` (or `admin-<n>` if taken) with a random
 * one-time password, returned so main.ts prints it once; it must be changed at first sign-in.
 */
export async function ensureInitialAdmin(db: Database): Promise<{ username: string; oneTimePassword: string } | undefined> {
  if (await anyAdminExists(db)) return undefined;
  const oneTimePassword = randomPassword();
  const passwordHash = await hashPassword(oneTimePassword);
  return db.transaction().execute(async (trx) => {
    // Two processes starting at once: only one creates the admin.
    await lockInitialAdminCreation(trx);
    if (await anyAdminExists(trx)) return undefined;
    for (const username of ['admin', 'admin-1', 'admin-2', 'admin-3']) {
      const created = await insertUser(trx, { username, displayName: '初始管理员', passwordHash, roles: ['admin'], scope: { all: true, prefixes: [] }, mustChangePassword: true });
      if (created) {
        await writeAudit(trx, { actor: SYSTEM_ACTOR, action: 'user.create', target: { type: 'user', id: created.id }, details: { username, roles: ['admin'], reason: 'first_run' } });
        return { username, oneTimePassword };
      }
    }
    throw new Error('could not create the initial administrator: admin … admin-3 are all taken by non-admins');
  });
}

/** Accounts of the demo city, one per role but admin, with documented passwords (README, "Demo accounts"). */
export const DEMO_PASSWORD = 'wangge-demo-2024';
export const DEMO_ACCOUNTS: ReadonlyArray<{ username: string; displayName: string; roles: Role[]; scope: (district: string, street: string, community: string, grid: string) => { all: boolean; prefixes: string[] } }> = [
  { username: 'demo-planner', displayName: '演示·规划员', roles: ['planner'], scope: (d) => ({ all: false, prefixes: [d] }) },
  { username: 'demo-dispatcher', displayName: '演示·调度员', roles: ['dispatcher'], scope: (d) => ({ all: false, prefixes: [d] }) },
  { username: 'demo-grid-worker', displayName: '演示·网格员', roles: ['grid_worker'], scope: (_d, _s, _c, g) => ({ all: false, prefixes: [g] }) },
  { username: 'demo-community', displayName: '演示·社区管理员', roles: ['community_manager'], scope: (_d, _s, c) => ({ all: false, prefixes: [c] }) },
  { username: 'demo-street', displayName: '演示·街道管理员', roles: ['street_manager'], scope: (_d, s) => ({ all: false, prefixes: [s] }) },
  { username: 'demo-analyst', displayName: '演示·分析员', roles: ['analyst'], scope: () => ({ all: true, prefixes: [] }) },
  { username: 'demo-auditor', displayName: '演示·审计员', roles: ['auditor'], scope: () => ({ all: true, prefixes: [] }) },
];

export async function createDemoUsers(db: Database, codes: { district: string; street: string; community: string; grid: string }): Promise<string[]> {
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const created: string[] = [];
  for (const account of DEMO_ACCOUNTS) {
    const scope = account.scope(codes.district, codes.street, codes.community, codes.grid);
    const user = await insertUser(db, { username: account.username, displayName: account.displayName, passwordHash, roles: account.roles, scope, mustChangePassword: false });
    if (user) {
      created.push(user.username);
      await writeAudit(db, { actor: SYSTEM_ACTOR, action: 'user.create', target: { type: 'user', id: user.id }, details: { username: user.username, roles: user.roles, scope, reason: 'demo' } });
    }
  }
  return created;
}
