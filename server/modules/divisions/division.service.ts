/**
 * Business rules for divisions: GB/T 2260 code/level/parent checks (division-rules.ts), boundary
 * validity through PostGIS, and the read model with derived boundaries (division.repository.ts).
 */
import type { CreateDivisionBody, DivisionDetail, DivisionList, DivisionListQuery, UpdateDivisionBody } from '../../contracts/division';
import type { PolygonalGeometry } from '../../contracts/geojson';
import type { Database } from '../../db/database';
import { AppError, PATH_CODE, geometryInvalid, notFound } from '../../http/errors';
import { checkDivisionFields, checkParent, type DivisionProblem } from './division-rules';
import { checkBoundary, findDivisionDetail, findDivisions, insertDivision, listDivisions as listDivisionRows, updateDivision as updateDivisionRow } from './division.repository';

/** GEOS's invalidity reasons (ST_IsValidDetail) in words a planner understands. */
const EXPLANATIONS: ReadonlyArray<[string, string]> = [
  ['Self-intersection', 'The outline crosses itself (for example a bow-tie shape); redraw it so no edge crosses another.'],
  ['Ring Self-intersection', 'The outline touches itself at a point; split it into two parts or move the vertex.'],
  ['Too few points', 'A ring has too few distinct points to enclose an area.'],
  ['Hole lies outside shell', 'A hole lies outside the polygon it should be cut from.'],
  ['Nested holes', 'A hole lies inside another hole.'],
  ['Interior is disconnected', 'Holes cut the polygon into separate pieces.'],
  ['Nested shells', 'One part of the boundary lies inside another part.'],
  ['Duplicate Rings', 'The same ring appears twice.'],
  ['IllegalArgumentException: Points of LinearRing do not form a closed linestring', 'A ring does not end where it starts: repeat the first position as the last.'],
];

export function explainInvalidity(reason: string | null): string {
  const hit = reason ? EXPLANATIONS.find(([prefix]) => reason.startsWith(prefix)) : undefined;
  return hit ? hit[1] : `The boundary is not a valid polygon${reason ? `: ${reason}` : ''}.`;
}

/** Throws 422 GEOMETRY_INVALID with GEOS's reason and `[lng, lat]` location when the boundary is invalid. */
export async function assertValidBoundary(db: Database, boundary: PolygonalGeometry): Promise<void> {
  const check = await checkBoundary(db, boundary);
  if (!check.valid) throw geometryInvalid({ reason: check.reason ?? 'invalid', message: explainInvalidity(check.reason), location: check.location }, { in: 'body', field: 'boundary' });
}

/** Every problem names its body field; the first one is the error's where (as its message is). */
function invalid(problems: DivisionProblem[]): AppError {
  return new AppError('DIVISION_INVALID', 422, problems[0]?.message ?? 'The division is not valid.', { in: 'body', field: problems[0]?.field, problems });
}

/** Routes name one division by the path's code (`/divisions/:code`, `/divisions/:code/export`). */

export async function listDivisions(db: Database, query: DivisionListQuery): Promise<DivisionList> {
  const parentCode = query.parent ?? null;
  if (parentCode !== null && !(await findDivisions(db, [parentCode])).has(parentCode)) {
    throw notFound('DIVISION_NOT_FOUND', `Division ${parentCode} does not exist.`, { in: 'querystring', field: 'parent', code: parentCode });
  }
  return { parentCode, items: await listDivisionRows(db, { parentCode, ...(query.level ? { level: query.level } : {}) }) };
}

export async function getDivision(db: Database, code: string): Promise<DivisionDetail> {
  const detail = await findDivisionDetail(db, code);
  if (!detail) throw notFound('DIVISION_NOT_FOUND', `Division ${code} does not exist.`, { ...PATH_CODE, code });
  return detail;
}

export async function createDivision(db: Database, body: CreateDivisionBody): Promise<DivisionDetail> {
  const fields = { code: body.code.trim(), name: body.name.trim(), level: body.level, parentCode: body.parentCode?.trim() || null };
  const problems = checkDivisionFields(fields);
  if (problems.length > 0) throw invalid(problems);
  return db.transaction().execute(async (trx) => {
    if (fields.parentCode !== null) {
      const parentProblems = checkParent(fields, (await findDivisions(trx, [fields.parentCode])).get(fields.parentCode));
      if (parentProblems.length > 0) throw invalid(parentProblems);
    }
    if (body.boundary) await assertValidBoundary(trx, body.boundary);
    await insertDivision(trx, { ...fields, boundary: body.boundary ?? null });
    return getDivision(trx, fields.code);
  });
}

export async function updateDivision(db: Database, code: string, body: UpdateDivisionBody): Promise<DivisionDetail> {
  const name = body.name?.trim();
  if (name === '') throw invalid([{ field: 'name', reason: 'NAME_EMPTY', message: 'The name is empty.' }]);
  return db.transaction().execute(async (trx) => {
    if (!(await findDivisions(trx, [code])).has(code)) throw notFound('DIVISION_NOT_FOUND', `Division ${code} does not exist.`, { ...PATH_CODE, code });
    if (body.boundary) await assertValidBoundary(trx, body.boundary);
    const found = await updateDivisionRow(trx, code, { ...(name !== undefined ? { name } : {}), ...(body.boundary !== undefined ? { boundary: body.boundary } : {}) });
    if (!found) throw notFound('DIVISION_NOT_FOUND', `Division ${code} does not exist.`, { ...PATH_CODE, code });
    return getDivision(trx, code);
  });
}
