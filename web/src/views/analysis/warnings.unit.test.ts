import { describe, expect, it } from 'vitest';
import { warn } from '@contracts/analysis-warnings';
import { warningText } from './warnings';

/** One of each warning the server makes (server/modules/analysis/analysis-warnings.ts). */
const EVERY_KIND = [
  warn.projectionScale(0.0123),
  warn.latitudeSpan(1.5, 0.0123),
  warn.unroutedEvents(7),
  warn.unitsWithoutPopulation(3, 'residents'),
  warn.unitsWithoutPopulation(4, 'households'),
  warn.fewFeatures(12, 30),
  warn.noStatistic(3),
  warn.islands(2),
  warn.undefinedVariance(4),
  warn.fromIgnored(),
  warn.truncated(5000),
];

describe('analysis warnings in the web app', () => {
  it('word every kind the server makes in Chinese, with its numbers filled in', () => {
    // Every constructor is listed above (a new kind of warning must be worded here too).
    expect(new Set(EVERY_KIND.map((w) => w.code)).size).toBe(Object.keys(warn).length + 1);
    for (const w of EVERY_KIND) {
      const text = warningText(w);
      expect(text, w.code).not.toBe(w.message);
      expect(text, w.code).toMatch(/[\u4e00-\u9fff]/);
      expect(text, w.code).not.toMatch(/\{\w+\}/);
      for (const value of Object.values(w.params)) expect(text, w.code).toContain(String(value));
    }
    expect(warningText(warn.fewFeatures(12, 30))).toBe('要素少于 30 个（12 个）：z 值与 p 值依赖的正态近似此时不可靠');
  });

  it('show a warning of a kind the app does not know in the server\'s words', () => {
    expect(warningText({ code: 'new_kind', params: {}, message: 'something new' })).toBe('something new');
  });
});
