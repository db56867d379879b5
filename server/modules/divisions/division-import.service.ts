/**
 * Imports divisions from CSV (hierarchy) or GeoJSON (boundaries) in one transaction.
 *
 * - Rows are applied level by level (districts, then streets, then communities), so a file may list
 *   children before their parents.
 * - Upsert by code: a new code is created; a known one is renamed when the CSV name differs, given a
 *   boundary when the GeoJSON one differs vertex for vertex, and otherwise counted as unchanged, so
 *   importing the same file again changes nothing.
 * - A GeoJSON feature's name only names a division it creates: a boundary file from a map provider
 *   does not rename official divisions.
 * - all-or-nothing (default): any bad row rolls the whole transaction back and the answer is 422
 *   IMPORT_FAILED listing every problem. skip-bad-rows: good rows are kept, bad ones reported; rows under
 *   a rejected parent are rejected too (their parent does not exist).
 */
import type { DivisionLevel, ImportDivisionsBody, ImportProblem, ImportResult } from '../../contracts/division';
import type { Database } from '../../db/database';
import { AppError } from '../../http/errors';
import { ImportFileError, parseCsvImport, parseGeoJsonImport, type Candidate, type ParsedImport, type RowRef } from './division-import-rows';
import { checkParent, LEVEL_ORDER } from './division-rules';
import { checkBoundary, findDivisions, insertDivisions, renameDivisions, replaceBoundaryIfDifferent, type DivisionRecord } from './division.repository';
import { explainInvalidity } from './division.service';

type Outcome = 'created' | 'updated' | 'unchanged';

const refKey = (ref: RowRef): string => (ref.line !== undefined ? `l${ref.line}` : `f${ref.featureIndex ?? -1}`);

export async function importDivisions(db: Database, body: ImportDivisionsBody): Promise<ImportResult> {
  const mode = body.mode ?? 'all-or-nothing';
  let parsed: ParsedImport;
  try {
    parsed = body.format === 'csv' ? parseCsvImport(body.content) : parseGeoJsonImport(body.content.features);
  } catch (err) {
    if (err instanceof ImportFileError) {
      throw new AppError('IMPORT_FAILED', 422, err.message, { in: 'body', field: 'content', errors: [err.problem], notes: [] });
    }
    throw err;
  }
  const { errors, notes } = parsed;

  return db.transaction().execute(async (trx) => {
    const outcomes = await applyCandidates(trx, parsed.candidates, errors);
    if (errors.length > 0 && mode === 'all-or-nothing') {
      // Thrown inside the transaction: everything written above is rolled back.
      throw new AppError('IMPORT_FAILED', 422, `${errors.length} problem(s) in the file; nothing was imported.`, { in: 'body', field: 'content', errors, notes });
    }
    const badRows = new Set(errors.map((e) => refKey(e)));
    const count = (o: Outcome): number => [...outcomes.values()].filter((v) => v === o).length;
    return { created: count('created'), updated: count('updated'), unchanged: count('unchanged'), skipped: notes.length + badRows.size, errors, notes };
  });
}

function reject(errors: ImportProblem[], rejected: Set<string>, c: Candidate, p: Omit<ImportProblem, 'line' | 'featureIndex' | 'code'>): void {
  errors.push({ ...c.ref, code: c.code, ...p });
  rejected.add(c.code);
}

async function applyCandidates(db: Database, candidates: Candidate[], errors: ImportProblem[]): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  const rejected = new Set<string>();

  // Geometry first: a feature with an invalid boundary must not create its division either.
  for (const c of candidates) {
    if (!c.boundary) continue;
    const check = await checkBoundary(db, c.boundary);
    if (!check.valid) {
      reject(errors, rejected, c, { field: 'geometry', reason: 'GEOMETRY_INVALID', message: `${explainInvalidity(check.reason)} (${check.reason ?? 'invalid'})`, ...(check.location ? { location: check.location } : {}) });
    }
  }

  const known = await findDivisions(db, candidates.flatMap((c) => (c.parentCode ? [c.code, c.parentCode] : [c.code])));
  const byLevel = (level: DivisionLevel): Candidate[] => candidates.filter((c) => c.level === level && !rejected.has(c.code)).sort((a, b) => a.code.localeCompare(b.code));

  for (const level of LEVEL_ORDER) {
    const toCreate: DivisionRecord[] = [];
    const toRename: Array<{ code: string; name: string }> = [];
    for (const c of byLevel(level)) {
      const parentProblems = checkParent(c, c.parentCode ? known.get(c.parentCode) : undefined);
      if (parentProblems.length > 0) {
        for (const p of parentProblems) reject(errors, rejected, c, p);
        continue;
      }
      const existing = known.get(c.code);
      if (!existing) {
        if (c.name === null) {
          reject(errors, rejected, c, { field: 'properties.name', reason: 'NAME_REQUIRED', message: `Division ${c.code} does not exist; give properties.name (and level, parent_code) to create it.` });
          continue;
        }
        const record = { code: c.code, name: c.name, level: c.level, parentCode: c.parentCode };
        toCreate.push(record);
        known.set(c.code, record);
        outcomes.set(c.code, 'created');
        continue;
      }
      if (existing.level !== c.level || existing.parentCode !== c.parentCode) {
        reject(errors, rejected, c, {
          field: 'parentCode',
          reason: 'CONFLICTS_WITH_STORED',
          message: `Division ${c.code} is stored as a ${existing.level} under ${existing.parentCode ?? '(none)'}; the file says ${c.level} under ${c.parentCode ?? '(none)'}.`,
        });
        continue;
      }
      if (!c.boundary && c.name !== null && c.name !== existing.name) {
        toRename.push({ code: c.code, name: c.name });
        outcomes.set(c.code, 'updated');
      } else {
        outcomes.set(c.code, 'unchanged');
      }
    }
    await insertDivisions(db, toCreate);
    await renameDivisions(db, toRename);
  }

  for (const c of candidates) {
    if (!c.boundary || rejected.has(c.code)) continue;
    const changed = await replaceBoundaryIfDifferent(db, c.code, c.boundary);
    if (changed && outcomes.get(c.code) === 'unchanged') outcomes.set(c.code, 'updated');
  }
  return outcomes;
}
