/** Deadline status of an event as the list shows it. `overdue` comes from the server; "due soon" is ours. */
import type { Event } from '@contracts/events';

export type DeadlineStatus = 'on_time' | 'due_soon' | 'overdue' | 'done';

/** An open event whose next deadline (stage or closing) is this close is flagged "due soon". */
export const DUE_SOON_MS = 4 * 60 * 60 * 1000;

const FINISHED = new Set(['closed', 'rejected']);

/** The earlier of the stage deadline and the closing deadline, as epoch ms. */
export function nextDeadline(e: Pick<Event, 'stageDueAt' | 'dueAt'>): number {
  const due = Date.parse(e.dueAt);
  return e.stageDueAt ? Math.min(due, Date.parse(e.stageDueAt)) : due;
}

export function deadlineStatus(e: Pick<Event, 'state' | 'overdue' | 'stageDueAt' | 'dueAt'>, now: number): DeadlineStatus {
  if (FINISHED.has(e.state)) return 'done';
  const next = nextDeadline(e);
  // The server computed `overdue` when it answered; the clock may have passed a deadline since.
  if (e.overdue || next <= now) return 'overdue';
  return next - now <= DUE_SOON_MS ? 'due_soon' : 'on_time';
}

export const DEADLINE_COLOURS: Record<DeadlineStatus, string> = {
  on_time: '#2e8b57',
  due_soon: '#e69500',
  overdue: '#c0392b',
  done: '#7f8c8d',
};
