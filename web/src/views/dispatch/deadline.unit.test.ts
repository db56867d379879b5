import { describe, expect, it } from 'vitest';
import { DUE_SOON_MS, deadlineStatus } from './deadline';

const now = Date.parse('2026-03-02T04:00:00Z');
const at = (ms: number): string => new Date(now + ms).toISOString();
const H = 3_600_000;

describe('deadline status', () => {
  it('closed and rejected events are finished whatever their deadlines', () => {
    expect(deadlineStatus({ state: 'closed', overdue: false, stageDueAt: null, dueAt: at(-10 * H) }, now)).toBe('done');
    expect(deadlineStatus({ state: 'rejected', overdue: true, stageDueAt: null, dueAt: at(-10 * H) }, now)).toBe('done');
  });

  it('the server\'s overdue flag wins, and so does a deadline passed since it answered', () => {
    expect(deadlineStatus({ state: 'accepted', overdue: true, stageDueAt: at(10 * H), dueAt: at(50 * H) }, now)).toBe('overdue');
    expect(deadlineStatus({ state: 'accepted', overdue: false, stageDueAt: at(-1), dueAt: at(50 * H) }, now)).toBe('overdue');
  });

  it('due soon when the earlier of stage and closing deadline is within the window', () => {
    expect(deadlineStatus({ state: 'dispatched', overdue: false, stageDueAt: at(DUE_SOON_MS), dueAt: at(100 * H) }, now)).toBe('due_soon');
    expect(deadlineStatus({ state: 'dispatched', overdue: false, stageDueAt: null, dueAt: at(H) }, now)).toBe('due_soon');
    expect(deadlineStatus({ state: 'dispatched', overdue: false, stageDueAt: at(DUE_SOON_MS + 1), dueAt: at(100 * H) }, now)).toBe('on_time');
  });
});
