/**
 * API tokens for machine clients (hotline systems, ETL jobs): roles a subset of the creator's, scope
 * inside the creator's, shown once, listed without the secret, revocable. The token's power is
 * re-bounded by its creator's current roles and scope on every request (auth/authenticate.ts).
 */
import { scopeWithin, type Principal } from '../../auth/principal';
import { newToken } from '../../auth/tokens';
import type { ApiToken, CreateApiTokenBody } from '../../contracts/auth';
import type { Database } from '../../db/database';
import { AppError, PATH_ID } from '../../http/errors';
import { writeAudit, type AuditActor } from '../audit/audit.service';
import { findApiToken, insertApiToken, listApiTokens, revokeApiTokenRow } from './api-token.repository';

function requireSessionUser(principal: Principal): number {
  if (principal.kind !== 'user' || principal.userId === null) {
    throw new AppError('FORBIDDEN', 403, 'API tokens are managed by signed-in users, not by other API tokens.');
  }
  return principal.userId;
}

export async function createApiToken(db: Database, principal: Principal, body: CreateApiTokenBody, actor: AuditActor): Promise<{ token: string; apiToken: ApiToken }> {
  const userId = requireSessionUser(principal);
  const extra = body.roles.filter((r) => !principal.roles.includes(r));
  if (extra.length > 0) throw new AppError('FORBIDDEN', 403, `A token cannot have roles its creator lacks: ${extra.join(', ')}.`, { in: 'body', field: 'roles', roles: extra });
  const scope = body.scope ?? principal.scope;
  if (!scopeWithin(scope, principal.scope)) throw new AppError('OUT_OF_SCOPE', 403, 'A token\'s scope must lie inside its creator\'s.', { in: 'body', field: 'scope', scope });
  const { token, hash } = newToken('api');
  return db.transaction().execute(async (trx) => {
    const apiToken = await insertApiToken(trx, {
      userId,
      name: body.name,
      tokenHash: hash,
      tokenPrefix: token.slice(0, 10),
      roles: body.roles,
      scope: scope.all ? { all: true, prefixes: [] } : { all: false, prefixes: [...new Set(scope.prefixes)].sort() },
      ...(body.expiresInDays === undefined ? {} : { expiresInDays: body.expiresInDays }),
    });
    await writeAudit(trx, { actor, action: 'api_token.create', target: { type: 'api_token', id: apiToken.id }, details: { name: apiToken.name, roles: apiToken.roles, scope: apiToken.scope, expiresAt: apiToken.expiresAt } });
    return { token, apiToken };
  });
}

/** One's own tokens; holders of users:admin see everyone's. */
export async function listVisibleApiTokens(db: Database, principal: Principal): Promise<ApiToken[]> {
  const userId = requireSessionUser(principal);
  return listApiTokens(db, principal.permissions.has('users:admin') ? undefined : userId);
}

export async function revokeApiToken(db: Database, principal: Principal, id: number, actor: AuditActor): Promise<void> {
  const userId = requireSessionUser(principal);
  await db.transaction().execute(async (trx) => {
    const token = await findApiToken(trx, id);
    // Someone else's token is "not found" to a non-admin: no probing for ids.
    if (!token || (token.userId !== userId && !principal.permissions.has('users:admin'))) {
      throw new AppError('API_TOKEN_NOT_FOUND', 404, `API token ${id} does not exist.`, { ...PATH_ID, tokenId: id });
    }
    await revokeApiTokenRow(trx, id);
    await writeAudit(trx, { actor, action: 'api_token.revoke', target: { type: 'api_token', id }, details: { name: token.name, ownerUserId: token.userId } });
  });
}
