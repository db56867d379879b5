import { describe, expect, it } from 'vitest';
import { DispatchStepSchema, type DispatchResult } from '@contracts/dispatch';
import { fallbackReason } from './fallback-reason';

const answer = {
  status: 'in_grid',
  at: '2026-03-02T01:30:00.000Z',
  grid: { code: '410105001001005' },
  community: { code: '410105001001', name: '花园路社区' },
  street: { code: '410105001', name: '花园路街道' },
} as unknown as Pick<DispatchResult, 'status' | 'at' | 'grid' | 'community' | 'street'>;

const STEPS = DispatchStepSchema.anyOf.map((s) => s.const);

describe('fallback reasons in the web app', () => {
  it('word every step and outcome the server reports in Chinese, with what they name filled in', () => {
    const seen = new Set<string>();
    for (const step of STEPS) {
      const outcomes = step.startsWith('grid_') ? (['used', 'none', 'skipped'] as const) : (['used', 'none'] as const);
      for (const outcome of outcomes) {
        const text = fallbackReason({ step, outcome, reason: 'server words' }, answer);
        expect(text, `${step}/${outcome}`).not.toBe('server words');
        expect(text, `${step}/${outcome}`).toMatch(/[\u4e00-\u9fff]/);
        expect(text, `${step}/${outcome}`).not.toMatch(/\{\w+\}|[A-Za-z]{3,}/);
        // Who is on duty depends on the instant: those steps say which (09:30 in Beijing is 01:30 UTC).
        if (outcome !== 'skipped' && (step === 'grid_on_duty' || step.endsWith('_duty_officer'))) expect(text).toMatch(/09:30/);
        seen.add(text);
      }
    }
    expect(seen.size).toBe(STEPS.length * 2 + 2); // every pair has its own sentence
    expect(fallbackReason({ step: 'grid_on_duty', outcome: 'none', reason: '' }, answer)).toBe('网格 410105001001005 在 2026/3/2 09:30 无人在岗（无排班、节假日或请假）');
    expect(fallbackReason({ step: 'street_contact', outcome: 'used', reason: '' }, answer)).toBe('无人在岗：由花园路街道登记的值班员兜底（不在班）');
  });

  it('say a point outside every community is outside, whatever the step', () => {
    const outside = { ...answer, status: 'outside', grid: null, community: null, street: null } as typeof answer;
    expect(fallbackReason({ step: 'street_contact', outcome: 'skipped', reason: 'x' }, outside)).toBe('该位置不在任何社区和网格内');
  });

  it("show a pair this app does not know in the server's words", () => {
    expect(fallbackReason({ step: 'community_contact', outcome: 'skipped', reason: 'server words' }, answer)).toBe('server words');
  });
});
