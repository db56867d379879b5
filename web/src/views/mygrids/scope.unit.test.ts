import { describe, expect, it } from 'vitest';
import { countText, divisionsOfScope, gridInScope } from './scope';

describe('my grids: scope', () => {
  it('asks for the community of a grid code, and a division code as it is', () => {
    expect(divisionsOfScope({ all: false, prefixes: ['410199001001003'] })).toEqual(['410199001001']);
    expect(divisionsOfScope({ all: false, prefixes: ['410199001'] })).toEqual(['410199001']);
  });

  it('asks once for two grids of one community, and not for a community under a street already asked', () => {
    expect(divisionsOfScope({ all: false, prefixes: ['410199001001003', '410199001001007'] })).toEqual(['410199001001']);
    expect(divisionsOfScope({ all: false, prefixes: ['410199001002004', '410199001'] })).toEqual(['410199001']);
    expect(divisionsOfScope({ all: false, prefixes: ['410199001001003', '410199002003001'] })).toEqual(['410199001001', '410199002003']);
  });

  it('has no divisions to ask for an everything scope, or an empty one', () => {
    expect(divisionsOfScope({ all: true, prefixes: [] })).toBeNull();
    expect(divisionsOfScope({ all: false, prefixes: [] })).toEqual([]);
  });

  it('keeps the grids under a prefix only', () => {
    const scope = { all: false, prefixes: ['410199001001003', '410199001002'] };
    expect(gridInScope(scope, '410199001001003')).toBe(true);
    expect(gridInScope(scope, '410199001001004')).toBe(false);
    expect(gridInScope(scope, '410199001002011')).toBe(true);
    expect(gridInScope(scope, null)).toBe(false);
    expect(gridInScope({ all: true, prefixes: [] }, '410199001001004')).toBe(true);
  });

  it('counts a full page as "at least"', () => {
    expect(countText(12, false)).toBe('12');
    expect(countText(500, true)).toBe('500+');
  });
});
