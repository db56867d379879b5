/**
 * The audit view's filter form as the API's query: empty fields left out, trimmed, and the form's
 * local times (`datetime-local`, no zone) read as the city's time (UTC+8), whatever zone the
 * auditor's browser is in.
 */
import type { AuditQuery } from '@contracts/audit';
import { SHANGHAI_OFFSET_MS } from '@contracts/calendar';

export interface AuditFilterForm {
  action: string;
  actorName: string;
  targetType: string;
  targetId: string;
  outcome: string;
  /** `YYYY-MM-DDTHH:mm` as a datetime-local input gives it, or empty. */
  from: string;
  to: string;
}

export const EMPTY_FILTERS: AuditFilterForm = { action: '', actorName: '', targetType: '', targetId: '', outcome: '', from: '', to: '' };

/**
 * `2026-11-27T08:00` in Shanghai as an ISO instant; undefined for anything else.
 *
 * @example shanghaiLocalToIso('2026-11-27T08:00') // '2026-11-27T00:00:00.000Z'
 */
export function shanghaiLocalToIso(local: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, Number.isNaN(s) ? 0 : s) - SHANGHAI_OFFSET_MS;
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export function auditQuery(form: AuditFilterForm): Partial<AuditQuery> {
  const q: Partial<AuditQuery> = {};
  const action = form.action.trim();
  if (action) q.action = action;
  if (form.actorName.trim()) q.actorName = form.actorName.trim();
  if (form.targetType.trim()) q.targetType = form.targetType.trim();
  if (form.targetId.trim()) q.targetId = form.targetId.trim();
  if (form.outcome === 'success' || form.outcome === 'failure' || form.outcome === 'denied') q.outcome = form.outcome;
  const from = shanghaiLocalToIso(form.from);
  if (from) q.from = from;
  const to = shanghaiLocalToIso(form.to);
  if (to) q.to = to;
  return q;
}
