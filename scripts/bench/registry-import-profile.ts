/**
 * Where a large residents import spends its time (issue #5), for iterating on the import path: sets up
 * (once) a persistent database `wangge_regprof` with the large demo city's divisions, grids, buildings and
 * households and writes its residents CSV to $REGPROF_DIR (default /tmp/wangge-regprof), then prints the
 * DATABASE_URL to run `scripts/import-registry.ts residents …` against. `REGPROF_RESET=1` empties the
 * residents between runs. Not a benchmark with a target; registry.bench.ts is the benchmark.
 *
 *   flock /tmp/wangge-bench.lock npx tsx scripts/bench/registry-import-profile.ts
 */
import { existsSync, mkdirSync } from 'node:fs';
import pg from 'pg';
import path from 'node:path';
import { loadConfig, TEST_REGISTRY_KEY } from '../../server/config';
import { resolveDatabaseTarget } from '../../server/db/connect';
import { openDatabase } from '../../server/db/database';
import { ensureExtensions, migrateToLatest } from '../../server/db/migrate';
import { insertDivisions, insertGridsBulk, insertPublishedLayouts } from '../../server/modules/demo/demo.repository';
import { importStream } from '../../server/modules/registry/import/import.service';
import { createRegistryCipher } from '../../server/modules/registry/registry-crypto';
import { createReadStream } from 'node:fs';
import { runCli } from '../cli';
import { generateDemoCity } from '../generate/demo-city';
import { writeFeatureCollection, writeTable } from '../generate/write';

const DB = 'wangge_regprof';
const dir = process.env.REGPROF_DIR ?? '/tmp/wangge-regprof';

runCli(async () => {
  const target = await resolveDatabaseTarget(loadConfig());
  const adminUrl = new URL(target.url);
  adminUrl.pathname = '/postgres';
  const url = new URL(target.url);
  url.pathname = `/${DB}`;
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB])).rowCount === 1;
  await admin.end();
  if (exists && existsSync(path.join(dir, 'residents.csv'))) {
    if (process.env.REGPROF_RESET === '1') {
      const c = new pg.Client({ connectionString: url.toString() });
      await c.connect();
      await c.query('TRUNCATE resident_history, residents');
      await c.query('VACUUM ANALYZE residents');
      await c.end();
    }
    console.log(`DATABASE_URL=${url.toString()} REGISTRY_KEY=${TEST_REGISTRY_KEY}`);
    return;
  }
  if (!exists) {
    const a = new pg.Client({ connectionString: adminUrl.toString() });
    await a.connect();
    await a.query(`CREATE DATABASE ${DB}`);
    await a.end();
  }
  mkdirSync(dir, { recursive: true });
  const handle = openDatabase(url.toString(), { max: 4 });
  try {
    await ensureExtensions(url.toString());
    await migrateToLatest(handle.db);
    const city = generateDemoCity({ size: 'large' });
    await insertDivisions(handle.db, city.divisions.map((d) => ({ code: d.code, level: d.level, name: d.name, parentCode: d.parentCode, boundary: d.boundary })));
    const layoutOf = await insertPublishedLayouts(handle.db, city.divisions.filter((d) => d.level === 'community').map((d) => d.code), '2025-01-01T00:00:00Z');
    await insertGridsBulk(handle.db, city.grids.map((g) => ({ layoutId: layoutOf.get(g.communityCode) ?? 0, code: g.code, name: g.name, kind: g.kind === '专属' ? 'dedicated' : 'general', geom: g.geom })));
    const files = { buildings: path.join(dir, 'buildings.geojson'), households: path.join(dir, 'households.csv'), residents: path.join(dir, 'residents.csv') };
    await writeFeatureCollection(files.buildings, city.buildings, ({ footprint, units: _units, ...p }) => ({ id: `${p.communityCode}-${p.code}`, geometry: footprint, properties: p }));
    await writeTable(files.households, city.households, 'csv', ['key', 'buildingCode', 'communityCode', 'gridCode', 'unit', 'room', 'tenure']);
    await writeTable(files.residents, city.residents, 'csv', ['key', 'householdKey', 'name', 'gender', 'birthDate', 'idNumber', 'phone', 'relation', 'registration', 'tags']);
    const cipher = createRegistryCipher(TEST_REGISTRY_KEY);
    for (const entity of ['buildings', 'households'] as const) {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      const r = await importStream(client, createReadStream(files[entity]), { entity, format: entity === 'buildings' ? 'geojson' : 'csv', mode: 'all-or-nothing', cipher, onError: (e) => console.error(e) });
      console.log(entity, JSON.stringify(r));
      await client.end();
    }
    await handle.pool.query('ANALYZE');
  } finally {
    await handle.close();
  }
  console.log(`DATABASE_URL=${url.toString()} REGISTRY_KEY=${TEST_REGISTRY_KEY}`);
});
