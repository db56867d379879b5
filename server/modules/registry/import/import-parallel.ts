/**
 * Parse, check and encrypt a CSV/NDJSON import on worker threads while the main thread streams COPY.
 *
 * A 1M-resident import spends ~28 s of Node CPU on parsing, checks and AES-GCM + HMAC (four native
 * crypto calls per resident), on one core. Here the main thread only decodes the file and cuts it into
 * ~1 MB chunks at record boundaries (a quote-aware scan with indexOf, the same quoting rules as
 * readCsv), counting physical lines so each chunk knows the line it starts on; the workers turn chunks
 * into COPY text plus row-level problems (import-stage.ts, the code the single-threaded path runs), and
 * the main thread passes results on strictly in file order, so the COPY stream, the error report and
 * the line numbers are exactly those of a single-threaded run. At most two chunks per worker are in
 * flight: memory stays bounded and a slow database slows the reading.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { decode, type ImportFormat } from './import-formats';
import type { ImportEntity, RowError } from './import-rows';
import type { StagedChunk } from './import-stage';

export interface WorkerSetup {
  entity: ImportEntity;
  format: Exclude<ImportFormat, 'geojson'>;
  /** CSV: the header record (with its line break) and how many physical lines it spans. */
  header: string;
  headerLines: number;
  today: string;
  community: string | null;
  registryKey: string;
}

export interface ChunkRequest {
  seq: number;
  text: string;
  startLine: number;
}

export type ChunkReply = ({ seq: number } & StagedChunk) | { seq: number; failure: string };

const CHUNK_CHARS = 1 << 20;

/** Worker threads an import uses by default: the cores, at most 4. */
export function defaultImportWorkers(): number {
  return Math.min(4, availableParallelism());
}

/**
 * The end (index after the line break) of the last complete CSV record in `text`, which starts at a
 * record boundary; with `first`, of the first record. 0 when none is complete. A quote opens a quoted
 * field only at the start of a field (readCsv's rule); `""` inside one is an escaped quote.
 */
export function csvRecordsEnd(text: string, first = false): number {
  let pos = 0;
  let last = 0;
  for (;;) {
    const q = text.indexOf('"', pos);
    const segmentEnd = q < 0 ? text.length : q;
    if (first) {
      const nl = text.indexOf('\n', pos);
      if (nl >= 0 && nl < segmentEnd) return nl + 1;
    } else {
      const nl = text.lastIndexOf('\n', segmentEnd - 1);
      if (nl >= pos) last = nl + 1;
    }
    if (q < 0) return last;
    const opens = q === 0 || text.charCodeAt(q - 1) === 44 /* , */ || text.charCodeAt(q - 1) === 10; /* \n */
    if (!opens) {
      pos = q + 1;
      continue;
    }
    let p = q + 1;
    for (;;) {
      const c = text.indexOf('"', p);
      // Unterminated here, or a closing quote at the very end (maybe the first of a doubled pair).
      if (c < 0 || c + 1 >= text.length) return last;
      if (text.charCodeAt(c + 1) === 34) {
        p = c + 2;
        continue;
      }
      pos = c + 1;
      break;
    }
  }
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n += 1;
  return n;
}

export interface ParallelStageOptions {
  entity: ImportEntity;
  format: Exclude<ImportFormat, 'geojson'>;
  workers: number;
  registryKey: string;
  today: string;
  community: string | null;
  onError: (e: RowError) => void;
  /** After each chunk: records read and rejected so far. */
  onChunk: (rows: number, rejected: number) => void;
  /** Characters per chunk (at least; a chunk ends at a record boundary); tests make it tiny. */
  chunkChars?: number;
}

/** Cut the text into chunks of whole records, each with the physical line it starts on. */
async function* chunksOf(source: AsyncIterable<string | Buffer> | Iterable<string | Buffer>, format: 'csv' | 'ndjson', chunkChars: number): AsyncGenerator<{ header: string; text: string; startLine: number }> {
  let buffer = '';
  let header: string | undefined;
  let line = 1;
  const cut = (end: number): { header: string; text: string; startLine: number } => {
    const text = buffer.slice(0, end);
    buffer = buffer.slice(end);
    const chunk = { header: header ?? '', text, startLine: line };
    line += countLines(text);
    return chunk;
  };
  for await (const text of decode(source)) {
    buffer += text;
    if (format === 'csv' && header === undefined) {
      const end = csvRecordsEnd(buffer, true);
      if (end === 0) continue;
      header = buffer.slice(0, end);
      buffer = buffer.slice(end);
      line += countLines(header);
    }
    if (buffer.length < chunkChars) continue;
    const end = format === 'csv' ? csvRecordsEnd(buffer) : buffer.lastIndexOf('\n') + 1;
    if (end > 0) yield cut(end);
  }
  if (format === 'csv' && header === undefined) {
    // A header without a line break: the whole file.
    header = buffer;
    buffer = '';
  }
  if (buffer !== '') yield cut(buffer.length);
}

/**
 * COPY text of the staged rows, in file order, produced by `opts.workers` threads. Row-level problems
 * go to onError in file order. The workers end with the stream (or its consumer's failure).
 */
export async function* parallelStage(source: AsyncIterable<string | Buffer> | Iterable<string | Buffer>, opts: ParallelStageOptions): AsyncGenerator<string> {
  const waiting = new Map<number, { resolve: (r: ChunkReply) => void; reject: (e: Error) => void }>();
  const workers: Worker[] = [];
  let failure: Error | undefined;
  const fail = (err: Error): void => {
    failure ??= err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  const start = (header: string): void => {
    const setup: WorkerSetup = {
      entity: opts.entity, format: opts.format, header, headerLines: countLines(header), today: opts.today, community: opts.community, registryKey: opts.registryKey,
    };
    // tsx (the CLI's runtime) does not reach worker threads by itself: the worker registers it, then
    // loads the worker module.
    const boot = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(new URL('./import-worker.ts', import.meta.url).href)}); })`;
    for (let i = 0; i < opts.workers; i += 1) {
      const w = new Worker(boot, { eval: true, workerData: setup });
      w.on('message', (reply: ChunkReply) => {
        const entry = waiting.get(reply.seq);
        waiting.delete(reply.seq);
        entry?.resolve(reply);
      });
      w.on('error', (err) => fail(err));
      w.on('exit', (code) => {
        if (code !== 0) fail(new Error(`an import worker exited with code ${code}`));
      });
      workers.push(w);
    }
  };
  const inFlight: Array<Promise<ChunkReply>> = [];
  let rows = 0;
  let rejected = 0;
  const take = async (): Promise<string> => {
    const reply = await inFlight.shift();
    if (!reply) return '';
    if ('failure' in reply) throw new Error(`import worker: ${reply.failure}`);
    for (const e of reply.errors) opts.onError(e);
    rows += reply.rows;
    rejected += reply.rejected;
    opts.onChunk(rows, rejected);
    return reply.copy;
  };
  let seq = 0;
  try {
    for await (const chunk of chunksOf(source, opts.format, opts.chunkChars ?? CHUNK_CHARS)) {
      if (workers.length === 0) start(chunk.header);
      if (failure) throw failure;
      const n = seq;
      seq += 1;
      const reply = new Promise<ChunkReply>((resolve, reject) => waiting.set(n, { resolve, reject }));
      // Awaited in order by take(); a failure while it waits its turn must not count as unhandled.
      reply.catch(() => undefined);
      inFlight.push(reply);
      workers[n % workers.length]?.postMessage({ seq: n, text: chunk.text, startLine: chunk.startLine } satisfies ChunkRequest);
      while (inFlight.length >= 2 * workers.length) {
        const copy = await take();
        if (copy) yield copy;
      }
    }
    while (inFlight.length > 0) {
      const copy = await take();
      if (copy) yield copy;
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
