import { describe, expect, it } from 'vitest';
import { formatCreated, layoutOptionParams } from './layout-option';

describe('layout options', () => {
  const now = new Date('2026-11-28T01:00:00Z');

  it('say when a layout was made, in the city\'s time (UTC+8), with the year only for earlier years', () => {
    expect(formatCreated('2026-11-27T23:10:00Z', now)).toBe('11-28 07:10');
    expect(formatCreated('2026-01-01T15:59:00Z', now)).toBe('01-01 23:59');
    // 2025-12-31 16:30 UTC is already 2026 in the city
    expect(formatCreated('2025-12-31T16:30:00Z', now)).toBe('01-01 00:30');
    expect(formatCreated('2025-12-31T15:30:00Z', now)).toBe('2025-12-31 23:30');
    expect(formatCreated('not a date', now)).toBe('');
  });

  it('name a layout by its name, or by its id when it has none (blank counts as none)', () => {
    expect(layoutOptionParams({ id: 4, name: '春季调整', gridCount: 3, createdAt: '2026-11-27T23:10:00Z' }, now)).toEqual({ name: '春季调整', count: 3, created: '11-28 07:10' });
    expect(layoutOptionParams({ id: 5, name: '  ', gridCount: 0, createdAt: '2026-11-27T23:11:00Z' }, now)).toEqual({ name: '#5', count: 0, created: '11-28 07:11' });
  });
});
