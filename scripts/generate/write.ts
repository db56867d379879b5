/**
 * Streaming writers for the CLI: GeoJSON FeatureCollections and NDJSON / CSV tables, written in
 * ~1 MB chunks with back-pressure so the large city (~1M residents) never sits in memory as text.
 * Output bytes depend only on the records, so the same seed gives byte-identical files.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Geometry } from 'geojson';

const CHUNK_CHARS = 1 << 20;

export class ChunkedWriter {
  private buffer = '';
  private readonly stream: WriteStream;

  constructor(path: string) {
    this.stream = createWriteStream(path, { encoding: 'utf8' });
  }

  async write(text: string): Promise<void> {
    this.buffer += text;
    if (this.buffer.length >= CHUNK_CHARS) await this.flush();
  }

  private async flush(): Promise<void> {
    const chunk = this.buffer;
    this.buffer = '';
    if (chunk && !this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

/** Write a FeatureCollection; `toFeature` splits a record into id, geometry and properties. Returns the count. */
export async function writeFeatureCollection<T>(
  path: string,
  records: Iterable<T>,
  toFeature: (record: T) => { id: string; geometry: Geometry; properties: Record<string, unknown> },
): Promise<number> {
  const out = new ChunkedWriter(path);
  await out.write('{"type":"FeatureCollection","features":[\n');
  let count = 0;
  for (const record of records) {
    const { id, geometry, properties } = toFeature(record);
    await out.write(`${count > 0 ? ',\n' : ''}${JSON.stringify({ type: 'Feature', id, properties, geometry })}`);
    count++;
  }
  await out.write('\n]}\n');
  await out.close();
  return count;
}

export type TableFormat = 'ndjson' | 'csv';

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  // Arrays become PostgreSQL array literals so `COPY … CSV` can load tag columns directly.
  const text = Array.isArray(value)
    ? `{${value.map((item) => String(item)).join(',')}}`
    : typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : JSON.stringify(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Write records as NDJSON, or CSV with a header taken from `columns`. Returns the count. */
export async function writeTable<T extends object>(path: string, records: Iterable<T>, format: TableFormat, columns: readonly (keyof T & string)[]): Promise<number> {
  const out = new ChunkedWriter(path);
  if (format === 'csv') await out.write(`${columns.join(',')}\n`);
  let count = 0;
  for (const record of records) {
    await out.write(format === 'csv' ? `${columns.map((c) => csvField(record[c])).join(',')}\n` : `${JSON.stringify(record)}\n`);
    count++;
  }
  await out.close();
  return count;
}
