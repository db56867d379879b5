/**
 * Records → COPY text for the staging table, with the row-level problems found in Node: the one loop
 * both the main thread (small imports, GeoJSON) and the import workers (import-parallel.ts) run, so
 * both report the same problems on the same lines.
 */
import { isParseFailure, type SourceItem } from './import-formats';
import type { EntityDefinition, RowContext, RowError, StagingValue } from './import-rows';
import { copyLine } from './import.repository';

export interface StagedChunk {
  /** COPY text lines of the good rows. */
  copy: string;
  errors: RowError[];
  /** Records read (parse failures included) and rejected. */
  rows: number;
  rejected: number;
}

/** One record: its staging values, or its problems (a parse failure is one). */
export function stageItem(item: SourceItem, def: EntityDefinition, ctx: RowContext): { values: StagingValue[] } | { errors: Array<{ field: string; reason: string }> } {
  if (isParseFailure(item)) return { errors: [{ field: '', reason: item.error }] };
  return def.toStaging(item.record, ctx);
}

/** Check and encrypt every record; `lineOffset` is added to each record's line (a chunk of a larger file). */
export async function stageChunk(items: AsyncIterable<SourceItem>, def: EntityDefinition, ctx: RowContext, lineOffset = 0): Promise<StagedChunk> {
  const out: StagedChunk = { copy: '', errors: [], rows: 0, rejected: 0 };
  for await (const item of items) {
    out.rows += 1;
    const line = item.line + lineOffset;
    const result = stageItem(item, def, ctx);
    if ('errors' in result) {
      out.rejected += 1;
      for (const e of result.errors) out.errors.push({ line, ...e });
      continue;
    }
    out.copy += copyLine(line, result.values);
  }
  return out;
}
