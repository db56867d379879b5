import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatchResultSchema, type DispatchResult } from '../../contracts/dispatch';
import { serializeDispatchResult } from './dispatch-serialize';
import { isoInstant } from './dispatch.service';

// The reference: what Fastify's schema serializer sends for the contract (it keeps only the contract's fields).
const reference = Fastify();
let current: unknown;
reference.get('/', { schema: { response: { 200: DispatchResultSchema } } }, async () => current);
beforeAll(() => reference.ready());
afterAll(() => reference.close());

async function viaSchema(answer: unknown): Promise<string> {
  current = answer;
  const res = await reference.inject({ url: '/' });
  expect(res.statusCode).toBe(200);
  return res.body;
}

const names = Object.freeze({
  district: Object.freeze({ code: '410105', name: '金水区' }),
  street: Object.freeze({ code: '410105001', name: '花园路街道' }),
  community: Object.freeze({ code: '410105001001', name: '示范"社区"\\ 1' }),
});
const grid = Object.freeze({ id: 7, code: '410105001001007', name: '第7网格', kind: 'general', layoutId: 3, layoutEffectiveFrom: '2025-01-01T00:00:00.000Z', match: 'covers' as const, distanceM: 0 });
const staff = Object.freeze([
  Object.freeze({ staffId: 11, staffCode: 'S011', name: '张三', phone: '13800000011', role: 'grid_leader' }),
  Object.freeze({ staffId: 12, staffCode: 'S012', name: 'Line\nbreak\ttab', phone: null, role: 'full_time_worker' }),
]);

function inGrid(overrides: Partial<DispatchResult> = {}): DispatchResult {
  return {
    position: { lon: 113.6012345, lat: 34.7598765, crs: 'wgs84' },
    at: '2025-03-03T01:30:00.000Z',
    status: 'in_grid',
    message: 'Inside grid 410105001001007 第7网格.',
    ...names,
    grid,
    ambiguous: false,
    candidates: [],
    staff: staff as DispatchResult['staff'],
    onDuty: [{ staffId: 12, staffCode: 'S012', name: '李四', phone: null, role: 'full_time_worker', level: 'grid', via: 'weekly', scopeCode: '410105001001007' }],
    responder: { staffId: 12, staffCode: 'S012', name: '李四', phone: null, role: 'full_time_worker', step: 'grid_on_duty' },
    fallback: [{ step: 'grid_on_duty', outcome: 'used', reason: 'on duty in grid 410105001001007 at 2025-03-03 09:30 (Asia/Shanghai)' }],
    source: 'memory',
    ...overrides,
  };
}

describe('serializeDispatchResult', () => {
  const cases: Array<[string, DispatchResult]> = [
    ['inside a grid (shared, frozen parts)', inGrid()],
    ['the same again (JSON text of shared parts reused)', inGrid({ position: { lon: -0.5, lat: 1e-7, crs: 'gcj02' } })],
    // The head's shortcut (plain ASCII instant) must not apply to an instant that needs escaping or UTF-8.
    ['an instant that needs escaping (quote, backslash, non-ASCII)', inGrid({ at: '2025-03-03T01:30:00.000Z "\\ 时' })],
    ['the plain instant again after it', inGrid({ position: { lon: 113.5, lat: 34.5, crs: 'bd09' } })],
    [
      'on a shared edge, with candidates',
      inGrid({ ambiguous: true, candidates: [{ id: 8, code: '410105001001008', name: '第8网格', layoutId: 3 }, { id: 9, code: '410105001001009', name: 'x', layoutId: 3 }] }),
    ],
    [
      'nearest grid (a grid built per request), emoji and control characters',
      inGrid({
        status: 'nearest_grid',
        grid: { ...grid, match: 'nearest', distanceM: 3.66, name: 'grid 😀 \u0001 </script>' },
        message: 'Outside every grid; "quoted" \\ back',
        source: 'postgis',
      }),
    ],
    [
      'community only: no grid, no staff, nobody on duty',
      inGrid({
        status: 'community_only',
        grid: null,
        staff: [],
        onDuty: [],
        responder: null,
        fallback: [
          { step: 'grid_on_duty', outcome: 'skipped', reason: 'no grid' },
          { step: 'grid_leader', outcome: 'skipped', reason: 'no grid' },
          { step: 'community_duty_officer', outcome: 'none', reason: 'nobody' },
        ],
      }),
    ],
    [
      'on-duty list, responder and chain shared within a steady minute (frozen)',
      (() => {
        const a = inGrid();
        return {
          ...a,
          onDuty: Object.freeze(a.onDuty.map((d) => Object.freeze(d))) as DispatchResult['onDuty'],
          responder: Object.freeze(a.responder),
          fallback: Object.freeze(a.fallback.map((f) => Object.freeze(f))) as DispatchResult['fallback'],
        };
      })(),
    ],
    ['outside everything', inGrid({ status: 'outside', district: null, street: null, community: null, grid: null, staff: [], onDuty: [], responder: null, fallback: [] })],
  ];

  it.each(cases)('%s: byte for byte what the contract serializer sends', async (_name, answer) => {
    // Twice: the second answer reuses the UTF-8 of its shared (frozen) parts.
    expect(serializeDispatchResult(answer).equals(serializeDispatchResult(answer))).toBe(true);
    const text = serializeDispatchResult(answer).toString('utf8');
    expect(text).toBe(await viaSchema(answer));
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(answer)));
  });

  it('sends only the contract fields, whatever else an object carries', async () => {
    const answer = inGrid({ grid: { ...grid, secret: 'x' } as DispatchResult['grid'] });
    (answer as unknown as Record<string, unknown>).internal = { token: 'y' };
    const text = serializeDispatchResult(answer).toString('utf8');
    expect(text).not.toContain('secret');
    expect(text).not.toContain('internal');
    expect(text).toBe(await viaSchema(answer));
  });

  it('reuses the bytes of a shared answer only while every value is the same one', async () => {
    // One frozen chain, as within a steady minute; the answers around it differ one value at a time.
    const base = inGrid({
      onDuty: Object.freeze([]) as unknown as DispatchResult['onDuty'],
      candidates: Object.freeze([]) as unknown as DispatchResult['candidates'],
      responder: null,
      fallback: Object.freeze([Object.freeze({ step: 'grid_on_duty' as const, outcome: 'none' as const, reason: 'nobody' })]) as DispatchResult['fallback'],
    });
    const variants: DispatchResult[] = [
      base,
      { ...base, message: 'Another message.' },
      { ...base, status: 'nearest_grid' },
      { ...base, grid: Object.freeze({ ...grid, name: '第8网格' }) },
      { ...base, staff: Object.freeze([staff[0]!]) as DispatchResult['staff'] },
      { ...base, community: Object.freeze({ code: '410105001002', name: '另一社区' }) },
      { ...base, ambiguous: true, candidates: Object.freeze([Object.freeze({ id: 8, code: '410105001001008', name: '第8网格', layoutId: 3 })]) as DispatchResult['candidates'] },
      { ...base, source: 'postgis' },
      { ...base, position: { lon: 1, lat: 2, crs: 'bd09' }, at: '2030-01-01T00:00:00.000Z' },
      base,
    ];
    for (const answer of variants) {
      // Each twice, in this order: a kept rest must never answer for a different value.
      for (let i = 0; i < 2; i++) expect(serializeDispatchResult(answer).toString('utf8')).toBe(await viaSchema(answer));
    }
  });
});

describe('isoInstant', () => {
  it('formats like Date.prototype.toISOString, within a second and across seconds, days and the edges', () => {
    const instants = [0, 1, 9, 10, 99, 100, 999, 1000, 1_740_965_400_000, 1_740_965_400_007, 1_740_965_400_070, 1_740_965_400_700, 1_740_965_399_999, 1_740_965_400_000, 253_402_300_799_999];
    for (const ms of instants) expect(isoInstant(ms), String(ms)).toBe(new Date(ms).toISOString());
    // Outside its fast range it still answers exactly as Date does.
    for (const ms of [-1, -86_400_001, 253_402_300_800_000, 1.5]) expect(isoInstant(ms), String(ms)).toBe(new Date(ms).toISOString());
  });
});
