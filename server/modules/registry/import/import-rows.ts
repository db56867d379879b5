/**
 * Row-level checks of registry imports, done in Node between parsing and COPY: shape, enums, dates,
 * ID numbers (checksum, date, gender agreement) and GeoJSON geometry shape. What needs the database
 * (references, placement, scope, geometry validity, duplicates) is checked afterwards in SQL
 * (import.repository.ts). Residents' ID numbers and phones are encrypted here, so plaintext never
 * reaches PostgreSQL, not even the staging table.
 *
 * Columns accept the API's camelCase names, snake_case, and the demo generator's output (Chinese
 * relation, tag and role labels included), so `npm run generate` output imports as it is.
 */
import { BUILDING_USES, ORGANISATION_KINDS, REGISTRATIONS, RELATIONS, TENURES } from '../../../contracts/registry-values';
import type { RegistryCipher } from '../registry-crypto';
import { validateResidentIdNumber } from '../resident-id';
import type { MultiPolygon, Point, Polygon } from 'geojson';
import { geometryToWkb } from '../../../geo/wkb';
import { PG_INT_MAX } from '../../../contracts/common';

export const IMPORT_ENTITIES = ['buildings', 'households', 'residents', 'organisations', 'staff'] as const;
export type ImportEntity = (typeof IMPORT_ENTITIES)[number];

export interface RowError {
  line: number;
  field: string;
  reason: string;
}

/** A staging value: text (or null) for COPY; Buffers are bytea. */
export type StagingValue = string | number | null | Buffer | readonly string[];

export interface StagingColumn {
  name: string;
  type: 'text' | 'int' | 'date' | 'bytea' | 'text[]';
}

export interface EntityDefinition {
  columns: readonly StagingColumn[];
  /** Values in `columns` order, or the row's problems. */
  toStaging(record: Record<string, unknown>, ctx: RowContext): { values: StagingValue[] } | { errors: Array<{ field: string; reason: string }> };
}

export interface RowContext {
  cipher: RegistryCipher;
  /** YYYY-MM-DD bounding birth dates. */
  today: string;
  /** `--community`: buildings and organisations go to this community. */
  community: string | null;
}

const RELATION_LABELS: Record<string, string> = { 户主: 'head', 配偶: 'spouse', 子女: 'child', 父母: 'parent', 孙子女: 'grandchild', 儿媳: 'child_in_law', 女婿: 'child_in_law', 兄弟姐妹: 'sibling', 其他: 'other' };
const TAG_LABELS: Record<string, string> = { 低保: 'low_income', 独居老人: 'elderly_alone', 残疾: 'disabled', 社区矫正: 'community_correction', 刑释解教: 'released_prisoner', 重点青少年: 'at_risk_youth', 严重精神障碍: 'severe_mental_illness' };
const STAFF_ROLES = ['grid_leader', 'full_time_worker', 'part_time_worker', 'party_secretary', 'community_police', 'community_duty_officer', 'street_duty_officer'] as const;
const ROLE_LABELS: Record<string, string> = { 网格长: 'grid_leader', 专职网格员: 'full_time_worker', 兼职网格员: 'part_time_worker', 党支部书记: 'party_secretary', 社区民警: 'community_police', 社区值班员: 'community_duty_officer', 街道值班员: 'street_duty_officer' };
const GENDER_LABELS: Record<string, string> = { 男: 'M', 女: 'F', m: 'M', f: 'F' };

const NUL_REASON = 'must not contain the NUL character (U+0000)';

class Row {
  readonly errors: Array<{ field: string; reason: string }> = [];
  constructor(private readonly r: Record<string, unknown>) {}

  /**
   * The first present alias's value as trimmed text; '' and null count as absent. Text holding NUL
   * (U+0000, e.g. a JSON "\u0000" in a GeoJSON or NDJSON file) fails the row here, for every field:
   * PostgreSQL's text types cannot store it, and COPY or an INSERT would fail the whole import.
   */
  raw(...names: string[]): { name: string; text: string | undefined; value: unknown } {
    for (const name of names) {
      const v = this.r[name];
      if (v === undefined || v === null) continue;
      const text = typeof v === 'string' ? v.trim() : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
      if (text === '') continue;
      if (text?.includes('\u0000') && !this.errors.some((e) => e.field === name && e.reason === NUL_REASON)) this.fail(name, NUL_REASON);
      return { name, text, value: v };
    }
    return { name: names[0] ?? '', text: undefined, value: undefined };
  }

  fail(field: string, reason: string): null {
    this.errors.push({ field, reason });
    return null;
  }

  text(names: string[], opts: { required?: boolean; max?: number; pattern?: RegExp; hint?: string } = {}): string | null {
    const { name, text, value } = this.raw(...names);
    if (text === undefined) {
      if (value !== undefined) return this.fail(name, 'must be text');
      return opts.required ? this.fail(names[0] ?? name, 'is required') : null;
    }
    if (opts.max !== undefined && text.length > opts.max) return this.fail(name, `is longer than ${opts.max} characters`);
    if (opts.pattern && !opts.pattern.test(text)) return this.fail(name, opts.hint ?? `does not match ${String(opts.pattern)}`);
    return text;
  }

  oneOf(names: string[], allowed: readonly string[], labels: Record<string, string> = {}, fallback?: string): string | null {
    const { name, text } = this.raw(...names);
    if (text === undefined) return fallback ?? this.fail(names[0] ?? name, 'is required');
    const v = labels[text] ?? text;
    return allowed.includes(v) ? v : this.fail(name, `must be one of ${allowed.join(', ')} (got '${text}')`);
  }

  int(names: string[], min: number, max: number): number | null {
    const { name, text } = this.raw(...names);
    if (text === undefined) return null;
    if (!/^-?\d+$/.test(text)) return this.fail(name, 'must be a whole number');
    const n = Number(text);
    return n < min || n > max ? this.fail(name, `must be between ${min} and ${max}`) : n;
  }

  date(names: string[], required = false): string | null {
    const { name, text } = this.raw(...names);
    if (text === undefined) return required ? this.fail(names[0] ?? name, 'is required') : null;
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
    if (!m || !d || d.toISOString().slice(0, 10) !== text) return this.fail(name, 'must be a real date YYYY-MM-DD');
    return text;
  }

  /**
   * GeoJSON geometry (object, or JSON text in a CSV column), or lng/lat columns for a point; staged as
   * WKB (see geo/wkb.ts), which PostGIS reads much faster than GeoJSON text.
   */
  geometry(allowPoint: boolean): Buffer | null {
    const { name, value } = this.raw('geometry', 'geom');
    let g: unknown = value;
    if (typeof value === 'string') {
      try {
        g = JSON.parse(value);
      } catch {
        return this.fail(name, 'must be GeoJSON');
      }
    }
    if (g === undefined) {
      const lng = this.raw('lng', 'lon', 'longitude').text;
      const lat = this.raw('lat', 'latitude').text;
      if (lng === undefined || lat === undefined) return this.fail('geometry', 'is required (GeoJSON geometry, or lng and lat)');
      g = { type: 'Point', coordinates: [Number(lng), Number(lat)] };
    }
    const reason = geometryShapeProblem(g, allowPoint);
    return reason ? this.fail('geometry', reason) : geometryToWkb(g as Point | Polygon | MultiPolygon);
  }
}

const isPosition = (p: unknown): boolean =>
  Array.isArray(p) && p.length >= 2 && typeof p[0] === 'number' && typeof p[1] === 'number' && Math.abs(p[0]) <= 180 && Math.abs(p[1]) <= 90;

function ringProblem(ring: unknown): string | undefined {
  if (!Array.isArray(ring) || ring.length < 4) return 'a ring needs at least 4 positions';
  if (!ring.every(isPosition)) return 'positions must be [lng, lat] within ±180/±90';
  const a = ring[0] as number[];
  const b = ring[ring.length - 1] as number[];
  return a[0] === b[0] && a[1] === b[1] ? undefined : 'a ring must be closed';
}

/**
 * Why a value is not a usable Point / Polygon / MultiPolygon, or undefined. Checked before the value
 * reaches ST_GeomFromGeoJSON, which would otherwise abort the whole set-based statement.
 */
export function geometryShapeProblem(g: unknown, allowPoint = true): string | undefined {
  if (!g || typeof g !== 'object') return 'must be a GeoJSON geometry';
  const { type, coordinates } = g as { type?: unknown; coordinates?: unknown };
  if (type === 'Point') return allowPoint ? (isPosition(coordinates) ? undefined : 'a Point needs [lng, lat] within ±180/±90') : 'must be a Polygon or MultiPolygon';
  if (type === 'Polygon') {
    if (!Array.isArray(coordinates) || coordinates.length === 0) return 'a Polygon needs at least one ring';
    return coordinates.map(ringProblem).find((p) => p !== undefined);
  }
  if (type === 'MultiPolygon') {
    if (!Array.isArray(coordinates) || coordinates.length === 0) return 'a MultiPolygon needs at least one polygon';
    for (const poly of coordinates) {
      if (!Array.isArray(poly) || poly.length === 0) return 'a MultiPolygon needs at least one polygon';
      const p = poly.map(ringProblem).find((x) => x !== undefined);
      if (p) return p;
    }
    return undefined;
  }
  return `geometry type ${typeof type === 'string' ? type : '?'} is not supported (Point, Polygon, MultiPolygon)`;
}

const done = (row: Row, values: StagingValue[]): { values: StagingValue[] } | { errors: Array<{ field: string; reason: string }> } =>
  row.errors.length > 0 ? { errors: row.errors } : { values };

const CODE12 = /^[0-9]{12}$/;

/** Where a household is: its id, its building's external id, or community + building code (+ unit, room). */
function householdRef(row: Row): StagingValue[] {
  const key = row.raw('householdKey', 'household_key').text;
  if (key !== undefined) {
    // The generator's key: `${communityCode}-${buildingCode}-${unit}-${room}`.
    const parts = key.split('-');
    if (parts.length !== 4 || !CODE12.test(parts[0] ?? '') || !/^\d{5}$/.test(parts[1] ?? '')) {
      row.fail('householdKey', 'must be community-building-unit-room, e.g. 410105001001-00012-1-502');
      return [null, null, null, null, null, null];
    }
    return [null, null, parts[0] ?? null, parts[1] ?? null, parts[2] ?? '', parts[3] ?? ''];
  }
  const id = row.int(['householdId', 'household_id'], 1, PG_INT_MAX);
  const ext = row.text(['buildingExternalId', 'building_external_id'], { max: 100 });
  const community = row.text(['communityCode', 'community_code', 'community'], { pattern: CODE12, hint: 'must be a 12-digit community code' });
  const building = row.text(['buildingCode', 'building_code'], { pattern: /^\d{5}$/, hint: 'must be a 5-digit building code' });
  if (id === null && ext === null && (community === null || building === null)) {
    row.fail('household', 'give householdId, householdKey, buildingExternalId + unit + room, or communityCode + buildingCode + unit + room');
  }
  return [id, ext, community, building, row.text(['unit'], { max: 20 }) ?? '', row.text(['room'], { max: 20 }) ?? ''];
}

export const ENTITIES: Record<ImportEntity, EntityDefinition> = {
  buildings: {
    columns: [
      { name: 'external_id', type: 'text' },
      { name: 'community_code', type: 'text' },
      { name: 'code', type: 'text' },
      { name: 'name', type: 'text' },
      { name: 'address', type: 'text' },
      { name: 'use', type: 'text' },
      { name: 'floors', type: 'int' },
      { name: 'geom', type: 'bytea' },
    ],
    toStaging(record, ctx) {
      const row = new Row(record);
      // The generator's feature id is `${community}-${code}`, a derived key rather than an external one.
      const rawId = row.raw('externalId', 'external_id', 'id').text;
      const externalId = rawId !== undefined && !/^\d{12}-\d{5}$/.test(rawId) ? rawId : null;
      if (externalId !== null && externalId.length > 100) row.fail('externalId', 'is longer than 100 characters');
      const community = row.text(['communityCode', 'community_code', 'community'], { pattern: CODE12, hint: 'must be a 12-digit community code' }) ?? ctx.community;
      const code = row.text(['code', 'buildingCode'], { pattern: /^\d{5}$/, hint: 'must be 5 digits' });
      return done(row, [
        externalId,
        community,
        code,
        row.text(['name'], { max: 200 }) ?? '',
        row.text(['address'], { max: 300 }) ?? '',
        row.oneOf(['use'], BUILDING_USES, {}, 'residential'),
        row.int(['floors'], 1, 300),
        row.geometry(true),
      ]);
    },
  },
  households: {
    columns: [
      { name: 'building_id', type: 'int' },
      { name: 'building_external_id', type: 'text' },
      { name: 'community_code', type: 'text' },
      { name: 'building_code', type: 'text' },
      { name: 'unit', type: 'text' },
      { name: 'room', type: 'text' },
      { name: 'tenure', type: 'text' },
    ],
    toStaging(record) {
      const row = new Row(record);
      const buildingId = row.int(['buildingId', 'building_id'], 1, PG_INT_MAX);
      const ext = row.text(['buildingExternalId', 'building_external_id'], { max: 100 });
      const community = row.text(['communityCode', 'community_code', 'community'], { pattern: CODE12, hint: 'must be a 12-digit community code' });
      const code = row.text(['buildingCode', 'building_code'], { pattern: /^\d{5}$/, hint: 'must be a 5-digit building code' });
      if (buildingId === null && ext === null && (community === null || code === null)) row.fail('building', 'give buildingId, buildingExternalId, or communityCode + buildingCode');
      return done(row, [buildingId, ext, community, code, row.text(['unit'], { max: 20 }) ?? '', row.text(['room'], { max: 20 }) ?? '', row.oneOf(['tenure'], TENURES, {}, 'owned')]);
    },
  },
  residents: {
    columns: [
      { name: 'household_id', type: 'int' },
      { name: 'building_external_id', type: 'text' },
      { name: 'community_code', type: 'text' },
      { name: 'building_code', type: 'text' },
      { name: 'unit', type: 'text' },
      { name: 'room', type: 'text' },
      { name: 'name', type: 'text' },
      { name: 'gender', type: 'text' },
      { name: 'birth_date', type: 'date' },
      { name: 'id_enc', type: 'bytea' },
      { name: 'id_hmac', type: 'bytea' },
      { name: 'phone_enc', type: 'bytea' },
      { name: 'phone_hmac', type: 'bytea' },
      { name: 'relation', type: 'text' },
      { name: 'registration', type: 'text' },
      { name: 'tags', type: 'text[]' },
    ],
    toStaging(record, ctx) {
      const row = new Row(record);
      const ref = householdRef(row);
      const name = row.text(['name'], { required: true, max: 100 });
      const gender = row.oneOf(['gender'], ['M', 'F'], GENDER_LABELS);
      const birthDate = row.date(['birthDate', 'birth_date'], true);
      const rawId = row.text(['idNumber', 'id_number'], { required: true, max: 32 });
      let idNumber: string | null = null;
      if (rawId !== null) {
        const id = rawId.toUpperCase();
        const v = validateResidentIdNumber(id, { today: ctx.today });
        // The same reasons as the API (resident.service.ts checkIdNumber).
        if (!v.valid) row.fail('idNumber', v.reason);
        else if (birthDate !== null && v.birthDate !== birthDate) row.fail('idNumber', 'BIRTH_DATE_MISMATCH');
        else if (gender !== null && v.gender !== gender) row.fail('idNumber', 'GENDER_MISMATCH');
        else idNumber = id;
      }
      const phone = row.text(['phone'], { pattern: /^1[0-9]{10}$/, hint: 'must be an 11-digit mobile number' });
      const relation = row.oneOf(['relation'], RELATIONS, RELATION_LABELS, 'other');
      const registration = row.oneOf(['registration'], REGISTRATIONS, {}, 'registered');
      const tags = parseTags(row);
      if (row.errors.length > 0 || idNumber === null) return { errors: row.errors };
      return {
        values: [
          ...ref,
          name,
          gender,
          birthDate,
          ctx.cipher.encrypt(idNumber),
          ctx.cipher.hmac(idNumber),
          phone ? ctx.cipher.encrypt(phone) : null,
          phone ? ctx.cipher.hmac(phone) : null,
          relation,
          registration,
          tags,
        ],
      };
    },
  },
  organisations: {
    columns: [
      { name: 'code', type: 'text' },
      { name: 'community_code', type: 'text' },
      { name: 'name', type: 'text' },
      { name: 'kind', type: 'text' },
      { name: 'category', type: 'text' },
      { name: 'employees', type: 'int' },
      { name: 'address', type: 'text' },
      { name: 'opened_on', type: 'date' },
      { name: 'closed_on', type: 'date' },
      { name: 'geom', type: 'bytea' },
    ],
    toStaging(record, ctx) {
      const row = new Row(record);
      const opened = row.date(['openedOn', 'opened_on']);
      const closed = row.date(['closedOn', 'closed_on']);
      if (opened && closed && closed < opened) row.fail('closedOn', 'is before openedOn');
      return done(row, [
        row.text(['code', 'id'], { required: true, max: 64 }),
        row.text(['communityCode', 'community_code', 'community'], { pattern: CODE12, hint: 'must be a 12-digit community code' }) ?? ctx.community,
        row.text(['name'], { required: true, max: 200 }),
        row.oneOf(['kind'], ORGANISATION_KINDS),
        row.text(['category'], { max: 100 }) ?? '',
        row.int(['employees'], 0, 1_000_000) ?? 0,
        row.text(['address'], { max: 300 }) ?? '',
        opened,
        closed,
        row.geometry(true),
      ]);
    },
  },
  staff: {
    columns: [
      { name: 'code', type: 'text' },
      { name: 'name', type: 'text' },
      { name: 'gender', type: 'text' },
      { name: 'phone', type: 'text' },
      { name: 'role', type: 'text' },
      { name: 'unit_code', type: 'text' },
    ],
    toStaging(record) {
      const row = new Row(record);
      const gender = row.raw('gender').text === undefined ? null : row.oneOf(['gender'], ['M', 'F'], GENDER_LABELS);
      return done(row, [
        row.text(['code'], { required: true, pattern: /^[A-Z0-9]{1,32}$/, hint: 'must be 1–32 capital letters or digits' }),
        row.text(['name'], { required: true, max: 100 }),
        gender,
        row.text(['phone'], { pattern: /^[0-9+-]{5,20}$/, hint: 'must be 5–20 digits, + or -' }),
        row.oneOf(['role'], STAFF_ROLES, ROLE_LABELS),
        row.text(['unitCode', 'unit_code'], { required: true, pattern: /^[0-9]{6,15}$/, hint: 'must be a division or grid code (6–15 digits)' }),
      ]);
    },
  },
};

/** Tags: a JSON array, a PostgreSQL array literal '{低保,残疾}', or ';'/','-separated text; labels → codes. */
function parseTags(row: Row): string[] {
  const { name, value, text } = row.raw('tags');
  if (value === undefined) return [];
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (text !== undefined) items = text.replace(/^\{|\}$/g, '').split(/[;,]/).map((t) => t.trim()).filter((t) => t !== '');
  else return row.fail(name, 'must be a list of tags') ?? [];
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') {
      row.fail(name, 'must be a list of tags');
      continue;
    }
    const code = TAG_LABELS[item] ?? item;
    if (!/^[a-z][a-z0-9_]*$/.test(code)) row.fail(name, `unknown tag '${item}'`);
    else if (!out.includes(code)) out.push(code);
  }
  return out;
}
