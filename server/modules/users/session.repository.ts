import { sql } from 'kysely';
import type { Role } from '../../auth/principal';
import type { Database } from '../../db/database';

export interface NewSession {
  userId: number;
  familyId: string;
  accessHash: string;
  accessTtlSeconds: number;
  refreshHash: string;
  refreshTtlSeconds: number;
  ip: string | null;
  userAgent: string | null;
}

export async function insertSession(db: Database, s: NewSession): Promise<number> {
  const row = await db
    .insertInto('sessions')
    .values({
      user_id: s.userId,
      family_id: s.familyId,
      access_hash: s.accessHash,
      access_expires_at: sql<Date>`now() + make_interval(secs => ${s.accessTtlSeconds})`,
      refresh_hash: s.refreshHash,
      refresh_expires_at: sql<Date>`now() + make_interval(secs => ${s.refreshTtlSeconds})`,
      ip: s.ip,
      user_agent: s.userAgent?.slice(0, 300) ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** Who a bearer token belongs to; `status` says why it does not count when it does not. */
export interface TokenOwner {
  status: 'ok' | 'expired' | 'revoked';
  sessionId?: number;
  tokenId?: number;
  userId: number;
  username: string;
  userRoles: Role[];
  userScope: { all: boolean; prefixes: string[] };
  /** For API tokens: the token's own roles and scope (subsets of the user's). */
  tokenRoles?: Role[];
  tokenScope?: { all: boolean; prefixes: string[] };
  mustChangePassword: boolean;
  /** Lifetime left when looked up (ms, by the database clock); absent for a token that never expires. */
  expiresInMs?: number;
}

export async function findSessionByAccessHash(db: Database, hash: string): Promise<TokenOwner | undefined> {
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select([
      's.id',
      'u.id as user_id',
      'u.username',
      'u.roles',
      'u.scope_all',
      'u.scope_prefixes',
      'u.must_change_password',
      sql<boolean>`s.revoked_at IS NOT NULL OR s.rotated_at IS NOT NULL OR u.disabled`.as('revoked'),
      sql<boolean>`s.access_expires_at <= now()`.as('expired'),
      sql<number>`(extract(epoch FROM s.access_expires_at - now()) * 1000)::float8`.as('expires_in_ms'),
    ])
    .where('s.access_hash', '=', hash)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    status: row.revoked ? 'revoked' : row.expired ? 'expired' : 'ok',
    sessionId: Number(row.id),
    userId: row.user_id,
    username: row.username,
    userRoles: row.roles as Role[],
    userScope: { all: row.scope_all, prefixes: row.scope_prefixes },
    mustChangePassword: row.must_change_password,
    expiresInMs: row.expires_in_ms,
  };
}

export async function findApiTokenByHash(db: Database, hash: string): Promise<TokenOwner | undefined> {
  const row = await db
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select([
      't.id',
      't.roles as token_roles',
      't.scope_all as token_scope_all',
      't.scope_prefixes as token_scope_prefixes',
      'u.id as user_id',
      'u.username',
      'u.roles',
      'u.scope_all',
      'u.scope_prefixes',
      sql<boolean>`t.revoked_at IS NOT NULL OR u.disabled`.as('revoked'),
      sql<boolean>`t.expires_at IS NOT NULL AND t.expires_at <= now()`.as('expired'),
      sql<number | null>`(extract(epoch FROM t.expires_at - now()) * 1000)::float8`.as('expires_in_ms'),
    ])
    .where('t.token_hash', '=', hash)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    status: row.revoked ? 'revoked' : row.expired ? 'expired' : 'ok',
    tokenId: row.id,
    userId: row.user_id,
    username: row.username,
    userRoles: row.roles as Role[],
    userScope: { all: row.scope_all, prefixes: row.scope_prefixes },
    tokenRoles: row.token_roles as Role[],
    tokenScope: { all: row.token_scope_all, prefixes: row.token_scope_prefixes },
    mustChangePassword: false,
    ...(row.expires_in_ms === null ? {} : { expiresInMs: row.expires_in_ms }),
  };
}

export async function touchApiToken(db: Database, id: number): Promise<void> {
  // At most once a minute per token, so a busy machine client does not write on every request.
  await db.updateTable('api_tokens').set({ last_used_at: sql<Date>`now()` }).where('id', '=', id).where(sql<boolean>`(last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`).execute();
}

export interface RefreshCandidate {
  sessionId: number;
  familyId: string;
  userId: number;
  rotated: boolean;
  revoked: boolean;
  expired: boolean;
}

export async function findSessionByRefreshHash(db: Database, hash: string): Promise<RefreshCandidate | undefined> {
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select([
      's.id',
      's.family_id',
      's.user_id',
      sql<boolean>`s.rotated_at IS NOT NULL`.as('rotated'),
      sql<boolean>`s.revoked_at IS NOT NULL OR u.disabled`.as('revoked'),
      sql<boolean>`s.refresh_expires_at <= now()`.as('expired'),
    ])
    .where('s.refresh_hash', '=', hash)
    .forUpdate('s')
    .executeTakeFirst();
  if (!row) return undefined;
  return { sessionId: Number(row.id), familyId: row.family_id, userId: row.user_id, rotated: row.rotated, revoked: row.revoked, expired: row.expired };
}

export async function markRotated(db: Database, sessionId: number): Promise<void> {
  await db.updateTable('sessions').set({ rotated_at: sql<Date>`now()` }).where('id', '=', String(sessionId)).execute();
}

export async function revokeSession(db: Database, sessionId: number, reason: string): Promise<void> {
  await db.updateTable('sessions').set({ revoked_at: sql<Date>`now()`, revoked_reason: reason }).where('id', '=', String(sessionId)).where('revoked_at', 'is', null).execute();
}

export async function revokeFamily(db: Database, familyId: string, reason: string): Promise<number> {
  const res = await db.updateTable('sessions').set({ revoked_at: sql<Date>`now()`, revoked_reason: reason }).where('family_id', '=', familyId).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** Every live session of a user except (optionally) one family: after a password change or reset. */
export async function revokeUserSessions(db: Database, userId: number, reason: string, exceptFamilyId?: string): Promise<number> {
  let q = db.updateTable('sessions').set({ revoked_at: sql<Date>`now()`, revoked_reason: reason }).where('user_id', '=', userId).where('revoked_at', 'is', null);
  if (exceptFamilyId !== undefined) q = q.where('family_id', '<>', exceptFamilyId);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows);
}

export async function familyOfSession(db: Database, sessionId: number): Promise<string | undefined> {
  const row = await db.selectFrom('sessions').select('family_id').where('id', '=', String(sessionId)).executeTakeFirst();
  return row?.family_id;
}
