/**
 * Bulk registry import (issue #5):
 *
 *   npm run import -- <buildings|households|residents|organisations|staff> <file>
 *       [--mode all-or-nothing|skip-bad-rows]   default all-or-nothing
 *       [--format csv|geojson|ndjson]           default from the file name (.csv, .geojson/.json, .ndjson/.jsonl, each maybe .gz)
 *       [--community <12-digit code>]           buildings/organisations without a community column go there;
 *                                               without it they are placed by the community boundaries, and
 *                                               outside every community (e.g. San Francisco) have none
 *       [--make-valid]                          repair invalid footprints (ST_MakeValid) instead of rejecting them
 *       [--keep-indexes]                        a large import (≥ 50k new rows, ≥ ¼ of the table) normally drops
 *                                               the tables' non-unique indexes and foreign keys and rebuilds them
 *                                               before commit, locking readers out meanwhile; this keeps them
 *       [--workers N]                           CSV/NDJSON: parse, check and encrypt on N worker threads while
 *                                               the main thread streams COPY (default: the cores, at most 4; 0: none);
 *                                               GeoJSON footprints: validated (and repaired) on N more database
 *                                               connections while the main thread reads the file
 *       [--effective-date YYYY-MM-DD]           when the imported state takes effect (history), default today
 *       [--timings]                             print each step's duration (stderr)
 *       [--report <file>]                       row-level error report (CSV: line,field,reason), default <file>.errors.csv
 *
 * Streams the file (never whole in memory), checks rows and encrypts residents' ID numbers and phones in
 * Node, COPYs them into a staging table, checks references in SQL and upserts on natural keys, in one
 * transaction. Progress and the summary go to stderr; the summary as JSON to stdout.
 * Exit 0 when committed without bad rows, 1 when bad rows were found (all-or-nothing: nothing written), 2 usage.
 */
import { createReadStream, createWriteStream, rmSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import pg from 'pg';
import { loadConfig } from '../server/config';
import { resolveDatabaseTarget } from '../server/db/connect';
import { openDatabase } from '../server/db/database';
import { formatFromName, type ImportFormat } from '../server/modules/registry/import/import-formats';
import { IMPORT_ENTITIES, type RowError } from '../server/modules/registry/import/import-rows';
import { importStream, type ImportMode } from '../server/modules/registry/import/import.service';
import { defaultImportWorkers } from '../server/modules/registry/import/import-parallel';
import { registryCipherFromConfig, registryKeyFromConfig } from '../server/modules/registry/registry-crypto';
import { checkRegistryKey } from '../server/modules/registry/registry-key.service';
import { runCli } from './cli';

const USAGE = `usage: npm run import -- <${IMPORT_ENTITIES.join('|')}> <file> [--mode all-or-nothing|skip-bad-rows] [--format csv|geojson|ndjson]
       [--community CODE] [--make-valid] [--keep-indexes] [--workers N] [--effective-date YYYY-MM-DD] [--report FILE]`;

function usage(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

const csvField = (s: string | number): string => {
  const t = String(s);
  return /[",\n\r]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
};

async function connectTo(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'wangge-import', connectionTimeoutMillis: 15_000 });
  // A connection lost while idle (a terminated backend) is emitted as 'error': without a listener that
  // would crash the CLI past its ROLLBACK. Its next query fails instead, and the import rolls back.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

runCli(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      mode: { type: 'string', default: 'all-or-nothing' },
      format: { type: 'string' },
      community: { type: 'string' },
      'make-valid': { type: 'boolean', default: false },
      'keep-indexes': { type: 'boolean', default: false },
      workers: { type: 'string' },
      'effective-date': { type: 'string' },
      report: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      timings: { type: 'boolean', default: false },
    },
  });
  const [entityArg, file] = positionals;
  const entity = IMPORT_ENTITIES.find((e) => e === entityArg) ?? usage(`entity must be one of ${IMPORT_ENTITIES.join(', ')}`);
  if (!file) usage('which file?');
  const mode: ImportMode = values.mode === 'skip-bad-rows' ? 'skip-bad-rows' : values.mode === 'all-or-nothing' ? 'all-or-nothing' : usage('--mode must be all-or-nothing or skip-bad-rows');
  const format: ImportFormat =
    values.format === undefined ? (formatFromName(file) ?? usage('cannot tell the format from the file name: give --format')) : (['csv', 'geojson', 'ndjson'] as const).find((f) => f === values.format) ?? usage('--format must be csv, geojson or ndjson');
  if (values.community !== undefined && !/^[0-9]{12}$/.test(values.community)) usage('--community must be a 12-digit community code');
  if (values['effective-date'] !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values['effective-date'])) usage('--effective-date must be YYYY-MM-DD');
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    usage(`cannot read ${file}`);
  }
  const workers = values.workers === undefined ? defaultImportWorkers() : /^\d{1,2}$/.test(values.workers) ? Number(values.workers) : usage('--workers must be a number (0: no worker threads)');
  const reportFile = values.report ?? `${file.replace(/\.gz$/, '')}.errors.csv`;

  const config = loadConfig();
  const target = await resolveDatabaseTarget(config);
  // Nothing is imported with a key that is not the database's (registry-key.service.ts).
  const checked = openDatabase(target.url, { max: 1 });
  try {
    await checkRegistryKey(checked.db, registryCipherFromConfig(config));
  } finally {
    await checked.close();
  }
  const client = await connectTo(target.url);

  const report = createWriteStream(reportFile, { encoding: 'utf8' });
  report.write('line,field,reason\n');
  let errorCount = 0;
  const firstErrors: RowError[] = [];
  const onError = (e: RowError): void => {
    errorCount += 1;
    if (firstErrors.length < 10) firstErrors.push(e);
    report.write(`${e.line},${csvField(e.field)},${csvField(e.reason)}\n`);
  };

  // Progress: bytes read of the (compressed) file, records, rate; one stderr line, redrawn.
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const source = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const started = performance.now();
  const tty = process.stderr.isTTY;
  let lastDraw = 0;
  const onProgress = (records: number): void => {
    if (values.quiet) return;
    const now = performance.now();
    if (now - lastDraw < (tty ? 200 : 2000)) return;
    lastDraw = now;
    const pct = size > 0 ? Math.min(100, (100 * raw.bytesRead) / size) : 100;
    const bar = '#'.repeat(Math.round(pct / 4)).padEnd(25, '.');
    const rate = records / Math.max(0.001, (now - started) / 1000);
    process.stderr.write(`${tty ? '\r' : ''}[${bar}] ${pct.toFixed(0).padStart(3)}%  ${records} rows  ${Math.round(rate)} rows/s  ${errorCount} bad${tty ? '' : '\n'}`);
  };

  try {
    const result = await importStream(client, source, {
      entity: entity,
      format,
      mode,
      cipher: registryCipherFromConfig(config),
      community: values.community ?? null,
      ...(values['effective-date'] ? { effectiveDate: values['effective-date'] } : {}),
      makeValid: values['make-valid'],
      keepIndexes: values['keep-indexes'],
      workers: { count: workers, registryKey: registryKeyFromConfig(config) },
      geometryConnections: { count: workers, connect: () => connectTo(target.url) },
      onError,
      onProgress,
      ...(values.timings ? { onTiming: (ms: number, step: string) => console.error(`${ms.toFixed(0).padStart(7)} ms  ${step.replace(/\s+/g, ' ').trim().slice(0, 120)}`) } : {}),
    });
    await new Promise<void>((resolve) => report.end(resolve));
    if (errorCount === 0) rmSync(reportFile, { force: true });
    if (tty && !values.quiet) process.stderr.write('\n');
    const verdict = result.committed
      ? `committed: ${result.inserted} inserted, ${result.updated} updated, ${result.unchanged} unchanged${result.rejected ? `, ${result.rejected} bad rows skipped` : ''}`
      : `NOT imported (all-or-nothing): ${result.rejected} bad rows`;
    console.error(`${entity} from ${file}: ${result.rows} rows in ${(result.durationMs / 1000).toFixed(1)} s — ${verdict}`);
    if (errorCount > 0) {
      for (const e of firstErrors) console.error(`  line ${e.line}${e.field ? ` ${e.field}` : ''}: ${e.reason}`);
      if (errorCount > firstErrors.length) console.error(`  … ${errorCount - firstErrors.length} more`);
      console.error(`error report: ${reportFile}`);
    }
    console.log(JSON.stringify({ ...result, errors: errorCount, report: errorCount > 0 ? reportFile : null }));
    process.exitCode = result.rejected > 0 ? 1 : 0;
  } finally {
    report.end();
    await client.end();
    if (target.local?.startedHere) await target.local.stop();
  }
});
