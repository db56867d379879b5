import { sql } from 'kysely';
import type { AuditEntry, AuditQuery } from '../../contracts/audit';
import type { Database } from '../../db/database';

export interface AuditRow {
  id: number;
  at: Date;
  actorKind: AuditEntry['actorKind'];
  actorUserId: number | null;
  actorName: string | null;
  action: string;
  outcome: AuditEntry['outcome'];
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** The chain head, locked until the transaction ends: appends take turns here. */
export async function lockChainHead(trx: Database): Promise<{ lastId: number; lastHash: string }> {
  const row = await trx.selectFrom('audit_chain_head').select(['last_id', 'last_hash']).forUpdate().executeTakeFirstOrThrow();
  return { lastId: Number(row.last_id), lastHash: row.last_hash };
}

export async function readChainHead(db: Database): Promise<{ lastId: number; lastHash: string }> {
  const row = await db.selectFrom('audit_chain_head').select(['last_id', 'last_hash']).executeTakeFirstOrThrow();
  return { lastId: Number(row.last_id), lastHash: row.last_hash };
}

export async function appendAuditRow(trx: Database, row: AuditRow): Promise<void> {
  await trx
    .insertInto('audit_log')
    .values({
      id: row.id,
      at: row.at,
      actor_kind: row.actorKind,
      actor_user_id: row.actorUserId,
      actor_name: row.actorName,
      action: row.action,
      outcome: row.outcome,
      target_type: row.targetType,
      target_id: row.targetId,
      ip: row.ip,
      details: JSON.stringify(row.details),
      prev_hash: row.prevHash,
      hash: row.hash,
    })
    .execute();
  await trx.updateTable('audit_chain_head').set({ last_id: row.id, last_hash: row.hash }).execute();
}

type Selected = {
  id: number | string;
  at: Date | string;
  actor_kind: string;
  actor_user_id: number | null;
  actor_name: string | null;
  action: string;
  outcome: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: unknown;
  prev_hash: string;
  hash: string;
};

function toAuditRow(r: Selected): AuditRow {
  return {
    id: Number(r.id),
    at: r.at instanceof Date ? r.at : new Date(r.at),
    actorKind: r.actor_kind as AuditRow['actorKind'],
    actorUserId: r.actor_user_id,
    actorName: r.actor_name,
    action: r.action,
    outcome: r.outcome as AuditRow['outcome'],
    targetType: r.target_type,
    targetId: r.target_id,
    ip: r.ip,
    details: (r.details ?? {}) as Record<string, unknown>,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

const COLUMNS = ['id', 'at', 'actor_kind', 'actor_user_id', 'actor_name', 'action', 'outcome', 'target_type', 'target_id', 'ip', 'details', 'prev_hash', 'hash'] as const;

/** Newest first, keyset-paged by id; every filter is a bound parameter. */
export async function listAuditRows(db: Database, q: AuditQuery & { limit: number }): Promise<AuditRow[]> {
  let query = db.selectFrom('audit_log').select(COLUMNS);
  if (q.action !== undefined) {
    query = q.action.endsWith('.') ? query.where(sql<boolean>`starts_with(action, ${q.action})`) : query.where('action', '=', q.action);
  }
  if (q.actorUserId !== undefined) query = query.where('actor_user_id', '=', q.actorUserId);
  if (q.actorName !== undefined) query = query.where('actor_name', '=', q.actorName);
  if (q.targetType !== undefined) query = query.where('target_type', '=', q.targetType);
  if (q.targetId !== undefined) query = query.where('target_id', '=', q.targetId);
  if (q.outcome !== undefined) query = query.where('outcome', '=', q.outcome);
  if (q.from !== undefined) query = query.where('at', '>=', new Date(q.from));
  if (q.to !== undefined) query = query.where('at', '<', new Date(q.to));
  if (q.before !== undefined) query = query.where('id', '<', String(q.before));
  const rows = await query.orderBy('id', 'desc').limit(q.limit).execute();
  return rows.map((r) => toAuditRow(r as Selected));
}

/** A batch of the chain in id order, from `afterId` (exclusive). */
export async function chainBatch(db: Database, afterId: number, size: number): Promise<AuditRow[]> {
  const rows = await db.selectFrom('audit_log').select(COLUMNS).where('id', '>', String(afterId)).orderBy('id', 'asc').limit(size).execute();
  return rows.map((r) => toAuditRow(r as Selected));
}
