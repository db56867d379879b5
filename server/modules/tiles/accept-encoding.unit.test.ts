import { describe, expect, it } from 'vitest';
import { acceptsGzip } from './accept-encoding';

describe('acceptsGzip', () => {
  it.each([
    ['gzip, deflate, br', true],
    ['br;q=1.0, gzip;q=0.8, *;q=0.1', true],
    ['GZIP', true],
    ['x-gzip', true],
    ['*', true],
    ['identity', false],
    ['', false],
    [undefined, false],
    ['gzip;q=0', false],
    ['gzip; q=0.000', false],
    ['br, gzip;q=0, *;q=1', false],
    ['*;q=0', false],
    ['deflate, *;q=0.5', true],
    ['gzipped', false],
    // weightless lists (decided by one regular expression)
    ['deflate, br, zstd', false],
    ['br,gzip', true],
    ['  gzip  ', true],
    ['deflate,\tx-gzip', true],
    ['deflate, *', true],
    ['xgzip, gzip-like', false],
    ['identity, gzip2', false],
  ])('%j → %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});
