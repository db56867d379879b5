import { describe, expect, it } from 'vitest';
import { auditQuery, EMPTY_FILTERS, shanghaiLocalToIso } from './query';

describe('audit filters as the API query', () => {
  it('leaves empty fields out', () => {
    expect(auditQuery(EMPTY_FILTERS)).toEqual({});
    expect(auditQuery({ ...EMPTY_FILTERS, action: '  ', outcome: 'maybe' })).toEqual({});
  });

  it('trims the text fields and keeps a known outcome', () => {
    expect(auditQuery({ ...EMPTY_FILTERS, action: ' auth. ', actorName: ' demo-auditor ', targetType: 'user', targetId: ' 7 ', outcome: 'denied' })).toEqual({
      action: 'auth.',
      actorName: 'demo-auditor',
      targetType: 'user',
      targetId: '7',
      outcome: 'denied',
    });
  });

  it("reads the form's times as Shanghai time, eight hours ahead of UTC", () => {
    expect(shanghaiLocalToIso('2026-11-27T08:00')).toBe('2026-11-27T00:00:00.000Z');
    expect(shanghaiLocalToIso('2026-01-01T03:30:15')).toBe('2025-12-31T19:30:15.000Z');
    expect(auditQuery({ ...EMPTY_FILTERS, from: '2026-11-27T00:00', to: '2026-11-28T00:00' })).toEqual({ from: '2026-11-26T16:00:00.000Z', to: '2026-11-27T16:00:00.000Z' });
  });

  it('ignores a time that is not one', () => {
    expect(shanghaiLocalToIso('')).toBeUndefined();
    expect(shanghaiLocalToIso('27/11/2026 08:00')).toBeUndefined();
    expect(auditQuery({ ...EMPTY_FILTERS, from: 'yesterday' })).toEqual({});
  });
});
