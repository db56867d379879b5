// GAL neighbour files (GeoDa / PySAL / spdep `read.gal`): a header line, then per unit a line
// `id k` and a line with its k neighbour ids. Headers come as `n` or, from newer GeoDa, as
// `0 n layer idField` (four tokens, the count second).

import { neighboursFromLists, type Neighbours } from './weights';

export interface GalNeighbours {
  /** Unit ids in index order: `ids[i]` is the id of unit i. */
  readonly ids: readonly string[];
  readonly neighbours: Neighbours;
}

/**
 * Parses a GAL file into neighbour lists.
 *
 * Ids are matched as strings. Without `order`, units are indexed in the order their `id k`
 * records appear; with `order` (e.g. the ids of the features the data come from), unit i is
 * `order[i]`, and every GAL id must be in it. Records are read as a token stream after the
 * header, so an empty neighbour line for k = 0 may be present or absent.
 *
 * @throws {Error} on a malformed header, a count mismatch or an unknown / duplicate id.
 * @example parseGal(text, features.map((f) => String(f.properties.POLYID)))
 */
export function parseGal(text: string, order?: readonly string[]): GalNeighbours {
  const lines = text.split(/\r?\n/);
  const headerIndex = lines.findIndex((l) => l.trim() !== '');
  if (headerIndex < 0) throw new Error('GAL: empty file');
  const header = lines[headerIndex]!.trim().split(/\s+/);
  const countToken = header.length >= 4 ? header[1] : header[0];
  const n = Number(countToken);
  if (header.length === 2 || header.length === 3 || !Number.isInteger(n) || n < 0) {
    throw new Error(`GAL: unrecognised header "${lines[headerIndex]!.trim()}"`);
  }
  const tokens = lines
    .slice(headerIndex + 1)
    .join(' ')
    .split(/\s+/)
    .filter((t) => t !== '');

  const records: { id: string; neighbourIds: string[] }[] = [];
  let pos = 0;
  while (pos < tokens.length) {
    const id = tokens[pos++]!;
    const k = Number(tokens[pos++]);
    if (!Number.isInteger(k) || k < 0) throw new Error(`GAL: bad neighbour count for id ${id}`);
    if (pos + k > tokens.length) throw new Error(`GAL: id ${id} lists fewer than ${k} neighbours`);
    records.push({ id, neighbourIds: tokens.slice(pos, pos + k) });
    pos += k;
  }
  if (records.length !== n) throw new Error(`GAL: header says ${n} units, found ${records.length}`);

  const ids = order ?? records.map((r) => r.id);
  if (ids.length !== n) throw new Error(`GAL: ${n} units but ${ids.length} ids in the given order`);
  const indexOf = new Map<string, number>();
  ids.forEach((id, i) => {
    if (indexOf.has(id)) throw new Error(`GAL: duplicate id ${id}`);
    indexOf.set(id, i);
  });
  const resolve = (id: string): number => {
    const i = indexOf.get(id);
    if (i === undefined) throw new Error(`GAL: unknown id ${id}`);
    return i;
  };
  const lists: number[][] = ids.map(() => []);
  const seen = new Set<string>();
  for (const { id, neighbourIds } of records) {
    if (seen.has(id)) throw new Error(`GAL: id ${id} has two records`);
    seen.add(id);
    lists[resolve(id)] = neighbourIds.map(resolve);
  }
  return { ids, neighbours: neighboursFromLists(lists) };
}
