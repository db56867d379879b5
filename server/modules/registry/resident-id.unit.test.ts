import { afterEach, describe, expect, it, vi } from 'vitest';
import { maskIdNumber, maskPhone, residentIdCheckDigit, validateResidentIdNumber } from './resident-id';

const TODAY = { today: '2025-01-01' };

describe('residentIdCheckDigit', () => {
  it('reproduces the GB 11643 worked example', () => {
    expect(residentIdCheckDigit('11010519491231002')).toBe('X');
  });

  it('reproduces the example number used in the Wikipedia article on the standard', () => {
    expect(residentIdCheckDigit('44052418800101001')).toBe('4');
  });

  it('rejects anything but 17 digits', () => {
    expect(() => residentIdCheckDigit('1101051949123100')).toThrow(RangeError);
    expect(() => residentIdCheckDigit('1101051949123100A')).toThrow(RangeError);
  });
});

describe('validateResidentIdNumber', () => {
  it('accepts the standard example and decodes it', () => {
    expect(validateResidentIdNumber('11010519491231002X', TODAY)).toEqual({
      valid: true,
      birthDate: '1949-12-31',
      gender: 'F',
      regionCode: '110105',
    });
  });

  it('accepts a lowercase x check character', () => {
    expect(validateResidentIdNumber('11010519491231002x', TODAY).valid).toBe(true);
  });

  it('reads gender from the parity of the 17th digit', () => {
    const male = `4101051980010112${'3'}`;
    const result = validateResidentIdNumber(male + residentIdCheckDigit(male), TODAY);
    expect(result).toMatchObject({ valid: true, gender: 'M', birthDate: '1980-01-01' });
  });

  it.each([
    ['11010519491231002', 'FORMAT'],
    ['11010519491231002XX', 'FORMAT'],
    ['1101051949123100AX', 'FORMAT'],
    [' 11010519491231002X', 'FORMAT'],
    ['11010519491231002Y', 'FORMAT'],
    ['110105194912310021', 'CHECKSUM'],
    ['110105194912310029', 'CHECKSUM'],
  ])('%s → %s', (id, reason) => {
    expect(validateResidentIdNumber(id, TODAY)).toEqual({ valid: false, reason });
  });

  it.each([
    ['41010519900230123', 'Feb 30'],
    ['41010519000229123', '1900 is not a leap year'],
    ['41010518991231123', 'before 1900'],
    ['41010520300101123', 'in the future'],
    ['41010519801301123', 'month 13'],
  ])('rejects birth date in %s (%s)', (first17) => {
    // Correct check digit, so the date is the only thing wrong.
    const id = first17 + residentIdCheckDigit(first17);
    expect(validateResidentIdNumber(id, TODAY)).toEqual({ valid: false, reason: 'BIRTH_DATE' });
  });

  it('accepts 29 February in a leap year', () => {
    const first17 = '41010520000229123';
    expect(validateResidentIdNumber(first17 + residentIdCheckDigit(first17), TODAY).valid).toBe(true);
  });

  it('rejects an impossible province even with a correct checksum', () => {
    const first17 = '99010519800101123';
    expect(validateResidentIdNumber(first17 + residentIdCheckDigit(first17), TODAY)).toEqual({ valid: false, reason: 'REGION' });
  });

  it('accepts a 2023-style permanent-residence number (9 + province + nationality)', () => {
    const first17 = '94141019900101123';
    expect(validateResidentIdNumber(first17 + residentIdCheckDigit(first17), TODAY)).toMatchObject({ valid: true, regionCode: '941410' });
  });
});

describe('masking', () => {
  it('masks ID numbers as first 6 + 8 stars + last 4', () => {
    expect(maskIdNumber('41010519800101123X')).toBe('410105********123X');
    expect(maskIdNumber('12345')).toBe('1***5');
  });

  it('masks phones as 3 + 4 stars + 4', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('123')).toBe('***');
  });
});

describe('validateResidentIdNumber without an explicit today', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('bounds the birth date by the China-time date, so a baby born after midnight Beijing time is accepted', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    // 2025-12-31T17:00Z is 2026-01-01 01:00 in Asia/Shanghai.
    vi.setSystemTime(new Date('2025-12-31T17:00:00Z'));
    const born = `11010520260101002`;
    const id = born + residentIdCheckDigit(born);
    expect(validateResidentIdNumber(id)).toMatchObject({ valid: true, birthDate: '2026-01-01' });
    const tomorrow = '11010520260102002';
    expect(validateResidentIdNumber(tomorrow + residentIdCheckDigit(tomorrow))).toEqual({ valid: false, reason: 'BIRTH_DATE' });
  });
});
