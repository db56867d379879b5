/**
 * Footprints checked (and with --make-valid repaired) on extra database connections while the main
 * thread is still reading the file, instead of by one UPDATE over the staging table afterwards.
 *
 * Checking is PostgreSQL's CPU (GEOS: ST_IsValid on every footprint, ST_MakeValid on the invalid ones),
 * and one statement runs on one core while Node waits; parsing is Node's CPU while PostgreSQL waits.
 * Here staged rows go in batches to N connections of their own (stateless SELECTs over a bytea[]
 * parameter: they read no table, hold no lock, leave nothing behind), and each batch's COPY lines carry
 * the checked geometry (or the reason it was rejected) into staging — written once, never rewritten.
 * Results are passed on strictly in file order, and the SQL is the one rule checkGeometry runs
 * (import.repository.ts), so staging ends up as the serial path leaves it. At most two batches per
 * connection are in flight: memory stays bounded and a slow database slows the reading.
 */
import type { StagingValue } from './import-rows';
import { checkedCopyLine, checkGeometriesAhead, type SqlRunner } from './import.repository';

/** Rows per batch: ~40 batches for the 85k SF footprints, so the last one finishing adds little. */
const BATCH_ROWS = 2000;
/** COPY text is passed on in chunks of about this many characters. */
const CHUNK_CHARS = 262_144;

export interface GeometryAheadOptions {
  /** Index of the WKB geometry among a row's staging values. */
  geomIndex: number;
  /** One runner per connection; each runs its batches one after another. */
  runners: readonly SqlRunner[];
  makeValid: boolean;
  /** Rows per batch (tests make it tiny). */
  batchRows?: number;
}

/** COPY text (with the checked-geometry columns) of the staged rows, in order. */
export async function* checkGeometryAhead(rows: AsyncIterable<{ line: number; values: StagingValue[] }>, opts: GeometryAheadOptions): AsyncGenerator<string> {
  const batchRows = opts.batchRows ?? BATCH_ROWS;
  const inFlight: Array<Promise<string[]>> = [];
  let batch: Array<{ line: number; values: StagingValue[] }> = [];
  let sent = 0;
  // Each connection runs its batches one after another (a pg client must not be handed a query while
  // it runs one): a batch starts when the previous one on its connection has finished.
  const tails: Array<Promise<unknown>> = opts.runners.map(() => Promise.resolve());
  const submit = (): void => {
    const rowsOfBatch = batch;
    batch = [];
    const r = sent % opts.runners.length;
    const runner = opts.runners[r];
    sent += 1;
    if (!runner) throw new Error('checkGeometryAhead needs at least one connection');
    const wkbs = rowsOfBatch.map((row) => {
      const v = row.values[opts.geomIndex];
      return Buffer.isBuffer(v) ? v : null;
    });
    const checked = (tails[r] ?? Promise.resolve()).then(() => checkGeometriesAhead(runner, wkbs, opts.makeValid));
    tails[r] = checked.catch(() => undefined);
    const done = checked.then((found) => {
      const byPosition = new Map(found.map((f) => [f.i, f]));
      const chunks: string[] = [];
      let chunk = '';
      rowsOfBatch.forEach((r, k) => {
        chunk += checkedCopyLine(r.line, r.values, opts.geomIndex, byPosition.get(k + 1));
        if (chunk.length >= CHUNK_CHARS) {
          chunks.push(chunk);
          chunk = '';
        }
      });
      if (chunk) chunks.push(chunk);
      return chunks;
    });
    // Awaited in order below; a failure while it waits its turn must not count as unhandled.
    done.catch(() => undefined);
    inFlight.push(done);
  };
  for await (const row of rows) {
    batch.push(row);
    if (batch.length < batchRows) continue;
    submit();
    while (inFlight.length >= 2 * opts.runners.length) yield* (await inFlight.shift()) ?? [];
  }
  if (batch.length > 0) submit();
  while (inFlight.length > 0) yield* (await inFlight.shift()) ?? [];
}
