import { describe, expect, it } from 'vitest';
import { StatementNames } from './tile-statements';

describe('tile statement names', () => {
  it('gives one text one stable name, different texts different names, valid as PostgreSQL identifiers', () => {
    const names = new StatementNames('wangge_tile_', 10);
    const a = names.nameOf('SELECT ST_AsMVT(t) FROM t WHERE z = $1');
    const b = names.nameOf('SELECT ST_AsMVT(t) FROM t WHERE z = $2');
    expect(a).toMatch(/^wangge_tile_[0-9a-f]{24}$/);
    expect(b).toMatch(/^wangge_tile_[0-9a-f]{24}$/);
    expect(a).not.toBe(b);
    expect(names.nameOf('SELECT ST_AsMVT(t) FROM t WHERE z = $1')).toBe(a);
    // A second registry (another process) names the same text the same way.
    expect(new StatementNames('wangge_tile_', 10).nameOf('SELECT ST_AsMVT(t) FROM t WHERE z = $1')).toBe(a);
    expect(a!.length).toBeLessThanOrEqual(63);
  });

  it('stops naming new texts at its limit, and keeps the names it gave', () => {
    const names = new StatementNames('s_', 3);
    const given = ['q1', 'q2', 'q3'].map((q) => names.nameOf(q));
    expect(given.every((n) => n !== undefined)).toBe(true);
    expect(names.nameOf('q4')).toBeUndefined();
    expect(names.size).toBe(3);
    expect(['q1', 'q2', 'q3'].map((q) => names.nameOf(q))).toEqual(given);
  });
});
