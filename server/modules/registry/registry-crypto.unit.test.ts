import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRegistryCipher } from './registry-crypto';

const IV_BYTES = 12;

describe('registry cipher', () => {
  const cipher = createRegistryCipher(randomBytes(32).toString('base64'));

  it('round-trips values, Chinese text included', () => {
    for (const plain of ['11010519491231002X', '13912345678', '张三 北京市朝阳区', '']) {
      expect(cipher.decrypt(cipher.encrypt(plain))).toBe(plain);
    }
  });

  it('never reuses an IV, also across the boundary of its pre-drawn random block', () => {
    // 10,000 values cross the 4,096-IV block at least twice; a reused IV under one GCM key would
    // leak the XOR of two plaintexts and allow forging tags.
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i += 1) {
      const stored = cipher.encrypt('11010519491231002X');
      seen.add(stored.subarray(1, 1 + IV_BYTES).toString('hex'));
    }
    expect(seen.size).toBe(10_000);
  });

  it('detects a tampered value and an unknown key version', () => {
    const stored = cipher.encrypt('13912345678');
    const flipped = Buffer.from(stored);
    flipped[1 + IV_BYTES] = (flipped[1 + IV_BYTES] ?? 0) ^ 1;
    expect(() => cipher.decrypt(flipped)).toThrow();
    const otherVersion = Buffer.from(stored);
    otherVersion[0] = 9;
    expect(() => cipher.decrypt(otherVersion)).toThrow(/key version/);
  });

  it('searches by a keyed hash that is stable under one key and differs under another', () => {
    const other = createRegistryCipher(randomBytes(32).toString('base64'));
    expect(cipher.hmac('11010519491231002X').equals(cipher.hmac('11010519491231002X'))).toBe(true);
    expect(cipher.hmac('11010519491231002X').equals(other.hmac('11010519491231002X'))).toBe(false);
  });
});
