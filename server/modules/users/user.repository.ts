import { sql } from 'kysely';
import type { Role } from '../../auth/principal';
import type { User } from '../../contracts/auth';
import type { Database } from '../../db/database';

export interface UserRecord extends User {
  passwordHash: string;
  failedSignIns: number;
}

type UserRow = {
  id: number;
  username: string;
  display_name: string;
  password_hash: string;
  roles: string[];
  scope_all: boolean;
  scope_prefixes: string[];
  must_change_password: boolean;
  disabled: boolean;
  failed_sign_ins: number;
  locked_until: Date | null;
  created_at: Date;
  updated_at: Date;
};

const COLUMNS = ['id', 'username', 'display_name', 'password_hash', 'roles', 'scope_all', 'scope_prefixes', 'must_change_password', 'disabled', 'failed_sign_ins', 'locked_until', 'created_at', 'updated_at'] as const;

function toUserRecord(r: UserRow): UserRecord {
  return {
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    roles: r.roles as Role[],
    scope: { all: r.scope_all, prefixes: r.scope_prefixes },
    disabled: r.disabled,
    mustChangePassword: r.must_change_password,
    lockedUntil: r.locked_until ? r.locked_until.toISOString() : null,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    passwordHash: r.password_hash,
    failedSignIns: r.failed_sign_ins,
  };
}

/** Strip the secret fields before a user leaves the service layer. */
export function toUser(u: UserRecord): User {
  const { passwordHash: _hash, failedSignIns: _failed, ...user } = u;
  return user;
}

export async function findUserById(db: Database, id: number, lock?: 'update'): Promise<UserRecord | undefined> {
  let q = db.selectFrom('users').select(COLUMNS).where('id', '=', id);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? toUserRecord(row) : undefined;
}

export async function findUserByUsername(db: Database, username: string, lock?: 'update'): Promise<UserRecord | undefined> {
  let q = db.selectFrom('users').select(COLUMNS).where('username', '=', username);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? toUserRecord(row) : undefined;
}

export async function listUserRecords(db: Database): Promise<UserRecord[]> {
  const rows = await db.selectFrom('users').select(COLUMNS).orderBy('id').execute();
  return rows.map((r) => toUserRecord(r));
}

export interface NewUser {
  username: string;
  displayName: string;
  passwordHash: string;
  roles: Role[];
  scope: { all: boolean; prefixes: string[] };
  mustChangePassword: boolean;
}

/** Undefined when the username is taken. */
export async function insertUser(db: Database, u: NewUser): Promise<UserRecord | undefined> {
  const row = await db
    .insertInto('users')
    .values({
      username: u.username,
      display_name: u.displayName,
      password_hash: u.passwordHash,
      roles: u.roles,
      scope_all: u.scope.all,
      scope_prefixes: u.scope.prefixes,
      must_change_password: u.mustChangePassword,
    })
    .onConflict((oc) => oc.column('username').doNothing())
    .returning(COLUMNS)
    .executeTakeFirst();
  return row ? toUserRecord(row) : undefined;
}

export interface UserChanges {
  displayName?: string;
  roles?: Role[];
  scope?: { all: boolean; prefixes: string[] };
  disabled?: boolean;
  unlock?: boolean;
  passwordHash?: string;
  mustChangePassword?: boolean;
}

export async function updateUserRow(db: Database, id: number, c: UserChanges): Promise<void> {
  await db
    .updateTable('users')
    .set({
      updated_at: sql<Date>`now()`,
      ...(c.displayName === undefined ? {} : { display_name: c.displayName }),
      ...(c.roles === undefined ? {} : { roles: c.roles }),
      ...(c.scope === undefined ? {} : { scope_all: c.scope.all, scope_prefixes: c.scope.prefixes }),
      ...(c.disabled === undefined ? {} : { disabled: c.disabled }),
      ...(c.unlock ? { failed_sign_ins: 0, locked_until: null } : {}),
      ...(c.passwordHash === undefined ? {} : { password_hash: c.passwordHash, password_changed_at: sql<Date>`now()`, failed_sign_ins: 0, locked_until: null }),
      ...(c.mustChangePassword === undefined ? {} : { must_change_password: c.mustChangePassword }),
    })
    .where('id', '=', id)
    .execute();
}

/** Count a failed sign-in; from the threshold on, lock for 2^(n − threshold) minutes, at most an hour. */
export async function recordFailedSignIn(db: Database, id: number, threshold: number): Promise<{ failedSignIns: number; lockedUntil: Date | null }> {
  const row = await db
    .updateTable('users')
    .set({
      failed_sign_ins: sql<number>`failed_sign_ins + 1`,
      locked_until: sql<Date | null>`CASE WHEN failed_sign_ins + 1 >= ${threshold}
        THEN now() + least(interval '60 minutes', interval '1 minute' * power(2, failed_sign_ins + 1 - ${threshold}))
        ELSE locked_until END`,
    })
    .where('id', '=', id)
    .returning(['failed_sign_ins', 'locked_until'])
    .executeTakeFirstOrThrow();
  return { failedSignIns: row.failed_sign_ins, lockedUntil: row.locked_until };
}

export async function resetFailedSignIns(db: Database, id: number): Promise<void> {
  await db.updateTable('users').set({ failed_sign_ins: 0, locked_until: null }).where('id', '=', id).execute();
}

export async function countEnabledAdmins(db: Database, exceptUserId?: number): Promise<number> {
  let q = db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('disabled', '=', false).where(sql<boolean>`'admin' = ANY(roles)`);
  if (exceptUserId !== undefined) q = q.where('id', '<>', exceptUserId);
  const row = await q.executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function anyAdminExists(db: Database): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').where(sql<boolean>`'admin' = ANY(roles)`).limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function recordSignInFailureFromIp(db: Database, ip: string, username: string): Promise<void> {
  await db.insertInto('sign_in_failures').values({ ip, username: username.slice(0, 64) }).execute();
}

export async function countRecentFailuresFromIp(db: Database, ip: string, windowMinutes: number): Promise<number> {
  const row = await db
    .selectFrom('sign_in_failures')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('ip', '=', ip)
    .where('at', '>', sql<Date>`now() - make_interval(mins => ${windowMinutes})`)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Serialises first-run admin creation between processes starting at once (until commit). */
export async function lockInitialAdminCreation(trx: Database): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('wangge.initial_admin'))`.execute(trx);
}
