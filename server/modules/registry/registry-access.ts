/**
 * Who may touch which registry row. Routes declare their permission (`config.permission`, enforced by
 * the security plugin); services check it again with the row's place, because a permission is always
 * narrowed by the principal's scope: a row is in scope when its grid code or its community code starts
 * with one of the scope's prefixes — the same rule as the RLS policies (wangge_in_scope).
 */
import type { FastifyRequest } from 'fastify';
import { ANONYMOUS, inScope, type Permission, type Principal } from '../../auth/principal';
import { AppError, type Where } from '../../http/errors';
import type { AuditActor } from '../audit/audit.service';

/** The request's principal, set by the security plugin; anonymous when there is none. */
export function principalOf(request: FastifyRequest): Principal {
  return (request as FastifyRequest & { principal?: Principal }).principal ?? ANONYMOUS;
}

export function requirePermission(principal: Principal, permission: Permission): void {
  if (!principal.permissions.has(permission)) {
    throw new AppError('FORBIDDEN', 403, `This needs the permission ${permission}.`, { permission });
  }
}

export function placeInScope(principal: Principal, place: { gridCode: string | null; communityCode: string | null }): boolean {
  return inScope(principal.scope, place.gridCode) || inScope(principal.scope, place.communityCode);
}

/**
 * Writes outside the scope are refused with 404 for rows the principal cannot read (so ids do not leak)
 * and 403 for rows it can read but not change (buildings are readable everywhere). `where` is the input
 * that placed the row: the path id of the record changed, or the body's geometry or parent id.
 */
export function requireWriteScope(principal: Principal, place: { gridCode: string | null; communityCode: string | null }, visible: boolean, where: Where): void {
  if (placeInScope(principal, place)) return;
  if (!visible) throw new AppError('NOT_FOUND', 404, 'No such record.', where);
  throw new AppError('FORBIDDEN', 403, 'This record lies outside your grids.', { ...where, gridCode: place.gridCode, communityCode: place.communityCode });
}

export function auditActorOf(principal: Principal, ip: string | null = null): AuditActor {
  return { kind: principal.kind, userId: principal.userId, name: principal.username, ip };
}

/** Today in Asia/Shanghai, YYYY-MM-DD: the default date a change takes effect (defined with the calendar helpers). */
export { shanghaiToday } from '../../contracts/calendar';
