/**
 * The GB/T 2260 rules a division's code, level and parent must follow, as pure functions shared by
 * the create endpoint and the importers. Each problem names the field and a stable reason.
 */
import { DIVISION_CODE_LENGTH, type DivisionLevel } from '../../contracts/division';

export type DivisionProblemReason =
  | 'NAME_EMPTY'
  | 'LEVEL_UNKNOWN'
  | 'CODE_FORMAT'
  | 'PARENT_REQUIRED'
  | 'PARENT_NOT_ALLOWED'
  | 'PARENT_NOT_FOUND'
  | 'PARENT_LEVEL'
  | 'CODE_NOT_UNDER_PARENT'
  | 'DUPLICATE_CODE';

export interface DivisionProblem {
  field: string;
  reason: DivisionProblemReason;
  message: string;
}

export const LEVEL_ORDER: readonly DivisionLevel[] = ['district', 'street', 'community'];

/** The level a parent must have; null for a district (top level, no parent). */
export const PARENT_LEVEL: Record<DivisionLevel, DivisionLevel | null> = { district: null, street: 'district', community: 'street' };

const LEVEL_WORDS: Record<DivisionLevel, string> = { district: 'district (区/县)', street: 'street (街道/乡镇)', community: 'community (社区/村)' };

/** The level a well-formed code belongs to, from its length; undefined for anything else. */
export function levelOfCode(code: string): DivisionLevel | undefined {
  if (!/^[0-9]+$/.test(code)) return undefined;
  return (Object.keys(DIVISION_CODE_LENGTH) as DivisionLevel[]).find((level) => DIVISION_CODE_LENGTH[level] === code.length);
}

/** The parent code GB/T 2260 implies (the code minus its last 3 digits); null for a district. */
export function impliedParentCode(code: string, level: DivisionLevel): string | null {
  const parentLevel = PARENT_LEVEL[level];
  return parentLevel ? code.slice(0, DIVISION_CODE_LENGTH[parentLevel]) : null;
}

export interface DivisionFields {
  code: string;
  name: string;
  level: DivisionLevel;
  parentCode: string | null;
}

/** Checks that need no database: name, code format for the level, presence and form of the parent code. */
export function checkDivisionFields(d: DivisionFields): DivisionProblem[] {
  const problems: DivisionProblem[] = [];
  if (d.name.trim() === '') problems.push({ field: 'name', reason: 'NAME_EMPTY', message: 'The name is empty.' });
  const digits = DIVISION_CODE_LENGTH[d.level];
  const codeOk = new RegExp(`^[0-9]{${digits}}$`).test(d.code);
  if (!codeOk) {
    problems.push({ field: 'code', reason: 'CODE_FORMAT', message: `A ${LEVEL_WORDS[d.level]} code has ${digits} digits; got "${d.code}".` });
  }
  const parentLevel = PARENT_LEVEL[d.level];
  if (parentLevel === null) {
    if (d.parentCode !== null) {
      problems.push({ field: 'parentCode', reason: 'PARENT_NOT_ALLOWED', message: `A district is the top level and has no parent; got parent "${d.parentCode}".` });
    }
    return problems;
  }
  if (d.parentCode === null) {
    problems.push({ field: 'parentCode', reason: 'PARENT_REQUIRED', message: `A ${LEVEL_WORDS[d.level]} needs its parent ${LEVEL_WORDS[parentLevel]}.` });
    return problems;
  }
  const parentDigits = DIVISION_CODE_LENGTH[parentLevel];
  if (!new RegExp(`^[0-9]{${parentDigits}}$`).test(d.parentCode)) {
    problems.push({
      field: 'parentCode',
      reason: 'PARENT_LEVEL',
      message: `The parent of a ${LEVEL_WORDS[d.level]} is a ${LEVEL_WORDS[parentLevel]} with a ${parentDigits}-digit code; got "${d.parentCode}".`,
    });
  } else if (codeOk && !d.code.startsWith(d.parentCode)) {
    problems.push({
      field: 'code',
      reason: 'CODE_NOT_UNDER_PARENT',
      message: `Code ${d.code} is not under ${d.parentCode}: a ${LEVEL_WORDS[d.level]} code is its parent's ${parentDigits} digits followed by 3 more (GB/T 2260).`,
    });
  }
  return problems;
}

/** Checks against the parent as stored (or as created earlier in the same import). */
export function checkParent(d: Pick<DivisionFields, 'level' | 'parentCode'>, parent: { code: string; level: DivisionLevel } | undefined): DivisionProblem[] {
  const parentLevel = PARENT_LEVEL[d.level];
  if (parentLevel === null || d.parentCode === null) return [];
  if (!parent) {
    return [{ field: 'parentCode', reason: 'PARENT_NOT_FOUND', message: `The parent ${LEVEL_WORDS[parentLevel]} ${d.parentCode} does not exist.` }];
  }
  if (parent.level !== parentLevel) {
    return [{ field: 'parentCode', reason: 'PARENT_LEVEL', message: `${parent.code} is a ${LEVEL_WORDS[parent.level]}; a ${LEVEL_WORDS[d.level]} belongs to a ${LEVEL_WORDS[parentLevel]}.` }];
  }
  return [];
}
