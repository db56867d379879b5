import { AppError, type Where } from '../http/errors';
import { inScope, type Scope } from './principal';

/**
 * Refuse work on a division (or grid) outside the caller's scope: a planner of one street edits and
 * publishes that street's communities only. Published boundaries stay public; this guards the rest.
 * `where` is the input that named the division (a path code or id, a body field, a query parameter).
 */
export function requireInScope(scope: Scope, code: string, what: string, where: Where): void {
  if (!inScope(scope, code)) {
    throw new AppError('FORBIDDEN', 403, `${what} belongs to ${code}, which is outside your scope.`, { ...where, reason: 'OUT_OF_SCOPE', code });
  }
}
