/**
 * The append-only audit log: `writeAudit(trx, entry)` for every module (sign-ins, permission changes,
 * layout publishes, registry unmasks and exports, event transitions), listing for auditors, and
 * verification of the hash chain.
 */
import type { AuditPage, AuditQuery, AuditVerification } from '../../contracts/audit';
import type { Database } from '../../db/database';
import { setStatementTimeout, STATEMENT_TIMEOUT_MS } from '../../db/statement-timeout';
import { GENESIS_HASH, hashEntry } from './audit-chain';
import { appendAuditRow, chainBatch, listAuditRows, lockChainHead, readChainHead, type AuditRow } from './audit.repository';

/** Who did it, from where. Build it from a request with `auditActor(request)` (server/auth/request-auth.ts). */
export interface AuditActor {
  kind: 'user' | 'token' | 'anonymous' | 'system';
  userId: number | null;
  name: string | null;
  ip: string | null;
}

export const SYSTEM_ACTOR: AuditActor = { kind: 'system', userId: null, name: 'system', ip: null };

export interface AuditEntryInput {
  actor: AuditActor;
  /** `domain.verb`, lower snake case: auth.sign_in, user.permissions_change, layout.publish, registry.unmask … */
  action: string;
  outcome?: 'success' | 'failure' | 'denied';
  target?: { type: string; id: string | number };
  /** What changed and why (e.g. a stated purpose); never secrets. */
  details?: Record<string, unknown>;
}

/**
 * Append one entry. Call it with the transaction that does the audited work, so the entry commits or
 * rolls back with it; given a plain connection it opens its own transaction. Appends serialise on the
 * chain head row until commit, so keep audited transactions short.
 */
export async function writeAudit(db: Database, entry: AuditEntryInput): Promise<void> {
  if (!db.isTransaction) {
    await db.transaction().execute((trx) => writeAudit(trx, entry));
    return;
  }
  const head = await lockChainHead(db);
  const row: Omit<AuditRow, 'hash'> = {
    id: head.lastId + 1,
    at: new Date(),
    actorKind: entry.actor.kind,
    actorUserId: entry.actor.userId,
    actorName: entry.actor.name,
    action: entry.action,
    outcome: entry.outcome ?? 'success',
    targetType: entry.target?.type ?? null,
    targetId: entry.target === undefined ? null : String(entry.target.id),
    ip: entry.actor.ip,
    // Round-trip through JSON now so the hash covers exactly what jsonb will give back.
    details: JSON.parse(JSON.stringify(entry.details ?? {})) as Record<string, unknown>,
    prevHash: head.lastHash,
  };
  await appendAuditRow(db, { ...row, hash: hashEntry(row) });
}

const toIso = (d: Date): string => d.toISOString();

export async function listAudit(db: Database, query: AuditQuery): Promise<AuditPage> {
  const limit = query.limit ?? 100;
  const rows = await listAuditRows(db, { ...query, limit });
  const entries = rows.map((r) => ({ ...r, at: toIso(r.at) }));
  const last = rows.at(-1);
  return { entries, nextBefore: rows.length === limit && last ? last.id : null };
}

/** Walk the whole chain in id order and report the first broken link (a heavy request by design). */
export async function verifyAuditChain(db: Database): Promise<AuditVerification> {
  // One snapshot for the walk and the head, so concurrent appends never look like breaks.
  return db.transaction().setIsolationLevel('repeatable read').execute(async (trx) => {
    await setStatementTimeout(trx, STATEMENT_TIMEOUT_MS.heavy);
    const head = await readChainHead(trx);
    let expectedId = 1;
    let prevHash = GENESIS_HASH;
    let checked = 0;
    const broken = (id: number, reason: NonNullable<AuditVerification['firstBroken']>['reason']): AuditVerification => ({ ok: false, checked, headId: head.lastId, firstBroken: { id, reason } });
    for (;;) {
      const batch = await chainBatch(trx, expectedId - 1, 5_000);
      if (batch.length === 0) break;
      for (const row of batch) {
        if (row.id !== expectedId) return broken(expectedId, 'missing_entry');
        if (row.prevHash !== prevHash) return broken(row.id, 'prev_hash_mismatch');
        if (hashEntry(row) !== row.hash) return broken(row.id, 'hash_mismatch');
        prevHash = row.hash;
        expectedId += 1;
        checked += 1;
      }
    }
    if (head.lastId !== expectedId - 1 || head.lastHash !== prevHash) return broken(Math.min(head.lastId, expectedId), 'head_mismatch');
    return { ok: true, checked, headId: head.lastId, firstBroken: null };
  });
}
