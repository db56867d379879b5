// English wording of the analysis status line and the editor's problems (UX review finding 12).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { warn } from '@contracts/analysis-warnings';
import { setLocale } from '../i18n/i18n';
import { analysisSummary } from '../views/analysis/warnings';
import { describeProblem } from '../views/editor/validation-panel';

const point = { type: 'Point' as const, coordinates: [113.6, 34.75] };

describe('wording in English', () => {
  beforeEach(() => {
    vi.stubGlobal('document', { documentElement: {} });
    setLocale('en');
  });
  afterEach(() => {
    setLocale('zh-CN');
    vi.unstubAllGlobals();
  });

  it('gives counts without "1 features", and each note as its own sentence', () => {
    const text = analysisSummary({ events: 3, n: 1, warnings: [warn.fewFeatures(1, 30), warn.islands(1)] });
    expect(text).not.toMatch(/\b1 features\b/);
    expect(text).toBe('Events: 3; features: 1. Note: fewer than 30 features (1): z-scores and p-values rest on a normal approximation that is unreliable here. Note: 1 feature(s) have no neighbours (islands): their local statistics are null.');
    expect(analysisSummary({ events: 0, n: 0, warnings: [{ code: 'new_kind', params: {}, message: 'Something new.' }] })).toBe('Events: 0; features: 0. Note: Something new.');
  });

  it('names the unit of a household count', () => {
    const problem = { kind: 'households' as const, severity: 'warning' as const, gridIds: [5, 6], gridCodes: ['410199001002001', null], geometry: point, households: 564, status: 'over' as const };
    expect(describeProblem(problem)).toBe('Too many households: 001, new #6, 564 households');
    expect(describeProblem({ ...problem, status: 'under', households: 12 })).toBe('Too few households: 001, new #6, 12 households');
  });
});

describe('wording in Chinese', () => {
  it('ends each part of the status line with 。', () => {
    expect(analysisSummary({ events: 3, n: 1, warnings: [warn.islands(1)] })).toBe('3 件事件，1 个要素。提示：1 个要素没有相邻要素（孤岛）：其局部统计量为空。');
  });
});

describe("lists in the reader's language", () => {
  it('no code joins a list with the Chinese comma: lists take t("list.separator") (the English view showed "#1、#7")', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const path = await import('node:path');
    const root = path.resolve(import.meta.dirname, '..');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (/\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name) && readFileSync(file, 'utf8').includes(".join('、')")) offenders.push(path.relative(root, file));
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});
