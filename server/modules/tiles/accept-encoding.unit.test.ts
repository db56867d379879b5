import { describe, expect, it } from 'vitest';
import { tileEncoding } from './accept-encoding';

describe('tileEncoding', () => {
  it.each([
    // What clients send: Chromium (over HTTP and HTTPS), Firefox, curl --compressed, GDAL's MVT driver.
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip, deflate, br', 'br'],
    ['gzip, deflate', 'gzip'],
    ['deflate, gzip', 'gzip'],
    // Weights decide; Brotli wins a tie.
    ['br;q=1.0, gzip;q=0.8, *;q=0.1', 'br'],
    ['gzip;q=1, br;q=0.5', 'gzip'],
    ['gzip;q=0.5, br;q=0.5', 'br'],
    ['br;q=0, gzip', 'gzip'],
    ['br, gzip;q=0', 'br'],
    ['br;q=0, gzip;q=0', undefined],
    ['br; q=0.000, gzip;q=0.001', 'gzip'],
    // `*` stands for the codings the header does not name.
    ['*', 'br'],
    ['br;q=0, *;q=1', 'gzip'],
    ['gzip;q=0.2, *;q=0.5', 'br'],
    ['br, gzip;q=0, *;q=1', 'br'],
    ['*;q=0', undefined],
    ['deflate, *;q=0.5', 'br'],
    ['identity;q=1, *;q=0', undefined],
    ['gzip;q=abc', undefined],
    // Spelling.
    ['GZIP', 'gzip'],
    ['BR', 'br'],
    ['x-gzip', 'gzip'],
    ['  gzip  ', 'gzip'],
    ['deflate,\tx-gzip', 'gzip'],
    ['br,gzip', 'br'],
    ['deflate, *', 'br'],
    // With and without weights alike: `*` stands for Brotli, and gzip/x-gzip are one coding.
    ['gzip, *', 'br'],
    ['gzip;q=1, *;q=1', 'br'],
    ['gzip, x-gzip;q=0', 'gzip'],
    ['x-gzip;q=0, gzip;q=0.5', 'gzip'],
    // Neither.
    ['identity', undefined],
    ['deflate, zstd', undefined],
    ['', undefined],
    [undefined, undefined],
    ['gzipped, brotli', undefined],
    ['xgzip, gzip-like, bro', undefined],
    ['identity, gzip2', undefined],
  ])('%j → %s', (header, expected) => {
    expect(tileEncoding(header)).toBe(expected);
  });
});
