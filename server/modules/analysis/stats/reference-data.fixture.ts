// Test-only access to the published reference data sets in ../shared/data/reference (outside
// the repository). A clone without that folder skips the reference suites with a message.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Feature, FeatureCollection, Geometry, GeoJsonProperties } from 'geojson';
import { describe, expect } from 'vitest';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const referenceDir = path.resolve(projectRoot, '../shared/data/reference');
const hasReference = existsSync(referenceDir);

/** `describe` when the reference data are present, otherwise `describe.skip` with the reason in the title. */
export function describeWithReference(name: string, body: () => void): void {
  if (hasReference) describe(name, body);
  // The body reads the data while collecting its tests, so without the data it must not run at all.
  else {
    console.warn(`skipping "${name}": reference data not found at ${referenceDir}`);
    describe.skip(`${name} — skipped: reference data not found at ${referenceDir}`, () => undefined);
  }
}

export function readReference(name: string): string {
  return readFileSync(path.join(referenceDir, name), 'utf8');
}

export function readReferenceGeoJson<G extends Geometry>(name: string): Feature<G, NonNullable<GeoJsonProperties>>[] {
  return (JSON.parse(readReference(name)) as FeatureCollection<G, NonNullable<GeoJsonProperties>>).features;
}

/** Minimal RFC 4180 reader (quoted fields, no embedded newlines): rows keyed by header. */
export function readReferenceCsv(name: string): Record<string, string>[] {
  const [header, ...rows] = readReference(name)
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map(splitCsvLine);
  if (!header) return [];
  return rows.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
}

function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

/** Numeric property of a feature; throws if absent so a renamed column fails loudly. */
export function numberProp(feature: Feature<Geometry, NonNullable<GeoJsonProperties>>, key: string): number {
  const v: unknown = feature.properties[key];
  if (typeof v !== 'number') throw new Error(`property ${key} is not a number`);
  return v;
}

/**
 * Asserts |actual − expected| ≤ half a unit in the last of `digits` significant digits of
 * `expected`, i.e. agreement with a value printed to that many significant figures.
 */
export function expectSignificant(actual: number | null | undefined, expected: number, digits: number, label = ''): void {
  expect(actual, `${label} is null`).not.toBeNull();
  const tolerance = 0.5 * 10 ** (Math.floor(Math.log10(Math.abs(expected))) - digits + 1);
  expect(Math.abs((actual ?? Number.NaN) - expected), `${label}: ${actual} vs ${expected} (${digits} s.f.)`).toBeLessThanOrEqual(tolerance * (1 + 1e-9));
}
