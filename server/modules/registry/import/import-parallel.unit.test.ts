/**
 * The worker-thread path (import-parallel.ts) must be indistinguishable from the single-threaded one:
 * the same COPY rows in the same order, the same row-level problems on the same physical lines, for
 * CSV with quoted line breaks, doubled and stray quotes, CRLF and bad rows cut at every chunk boundary.
 */
import { describe, expect, it } from 'vitest';
import { TEST_REGISTRY_KEY } from '../../../config';
import { createRegistryCipher } from '../registry-crypto';
import { residentIdCheckDigit } from '../resident-id';
import { readRecords, type ImportFormat } from './import-formats';
import { csvRecordsEnd, parallelStage } from './import-parallel';
import { ENTITIES, type RowError } from './import-rows';
import { stageChunk } from './import-stage';

const today = '2026-01-01';
const cipher = createRegistryCipher(TEST_REGISTRY_KEY);

function idFor(seq: number): string {
  const first17 = `41010519800102${String(seq * 2 + 1).padStart(3, '0').slice(-3)}`;
  return first17 + residentIdCheckDigit(first17);
}

// COPY columns 10 and 12 are AES-GCM with random IVs: compare them decrypted.
const comparable = (copy: string): string[][] =>
  copy.split('\n').filter((l) => l !== '').map((l) => l.split('\t').map((v, i) => ((i === 10 || i === 12) && v !== '\\N' ? cipher.decrypt(Buffer.from(v.slice(3), 'hex')) : v)));

async function single(text: string, format: ImportFormat): Promise<{ copy: string[][]; errors: RowError[] }> {
  const r = await stageChunk(readRecords([text], format), ENTITIES.residents, { cipher, today, community: null });
  return { copy: comparable(r.copy), errors: r.errors };
}

async function parallel(text: string, format: 'csv' | 'ndjson', chunkChars: number, workers = 2): Promise<{ copy: string[][]; errors: RowError[]; rows: number; rejected: number }> {
  const errors: RowError[] = [];
  let copy = '';
  let counts = { rows: 0, rejected: 0 };
  // Fed in 7-character pieces, so records and quotes straddle the pieces too.
  const pieces = Array.from({ length: Math.ceil(text.length / 7) }, (_, i) => text.slice(i * 7, i * 7 + 7));
  for await (const s of parallelStage(pieces, {
    entity: 'residents', format, workers, registryKey: TEST_REGISTRY_KEY, today, community: null, chunkChars,
    onError: (e) => errors.push(e),
    onChunk: (rows, rejected) => (counts = { rows, rejected }),
  })) copy += s;
  return { copy: comparable(copy), errors, ...counts };
}

const HEADER = 'householdKey,name,gender,birthDate,idNumber,phone,relation,tags';
const rows = [
  `410105001001-00001-1-101,张三,M,1980-01-02,${idFor(1)},13812345678,户主,"低保,残疾"`,
  `410105001001-00001-1-101,"李""四",M,1980-01-02,${idFor(2)},,配偶,`,
  `410105001001-00001-1-102,"多\n行\n名",M,1980-01-02,${idFor(3)},,子女,{}`,
  `410105001001-00001-1-102,坏校验,M,1980-01-02,${idFor(4).slice(0, 17)}X,,子女,`,
  `410105001001-00001-1-103,字段少,M`,
  `410105001001-00001-1-103,ab"c,M,1980-01-02,${idFor(5)},,其他,`,
  ``,
  `410105001001-00001-1-104,"引号,逗号",F,1980-01-02,${idFor(6)},13900000000,其他,`,
  `410105001001-00001-1-104,性别错,F,1980-01-02,${idFor(7)},,其他,`,
];

// Each run starts worker threads that load TypeScript through tsx: seconds on a busy machine.
describe('parallel import staging', { timeout: 60_000 }, () => {
  it.each([1, 200, 1 << 20])('CSV: same rows, problems and lines as one thread (chunks of %i chars)', async (chunkChars) => {
    for (const eol of ['\n', '\r\n']) {
      const csv = [HEADER, ...rows, ...rows].join(eol) + eol;
      const expected = await single(csv, 'csv');
      expect(expected.errors.map((e) => e.line)).toEqual([7, 8, 11, 12, 18, 19, 22, 23]);
      expect(expected.copy.map((r) => r[0])).toEqual(['2', '3', '4', '9', '13', '14', '15', '20']);
      const got = await parallel(csv, 'csv', chunkChars);
      expect(got.copy).toEqual(expected.copy);
      expect(got.errors).toEqual(expected.errors);
      expect({ rows: got.rows, rejected: got.rejected }).toEqual({ rows: 16, rejected: 8 });
    }
  });

  it('CSV: an unterminated quote at the end is reported on the line its record starts', async () => {
    const csv = `${HEADER}\n${rows[0]}\n410105001001-00001-1-101,"open,M\nmore\n`;
    const got = await parallel(csv, 'csv', 10);
    expect(got.errors).toEqual((await single(csv, 'csv')).errors);
    expect(got.errors).toEqual([{ line: 3, field: '', reason: 'unterminated quoted field' }]);
  });

  it('NDJSON: same rows, problems and lines as one thread', async () => {
    const lines = [
      JSON.stringify({ householdKey: '410105001001-00001-1-101', name: '甲', gender: 'M', birthDate: '1980-01-02', idNumber: idFor(1) }),
      '',
      '{broken',
      JSON.stringify({ householdKey: '410105001001-00001-1-101', name: '乙', gender: 'F', birthDate: '1980-01-02', idNumber: idFor(2) }),
      JSON.stringify({ householdKey: '410105001001-00001-1-101', name: '丙', gender: 'M', birthDate: '1980-01-02', idNumber: idFor(3), phone: '13812345678' }),
    ];
    const text = [...lines, ...lines].join('\n');
    const expected = await single(text, 'ndjson');
    for (const chunkChars of [1]) {
      const got = await parallel(text, 'ndjson', chunkChars, 3);
      expect(got.copy).toEqual(expected.copy);
      expect(got.errors).toEqual(expected.errors);
    }
    expect(expected.errors.map((e) => e.line)).toEqual([3, 4, 8, 9]);
  });

  it('finds record boundaries by readCsv quoting rules', () => {
    expect(csvRecordsEnd('a,b\nc,d')).toBe(4);
    expect(csvRecordsEnd('a,"b\nc"\nd')).toBe(8);
    expect(csvRecordsEnd('a,"b\nc')).toBe(0);
    expect(csvRecordsEnd('a,b"\nc\n')).toBe(7); // a quote inside a field is text, not the start of quoting
    expect(csvRecordsEnd('x\n"a""\nb"\ny')).toBe(10);
    expect(csvRecordsEnd('h1,h2\nx,y\n', true)).toBe(6);
    expect(csvRecordsEnd('a,"b"')).toBe(0);
  });
});
