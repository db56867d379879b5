import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../test/seeded-random';
import { readRecords, type ImportFormat, type SourceItem } from './import-formats';

async function all(text: string, format: ImportFormat, chunk = 1): Promise<SourceItem[]> {
  // Split into tiny chunks so every boundary case (a quote, CRLF, a brace at a chunk edge) happens.
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += chunk) parts.push(text.slice(i, i + chunk));
  const out: SourceItem[] = [];
  for await (const item of readRecords(parts, format)) out.push(item);
  return out;
}

describe('CSV', () => {
  const csv = '\ufeffname,address,tags\r\n张三,"建设路1号, 3单元","{低保,残疾}"\r\n"李""四",plain,\r\n"多\n行",x,y\nbad,row\n';
  it.each([1, 2, 3, 7, 1000])('parses quotes, doubled quotes, CRLF, BOM and line breaks in fields (chunk %i)', async (chunk) => {
    expect(await all(csv, 'csv', chunk)).toEqual([
      { line: 2, record: { name: '张三', address: '建设路1号, 3单元', tags: '{低保,残疾}' } },
      { line: 3, record: { name: '李"四', address: 'plain', tags: '' } },
      { line: 4, record: { name: '多\n行', address: 'x', tags: 'y' } },
      { line: 6, error: 'expected 3 fields, found 2' },
    ]);
  });
});

describe('CSV header', () => {
  it.each([1, 4, 1000])('refuses a header naming a column twice instead of letting the later cell win (chunk %i)', async (chunk) => {
    expect(await all('name,idNumber,name\r\n张三,x,李四\r\n王五,y,赵六\r\n', 'csv', chunk)).toEqual([{ line: 1, error: 'the header names the column "name" twice' }]);
  });
});

describe('NDJSON', () => {
  it('reads objects by line and reports broken ones', async () => {
    expect(await all('{"a":1}\n\n[1]\n{"b":\n{"c":"x"}', 'ndjson', 3)).toEqual([
      { line: 1, record: { a: 1 } },
      { line: 3, error: 'not a JSON object' },
      { line: 4, error: expect.stringContaining('malformed JSON') as string },
      { line: 5, record: { c: 'x' } },
    ]);
  });
});

describe('GeoJSON', () => {
  it('streams features with braces and escaped quotes in strings, by position', async () => {
    const fc = JSON.stringify({
      type: 'FeatureCollection',
      name: 'x { not a feature }',
      features: [
        { type: 'Feature', id: 'f1', properties: { name: 'a "}" b' }, geometry: { type: 'Point', coordinates: [1, 2] } },
        { type: 'Feature', properties: { id: 'p2' }, geometry: null },
        { type: 'Nope' },
      ],
    });
    for (const chunk of [1, 5, 64, 10_000]) {
      expect(await all(fc, 'geojson', chunk)).toEqual([
        { line: 1, record: { id: 'f1', name: 'a "}" b', geometry: { type: 'Point', coordinates: [1, 2] } } },
        { line: 2, record: { id: 'p2', geometry: null } },
        { line: 3, error: 'not a GeoJSON Feature' },
      ]);
    }
  });
  it('finds every feature whatever the chunking, with quotes, backslash runs and braces inside strings', async () => {
    // Deterministic mixtures of the characters the scanner jumps between, inside property strings and keys.
    const pieces = ['"', '\\', '\\"', '\\\\', '{', '}', '[', ']', ',', 'a', '"}"', '\\\\"'];
    const random = seededRandom(7);
    const next = (n: number): number => Math.floor(random() * n);
    for (let round = 0; round < 40; round += 1) {
      const features = Array.from({ length: 1 + next(4) }, (_, i) => {
        const name = Array.from({ length: next(8) }, () => pieces[next(pieces.length)]).join('');
        return { type: 'Feature', id: `f${i}`, properties: { name, [`k${name}`]: [name, { x: name }] }, geometry: { type: 'Point', coordinates: [i, round] } };
      });
      const text = JSON.stringify({ type: 'FeatureCollection', features, after: '] } "' });
      const expected = features.map((f, i) => ({ line: i + 1, record: { id: f.id, ...f.properties, geometry: f.geometry } }));
      for (const chunk of [1, 2, 3, 5 + next(60), 100_000]) expect(await all(text, 'geojson', chunk)).toEqual(expected);
    }
  });
  it('reports a feature cut off by the end of the file', async () => {
    const text = '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"n":"a\\"}"},"geometry":null},{"type":"Feature","properties":{"n":"\\\\"}';
    for (const chunk of [1, 4, 1000]) {
      expect(await all(text, 'geojson', chunk)).toEqual([
        { line: 1, record: { n: 'a"}', geometry: null } },
        { line: 2, error: 'truncated feature at end of file' },
      ]);
    }
  });
  it('says so when the input is no FeatureCollection', async () => {
    expect(await all('{"type":"Feature"}', 'geojson', 4)).toEqual([{ line: 0, error: 'not a GeoJSON FeatureCollection (no "features" array)' }]);
    // a collection whose "features" is no array (or missing) is no collection either, not an empty one
    for (const text of ['{"type":"FeatureCollection","features":"no"}', '{"type":"FeatureCollection"}']) {
      for (const chunk of [4, 10_000]) expect(await all(text, 'geojson', chunk)).toEqual([{ line: 0, error: 'not a GeoJSON FeatureCollection (no "features" array)' }]);
    }
    expect(await all('{"type":"FeatureCollection","features":[]}', 'geojson', 4)).toEqual([]);
  });
});
