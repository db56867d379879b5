/**
 * Registry imports, one code path for the CLI (large files: streamed, COPY) and the API (small bodies:
 * batched INSERT): parse → check each row in Node (and encrypt residents' ID numbers and phones) →
 * stage → check in SQL → upsert on natural keys, in one transaction.
 *
 * Modes: `all-or-nothing` reads the whole input and checks every row, but writes nothing if any row
 * is bad (the report lists them all); `skip-bad-rows` writes the good rows and reports the bad ones.
 */
import type pg from 'pg';
import type { Readable } from 'node:stream';
import type { Principal } from '../../../auth/principal';
import type { Database } from '../../../db/database';
import { AppError } from '../../../http/errors';
import type { RegistryCipher } from '../registry-crypto';
import { requirePermission, shanghaiToday } from '../registry-access';
import { readRecords, type ImportFormat, type SourceItem } from './import-formats';
import {
  copyIntoStaging,
  copyLine,
  countStaged,
  createStaging,
  deferIndexesForBulkLoad,
  insertIntoStaging,
  listStagedErrors,
  runnerOfClient,
  runnerOfKysely,
  upsertStaged,
  validateStaged,
  type ImportOptions,
  type SqlRunner,
} from './import.repository';
import { checkGeometryAhead } from './import-geometry';
import { parallelStage } from './import-parallel';
import { stageItem } from './import-stage';
import { ENTITIES, type ImportEntity, type RowError, type RowContext, type StagingValue } from './import-rows';

export type ImportMode = 'all-or-nothing' | 'skip-bad-rows';

export interface ImportReport {
  entity: ImportEntity;
  format: ImportFormat;
  mode: ImportMode;
  /** Records read (parse failures included). */
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  /** False when all-or-nothing found bad rows: nothing was written. */
  committed: boolean;
  durationMs: number;
}

export interface ImportRequest {
  entity: ImportEntity;
  format: ImportFormat;
  mode: ImportMode;
  cipher: RegistryCipher;
  /** Buildings/organisations without a community column go to this one (else placed by divisions). */
  community?: string | null;
  effectiveDate?: string;
  makeValid?: boolean;
  /**
   * CLI: maintain indexes row by row even for a large import (readers are not locked out meanwhile);
   * by default a large one rebuilds them afterwards (import.repository.ts deferIndexesForBulkLoad).
   */
  keepIndexes?: boolean;
  /** The fewest new rows worth dropping and rebuilding indexes (default BULK_LOAD_MIN_ROWS; tests lower it). */
  bulkLoadMinRows?: number;
  /**
   * Parse, check and encrypt CSV/NDJSON on this many worker threads (import-parallel.ts), with the
   * registry key they rebuild the cipher from; absent or 0: on the calling thread.
   */
  workers?: { count: number; registryKey: string };
  /**
   * CLI: check footprints read on the calling thread (GeoJSON, or CSV/NDJSON without workers) on this
   * many extra connections while the file is still being read (import-geometry.ts), instead of in one
   * statement afterwards. The connections run only stateless SELECTs and are closed at the end.
   */
  geometryConnections?: { count: number; connect(): Promise<pg.Client>; /** Rows per checked batch (tests make it tiny). */ batchRows?: number };
  /** Every row-level problem, as found: Node-side checks first (streaming), then the SQL checks. */
  onError: (error: RowError) => void;
  onProgress?: (records: number) => void;
  /** Per-step durations (parse+check+COPY, then each SQL statement). */
  onTiming?: (ms: number, step: string) => void;
}

interface Staged {
  line: number;
  values: StagingValue[];
}

/** Parse and check records; yields stageable rows, reports the others. */
async function* stage(items: AsyncIterable<SourceItem>, req: ImportRequest, counter: { rows: number; rejected: number }): AsyncGenerator<Staged> {
  const def = ENTITIES[req.entity];
  const ctx: RowContext = { cipher: req.cipher, today: shanghaiToday(), community: req.community ?? null };
  for await (const item of items) {
    counter.rows += 1;
    if (counter.rows % 10_000 === 0) req.onProgress?.(counter.rows);
    const result = stageItem(item, def, ctx);
    if ('errors' in result) {
      counter.rejected += 1;
      for (const e of result.errors) req.onError({ line: item.line, ...e });
      continue;
    }
    yield { line: item.line, values: result.values };
  }
  req.onProgress?.(counter.rows);
}

async function finish(q: SqlRunner, req: ImportRequest, opts: ImportOptions, counter: { rows: number; rejected: number }, started: number): Promise<ImportReport> {
  await validateStaged(q, req.entity, opts);
  let after = 0;
  for (;;) {
    const page = await listStagedErrors(q, after, 10_000);
    for (const e of page) req.onError(e);
    const last = page[page.length - 1];
    if (!last) break;
    after = last.line;
  }
  const { rejected } = await countStaged(q);
  const totalRejected = counter.rejected + rejected;
  const base = { entity: req.entity, format: req.format, mode: req.mode, rows: counter.rows, rejected: totalRejected };
  if (req.mode === 'all-or-nothing' && totalRejected > 0) {
    return { ...base, inserted: 0, updated: 0, unchanged: 0, committed: false, durationMs: performance.now() - started };
  }
  const deferred = opts.bulkLoad === 'auto' ? await deferIndexesForBulkLoad(q, req.entity, opts.bulkLoadMinRows) : null;
  const counts = await upsertStaged(q, req.entity, opts);
  await deferred?.restore();
  return { ...base, ...counts, committed: true, durationMs: performance.now() - started };
}

function importOptions(req: ImportRequest, scopePrefixes: readonly string[] | null, actor: { name: string; id: number | null }, bulkLoad: ImportOptions['bulkLoad']): ImportOptions {
  return { scopePrefixes, effectiveDate: req.effectiveDate ?? shanghaiToday(), makeValid: req.makeValid ?? false, actor: actor.name, actorId: actor.id, bulkLoad, ...(req.bulkLoadMinRows !== undefined ? { bulkLoadMinRows: req.bulkLoadMinRows } : {}) };
}

/**
 * The CLI's path: COPY through a dedicated client, streaming. The caller owns the client (and must not
 * share it meanwhile); this runs BEGIN … COMMIT/ROLLBACK on it.
 */
export async function importStream(client: pg.ClientBase, source: Readable | AsyncIterable<Buffer | string>, req: ImportRequest): Promise<ImportReport> {
  const started = performance.now();
  const q = runnerOfClient(client, req.onTiming);
  const counter = { rows: 0, rejected: 0 };
  const def = ENTITIES[req.entity];
  // Staging lives in temp buffers (session-wide, so before the first temp table) and sorts and
  // hash joins over a million rows in memory; the client is this import's own.
  await q.query(`SET temp_buffers = '256MB'`);
  await q.query('BEGIN');
  try {
    await q.query(`SET LOCAL work_mem = '256MB'`);
    // ST_IsValid sends a NOTICE per invalid footprint (18,602 in the SF file): noise here, the report has them.
    await q.query(`SET LOCAL client_min_messages = warning`);
    // System task: households and residents FORCE Row Level Security.
    await q.query(`SELECT set_config('wangge.scope_all', 'on', true)`);
    await createStaging(q, def.columns);
    // COPY lines go out in ~256 KB chunks: one stream write per row would cost more than the row.
    const workers = req.workers && req.workers.count > 0 && req.format !== 'geojson' ? req.workers : undefined;
    const parallel = (format: 'csv' | 'ndjson', w: { count: number; registryKey: string }): AsyncGenerator<string> =>
      parallelStage(source, {
        entity: req.entity,
        format,
        workers: w.count,
        registryKey: w.registryKey,
        today: shanghaiToday(),
        community: req.community ?? null,
        onError: req.onError,
        onChunk: (rows, rejected) => {
          counter.rows = rows;
          counter.rejected = rejected;
          req.onProgress?.(rows);
        },
      });
    const lines = async function* (): AsyncGenerator<string> {
      let chunk = '';
      for await (const row of stage(readRecords(source, req.format), req, counter)) {
        chunk += copyLine(row.line, row.values);
        if (chunk.length >= 262_144) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
    };
    const copyStarted = performance.now();
    const geomIndex = def.columns.findIndex((c) => c.name === 'geom');
    const wanted = !workers && geomIndex >= 0 && req.geometryConnections && req.geometryConnections.count > 0 ? req.geometryConnections : undefined;
    const connections = wanted ? Array.from({ length: wanted.count }, () => wanted.connect()) : [];
    try {
      // No extra connection to be had (e.g. max_connections reached): the import's own statement checks.
      const runners = wanted
        ? await Promise.all(connections).then(
            (cs) => cs.map((c) => runnerOfClient(c)),
            // Those that did connect are closed now, not after the (longer) serial import.
            async () => {
              await Promise.all(connections.map((c) => c.then((conn) => conn.end()).catch(() => undefined)));
              connections.length = 0;
              return null;
            },
          )
        : null;
      if (wanted && runners) {
        // ST_IsValid sends a NOTICE per invalid footprint, as on the import's own connection.
        await Promise.all(runners.map((r) => r.query('SET client_min_messages = warning')));
        const rows = stage(readRecords(source, req.format), req, counter);
        await copyIntoStaging(client, def.columns, checkGeometryAhead(rows, { geomIndex, runners, makeValid: req.makeValid ?? false, ...(wanted.batchRows ? { batchRows: wanted.batchRows } : {}) }), true);
      } else {
        await copyIntoStaging(client, def.columns, workers && req.format !== 'geojson' ? parallel(req.format, workers) : lines());
      }
      req.onTiming?.(performance.now() - copyStarted, runners ? `parse, check, COPY into staging; geometry checked on ${runners.length} more connections` : 'parse, check, encrypt and COPY into staging');
    } finally {
      await Promise.all(connections.map((c) => c.then((conn) => conn.end()).catch(() => undefined)));
    }
    const report = await finish(q, req, importOptions(req, null, { name: 'import', id: null }, req.keepIndexes ? 'never' : 'auto'), counter, started);
    await q.query(report.committed ? 'COMMIT' : 'ROLLBACK');
    return report;
  } catch (err) {
    await q.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Permission an import of an entity needs. */
export function importPermission(entity: ImportEntity): 'registry:write' | 'staff:write' {
  return entity === 'staff' ? 'staff:write' : 'registry:write';
}

export const API_IMPORT_MAX_ROWS = 20_000;

/**
 * The API's path: the same checks and SQL in a Kysely transaction, the principal's scope enforced per
 * row (OUT_OF_SCOPE). All-or-nothing with bad rows → 422 IMPORT_FAILED carrying the report.
 */
export async function importSmall(
  db: Database,
  principal: Principal,
  body: string,
  req: Omit<ImportRequest, 'onError' | 'onProgress'>,
): Promise<ImportReport & { errors: RowError[]; errorsTruncated: boolean }> {
  requirePermission(principal, importPermission(req.entity));
  const errors: RowError[] = [];
  let errorCount = 0;
  const request: ImportRequest = {
    ...req,
    onError: (e) => {
      errorCount += 1;
      if (errors.length < 1000) errors.push(e);
    },
  };
  const started = performance.now();
  const counter = { rows: 0, rejected: 0 };
  const rows: Staged[] = [];
  for await (const row of stage(readRecords([body], req.format), request, counter)) {
    rows.push(row);
    if (counter.rows > API_IMPORT_MAX_ROWS) {
      throw new AppError('PAYLOAD_TOO_LARGE', 413, `The API imports at most ${API_IMPORT_MAX_ROWS} rows; use the CLI (npm run import) for larger files.`, { in: 'body', maxRows: API_IMPORT_MAX_ROWS });
    }
  }
  // An empty file (or a header alone) is a wrong file, not an import of nothing that bumps data versions.
  if (counter.rows === 0) throw new AppError('IMPORT_FAILED', 422, `The ${req.format} file holds no ${req.entity}: nothing was imported.`, { in: 'body', rows: 0 });
  const scope = principal.scope.all ? null : principal.scope.prefixes;
  let report: ImportReport | undefined;
  try {
    await db.transaction().execute(async (trx) => {
      const q = await runnerOfKysely(trx);
      await q.query(`SELECT set_config('wangge.scope_all', 'on', true)`);
      await createStaging(q, ENTITIES[req.entity].columns);
      await insertIntoStaging(q, ENTITIES[req.entity].columns, rows);
      report = await finish(q, request, importOptions(request, scope, { name: principal.username ?? 'api', id: principal.userId }, 'never'), counter, started);
      // Roll back an all-or-nothing import that found bad rows (nothing was written, but be explicit).
      if (!report.committed) throw new RollbackSignal();
    });
  } catch (err) {
    if (!(err instanceof RollbackSignal)) throw err;
  }
  if (!report) throw new Error('import produced no report');
  errors.sort((a, b) => a.line - b.line);
  const full = { ...report, errors, errorsTruncated: errorCount > errors.length };
  if (!report.committed) {
    throw new AppError('IMPORT_FAILED', 422, `${report.rejected} of ${report.rows} rows are invalid; nothing was imported (mode all-or-nothing).`, { in: 'body', ...full });
  }
  return full;
}

class RollbackSignal extends Error {}
