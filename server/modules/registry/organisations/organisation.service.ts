/**
 * Organisations: readable with registry:read (not personal data), written inside the principal's scope.
 * Their grid is derived (registry_place), never sent. Employee-count and kind changes are history
 * (organisation_history), dated by `effectiveDate` (default today, Asia/Shanghai).
 */
import type { Principal } from '../../../auth/principal';
import type { Organisation, OrganisationInput, OrganisationListQuery } from '../../../contracts/registry';
import type { Database } from '../../../db/database';
import { AppError } from '../../../http/errors';
import { asSystem } from '../registry.repository';
import { requirePermission, requireWriteScope, shanghaiToday } from '../registry-access';
import { parseBbox, translateDbError } from '../registry-input';
import {
  findOrganisation,
  insertOrganisation,
  listOrganisations,
  nextOrganisationCode,
  placeOrganisation,
  recordOrganisationHistory,
  softDeleteOrganisation,
  updateOrganisation,
} from './organisation.repository';

async function requireOrganisation(db: Database, id: number, lock?: 'update'): Promise<Organisation> {
  const o = await findOrganisation(db, id, lock);
  if (!o) throw new AppError('NOT_FOUND', 404, `Organisation ${id} does not exist.`, { organisationId: id });
  return o;
}

export async function getOrganisation(db: Database, principal: Principal, id: number): Promise<Organisation> {
  requirePermission(principal, 'registry:read');
  return requireOrganisation(db, id);
}

export async function listOrganisationPage(db: Database, principal: Principal, q: OrganisationListQuery): Promise<{ items: Organisation[]; next: number | null }> {
  requirePermission(principal, 'registry:read');
  const limit = q.limit ?? 50;
  const items = await listOrganisations(db, {
    limit,
    ...(q.grid === undefined ? {} : { gridCode: q.grid }),
    ...(q.gridId === undefined ? {} : { gridId: q.gridId }),
    ...(q.community === undefined ? {} : { communityCode: q.community }),
    ...(q.bbox === undefined ? {} : { bbox: parseBbox(q.bbox) }),
    ...(q.q === undefined ? {} : { q: q.q }),
    ...(q.kind === undefined ? {} : { kind: q.kind }),
    ...(q.after === undefined ? {} : { after: q.after }),
    ...(q.includeDeleted ? { includeDeleted: true } : {}),
  });
  return { items, next: items.length === limit ? (items[items.length - 1]?.id ?? null) : null };
}

export async function createOrganisation(db: Database, principal: Principal, input: OrganisationInput): Promise<Organisation> {
  requirePermission(principal, 'registry:write');
  return translateDbError(() =>
    db.transaction().execute(async (trx) => {
      await asSystem(trx);
      const place = await placeOrganisation(trx, input.geometry, input.communityCode ?? null);
      requireWriteScope(principal, place, true);
      let code = input.code;
      if (code === undefined) {
        if (!place.communityCode) throw new AppError('VALIDATION_FAILED', 422, 'This place lies in no community: give the organisation a code.', { field: 'code' });
        code = await nextOrganisationCode(trx, place.communityCode);
      }
      const openedOn = input.openedOn ?? input.effectiveDate ?? shanghaiToday();
      const id = await insertOrganisation(trx, code, input, place, openedOn);
      await recordOrganisationHistory(trx, id, openedOn, principal.userId);
      return requireOrganisation(trx, id);
    }),
  );
}

export async function replaceOrganisation(db: Database, principal: Principal, id: number, ifMatch: number, input: OrganisationInput): Promise<Organisation> {
  requirePermission(principal, 'registry:write');
  return translateDbError(() =>
    db.transaction().execute(async (trx) => {
      await asSystem(trx);
      const current = await requireOrganisation(trx, id, 'update');
      requireWriteScope(principal, current, true);
      if (current.version !== ifMatch) throw new AppError('VERSION_CONFLICT', 412, `Organisation ${id} is at version ${current.version}, not ${ifMatch}.`, { current: current.version });
      if (current.deletedAt) throw new AppError('CONFLICT', 409, `Organisation ${id} was deleted.`, { organisationId: id });
      if (input.code !== undefined && input.code !== current.code) throw new AppError('VALIDATION_FAILED', 422, 'An organisation keeps its code.', { field: 'code' });
      const place = await placeOrganisation(trx, input.geometry, current.communityCode);
      requireWriteScope(principal, place, true);
      await updateOrganisation(trx, id, input, place);
      const next = await requireOrganisation(trx, id);
      if (next.employees !== current.employees || next.kind !== current.kind || next.gridCode !== current.gridCode) {
        await recordOrganisationHistory(trx, id, input.effectiveDate ?? shanghaiToday(), principal.userId);
      }
      return next;
    }),
  );
}

export async function deleteOrganisation(db: Database, principal: Principal, id: number, ifMatch: number | undefined, reason: string): Promise<void> {
  requirePermission(principal, 'registry:write');
  await db.transaction().execute(async (trx) => {
    await asSystem(trx);
    const current = await requireOrganisation(trx, id, 'update');
    requireWriteScope(principal, current, true);
    if (ifMatch !== undefined && current.version !== ifMatch) throw new AppError('VERSION_CONFLICT', 412, `Organisation ${id} is at version ${current.version}.`, { current: current.version });
    if (current.deletedAt) return;
    await softDeleteOrganisation(trx, id, reason);
    // From today it no longer counts in monthly employment; earlier months keep it.
    await recordOrganisationHistory(trx, id, shanghaiToday(), principal.userId, false);
  });
}
