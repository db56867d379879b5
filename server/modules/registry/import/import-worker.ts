/**
 * An import worker thread (import-parallel.ts): parses, checks and encrypts chunks of a CSV/NDJSON file
 * — whole records, with the physical line each starts on — and answers with their COPY text and
 * row-level problems. The registry key comes in workerData (same process, never written anywhere).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readRecords } from './import-formats';
import { ENTITIES } from './import-rows';
import { stageChunk } from './import-stage';
import { createRegistryCipher } from '../registry-crypto';
import type { ChunkReply, ChunkRequest, WorkerSetup } from './import-parallel';

const setup = workerData as WorkerSetup;
const def = ENTITIES[setup.entity];
const ctx = { cipher: createRegistryCipher(setup.registryKey), today: setup.today, community: setup.community };

parentPort?.on('message', (m: ChunkRequest) => {
  // CSV chunks are parsed behind the header; a record the parser places on line L of that text starts
  // on physical line startLine + L - (header lines + 1) of the file.
  const text = setup.format === 'csv' ? setup.header + m.text : m.text;
  const offset = setup.format === 'csv' ? m.startLine - setup.headerLines - 1 : m.startLine - 1;
  stageChunk(readRecords([text], setup.format), def, ctx, offset).then(
    (staged) => parentPort?.postMessage({ seq: m.seq, ...staged } satisfies ChunkReply),
    (err: unknown) => parentPort?.postMessage({ seq: m.seq, failure: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies ChunkReply),
  );
});
