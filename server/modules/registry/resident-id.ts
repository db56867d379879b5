/**
 * 居民身份证号 (GB 11643-1999 citizen identity number) checks, plus masking for display.
 *
 * Layout of the 18 characters: 6-digit region code (GB/T 2260 county at first issue), 8-digit birth
 * date YYYYMMDD, 3-digit sequence whose last digit is odd for men and even for women, then an
 * ISO 7064 MOD 11-2 check character (0–9 or X). The 2023 外国人永久居留身份证 uses the same length,
 * date, sequence and check rules with '9' + a 2-digit province + a 3-digit nationality in front, so it
 * passes here as well; its "regionCode" is those first six characters.
 *
 * Pure and isomorphic: no Node APIs, so it can move to `geo/`-like shared code if the web app needs it.
 */
import { isRealDate, shanghaiToday } from '../../contracts/calendar';

/** ISO 7064 MOD 11-2 weights 2^(17-i) mod 11 for positions 1..17. */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Check character indexed by (weighted sum mod 11). */
const CHECK_CHARS = '10X98765432';

/**
 * First two digits allowed in a region code: the GB/T 2260 provinces, 71/81/82/83 used by the
 * Taiwan / Hong Kong / Macao residence permits, and 9 for permanent-residence cards (whose next two
 * digits must then be a province).
 */
const PROVINCES = new Set([
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37', '41', '42', '43', '44',
  '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65', '71', '81', '82', '83',
]);

export type ResidentIdRejection = 'FORMAT' | 'REGION' | 'BIRTH_DATE' | 'CHECKSUM';

export type ResidentIdValidation =
  | { valid: true; birthDate: string; gender: 'M' | 'F'; regionCode: string }
  | { valid: false; reason: ResidentIdRejection };

/**
 * ISO 7064 MOD 11-2 check character for the first 17 digits.
 *
 * @example residentIdCheckDigit('11010519491231002') // 'X'
 */
export function residentIdCheckDigit(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError(`expected 17 digits, got '${first17}'`);
  let sum = 0;
  for (const [index, weight] of WEIGHTS.entries()) sum += (first17.charCodeAt(index) - 48) * weight;
  return CHECK_CHARS.charAt(sum % 11);
}

/**
 * Validate an 18-character 居民身份证号. A lowercase 'x' check character is accepted because it is
 * common in typed input; callers that store the number should upper-case it.
 *
 * `today` (YYYY-MM-DD, default today's date in China, Asia/Shanghai) bounds the birth date so tests stay deterministic.
 *
 * @example validateResidentIdNumber('11010519491231002X')
 * // { valid: true, birthDate: '1949-12-31', gender: 'F', regionCode: '110105' }
 */
export function validateResidentIdNumber(id: string, options: { today?: string } = {}): ResidentIdValidation {
  if (!/^\d{17}[\dXx]$/.test(id)) return { valid: false, reason: 'FORMAT' };

  const regionCode = id.slice(0, 6);
  const province = regionCode.startsWith('9') ? regionCode.slice(1, 3) : regionCode.slice(0, 2);
  if (!PROVINCES.has(province)) return { valid: false, reason: 'REGION' };

  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  const birthDate = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
  // String comparison works because both sides are zero-padded ISO dates.
  if (year < 1900 || !isRealDate(year, month, day) || birthDate > (options.today ?? shanghaiToday())) {
    return { valid: false, reason: 'BIRTH_DATE' };
  }

  if (residentIdCheckDigit(id.slice(0, 17)) !== id.charAt(17).toUpperCase()) return { valid: false, reason: 'CHECKSUM' };

  const gender = (id.charCodeAt(16) - 48) % 2 === 1 ? 'M' : 'F';
  return { valid: true, birthDate, gender, regionCode };
}

/**
 * Mask an ID number for display: first 6 (region) and last 4 kept, birth date and sequence hidden.
 * Anything that is not 18 characters keeps only its first and last character, so malformed input
 * never leaks more than a valid number would.
 *
 * @example maskIdNumber('41010519800101123X') // '410105********123X'
 */
export function maskIdNumber(id: string): string {
  if (id.length === 18) return `${id.slice(0, 6)}********${id.slice(14)}`;
  if (id.length <= 2) return '*'.repeat(id.length);
  return `${id.charAt(0)}${'*'.repeat(id.length - 2)}${id.charAt(id.length - 1)}`;
}

/**
 * Mask a mainland mobile number as 3 + 4 stars + 4, the form Chinese apps conventionally show.
 *
 * @example maskPhone('13812345678') // '138****5678'
 */
export function maskPhone(phone: string): string {
  if (phone.length === 11) return `${phone.slice(0, 3)}****${phone.slice(7)}`;
  if (phone.length <= 4) return '*'.repeat(phone.length);
  return `${'*'.repeat(phone.length - 4)}${phone.slice(-4)}`;
}
