/**
 * Turns an import file into candidate divisions, with a problem per bad row. Pure: no database.
 *
 * CSV layouts (header names case-insensitive):
 * - ours: `code,name,level,parent_code`; `level` and `parent_code` may be absent or empty, then they
 *   follow from the code (GB/T 2260: 6 digits = district, 9 = street under its first 6, 12 = community
 *   under its first 9). Levels may also be written in Chinese (区, 县, 街道, 乡, 镇, 社区, 村, …).
 * - AreaCity (xiangyuecn/AreaCity-JsSpider-StatsGov): `id,pid,deep,name,full_name,stats_code_12,…`.
 *   `deep` 0/1 (province, city) are above the managed levels and skipped with a note; 2 = district,
 *   3 = street, 4 = community. The name is `full_name` (林山寨街道, not 林山寨) and 12-digit statistical
 *   codes padded with 000 / 000000 shrink to the 9 / 6 digits of their level.
 *
 * GeoJSON: a FeatureCollection whose features carry `code` (or DataV's numeric `adcode`) and optionally
 * `name`, `level`, `parent_code` in properties, and a Polygon/MultiPolygon boundary.
 */
import { Value } from 'typebox/value';
import { DIVISION_CODE_LENGTH, type DivisionLevel, type ImportProblem } from '../../contracts/division';
import { PolygonalSchema, type PolygonalGeometry } from '../../contracts/geojson';
import { parseCsv } from './division-csv';
import { checkDivisionFields, impliedParentCode, levelOfCode, type DivisionProblem } from './division-rules';

export interface RowRef {
  line?: number;
  featureIndex?: number;
}

export interface Candidate {
  ref: RowRef;
  code: string;
  /** null: a GeoJSON feature without a name, which can update a boundary but not create a division. */
  name: string | null;
  level: DivisionLevel;
  parentCode: string | null;
  boundary?: PolygonalGeometry;
}

export interface ParsedImport {
  candidates: Candidate[];
  errors: ImportProblem[];
  notes: ImportProblem[];
}

/** A problem with the file as a whole: nothing in it can be imported. */
export class ImportFileError extends Error {
  constructor(readonly problem: ImportProblem) {
    super(problem.message);
    this.name = 'ImportFileError';
  }
}

const LEVEL_ALIASES: Record<string, DivisionLevel> = {
  district: 'district',
  county: 'district',
  区: 'district',
  县: 'district',
  区县: 'district',
  县级市: 'district',
  旗: 'district',
  street: 'street',
  township: 'street',
  town: 'street',
  街道: 'street',
  乡镇: 'street',
  乡: 'street',
  镇: 'street',
  苏木: 'street',
  community: 'community',
  village: 'community',
  社区: 'community',
  村: 'community',
  居委会: 'community',
  村委会: 'community',
};

export function parseLevel(raw: string): DivisionLevel | undefined {
  return LEVEL_ALIASES[raw.trim().toLowerCase()];
}

function problem(ref: RowRef, p: { field: string; reason: string; message: string }, code?: string): ImportProblem {
  return { ...ref, ...(code ? { code } : {}), field: p.field, reason: p.reason, message: p.message };
}

/** Field checks; `name: null` (GeoJSON without a name) skips the name check. */
function checkCandidate(c: Candidate): DivisionProblem[] {
  return checkDivisionFields({ ...c, name: c.name ?? '-' });
}

// ---------------------------------------------------------------- CSV

type CsvLayout =
  | { kind: 'plain'; code: number; name: number; level: number | undefined; parent: number | undefined }
  | { kind: 'areacity'; id: number; pid: number; deep: number; name: number; fullName: number | undefined; stats: number | undefined };

function detectLayout(header: string[]): CsvLayout | undefined {
  const names = header.map((h) => h.trim().toLowerCase().replace(/[\s-]+/g, '_'));
  const at = (...aliases: string[]): number | undefined => {
    const i = names.findIndex((n) => aliases.includes(n));
    return i < 0 ? undefined : i;
  };
  const id = at('id');
  const pid = at('pid');
  const deep = at('deep');
  const name = at('name');
  if (id !== undefined && pid !== undefined && deep !== undefined && name !== undefined) {
    return { kind: 'areacity', id, pid, deep, name, fullName: at('full_name', 'fullname'), stats: at('stats_code_12', 'stats_code') };
  }
  const code = at('code');
  if (code === undefined || name === undefined) return undefined;
  return { kind: 'plain', code, name, level: at('level'), parent: at('parent_code', 'parentcode', 'parent') };
}

/** A 12-digit statistical code padded with zeros, shrunk to its level's length (410102001000 → 410102001). */
function shrinkStatsCode(code: string, level: DivisionLevel): string {
  const digits = DIVISION_CODE_LENGTH[level];
  return /^[0-9]{12}$/.test(code) && code.slice(digits) === '0'.repeat(12 - digits) ? code.slice(0, digits) : code;
}

const AREACITY_LEVELS: Record<string, DivisionLevel | 'above'> = { '0': 'above', '1': 'above', '2': 'district', '3': 'street', '4': 'community' };
const AREACITY_ABOVE_NAMES: Record<string, string> = { '0': 'province', '1': 'city' };

export function parseCsvImport(content: string): ParsedImport {
  const parsed = parseCsv(content);
  if (!parsed.ok) throw new ImportFileError({ line: parsed.line, field: 'content', reason: 'CSV_MALFORMED', message: parsed.message });
  const [header, ...records] = parsed.records;
  if (!header) throw new ImportFileError({ line: 1, field: 'content', reason: 'CSV_EMPTY', message: 'The CSV file is empty: it needs a header line code,name,level,parent_code.' });
  const layout = detectLayout(header.fields);
  if (!layout) {
    throw new ImportFileError({
      line: header.line,
      field: 'header',
      reason: 'CSV_HEADER',
      message: `The header needs the columns code and name (and optionally level, parent_code), or the AreaCity columns id,pid,deep,name; got "${header.fields.join(',')}".`,
    });
  }
  const out: ParsedImport = { candidates: [], errors: [], notes: [] };
  for (const record of records) {
    const ref = { line: record.line };
    if (record.fields.length !== header.fields.length) {
      out.errors.push(problem(ref, { field: 'row', reason: 'FIELD_COUNT', message: `Line ${record.line} has ${record.fields.length} fields; the header has ${header.fields.length}.` }));
      continue;
    }
    const cell = (i: number | undefined): string => (i === undefined ? '' : (record.fields[i] ?? '').trim());
    let candidate: Candidate;
    if (layout.kind === 'plain') {
      const code = cell(layout.code);
      const rawLevel = cell(layout.level);
      const level = rawLevel === '' ? levelOfCode(code) : parseLevel(rawLevel);
      if (!level) {
        out.errors.push(
          rawLevel === ''
            ? problem(ref, { field: 'code', reason: 'CODE_FORMAT', message: `"${code}" is not a 6-, 9- or 12-digit division code, and no level is given.` }, code)
            : problem(ref, { field: 'level', reason: 'LEVEL_UNKNOWN', message: `Unknown level "${rawLevel}": use district, street or community.` }, code),
        );
        continue;
      }
      const parent = cell(layout.parent);
      candidate = { ref, code, name: cell(layout.name), level, parentCode: parent === '' ? impliedParentCode(code, level) : parent };
    } else {
      const deep = cell(layout.deep);
      const level = AREACITY_LEVELS[deep];
      const name = cell(layout.fullName) || cell(layout.name);
      if (level === 'above') {
        out.notes.push(problem(ref, { field: 'deep', reason: 'LEVEL_NOT_MANAGED', message: `${name || cell(layout.id)} is a ${AREACITY_ABOVE_NAMES[deep] ?? 'division'} (deep ${deep}), above the managed levels; skipped.` }, cell(layout.id)));
        continue;
      }
      if (!level) {
        out.errors.push(problem(ref, { field: 'deep', reason: 'LEVEL_UNKNOWN', message: `Unknown AreaCity deep "${deep}": 2 = district, 3 = street, 4 = community.` }, cell(layout.id)));
        continue;
      }
      const code = shrinkStatsCode(cell(layout.stats) || cell(layout.id), level);
      const pid = cell(layout.pid);
      const parentLevel = level === 'street' ? 'district' : level === 'community' ? 'street' : null;
      // A district's pid is its city, which is not managed.
      candidate = { ref, code, name, level, parentCode: parentLevel ? shrinkStatsCode(pid, parentLevel) || impliedParentCode(code, level) : null };
    }
    const problems = checkCandidate(candidate);
    if (problems.length > 0) out.errors.push(...problems.map((p) => problem(ref, p, candidate.code)));
    else out.candidates.push(candidate);
  }
  return dropDuplicates(out);
}

// ---------------------------------------------------------------- GeoJSON

function codeLike(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseGeoJsonImport(features: readonly unknown[]): ParsedImport {
  const out: ParsedImport = { candidates: [], errors: [], notes: [] };
  features.forEach((feature, featureIndex) => {
    const ref = { featureIndex };
    if (!isObject(feature) || feature.type !== 'Feature') {
      out.errors.push(problem(ref, { field: 'feature', reason: 'NOT_A_FEATURE', message: `Feature ${featureIndex} is not a GeoJSON Feature.` }));
      return;
    }
    const props = isObject(feature.properties) ? feature.properties : {};
    const code = codeLike(props.code) ?? codeLike(props.adcode);
    if (!code) {
      out.errors.push(problem(ref, { field: 'properties.code', reason: 'CODE_MISSING', message: `Feature ${featureIndex} has no division code in properties.code.` }));
      return;
    }
    const rawLevel = typeof props.level === 'string' ? props.level : '';
    const level = rawLevel === '' ? levelOfCode(code) : parseLevel(rawLevel);
    if (!level) {
      out.errors.push(
        rawLevel === ''
          ? problem(ref, { field: 'properties.code', reason: 'CODE_FORMAT', message: `"${code}" is not a 6-, 9- or 12-digit division code.` }, code)
          : problem(ref, { field: 'properties.level', reason: 'LEVEL_UNKNOWN', message: `Unknown level "${rawLevel}": use district, street or community.` }, code),
      );
      return;
    }
    if (!Value.Check(PolygonalSchema, feature.geometry)) {
      out.errors.push(
        problem(ref, { field: 'geometry', reason: 'GEOMETRY_SHAPE', message: `Feature ${featureIndex} needs a Polygon or MultiPolygon geometry of [lng, lat] positions (rings of at least 4).` }, code),
      );
      return;
    }
    const parent = codeLike(props.parent_code) ?? codeLike(props.parentCode) ?? '';
    const name = typeof props.name === 'string' && props.name.trim() !== '' ? props.name.trim() : null;
    const candidate: Candidate = { ref, code, name, level, parentCode: parent === '' ? impliedParentCode(code, level) : parent, boundary: feature.geometry };
    const problems = checkCandidate(candidate);
    if (problems.length > 0) out.errors.push(...problems.map((p) => problem(ref, p, code)));
    else out.candidates.push(candidate);
  });
  return dropDuplicates(out);
}

function describe(ref: RowRef): string {
  return ref.line !== undefined ? `line ${ref.line}` : `feature ${ref.featureIndex ?? '?'}`;
}

/** A code given twice: the first row counts, every later one is an error. */
function dropDuplicates(parsed: ParsedImport): ParsedImport {
  const first = new Map<string, Candidate>();
  const candidates: Candidate[] = [];
  for (const c of parsed.candidates) {
    const earlier = first.get(c.code);
    if (earlier) {
      parsed.errors.push(problem(c.ref, { field: 'code', reason: 'DUPLICATE_CODE', message: `Code ${c.code} was already given on ${describe(earlier.ref)}.` }, c.code));
      continue;
    }
    first.set(c.code, c);
    candidates.push(c);
  }
  return { ...parsed, candidates };
}
