/**
 * Residents and households: personal data. Every read and write runs through withScope, so PostgreSQL's
 * Row Level Security narrows it to the principal's grids even if a filter here were wrong; rows outside
 * the scope are simply absent (404), never "forbidden", so their ids do not leak.
 *
 * ID numbers and phones: validated, then stored encrypted with a keyed hash for search
 * (registry-crypto.ts); returned masked. `revealResident` is the one seam that returns full values.
 */
import type { Principal } from '../../auth/principal';
import type { Household, HouseholdInput, ListQuery, Resident, ResidentInput, ResidentListQuery, ResidentUpdate } from '../../contracts/registry';
import type { Database } from '../../db/database';
import { withScope } from '../../db/scoped';
import { toCsv } from '../../contracts/csv';
import { AppError, IF_MATCH, PATH_ID, type Where } from '../../http/errors';
import { describeIfMatch, ifMatchHolds, type IfMatch } from '../../http/preconditions';
import { writeAudit } from '../audit/audit.service';
import { findBuilding } from './building.repository';
import {
  findHousehold,
  insertHousehold,
  listHouseholds,
  recordHouseholdHistory,
  softDeleteHousehold,
  updateHouseholdTenure,
} from './household.repository';
import type { RegistryCipher } from './registry-crypto';
import { auditActorOf, requirePermission, requireWriteScope, shanghaiToday } from './registry-access';
import { listFilterOf, pageOf, searchFilterOf, translateDbError } from './registry-input';
import { maskIdNumber, maskPhone, validateResidentIdNumber } from './resident-id';
import {
  currentStateSince,
  findResident,
  insertResident,
  listActiveTagCodes,
  listResidents,
  recordResidentHistory,
  softDeleteResident,
  updateResident,
  type ResidentChanges,
  type ResidentRecord,
} from './resident.repository';

export interface RegistryContext {
  db: Database;
  cipher: RegistryCipher;
}

const actorOf = (p: Principal): { id: number | null; name: string | null } => ({ id: p.userId, name: p.username });

function toResident(cipher: RegistryCipher, r: ResidentRecord): Resident {
  const { idNumberEnc, phoneEnc, ...rest } = r;
  return { ...rest, idNumber: maskIdNumber(cipher.decrypt(idNumberEnc)), phone: phoneEnc ? maskPhone(cipher.decrypt(phoneEnc)) : null };
}

/**
 * A valid 居民身份证号 whose birth date and gender agree with the record, upper-cased; otherwise 422
 * ID_NUMBER_INVALID naming the field and the reason (FORMAT, REGION, BIRTH_DATE, CHECKSUM,
 * BIRTH_DATE_MISMATCH, GENDER_MISMATCH).
 */
export function checkIdNumber(idNumber: string, record: { birthDate: string; gender: 'M' | 'F' }): string {
  const id = idNumber.trim().toUpperCase();
  const v = validateResidentIdNumber(id);
  const fail = (reason: string, message: string): never => {
    throw new AppError('ID_NUMBER_INVALID', 422, message, { in: 'body', field: 'idNumber', reason });
  };
  if (!v.valid) return fail(v.reason, `The ID number is not valid (${v.reason}).`);
  if (v.birthDate !== record.birthDate) return fail('BIRTH_DATE_MISMATCH', `The ID number says born ${v.birthDate}, the record says ${record.birthDate}.`);
  if (v.gender !== record.gender) return fail('GENDER_MISMATCH', `The ID number says gender ${v.gender}, the record says ${record.gender}.`);
  return id;
}

async function checkTags(db: Database, tags: readonly string[] | undefined): Promise<void> {
  if (!tags || tags.length === 0) return;
  const active = await listActiveTagCodes(db);
  const unknown = tags.filter((t) => !active.has(t));
  if (unknown.length > 0) throw new AppError('VALIDATION_FAILED', 422, `Unknown or retired tag(s): ${unknown.join(', ')}.`, { in: 'body', field: 'tags', unknown });
}

/** `where`: the path id of /residents/:id routes unless the caller says otherwise. */
async function requireResident(trx: Database, id: number, where: Where, lock?: 'update'): Promise<ResidentRecord> {
  const r = await findResident(trx, id, lock);
  if (!r) throw new AppError('NOT_FOUND', 404, `Resident ${id} does not exist or is outside your grids.`, { ...where, residentId: id });
  return r;
}

/** `where`: the path id of /households/:id routes, or a resident body's householdId. */
async function requireHousehold(trx: Database, id: number, where: Where, lock?: 'update'): Promise<Household> {
  const h = await findHousehold(trx, id, lock);
  if (!h) throw new AppError('NOT_FOUND', 404, `Household ${id} does not exist or is outside your grids.`, { ...where, householdId: id });
  return h;
}

const HOUSEHOLD_ID_FIELD: Where = { in: 'body', field: 'householdId' };

/** What the shared write flow reads of a resident or household. */
type ScopedRecord = { version: number; deletedAt: string | null };

/** Residents and households alike: found within the scope, soft-deleted, every change kept as history. */
interface ScopedKind<T extends ScopedRecord> {
  noun: 'Resident' | 'Household';
  require(trx: Database, id: number, where: Where, lock?: 'update'): Promise<T>;
  softDelete(trx: Database, id: number, reason: string): Promise<void>;
  recordHistory(trx: Database, id: number, change: string, on: string, actor: { id: number | null; name: string | null }): Promise<void>;
}

const RESIDENT: ScopedKind<ResidentRecord> = { noun: 'Resident', require: requireResident, softDelete: softDeleteResident, recordHistory: recordResidentHistory };
const HOUSEHOLD: ScopedKind<Household> = { noun: 'Household', require: requireHousehold, softDelete: softDeleteHousehold, recordHistory: recordHouseholdHistory };

/** `fn` in one transaction where Row Level Security narrows every row to the principal's scope. */
function inScope<R>(ctx: RegistryContext, principal: Principal, fn: (trx: Database) => Promise<R>): Promise<R> {
  return withScope(ctx.db, principal.scope, fn, principal);
}

/** The record locked for update (404 outside the scope), when given at version `ifMatch` (else 412). */
async function lockAtVersion<T extends ScopedRecord>(trx: Database, kind: ScopedKind<T>, id: number, ifMatch: IfMatch | undefined): Promise<T> {
  const current = await kind.require(trx, id, PATH_ID, 'update');
  if (ifMatch !== undefined && !ifMatchHolds(ifMatch, current.version)) {
    throw new AppError('VERSION_CONFLICT', 412, `${kind.noun} ${id} is at version ${current.version}, not ${describeIfMatch(ifMatch)}.`, { ...IF_MATCH, current: current.version });
  }
  return current;
}

/**
 * Soft-delete the record with `reason` and close its history on today (a no-op when it already is
 * deleted), with registry:write; `beforeDelete` may refuse.
 */
async function deleteInScope<T extends ScopedRecord>(
  ctx: RegistryContext,
  principal: Principal,
  kind: ScopedKind<T>,
  id: number,
  ifMatch: IfMatch | undefined,
  reason: string,
  beforeDelete?: (current: T) => void,
): Promise<void> {
  requirePermission(principal, 'registry:write');
  await inScope(ctx, principal, async (trx) => {
    const current = await lockAtVersion(trx, kind, id, ifMatch);
    if (current.deletedAt) return;
    beforeDelete?.(current);
    await kind.softDelete(trx, id, reason);
    await kind.recordHistory(trx, id, 'deleted', shanghaiToday(), actorOf(principal));
  });
}

export async function getResident(ctx: RegistryContext, principal: Principal, id: number, ip: string | null = null): Promise<Resident> {
  requirePermission(principal, 'registry:read');
  const resident = await inScope(ctx, principal, async (trx) => toResident(ctx.cipher, await requireResident(trx, id, PATH_ID)));
  // Reads of personal data are audited too (masked values, but still who looked at whom).
  await writeAudit(ctx.db, { actor: auditActorOf(principal, ip), action: 'registry.read', target: { type: 'resident', id }, details: {} });
  return resident;
}

export async function listResidentPage(ctx: RegistryContext, principal: Principal, q: ResidentListQuery, ip: string | null = null): Promise<{ items: Resident[]; next: number | null }> {
  requirePermission(principal, 'registry:read');
  const filter = {
    ...listFilterOf(q),
    ...searchFilterOf(q),
    ...(q.household === undefined ? {} : { householdId: q.household }),
    ...(q.tag === undefined ? {} : { tag: q.tag }),
    ...(q.idNumber === undefined ? {} : { idNumberHmac: ctx.cipher.hmac(q.idNumber.toUpperCase()) }),
    ...(q.registration === undefined ? {} : { registration: q.registration }),
    ...(q.status === undefined ? {} : { status: q.status }),
  };
  const items = await inScope(ctx, principal, (trx) => listResidents(trx, filter));
  if (items.length > 0) {
    await writeAudit(ctx.db, { actor: auditActorOf(principal, ip), action: 'registry.list', target: { type: 'residents', id: q.grid ?? q.community ?? 'query' }, details: { rows: items.length, ids: items.map((r) => r.id) } });
  }
  return pageOf(items.map((r) => toResident(ctx.cipher, r)), filter.limit);
}

/** Masked CSV of the residents a list query selects (registry:export, audited). */
export async function exportResidents(ctx: RegistryContext, principal: Principal, q: ResidentListQuery, ip: string | null = null): Promise<string> {
  requirePermission(principal, 'registry:export');
  const rows: Resident[] = [];
  let after = 0;
  for (;;) {
    const page = await listResidentPage(ctx, principal, { ...q, after, limit: 500 }, ip);
    rows.push(...page.items);
    if (page.next === null) break;
    after = page.next;
  }
  // The audit log is read by auditors without registry:unmask: a searched ID number goes in masked.
  const query = q.idNumber === undefined ? q : { ...q, idNumber: maskIdNumber(q.idNumber.toUpperCase()) };
  await writeAudit(ctx.db, { actor: auditActorOf(principal, ip), action: 'registry.export', target: { type: 'residents', id: q.grid ?? q.community ?? 'query' }, details: { rows: rows.length, query } });
  const cols = ['id', 'name', 'gender', 'birthDate', 'idNumber', 'phone', 'relation', 'registration', 'tags', 'status', 'gridCode', 'communityCode', 'householdId'] as const;
  return toCsv(cols, rows.map((r) => cols.map((c) => r[c])));
}

export async function createResident(ctx: RegistryContext, principal: Principal, input: ResidentInput): Promise<Resident> {
  requirePermission(principal, 'registry:write');
  const idNumber = checkIdNumber(input.idNumber, input);
  return translateDbError(() =>
    inScope(ctx, principal, async (trx) => {
      await checkTags(trx, input.tags);
      const household = await requireHousehold(trx, input.householdId, HOUSEHOLD_ID_FIELD);
      if (household.deletedAt) throw new AppError('CONFLICT', 409, `Household ${household.id} was deleted.`, { ...HOUSEHOLD_ID_FIELD, householdId: household.id });
      const id = await insertResident(trx, {
        householdId: household.id,
        name: input.name.trim(),
        gender: input.gender,
        birthDate: input.birthDate,
        idNumberEnc: ctx.cipher.encrypt(idNumber),
        idNumberHmac: ctx.cipher.hmac(idNumber),
        phoneEnc: input.phone ? ctx.cipher.encrypt(input.phone) : null,
        phoneHmac: input.phone ? ctx.cipher.hmac(input.phone) : null,
        relation: input.relation ?? 'other',
        registration: input.registration,
        tags: input.tags ?? [],
      });
      const arrival = input.arrival ?? 'registered';
      const on = input.effectiveDate ?? (arrival === 'birth' ? input.birthDate : shanghaiToday());
      await recordResidentHistory(trx, id, arrival, on, actorOf(principal));
      return toResident(ctx.cipher, await requireResident(trx, id, PATH_ID));
    }),
  );
}

/** The history change an update records: the most significant thing it changes. */
function changeKind(current: ResidentRecord, u: ResidentUpdate): string {
  if (u.status !== undefined && u.status !== current.status) return u.status === 'deceased' ? 'death' : u.status === 'moved_out' ? 'move_out' : 'move_in';
  if (u.householdId !== undefined && u.householdId !== current.householdId) return 'household';
  if (u.registration !== undefined && u.registration !== current.registration) return 'registration';
  if (u.tags !== undefined && [...u.tags].sort().join() !== [...current.tags].sort().join()) return 'tags';
  return 'details';
}

export async function updateResidentRecord(ctx: RegistryContext, principal: Principal, id: number, ifMatch: IfMatch, u: ResidentUpdate): Promise<Resident> {
  requirePermission(principal, 'registry:write');
  return translateDbError(() =>
    inScope(ctx, principal, async (trx) => {
      const current = await lockAtVersion(trx, RESIDENT, id, ifMatch);
      // An edit would reopen the history a deletion closed: the monthly report would count the person again.
      if (current.deletedAt) throw new AppError('CONFLICT', 409, `Resident ${id} was deleted.`, { ...PATH_ID, residentId: id });
      if (u.effectiveDate !== undefined) {
        // History is a sequence of states: a change reaching back before the current one would overlap it.
        const since = await currentStateSince(trx, id);
        if (since !== undefined && u.effectiveDate < since) {
          throw new AppError('VALIDATION_FAILED', 422, `Resident ${id}'s current state dates from ${since}; a change cannot take effect before it.`, { in: 'body', field: 'effectiveDate', currentFrom: since });
        }
      }
      await checkTags(trx, u.tags);
      if (u.householdId !== undefined) {
        const household = await requireHousehold(trx, u.householdId, HOUSEHOLD_ID_FIELD);
        if (household.deletedAt) throw new AppError('CONFLICT', 409, `Household ${household.id} was deleted.`, { ...HOUSEHOLD_ID_FIELD, householdId: household.id });
      } else if (u.status === 'present' && current.status !== 'present' && current.householdId !== null) {
        // Back from moving out, into the household they left: it may have been deleted meanwhile.
        const household = await findHousehold(trx, current.householdId);
        if (household?.deletedAt) {
          throw new AppError('CONFLICT', 409, `Household ${household.id} was deleted; give the resident a householdId to return to.`, { ...HOUSEHOLD_ID_FIELD, householdId: household.id });
        }
      }
      const changes: ResidentChanges = {
        ...(u.householdId === undefined ? {} : { householdId: u.householdId }),
        ...(u.name === undefined ? {} : { name: u.name.trim() }),
        ...(u.phone === undefined ? {} : { phoneEnc: u.phone ? ctx.cipher.encrypt(u.phone) : null, phoneHmac: u.phone ? ctx.cipher.hmac(u.phone) : null }),
        ...(u.relation === undefined ? {} : { relation: u.relation }),
        ...(u.registration === undefined ? {} : { registration: u.registration }),
        ...(u.tags === undefined ? {} : { tags: u.tags }),
        ...(u.status === undefined ? {} : { status: u.status }),
      };
      const kind = changeKind(current, u);
      await updateResident(trx, id, changes);
      await recordResidentHistory(trx, id, kind, u.effectiveDate ?? shanghaiToday(), actorOf(principal));
      return toResident(ctx.cipher, await requireResident(trx, id, PATH_ID));
    }),
  );
}

export async function deleteResident(ctx: RegistryContext, principal: Principal, id: number, ifMatch: IfMatch | undefined, reason: string): Promise<void> {
  await deleteInScope(ctx, principal, RESIDENT, id, ifMatch, reason);
}

/**
 * The one place full ID numbers and phones leave the server: needs registry:unmask and a stated
 * purpose, and writes an audit entry in the same transaction (no entry, no values).
 */
export async function revealResident(
  ctx: RegistryContext,
  principal: Principal,
  id: number,
  purpose: string,
  ip: string | null = null,
): Promise<{ id: number; idNumber: string; phone: string | null }> {
  requirePermission(principal, 'registry:unmask');
  if (purpose.trim().length < 4) throw new AppError('VALIDATION_FAILED', 400, 'State the purpose of revealing personal data.', { in: 'body', field: 'purpose' });
  const record = await inScope(ctx, principal, (trx) => requireResident(trx, id, PATH_ID));
  const revealed = { id, idNumber: ctx.cipher.decrypt(record.idNumberEnc), phone: record.phoneEnc ? ctx.cipher.decrypt(record.phoneEnc) : null };
  await writeAudit(ctx.db, { actor: auditActorOf(principal, ip), action: 'registry.unmask', target: { type: 'resident', id }, details: { purpose: purpose.trim(), fields: ['idNumber', 'phone'] } });
  return revealed;
}

// Households ---------------------------------------------------------------------------------------

export async function getHousehold(ctx: RegistryContext, principal: Principal, id: number): Promise<Household> {
  requirePermission(principal, 'registry:read');
  return inScope(ctx, principal, (trx) => requireHousehold(trx, id, PATH_ID));
}

export async function listHouseholdPage(ctx: RegistryContext, principal: Principal, q: ListQuery & { building?: number }): Promise<{ items: Household[]; next: number | null }> {
  requirePermission(principal, 'registry:read');
  const filter = { ...listFilterOf(q), ...(q.building === undefined ? {} : { buildingId: q.building }) };
  return pageOf(await inScope(ctx, principal, (trx) => listHouseholds(trx, filter)), filter.limit);
}

export async function createHousehold(ctx: RegistryContext, principal: Principal, input: HouseholdInput): Promise<Household> {
  requirePermission(principal, 'registry:write');
  return translateDbError(() =>
    inScope(ctx, principal, async (trx) => {
      const building = await findBuilding(trx, input.buildingId);
      if (!building || building.deletedAt) throw new AppError('NOT_FOUND', 404, `Building ${input.buildingId} does not exist.`, { in: 'body', field: 'buildingId', buildingId: input.buildingId });
      requireWriteScope(principal, building, true, { in: 'body', field: 'buildingId' });
      const id = await insertHousehold(trx, { buildingId: building.id, unit: input.unit ?? '', room: input.room ?? '', tenure: input.tenure ?? 'owned' });
      await recordHouseholdHistory(trx, id, 'registered', input.effectiveDate ?? shanghaiToday(), actorOf(principal));
      return requireHousehold(trx, id, PATH_ID);
    }),
  );
}

export async function updateHousehold(ctx: RegistryContext, principal: Principal, id: number, ifMatch: IfMatch, body: { tenure: Household['tenure']; effectiveDate?: string }): Promise<Household> {
  requirePermission(principal, 'registry:write');
  return inScope(ctx, principal, async (trx) => {
    const current = await lockAtVersion(trx, HOUSEHOLD, id, ifMatch);
    if (current.deletedAt) throw new AppError('CONFLICT', 409, `Household ${id} was deleted.`, { ...PATH_ID, householdId: id });
    await updateHouseholdTenure(trx, id, body.tenure);
    await recordHouseholdHistory(trx, id, 'details', body.effectiveDate ?? shanghaiToday(), actorOf(principal));
    return requireHousehold(trx, id, PATH_ID);
  });
}

export async function deleteHousehold(ctx: RegistryContext, principal: Principal, id: number, ifMatch: IfMatch | undefined, reason: string): Promise<void> {
  await deleteInScope(ctx, principal, HOUSEHOLD, id, ifMatch, reason, (current) => {
    if (current.members > 0) throw new AppError('CONFLICT', 409, `Household ${id} still has ${current.members} present resident(s).`, { ...PATH_ID, householdId: id });
  });
}
