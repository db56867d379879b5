import { describe, expect, it } from 'vitest';
import { AppError } from './errors';
import { ifMatchHolds, ifNoneMatchHits, parseIfMatch } from './preconditions';

describe('ifNoneMatchHits', () => {
  const weak = 'W/"abc"';
  it.each([
    [weak, true],
    ['"abc"', true],
    ['"xyz", W/"abc"', true],
    ['"xyz" ,  "abc" ', true],
    ['*', true],
    ['"xyz", *', true],
    ['"abcd"', false],
    ['"ab"', false],
    ['W/"xyz"', false],
    ['abc', false],
    ['', false],
    [undefined, false],
  ])('%j against W/"abc" → %s', (header, hit) => {
    expect(ifNoneMatchHits(header, weak)).toBe(hit);
  });

  it('compares a strong ETag weakly too', () => {
    expect(ifNoneMatchHits('W/"3"', '"3"')).toBe(true);
    expect(ifNoneMatchHits('"3"', '"3"')).toBe(true);
    expect(ifNoneMatchHits('"4"', '"3"')).toBe(false);
  });
});

describe('parseIfMatch', () => {
  it('reads the version in any of its spellings and refuses others with where', () => {
    expect(parseIfMatch('"3"')).toEqual([3]);
    expect(parseIfMatch('W/"3"')).toEqual([3]);
    expect(parseIfMatch('3')).toEqual([3]);
    expect(parseIfMatch(undefined)).toBeUndefined();
    let refused: unknown;
    try {
      parseIfMatch('"x"');
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'VALIDATION_FAILED', statusCode: 400, details: { in: 'headers', field: 'if-match' } });
  });

  it('reads * and lists of ETags (RFC 9110 §13.1.1)', () => {
    expect(parseIfMatch('*')).toBe('*');
    expect(parseIfMatch(' * ')).toBe('*');
    expect(parseIfMatch('"3", "5"')).toEqual([3, 5]);
    expect(parseIfMatch('"3",W/"5" , 7')).toEqual([3, 5, 7]);
    expect(parseIfMatch(['"3"', '"4"'])).toEqual([3, 4]);
    expect(() => parseIfMatch('"3", *')).toThrow(AppError);
    expect(() => parseIfMatch('"3",')).toThrow(AppError);
  });
});

describe('ifMatchHolds', () => {
  it('is true for *, for a list naming the version, and without a header', () => {
    expect(ifMatchHolds('*', 4)).toBe(true);
    expect(ifMatchHolds([3, 4], 4)).toBe(true);
    expect(ifMatchHolds([3, 5], 4)).toBe(false);
    expect(ifMatchHolds(undefined, 4)).toBe(true);
  });
});
