/**
 * Write the synthetic demo city to disk.
 *
 *   tsx scripts/generate.ts --size small|medium|large|xlarge [--seed N] [--out data/demo/<size>] [--format ndjson|csv]
 *
 * GeoJSON FeatureCollections for divisions, roads, grids, buildings and organisations; NDJSON (or
 * CSV) for households, residents, staff, assignments and roster; manifest.json with the counts.
 * Everything streams, so the large city (~1M residents) runs in bounded memory.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SEED, type DemoCitySize, generateDemoCity } from './generate/demo-city';
import { type TableFormat, writeFeatureCollection, writeTable } from './generate/write';

const SIZES: readonly DemoCitySize[] = ['small', 'medium', 'large', 'xlarge'];

function usage(message: string): never {
  console.error(`${message}\nusage: tsx scripts/generate.ts --size small|medium|large|xlarge [--seed N] [--out DIR] [--format ndjson|csv]`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { size: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, format: { type: 'string', default: 'ndjson' } },
  });
  const size = SIZES.find((s) => s === values.size) ?? usage(`--size must be one of ${SIZES.join(', ')}`);
  const seed = values.seed === undefined ? DEFAULT_SEED : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) usage('--seed must be an integer in 0..4294967295');
  const format: TableFormat = values.format === 'csv' ? 'csv' : values.format === 'ndjson' ? 'ndjson' : usage('--format must be ndjson or csv');
  const outDir = values.out ?? join('data', 'demo', size);
  await mkdir(outDir, { recursive: true });

  const started = performance.now();
  const city = generateDemoCity({ size, seed });
  const counts: Record<string, number> = {};
  const timings: Record<string, number> = {};
  const step = async (name: string, run: () => Promise<number>) => {
    const t0 = performance.now();
    counts[name] = await run();
    timings[name] = performance.now() - t0;
    console.log(`${name.padEnd(14)} ${String(counts[name]).padStart(9)}  ${((timings[name] ?? 0) / 1000).toFixed(1)} s`);
  };
  const ext = format === 'csv' ? 'csv' : 'ndjson';

  await step('divisions', () =>
    writeFeatureCollection(join(outDir, 'divisions.geojson'), city.divisions, ({ boundary, ...properties }) => ({ id: properties.code, geometry: boundary, properties })),
  );
  await step('roads', () => writeFeatureCollection(join(outDir, 'roads.geojson'), city.roads, ({ geom, ...properties }) => ({ id: properties.code, geometry: geom, properties })));
  await step('grids', () => writeFeatureCollection(join(outDir, 'grids.geojson'), city.grids, ({ geom, ...properties }) => ({ id: properties.code, geometry: geom, properties })));
  await step('buildings', () =>
    writeFeatureCollection(join(outDir, 'buildings.geojson'), city.buildings, ({ footprint, ...properties }) => ({
      id: `${properties.communityCode}-${properties.code}`,
      geometry: footprint,
      properties,
    })),
  );
  await step('organisations', () =>
    writeFeatureCollection(join(outDir, 'organisations.geojson'), city.organisations, ({ geom, ...properties }) => ({ id: properties.code, geometry: geom, properties })),
  );
  await step('households', () =>
    writeTable(join(outDir, `households.${ext}`), city.households, format, ['key', 'buildingCode', 'communityCode', 'gridCode', 'unit', 'room', 'tenure']),
  );
  await step('residents', () =>
    writeTable(join(outDir, `residents.${ext}`), city.residents, format, ['key', 'householdKey', 'name', 'gender', 'birthDate', 'idNumber', 'phone', 'relation', 'registration', 'tags']),
  );
  await step('staff', () => writeTable(join(outDir, `staff.${ext}`), city.staff, format, ['code', 'name', 'gender', 'phone', 'role', 'unitCode']));
  await step('assignments', () => writeTable(join(outDir, `assignments.${ext}`), city.assignments, format, ['staffCode', 'gridCode', 'role', 'fromDate']));
  await step('roster', () => writeTable(join(outDir, `roster.${ext}`), city.roster, format, ['staffCode', 'scopeCode', 'weekday', 'start', 'end']));

  // No timestamps in the manifest: the output directory must be byte-identical for the same seed.
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify({ size, seed, referenceDate: city.referenceDate, format, counts }, null, 2)}\n`);
  const memoryMb = process.memoryUsage().rss / 2 ** 20;
  console.log(`${size} city (seed ${seed}) → ${outDir} in ${((performance.now() - started) / 1000).toFixed(1)} s, peak-ish RSS ${memoryMb.toFixed(0)} MB`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
