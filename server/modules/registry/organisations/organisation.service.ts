/**
 * Organisations: readable with registry:read (not personal data), written inside the principal's scope.
 * Their grid is derived (registry_place), never sent. Employee-count and kind changes are history
 * (organisation_history), dated by `effectiveDate` (default today, Asia/Shanghai).
 * The flow they share with buildings is in ../placed-record.service.ts.
 */
import type { Principal } from '../../../auth/principal';
import type { Organisation, OrganisationInput, OrganisationListQuery } from '../../../contracts/registry';
import type { Database } from '../../../db/database';
import { AppError, PATH_ID } from '../../../http/errors';
import { placeGeometry } from '../placed-record.repository';
import { createPlaced, deletePlaced, getPlaced, listPlacedPage, replacePlaced, requirePlaced, type PlacedKind } from '../placed-record.service';
import { assertRecordGeometry } from '../registry-input';
import { requireWriteScope, shanghaiToday } from '../registry-access';
import { findOrganisation, insertOrganisation, listOrganisations, nextOrganisationCode, recordOrganisationHistory, updateOrganisation } from './organisation.repository';
import type { IfMatch } from '../../../http/preconditions';

const ORGANISATION: PlacedKind<Organisation> = { noun: 'Organisation', idKey: 'organisationId', table: 'organisations', find: findOrganisation };

export async function getOrganisation(db: Database, principal: Principal, id: number): Promise<Organisation> {
  return getPlaced(db, principal, ORGANISATION, id);
}

export async function listOrganisationPage(db: Database, principal: Principal, q: OrganisationListQuery): Promise<{ items: Organisation[]; next: number | null }> {
  return listPlacedPage(principal, q, (filter) => listOrganisations(db, { ...filter, ...(q.kind === undefined ? {} : { kind: q.kind }) }));
}

export async function createOrganisation(db: Database, principal: Principal, input: OrganisationInput): Promise<Organisation> {
  return createPlaced(db, principal, ORGANISATION, input, async (trx, place) => {
    let code = input.code;
    if (code === undefined) {
      if (!place.communityCode) throw new AppError('VALIDATION_FAILED', 422, 'This place lies in no community: give the organisation a code.', { in: 'body', field: 'code' });
      code = await nextOrganisationCode(trx, place.communityCode);
    }
    const openedOn = input.openedOn ?? input.effectiveDate ?? shanghaiToday();
    const id = await insertOrganisation(trx, code, input, place, openedOn);
    await recordOrganisationHistory(trx, id, openedOn, principal.userId);
    return id;
  });
}

export async function replaceOrganisation(db: Database, principal: Principal, id: number, ifMatch: IfMatch, input: OrganisationInput): Promise<Organisation> {
  assertRecordGeometry(input.geometry);
  return replacePlaced(db, principal, ORGANISATION, id, ifMatch, async (trx, current) => {
    if (current.deletedAt) throw new AppError('CONFLICT', 409, `Organisation ${id} was deleted.`, { ...PATH_ID, organisationId: id });
    if (input.code !== undefined && input.code !== current.code) throw new AppError('VALIDATION_FAILED', 422, 'An organisation keeps its code.', { in: 'body', field: 'code' });
    const place = await placeGeometry(trx, input.geometry, current.communityCode);
    requireWriteScope(principal, place, true, { in: 'body', field: 'geometry' });
    await updateOrganisation(trx, id, input, place);
    const next = await requirePlaced(trx, ORGANISATION, id);
    if (next.employees !== current.employees || next.kind !== current.kind || next.gridCode !== current.gridCode) {
      await recordOrganisationHistory(trx, id, input.effectiveDate ?? shanghaiToday(), principal.userId);
    }
    return next;
  });
}

export async function deleteOrganisation(db: Database, principal: Principal, id: number, ifMatch: IfMatch | undefined, reason: string): Promise<void> {
  await deletePlaced(db, principal, ORGANISATION, id, ifMatch, reason, {
    // From today it no longer counts in monthly employment; earlier months keep it.
    afterDelete: (trx) => recordOrganisationHistory(trx, id, shanghaiToday(), principal.userId, false),
  });
}
