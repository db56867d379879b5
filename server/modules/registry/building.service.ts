/**
 * Buildings (房进格): readable by anyone holding registry:read (they are not personal data); created,
 * changed and deleted only inside the principal's scope. Their grid is derived, never sent.
 * The flow they share with organisations is in placed-record.service.ts.
 */
import type { Principal } from '../../auth/principal';
import type { Building, BuildingInput, ListQuery } from '../../contracts/registry';
import type { Database } from '../../db/database';
import { AppError, PATH_ID } from '../../http/errors';
import { cascadeBuildingGrid, countLiveHouseholds, findBuilding, insertBuilding, listBuildings, lockBuildingCodes, updateBuilding } from './building.repository';
import { placeGeometry } from './placed-record.repository';
import { createPlaced, deletePlaced, getPlaced, listPlacedPage, replacePlaced, requirePlaced, type PlacedKind } from './placed-record.service';
import { assertRecordGeometry } from './registry-input';
import { requireWriteScope, shanghaiToday } from './registry-access';
import type { IfMatch } from '../../http/preconditions';

const BUILDING: PlacedKind<Building> = { noun: 'Building', idKey: 'buildingId', table: 'buildings', find: findBuilding };

export async function getBuilding(db: Database, principal: Principal, id: number): Promise<Building> {
  return getPlaced(db, principal, BUILDING, id);
}

export async function listBuildingPage(db: Database, principal: Principal, q: ListQuery): Promise<{ items: Building[]; next: number | null }> {
  return listPlacedPage(principal, q, (filter) => listBuildings(db, filter));
}

export async function createBuilding(db: Database, principal: Principal, input: BuildingInput): Promise<Building> {
  return createPlaced(db, principal, BUILDING, input, async (trx, place) => {
    await lockBuildingCodes(trx, place.communityCode);
    return insertBuilding(trx, input, place);
  });
}

export async function replaceBuilding(db: Database, principal: Principal, id: number, ifMatch: IfMatch, input: BuildingInput): Promise<Building> {
  assertRecordGeometry(input.geometry);
  return replacePlaced(db, principal, BUILDING, id, ifMatch, async (trx, current) => {
    if (current.deletedAt) throw new AppError('CONFLICT', 409, `Building ${id} was deleted.`, { ...PATH_ID, buildingId: id });
    // A building never changes community by an edit (its code is numbered within it).
    const place = await placeGeometry(trx, input.geometry, current.communityCode);
    // Moving it writes into the grid it goes to (its households and residents go along): as organisations.
    requireWriteScope(principal, place, true, { in: 'body', field: 'geometry' });
    await updateBuilding(trx, id, input, place);
    if (place.gridId !== current.gridId) await cascadeBuildingGrid(trx, id, shanghaiToday(), { id: principal.userId, name: principal.username });
    return requirePlaced(trx, BUILDING, id);
  });
}

export async function deleteBuilding(db: Database, principal: Principal, id: number, ifMatch: IfMatch | undefined, reason: string): Promise<void> {
  await deletePlaced(db, principal, BUILDING, id, ifMatch, reason, {
    beforeDelete: async (trx) => {
      if ((await countLiveHouseholds(trx, id)) > 0) throw new AppError('CONFLICT', 409, `Building ${id} still has households; move or delete them first.`, { ...PATH_ID, buildingId: id });
    },
  });
}
