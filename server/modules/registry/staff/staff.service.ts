/**
 * Staff, grid members and the duty roster. Staff are work contacts (dispatch reads their phones in
 * full), so reads need staff:read but are not narrowed by scope; writes need staff:write and the staff
 * member's unit (and, for members and roster, the grid) inside the principal's scope.
 *
 * The roster has no version column; its ETag is a digest of the grid's weekly shifts, so a PUT with a
 * stale If-Match (someone changed the week meanwhile) gets 412 like every other registry write.
 */
import { createHash } from 'node:crypto';
import { inScope, type Principal } from '../../../auth/principal';
import type { AssignmentInput, RosterExceptionInput, ShiftInput, Staff, StaffInput, StaffListQuery } from '../../../contracts/registry';
import type { Database } from '../../../db/database';
import { AppError, IF_MATCH, PATH_ID, type Where } from '../../../http/errors';
import { describeIfMatch, ifMatchHolds, type IfMatch } from '../../../http/preconditions';
import { requirePermission, shanghaiToday } from '../registry-access';
import { parseBbox, translateDbError } from '../registry-input';
import {
  deleteException,
  endAssignment,
  findGridCode,
  findStaff,
  insertAssignment,
  insertException,
  insertStaff,
  listExceptions,
  listMembers,
  listShifts,
  listStaff,
  lockRoster,
  replaceShifts,
  softDeleteStaff,
  updateStaff,
  type ExceptionRow,
  type MemberRow,
  type ShiftRow,
} from './staff.repository';

/** `where`: the input naming the unit — the body's unitCode, or the path id of the staff member or grid. */
function requireUnitScope(principal: Principal, code: string, where: Where): void {
  if (!inScope(principal.scope, code)) throw new AppError('FORBIDDEN', 403, `${code} lies outside your area.`, { ...where, code });
}

/** `where`: the path id of /staff/:id routes, or the body's staffId of an assignment or exception. */
async function requireStaff(db: Database, id: number, where: Where, lock?: 'update'): Promise<Staff> {
  const s = await findStaff(db, id, lock);
  if (!s) throw new AppError('NOT_FOUND', 404, `Staff member ${id} does not exist.`, { ...where, staffId: id });
  return s;
}

const STAFF_ID_FIELD: Where = { in: 'body', field: 'staffId' };
const UNIT_CODE_FIELD: Where = { in: 'body', field: 'unitCode' };

export async function getStaff(db: Database, principal: Principal, id: number): Promise<Staff> {
  requirePermission(principal, 'staff:read');
  return requireStaff(db, id, PATH_ID);
}

export async function listStaffPage(db: Database, principal: Principal, q: StaffListQuery): Promise<{ items: Staff[]; next: number | null }> {
  requirePermission(principal, 'staff:read');
  const limit = q.limit ?? 50;
  const prefix = q.grid ?? q.community;
  if (q.grid !== undefined && q.community !== undefined && !q.grid.startsWith(q.community)) return { items: [], next: null };
  const items = await listStaff(db, {
    limit,
    ...(prefix === undefined ? {} : { codePrefix: prefix }),
    ...(q.bbox === undefined ? {} : { bbox: parseBbox(q.bbox) }),
    ...(q.q === undefined ? {} : { q: q.q }),
    ...(q.role === undefined ? {} : { role: q.role }),
    ...(q.after === undefined ? {} : { after: q.after }),
    ...(q.includeDeleted ? { includeDeleted: true } : {}),
  });
  return { items, next: items.length === limit ? (items[items.length - 1]?.id ?? null) : null };
}

export async function createStaff(db: Database, principal: Principal, input: StaffInput): Promise<Staff> {
  requirePermission(principal, 'staff:write');
  requireUnitScope(principal, input.unitCode, UNIT_CODE_FIELD);
  return translateDbError(() =>
    db.transaction().execute(async (trx) => {
      const id = await insertStaff(trx, input);
      return requireStaff(trx, id, PATH_ID);
    }),
  );
}

export async function replaceStaff(db: Database, principal: Principal, id: number, ifMatch: IfMatch, input: StaffInput): Promise<Staff> {
  requirePermission(principal, 'staff:write');
  return translateDbError(() =>
    db.transaction().execute(async (trx) => {
      const current = await requireStaff(trx, id, PATH_ID, 'update');
      requireUnitScope(principal, current.unitCode, PATH_ID);
      requireUnitScope(principal, input.unitCode, UNIT_CODE_FIELD);
      if (!ifMatchHolds(ifMatch, current.version)) throw new AppError('VERSION_CONFLICT', 412, `Staff member ${id} is at version ${current.version}, not ${describeIfMatch(ifMatch)}.`, { ...IF_MATCH, current: current.version });
      if (current.deletedAt) throw new AppError('CONFLICT', 409, `Staff member ${id} was deleted.`, { ...PATH_ID, staffId: id });
      if (input.code !== current.code) throw new AppError('VALIDATION_FAILED', 422, 'A staff member keeps their code.', { in: 'body', field: 'code' });
      await updateStaff(trx, id, input);
      return requireStaff(trx, id, PATH_ID);
    }),
  );
}

export async function deleteStaff(db: Database, principal: Principal, id: number, ifMatch: IfMatch | undefined, reason: string): Promise<void> {
  requirePermission(principal, 'staff:write');
  await db.transaction().execute(async (trx) => {
    const current = await requireStaff(trx, id, PATH_ID, 'update');
    requireUnitScope(principal, current.unitCode, PATH_ID);
    if (!ifMatchHolds(ifMatch, current.version)) throw new AppError('VERSION_CONFLICT', 412, `Staff member ${id} is at version ${current.version}.`, { ...IF_MATCH, current: current.version });
    if (current.deletedAt) return;
    await softDeleteStaff(trx, id, reason, shanghaiToday());
  });
}

// Members -----------------------------------------------------------------------------------------

/** The grid of `/grids/:id/members|roster…`: the path id. */
async function requireGridCode(db: Database, gridId: number): Promise<string> {
  const code = await findGridCode(db, gridId);
  if (code === undefined) throw new AppError('GRID_NOT_FOUND', 404, `Grid ${gridId} does not exist.`, { ...PATH_ID, gridId });
  if (code === null) throw new AppError('VALIDATION_FAILED', 422, `Grid ${gridId} has no code yet (a draft); staff are assigned to coded grids.`, { ...PATH_ID, gridId });
  return code;
}

export async function listGridMembers(db: Database, principal: Principal, gridId: number, on?: string): Promise<{ gridId: number; gridCode: string; on: string; members: MemberRow[] }> {
  requirePermission(principal, 'staff:read');
  const gridCode = await requireGridCode(db, gridId);
  const date = on ?? shanghaiToday();
  return { gridId, gridCode, on: date, members: await listMembers(db, gridCode, date) };
}

export async function assignMember(db: Database, principal: Principal, gridId: number, input: AssignmentInput): Promise<MemberRow> {
  requirePermission(principal, 'staff:write');
  return translateDbError(() =>
    db.transaction().execute(async (trx) => {
      const gridCode = await requireGridCode(trx, gridId);
      requireUnitScope(principal, gridCode, PATH_ID);
      const staff = await requireStaff(trx, input.staffId, STAFF_ID_FIELD);
      if (staff.deletedAt) throw new AppError('CONFLICT', 409, `Staff member ${staff.id} was deleted.`, { ...STAFF_ID_FIELD, staffId: staff.id });
      const fromDate = input.fromDate ?? shanghaiToday();
      if (input.toDate && input.toDate <= fromDate) throw new AppError('VALIDATION_FAILED', 422, 'toDate must be after fromDate.', { in: 'body', field: 'toDate' });
      const id = await insertAssignment(trx, { staffId: staff.id, gridCode, role: input.role, fromDate, toDate: input.toDate ?? null });
      const member = (await listMembers(trx, gridCode, fromDate)).find((m) => m.assignmentId === id);
      if (!member) throw new Error('assignment not readable');
      return member;
    }),
  ).catch((err: unknown) => {
    // The exclusion constraint (23P01): the same person twice in one grid over overlapping dates.
    if ((err as { code?: string }).code === '23P01') {
      throw new AppError('CONFLICT', 409, 'This staff member is already assigned to the grid over these dates.', { ...STAFF_ID_FIELD, staffId: input.staffId });
    }
    throw err;
  });
}

export async function unassignMember(db: Database, principal: Principal, gridId: number, assignmentId: number): Promise<void> {
  requirePermission(principal, 'staff:write');
  await db.transaction().execute(async (trx) => {
    const gridCode = await requireGridCode(trx, gridId);
    requireUnitScope(principal, gridCode, PATH_ID);
    if (!(await endAssignment(trx, gridCode, assignmentId, shanghaiToday()))) {
      throw new AppError('NOT_FOUND', 404, `No current assignment ${assignmentId} in grid ${gridCode}.`, { in: 'params', field: 'assignmentId', assignmentId });
    }
  });
}

// Roster ------------------------------------------------------------------------------------------

export function rosterVersion(shifts: readonly ShiftRow[]): number {
  const digest = createHash('sha256').update(JSON.stringify(shifts.map((s) => [s.staffId, s.weekday, s.start, s.end]))).digest('hex');
  return parseInt(digest.slice(0, 8), 16) % 1_000_000_000;
}

export interface GridRoster {
  gridId: number;
  gridCode: string;
  shifts: ShiftRow[];
  exceptions: ExceptionRow[];
  version: number;
}

export async function getGridRoster(db: Database, principal: Principal, gridId: number, range: { from?: string; to?: string } = {}): Promise<GridRoster> {
  requirePermission(principal, 'staff:read');
  const gridCode = await requireGridCode(db, gridId);
  const from = range.from ?? new Date(Date.now() - 7 * 86_400_000).toISOString();
  const to = range.to ?? new Date(Date.now() + 60 * 86_400_000).toISOString();
  const shifts = await listShifts(db, gridCode);
  return { gridId, gridCode, shifts, exceptions: await listExceptions(db, gridCode, from, to), version: rosterVersion(shifts) };
}

/** Replace the grid's weekly shifts (one statement pair, so dispatch reloads once). */
export async function putGridShifts(db: Database, principal: Principal, gridId: number, ifMatch: IfMatch, shifts: readonly ShiftInput[]): Promise<GridRoster> {
  requirePermission(principal, 'staff:write');
  for (const [i, s] of shifts.entries()) {
    if (s.end !== '24:00' && s.end <= s.start) throw new AppError('VALIDATION_FAILED', 422, `Shift ${i + 1} ends before it starts (overnight duty is two shifts).`, { in: 'body', field: `shifts/${i}` });
  }
  await translateDbError(() =>
    db.transaction().execute(async (trx) => {
      const gridCode = await requireGridCode(trx, gridId);
      requireUnitScope(principal, gridCode, PATH_ID);
      // Serialise edits of one grid's week, then compare versions.
      await lockRoster(trx, gridCode);
      const current = rosterVersion(await listShifts(trx, gridCode));
      if (!ifMatchHolds(ifMatch, current)) throw new AppError('VERSION_CONFLICT', 412, `The roster of ${gridCode} changed meanwhile (version ${current}).`, { ...IF_MATCH, current });
      await replaceShifts(trx, gridCode, shifts);
    }),
  );
  return getGridRoster(db, principal, gridId);
}

export async function addRosterException(db: Database, principal: Principal, gridId: number, input: RosterExceptionInput): Promise<ExceptionRow> {
  requirePermission(principal, 'staff:write');
  if (Date.parse(input.endsAt) <= Date.parse(input.startsAt)) throw new AppError('VALIDATION_FAILED', 422, 'endsAt must be after startsAt.', { in: 'body', field: 'endsAt' });
  if (input.kind === 'holiday' ? input.staffId !== undefined : input.staffId === undefined) {
    throw new AppError('VALIDATION_FAILED', 422, 'Leave and extra shifts name a staffId; holidays do not.', STAFF_ID_FIELD);
  }
  return translateDbError(() =>
    db.transaction().execute(async (trx) => {
      const gridCode = await requireGridCode(trx, gridId);
      requireUnitScope(principal, gridCode, PATH_ID);
      if (input.staffId !== undefined) await requireStaff(trx, input.staffId, STAFF_ID_FIELD);
      const id = await insertException(trx, {
        kind: input.kind,
        staffId: input.staffId ?? null,
        scopeCode: input.kind === 'leave' ? null : gridCode,
        startsAt: input.startsAt,
        endsAt: input.endsAt,
        reason: input.reason ?? '',
      });
      const row = (await listExceptions(trx, gridCode, input.startsAt, input.endsAt)).find((e) => e.id === id);
      if (!row) throw new AppError('VALIDATION_FAILED', 422, 'Leave is recorded for staff assigned to this grid.', STAFF_ID_FIELD);
      return row;
    }),
  );
}

export async function removeRosterException(db: Database, principal: Principal, gridId: number, exceptionId: number): Promise<void> {
  requirePermission(principal, 'staff:write');
  await db.transaction().execute(async (trx) => {
    const gridCode = await requireGridCode(trx, gridId);
    requireUnitScope(principal, gridCode, PATH_ID);
    if (!(await deleteException(trx, exceptionId, gridCode))) throw new AppError('NOT_FOUND', 404, `No roster exception ${exceptionId} in grid ${gridCode}.`, { in: 'params', field: 'exceptionId', exceptionId });
  });
}
