/**
 * Buildings (房进格): readable by anyone holding registry:read (they are not personal data); created,
 * changed and deleted only inside the principal's scope. Their grid is derived, never sent.
 */
import type { Principal } from '../../auth/principal';
import type { Building, BuildingInput, ListQuery } from '../../contracts/registry';
import type { Database } from '../../db/database';
import { AppError } from '../../http/errors';
import { asSystem } from './registry.repository';
import { requirePermission, requireWriteScope } from './registry-access';
import { parseBbox, translateDbError } from './registry-input';
import {
  cascadeBuildingGrid,
  countLiveHouseholds,
  findBuilding,
  insertBuilding,
  listBuildings,
  lockBuildingCodes,
  placeGeometry,
  softDeleteBuilding,
  updateBuilding,
} from './building.repository';

async function requireBuilding(db: Database, id: number, lock?: 'update'): Promise<Building> {
  const b = await findBuilding(db, id, lock);
  if (!b) throw new AppError('NOT_FOUND', 404, `Building ${id} does not exist.`, { buildingId: id });
  return b;
}

export async function getBuilding(db: Database, principal: Principal, id: number): Promise<Building> {
  requirePermission(principal, 'registry:read');
  return requireBuilding(db, id);
}

export async function listBuildingPage(db: Database, principal: Principal, q: ListQuery): Promise<{ items: Building[]; next: number | null }> {
  requirePermission(principal, 'registry:read');
  const limit = q.limit ?? 50;
  const items = await listBuildings(db, {
    limit,
    ...(q.grid === undefined ? {} : { gridCode: q.grid }),
    ...(q.gridId === undefined ? {} : { gridId: q.gridId }),
    ...(q.community === undefined ? {} : { communityCode: q.community }),
    ...(q.bbox === undefined ? {} : { bbox: parseBbox(q.bbox) }),
    ...(q.q === undefined ? {} : { q: q.q }),
    ...(q.after === undefined ? {} : { after: q.after }),
    ...(q.includeDeleted ? { includeDeleted: true } : {}),
  });
  return { items, next: items.length === limit ? (items[items.length - 1]?.id ?? null) : null };
}

export async function createBuilding(db: Database, principal: Principal, input: BuildingInput): Promise<Building> {
  requirePermission(principal, 'registry:write');
  return translateDbError(() =>
    db.transaction().execute(async (trx) => {
      await asSystem(trx);
      const place = await placeGeometry(trx, input.geometry, input.communityCode ?? null);
      requireWriteScope(principal, place, true);
      await lockBuildingCodes(trx, place.communityCode);
      const id = await insertBuilding(trx, input, place);
      return requireBuilding(trx, id);
    }),
  );
}

export async function replaceBuilding(db: Database, principal: Principal, id: number, ifMatch: number, input: BuildingInput): Promise<Building> {
  requirePermission(principal, 'registry:write');
  return translateDbError(() =>
    db.transaction().execute(async (trx) => {
      await asSystem(trx);
      const current = await requireBuilding(trx, id, 'update');
      requireWriteScope(principal, current, true);
      if (current.version !== ifMatch) throw new AppError('VERSION_CONFLICT', 412, `Building ${id} is at version ${current.version}, not ${ifMatch}.`, { current: current.version });
      // A building never changes community by an edit (its code is numbered within it).
      const place = await placeGeometry(trx, input.geometry, current.communityCode);
      await updateBuilding(trx, id, input, place);
      if (place.gridId !== current.gridId) await cascadeBuildingGrid(trx, id);
      return requireBuilding(trx, id);
    }),
  );
}

export async function deleteBuilding(db: Database, principal: Principal, id: number, ifMatch: number | undefined, reason: string): Promise<void> {
  requirePermission(principal, 'registry:write');
  await db.transaction().execute(async (trx) => {
    await asSystem(trx);
    const current = await requireBuilding(trx, id, 'update');
    requireWriteScope(principal, current, true);
    if (ifMatch !== undefined && current.version !== ifMatch) throw new AppError('VERSION_CONFLICT', 412, `Building ${id} is at version ${current.version}.`, { current: current.version });
    if (current.deletedAt) return;
    if ((await countLiveHouseholds(trx, id)) > 0) throw new AppError('CONFLICT', 409, `Building ${id} still has households; move or delete them first.`, { buildingId: id });
    await softDeleteBuilding(trx, id, reason);
  });
}
