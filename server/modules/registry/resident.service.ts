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
import { AppError } from '../../http/errors';
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
import { parseBbox, translateDbError } from './registry-input';
import { maskIdNumber, maskPhone, validateResidentIdNumber } from './resident-id';
import {
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
    throw new AppError('ID_NUMBER_INVALID', 422, message, { field: 'idNumber', reason });
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
  if (unknown.length > 0) throw new AppError('VALIDATION_FAILED', 422, `Unknown or retired tag(s): ${unknown.join(', ')}.`, { field: 'tags', unknown });
}

async function requireResident(trx: Database, id: number, lock?: 'update'): Promise<ResidentRecord> {
  const r = await findResident(trx, id, lock);
  if (!r) throw new AppError('NOT_FOUND', 404, `Resident ${id} does not exist or is outside your grids.`, { residentId: id });
  return r;
}

async function requireHousehold(trx: Database, id: number, lock?: 'update'): Promise<Household> {
  const h = await findHousehold(trx, id, lock);
  if (!h) throw new AppError('NOT_FOUND', 404, `Household ${id} does not exist or is outside your grids.`, { householdId: id });
  return h;
}

function checkVersion(kind: string, id: number, current: number, ifMatch: number | undefined): void {
  if (ifMatch !== undefined && current !== ifMatch) {
    throw new AppError('VERSION_CONFLICT', 412, `${kind} ${id} is at version ${current}, not ${ifMatch}.`, { current });
  }
}

export async function getResident(ctx: RegistryContext, principal: Principal, id: number): Promise<Resident> {
  requirePermission(principal, 'registry:read');
  const resident = await withScope(ctx.db, principal.scope, async (trx) => toResident(ctx.cipher, await requireResident(trx, id)), principal);
  // Reads of personal data are audited too (masked values, but still who looked at whom).
  await writeAudit(ctx.db, { actor: auditActorOf(principal), action: 'registry.read', target: { type: 'resident', id }, details: {} });
  return resident;
}

export async function listResidentPage(ctx: RegistryContext, principal: Principal, q: ResidentListQuery): Promise<{ items: Resident[]; next: number | null }> {
  requirePermission(principal, 'registry:read');
  const limit = q.limit ?? 50;
  const items = await withScope(
    ctx.db,
    principal.scope,
    (trx) =>
      listResidents(trx, {
        limit,
        ...(q.grid === undefined ? {} : { gridCode: q.grid }),
        ...(q.gridId === undefined ? {} : { gridId: q.gridId }),
        ...(q.community === undefined ? {} : { communityCode: q.community }),
        ...(q.household === undefined ? {} : { householdId: q.household }),
        ...(q.bbox === undefined ? {} : { bbox: parseBbox(q.bbox) }),
        ...(q.q === undefined ? {} : { q: q.q }),
        ...(q.tag === undefined ? {} : { tag: q.tag }),
        ...(q.idNumber === undefined ? {} : { idNumberHmac: ctx.cipher.hmac(q.idNumber.toUpperCase()) }),
        ...(q.registration === undefined ? {} : { registration: q.registration }),
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.after === undefined ? {} : { after: q.after }),
        ...(q.includeDeleted ? { includeDeleted: true } : {}),
      }),
    principal,
  );
  if (items.length > 0) {
    await writeAudit(ctx.db, { actor: auditActorOf(principal), action: 'registry.list', target: { type: 'residents', id: q.grid ?? q.community ?? 'query' }, details: { rows: items.length, ids: items.map((r) => r.id) } });
  }
  return { items: items.map((r) => toResident(ctx.cipher, r)), next: items.length === limit ? (items[items.length - 1]?.id ?? null) : null };
}

/** Masked CSV of the residents a list query selects (registry:export, audited). */
export async function exportResidents(ctx: RegistryContext, principal: Principal, q: ResidentListQuery, ip: string | null = null): Promise<string> {
  requirePermission(principal, 'registry:export');
  const rows: Resident[] = [];
  let after = 0;
  for (;;) {
    const page = await listResidentPage(ctx, principal, { ...q, after, limit: 500 });
    rows.push(...page.items);
    if (page.next === null) break;
    after = page.next;
  }
  await writeAudit(ctx.db, { actor: auditActorOf(principal, ip), action: 'registry.export', target: { type: 'residents', id: q.grid ?? q.community ?? 'query' }, details: { rows: rows.length, query: q } });
  const esc = (v: unknown): string => {
    const s = Array.isArray(v) ? v.join(';') : typeof v === 'string' || typeof v === 'number' ? String(v) : '';
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const cols = ['id', 'name', 'gender', 'birthDate', 'idNumber', 'phone', 'relation', 'registration', 'tags', 'status', 'gridCode', 'communityCode', 'householdId'] as const;
  return [cols.join(','), ...rows.map((r) => cols.map((c) => esc(r[c])).join(','))].join('\n') + '\n';
}

export async function createResident(ctx: RegistryContext, principal: Principal, input: ResidentInput): Promise<Resident> {
  requirePermission(principal, 'registry:write');
  const idNumber = checkIdNumber(input.idNumber, input);
  return translateDbError(() =>
    withScope(
      ctx.db,
      principal.scope,
      async (trx) => {
        await checkTags(trx, input.tags);
        const household = await requireHousehold(trx, input.householdId);
        if (household.deletedAt) throw new AppError('CONFLICT', 409, `Household ${household.id} was deleted.`, { householdId: household.id });
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
        return toResident(ctx.cipher, await requireResident(trx, id));
      },
      principal,
    ),
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

export async function updateResidentRecord(ctx: RegistryContext, principal: Principal, id: number, ifMatch: number, u: ResidentUpdate): Promise<Resident> {
  requirePermission(principal, 'registry:write');
  return translateDbError(() =>
    withScope(
      ctx.db,
      principal.scope,
      async (trx) => {
        const current = await requireResident(trx, id, 'update');
        checkVersion('Resident', id, current.version, ifMatch);
        await checkTags(trx, u.tags);
        if (u.householdId !== undefined) await requireHousehold(trx, u.householdId);
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
        return toResident(ctx.cipher, await requireResident(trx, id));
      },
      principal,
    ),
  );
}

export async function deleteResident(ctx: RegistryContext, principal: Principal, id: number, ifMatch: number | undefined, reason: string): Promise<void> {
  requirePermission(principal, 'registry:write');
  await withScope(
    ctx.db,
    principal.scope,
    async (trx) => {
      const current = await requireResident(trx, id, 'update');
      checkVersion('Resident', id, current.version, ifMatch);
      if (current.deletedAt) return;
      await softDeleteResident(trx, id, reason);
      await recordResidentHistory(trx, id, 'deleted', shanghaiToday(), actorOf(principal));
    },
    principal,
  );
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
  if (purpose.trim().length < 4) throw new AppError('VALIDATION_FAILED', 400, 'State the purpose of revealing personal data.', { field: 'purpose' });
  const record = await withScope(ctx.db, principal.scope, (trx) => requireResident(trx, id), principal);
  const revealed = { id, idNumber: ctx.cipher.decrypt(record.idNumberEnc), phone: record.phoneEnc ? ctx.cipher.decrypt(record.phoneEnc) : null };
  await writeAudit(ctx.db, { actor: auditActorOf(principal, ip), action: 'registry.unmask', target: { type: 'resident', id }, details: { purpose: purpose.trim(), fields: ['idNumber', 'phone'] } });
  return revealed;
}

// Households ---------------------------------------------------------------------------------------

export async function getHousehold(ctx: RegistryContext, principal: Principal, id: number): Promise<Household> {
  requirePermission(principal, 'registry:read');
  return withScope(ctx.db, principal.scope, (trx) => requireHousehold(trx, id), principal);
}

export async function listHouseholdPage(ctx: RegistryContext, principal: Principal, q: ListQuery & { building?: number }): Promise<{ items: Household[]; next: number | null }> {
  requirePermission(principal, 'registry:read');
  const limit = q.limit ?? 50;
  const items = await withScope(
    ctx.db,
    principal.scope,
    (trx) =>
      listHouseholds(trx, {
        limit,
        ...(q.grid === undefined ? {} : { gridCode: q.grid }),
        ...(q.gridId === undefined ? {} : { gridId: q.gridId }),
        ...(q.community === undefined ? {} : { communityCode: q.community }),
        ...(q.building === undefined ? {} : { buildingId: q.building }),
        ...(q.after === undefined ? {} : { after: q.after }),
        ...(q.includeDeleted ? { includeDeleted: true } : {}),
      }),
    principal,
  );
  return { items, next: items.length === limit ? (items[items.length - 1]?.id ?? null) : null };
}

export async function createHousehold(ctx: RegistryContext, principal: Principal, input: HouseholdInput): Promise<Household> {
  requirePermission(principal, 'registry:write');
  return translateDbError(() =>
    withScope(
      ctx.db,
      principal.scope,
      async (trx) => {
        const building = await findBuilding(trx, input.buildingId);
        if (!building || building.deletedAt) throw new AppError('NOT_FOUND', 404, `Building ${input.buildingId} does not exist.`, { buildingId: input.buildingId });
        requireWriteScope(principal, building, true);
        const id = await insertHousehold(trx, { buildingId: building.id, unit: input.unit ?? '', room: input.room ?? '', tenure: input.tenure ?? 'owned' });
        await recordHouseholdHistory(trx, id, 'registered', input.effectiveDate ?? shanghaiToday(), actorOf(principal));
        return requireHousehold(trx, id);
      },
      principal,
    ),
  );
}

export async function updateHousehold(ctx: RegistryContext, principal: Principal, id: number, ifMatch: number, body: { tenure: Household['tenure']; effectiveDate?: string }): Promise<Household> {
  requirePermission(principal, 'registry:write');
  return withScope(
    ctx.db,
    principal.scope,
    async (trx) => {
      const current = await requireHousehold(trx, id, 'update');
      checkVersion('Household', id, current.version, ifMatch);
      await updateHouseholdTenure(trx, id, body.tenure);
      await recordHouseholdHistory(trx, id, 'details', body.effectiveDate ?? shanghaiToday(), actorOf(principal));
      return requireHousehold(trx, id);
    },
    principal,
  );
}

export async function deleteHousehold(ctx: RegistryContext, principal: Principal, id: number, ifMatch: number | undefined, reason: string): Promise<void> {
  requirePermission(principal, 'registry:write');
  await withScope(
    ctx.db,
    principal.scope,
    async (trx) => {
      const current = await requireHousehold(trx, id, 'update');
      checkVersion('Household', id, current.version, ifMatch);
      if (current.deletedAt) return;
      if (current.members > 0) throw new AppError('CONFLICT', 409, `Household ${id} still has ${current.members} present resident(s).`, { householdId: id });
      await softDeleteHousehold(trx, id, reason);
      await recordHouseholdHistory(trx, id, 'deleted', shanghaiToday(), actorOf(principal));
    },
    principal,
  );
}
