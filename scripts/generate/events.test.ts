import { describe, expect, it } from 'vitest';
import { generateDemoCity } from './demo-city';
import { generateDemoEvents } from './events';

describe('demo events', () => {
  const buildings = [...generateDemoCity({ size: 'small' }).buildings];
  const anchor = new Date('2026-03-15T06:30:00Z');

  it('are the same for the same seed and anchor, differ with the seed, and move with the anchor', () => {
    const a = generateDemoEvents({ seed: 7, anchor, buildings });
    expect(generateDemoEvents({ seed: 7, anchor, buildings })).toEqual(a);
    expect(generateDemoEvents({ seed: 8, anchor, buildings })).not.toEqual(a);
    const later = generateDemoEvents({ seed: 7, anchor: new Date(anchor.getTime() + 86_400_000), buildings });
    const day = (d: Date) => new Date(d.getTime() + 86_400_000);
    expect(later).toEqual(a.map((e) => ({ ...e, occurredAt: day(e.occurredAt), reportedAt: day(e.reportedAt), steps: e.steps.map((s) => ({ ...s, at: day(s.at) })) })));
  });

  it('lie in the 60 days before the anchor, steps in order and before it, with hot spots and a mix of categories', () => {
    const events = generateDemoEvents({ seed: 7, anchor, buildings });
    expect(events.length).toBe(300);
    const from = anchor.getTime() - 60 * 86_400_000;
    for (const e of events) {
      expect(e.reportedAt.getTime()).toBeGreaterThanOrEqual(from);
      expect(e.reportedAt.getTime()).toBeLessThan(anchor.getTime());
      expect(e.occurredAt.getTime()).toBeLessThanOrEqual(e.reportedAt.getTime());
      let t = e.reportedAt.getTime();
      for (const s of e.steps) {
        expect(s.at.getTime()).toBeGreaterThan(t);
        t = s.at.getTime();
      }
      expect(t).toBeLessThan(anchor.getTime());
    }
    const perHotspot = [0, 1, 2].map((k) => events.filter((e) => e.hotspot === k).length);
    for (const n of perHotspot) expect(n).toBeGreaterThanOrEqual(15);
    expect(new Set(events.map((e) => e.categoryCode)).size).toBeGreaterThanOrEqual(15);
    const last = (e: (typeof events)[number]) => e.steps[e.steps.length - 1]?.action ?? 'report';
    const finals = new Set(events.map(last));
    expect([...finals].sort()).toEqual(['accept', 'close', 'dispatch', 'reject', 'report', 'resolve', 'start', 'verify'].sort());
    const old = events.filter((e) => e.reportedAt.getTime() < anchor.getTime() - 14 * 86_400_000);
    expect(old.filter((e) => last(e) === 'close').length / old.length).toBeGreaterThan(0.8);
  });
});
