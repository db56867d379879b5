/**
 * The hash chain of the audit log, pure: a row's hash is SHA-256 over a canonical serialisation of
 * every field (object keys sorted at every depth, so jsonb's own key order never matters) together
 * with the previous row's hash. Changing any field of any row, or removing one, breaks the chain there.
 */
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedFields {
  id: number;
  at: Date;
  actorKind: string;
  actorUserId: number | null;
  actorName: string | null;
  action: string;
  outcome: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: unknown;
  prevHash: string;
}

/** JSON with object keys sorted at every depth. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function hashEntry(e: ChainedFields): string {
  const serialised = canonicalJson([
    'wangge-audit-v1',
    e.id,
    e.at.toISOString(),
    e.actorKind,
    e.actorUserId,
    e.actorName,
    e.action,
    e.outcome,
    e.targetType,
    e.targetId,
    e.ip,
    e.details,
    e.prevHash,
  ]);
  return createHash('sha256').update(serialised, 'utf8').digest('hex');
}
