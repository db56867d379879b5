import { sql } from 'kysely';
import type { Role } from '../../auth/principal';
import type { ApiToken } from '../../contracts/auth';
import type { Database } from '../../db/database';

const COLUMNS = ['id', 'user_id', 'name', 'token_prefix', 'roles', 'scope_all', 'scope_prefixes', 'expires_at', 'last_used_at', 'revoked_at', 'created_at'] as const;

type Row = {
  id: number;
  user_id: number;
  name: string;
  token_prefix: string;
  roles: string[];
  scope_all: boolean;
  scope_prefixes: string[];
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
};

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

function toApiToken(r: Row): ApiToken {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    tokenPrefix: r.token_prefix,
    roles: r.roles as Role[],
    scope: { all: r.scope_all, prefixes: r.scope_prefixes },
    expiresAt: iso(r.expires_at),
    lastUsedAt: iso(r.last_used_at),
    revokedAt: iso(r.revoked_at),
    createdAt: r.created_at.toISOString(),
  };
}

export async function insertApiToken(
  db: Database,
  t: { userId: number; name: string; tokenHash: string; tokenPrefix: string; roles: Role[]; scope: { all: boolean; prefixes: string[] }; expiresInDays?: number },
): Promise<ApiToken> {
  const row = await db
    .insertInto('api_tokens')
    .values({
      user_id: t.userId,
      name: t.name,
      token_hash: t.tokenHash,
      token_prefix: t.tokenPrefix,
      roles: t.roles,
      scope_all: t.scope.all,
      scope_prefixes: t.scope.prefixes,
      expires_at: t.expiresInDays === undefined ? null : sql<Date>`now() + make_interval(days => ${t.expiresInDays})`,
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return toApiToken(row);
}

/** All tokens, or those of one user. */
export async function listApiTokens(db: Database, userId?: number): Promise<ApiToken[]> {
  let q = db.selectFrom('api_tokens').select(COLUMNS);
  if (userId !== undefined) q = q.where('user_id', '=', userId);
  const rows = await q.orderBy('id').execute();
  return rows.map((r) => toApiToken(r));
}

export async function findApiToken(db: Database, id: number): Promise<ApiToken | undefined> {
  const row = await db.selectFrom('api_tokens').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  return row ? toApiToken(row) : undefined;
}

export async function revokeApiTokenRow(db: Database, id: number): Promise<void> {
  await db.updateTable('api_tokens').set({ revoked_at: sql<Date>`now()` }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

export async function revokeUserApiTokens(db: Database, userId: number): Promise<void> {
  await db.updateTable('api_tokens').set({ revoked_at: sql<Date>`now()` }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
}
