/**
 * The request flow buildings and organisations share. Both are placed records: readable by anyone holding
 * registry:read (they are not personal data), written with registry:write only inside the principal's
 * scope, each write in one transaction as the system (RLS) with the row locked, its If-Match version
 * checked, and deleted softly. Each entity's service supplies what differs (codes, history, cascades).
 */
import type { Principal } from '../../auth/principal';
import type { ListQuery } from '../../contracts/registry';
import type { Database } from '../../db/database';
import { AppError, IF_MATCH, PATH_ID } from '../../http/errors';
import { describeIfMatch, ifMatchHolds, type IfMatch } from '../../http/preconditions';
import { placeGeometry, softDeletePlaced, type Place, type PlacedFilter, type PlacedTable } from './placed-record.repository';
import { asSystem } from './registry.repository';
import { requirePermission, requireWriteScope } from './registry-access';
import { assertRecordGeometry, listFilterOf, pageOf, searchFilterOf, translateDbError } from './registry-input';

/** What the shared flow reads of a placed record. */
export interface PlacedRecord extends Place {
  id: number;
  version: number;
  deletedAt: string | null;
}

/** One kind of placed record: how messages name it and how it is read. */
export interface PlacedKind<T extends PlacedRecord> {
  /** As messages name it: 'Building'. */
  noun: string;
  /** The key of its id in error details: 'buildingId'. */
  idKey: string;
  table: PlacedTable;
  find(db: Database, id: number, lock?: 'update'): Promise<T | undefined>;
}

/**
 * The record, or 404 NOT_FOUND. With `lock`, the row stays locked to the end of the transaction. The id
 * is the path's (`/buildings/:id`, `/organisations/:id`); a record just written is always found.
 */
export async function requirePlaced<T extends PlacedRecord>(db: Database, kind: PlacedKind<T>, id: number, lock?: 'update'): Promise<T> {
  const record = await kind.find(db, id, lock);
  if (!record) throw new AppError('NOT_FOUND', 404, `${kind.noun} ${id} does not exist.`, { ...PATH_ID, [kind.idKey]: id });
  return record;
}

export async function getPlaced<T extends PlacedRecord>(db: Database, principal: Principal, kind: PlacedKind<T>, id: number): Promise<T> {
  requirePermission(principal, 'registry:read');
  return requirePlaced(db, kind, id);
}

/** One page of a list query (default 50 rows); `next` is the id to continue after, null on the last page. */
export async function listPlacedPage<T extends PlacedRecord>(
  principal: Principal,
  q: ListQuery,
  list: (filter: PlacedFilter) => Promise<T[]>,
): Promise<{ items: T[]; next: number | null }> {
  requirePermission(principal, 'registry:read');
  const filter = { ...listFilterOf(q), ...searchFilterOf(q) };
  return pageOf(await list(filter), filter.limit);
}

/**
 * With registry:write, run `fn` in one transaction as the system: RLS is lifted, so each write checks the
 * principal's scope against the record's place itself (requireWriteScope).
 */
async function writeAsSystem<R>(db: Database, principal: Principal, fn: (trx: Database) => Promise<R>): Promise<R> {
  requirePermission(principal, 'registry:write');
  return db.transaction().execute(async (trx) => {
    await asSystem(trx);
    return fn(trx);
  });
}

/** The record locked for update, or 404; 403 when it lies outside the principal's scope. */
async function lockInScope<T extends PlacedRecord>(trx: Database, principal: Principal, kind: PlacedKind<T>, id: number): Promise<T> {
  const current = await requirePlaced(trx, kind, id, 'update');
  requireWriteScope(principal, current, true, PATH_ID);
  return current;
}

/**
 * Place the new record's geometry (in `communityCode` when given), refuse places outside the principal's
 * scope, then let `insert` write it and return its id.
 */
export async function createPlaced<T extends PlacedRecord>(
  db: Database,
  principal: Principal,
  kind: PlacedKind<T>,
  input: { geometry: unknown; communityCode?: string },
  insert: (trx: Database, place: Place) => Promise<number>,
): Promise<T> {
  assertRecordGeometry(input.geometry);
  return translateDbError(() =>
    writeAsSystem(db, principal, async (trx) => {
      const place = await placeGeometry(trx, input.geometry, input.communityCode ?? null);
      requireWriteScope(principal, place, true, { in: 'body', field: 'geometry' });
      const id = await insert(trx, place);
      return requirePlaced(trx, kind, id);
    }),
  );
}

/** Lock the current record, check its scope and that it is at version `ifMatch`, then let `replace` write it. */
export async function replacePlaced<T extends PlacedRecord>(
  db: Database,
  principal: Principal,
  kind: PlacedKind<T>,
  id: number,
  ifMatch: IfMatch,
  replace: (trx: Database, current: T) => Promise<T>,
): Promise<T> {
  return translateDbError(() =>
    writeAsSystem(db, principal, async (trx) => {
      const current = await lockInScope(trx, principal, kind, id);
      if (!ifMatchHolds(ifMatch, current.version)) throw new AppError('VERSION_CONFLICT', 412, `${kind.noun} ${id} is at version ${current.version}, not ${describeIfMatch(ifMatch)}.`, { ...IF_MATCH, current: current.version });
      return replace(trx, current);
    }),
  );
}

/**
 * Soft-delete the record with `reason` (a no-op when it already is), after the scope and, when given, the
 * If-Match version check. `beforeDelete` may refuse; `afterDelete` runs in the same transaction.
 */
export async function deletePlaced<T extends PlacedRecord>(
  db: Database,
  principal: Principal,
  kind: PlacedKind<T>,
  id: number,
  ifMatch: IfMatch | undefined,
  reason: string,
  hooks: { beforeDelete?: (trx: Database, current: T) => Promise<void>; afterDelete?: (trx: Database, current: T) => Promise<void> } = {},
): Promise<void> {
  await writeAsSystem(db, principal, async (trx) => {
    const current = await lockInScope(trx, principal, kind, id);
    if (!ifMatchHolds(ifMatch, current.version)) throw new AppError('VERSION_CONFLICT', 412, `${kind.noun} ${id} is at version ${current.version}.`, { ...IF_MATCH, current: current.version });
    if (current.deletedAt) return;
    await hooks.beforeDelete?.(trx, current);
    await softDeletePlaced(trx, kind.table, id, reason);
    await hooks.afterDelete?.(trx, current);
  });
}
