/**
 * The field list of a layer: explicit fields first, then every other property key in first-seen order,
 * each typed by the values it holds. Columnar formats need one type per column, so a column holding
 * more than one kind of value is written as text (objects and arrays as JSON text); integers that
 * fit a double exactly are `integer`, other numbers `real`, objects and arrays `json`.
 */
import type { ExchangeFeature, FieldSpec, FieldType } from './exchange-types';

function kindOf(value: unknown): FieldType | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'integer' : 'real';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'object') return 'json';
  return 'text';
}

function merge(a: FieldType | null, b: FieldType | null): FieldType | null {
  if (a === null) return b;
  if (b === null || a === b) return a;
  if ((a === 'integer' && b === 'real') || (a === 'real' && b === 'integer')) return 'real';
  return 'text';
}

export function inferFields(features: readonly ExchangeFeature[], explicit: readonly FieldSpec[] = []): FieldSpec[] {
  const types = new Map<string, FieldType | null>();
  for (const f of explicit) types.set(f.name, f.type);
  const fixed = new Set(explicit.map((f) => f.name));
  for (const feature of features) {
    for (const [key, value] of Object.entries(feature.properties)) {
      if (fixed.has(key)) continue;
      types.set(key, merge(types.has(key) ? (types.get(key) ?? null) : null, kindOf(value)));
    }
  }
  // A column that is empty everywhere is still written (as text) so its name survives.
  return [...types.entries()].map(([name, type]) => ({ name, type: type ?? 'text' }));
}

/** A value as its column's type wants it; null when empty. Text columns stringify other values. */
export function encodeValue(value: unknown, type: FieldType): string | number | boolean | object | null {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'integer':
    case 'real':
      return typeof value === 'number' ? value : Number(value);
    case 'boolean':
      return typeof value === 'boolean' ? value : value === 'true';
    case 'json':
      return typeof value === 'object' ? value : JSON.stringify(value);
    case 'text':
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

/**
 * Column names unique without regard to case (SQLite and most GIS tools fold case) and distinct from
 * the format's own columns (`reserved`); a clash gets `_2`, `_3`… Returns property key → column name.
 */
export function columnNames(fields: readonly FieldSpec[], reserved: readonly string[]): Map<string, string> {
  const taken = new Set(reserved.map((r) => r.toLowerCase()));
  const out = new Map<string, string>();
  for (const f of fields) {
    let name = f.name === '' ? 'field' : f.name;
    for (let i = 2; taken.has(name.toLowerCase()); i += 1) name = `${f.name || 'field'}_${i}`;
    taken.add(name.toLowerCase());
    out.set(f.name, name);
  }
  return out;
}

/** Whether text is a number as JavaScript would write it (so "007" or "1e3" stay text). */
export function isCanonicalNumber(text: string): boolean {
  if (!/^-?[0-9]/.test(text)) return false;
  const n = Number(text);
  return Number.isFinite(n) && String(n) === text;
}
