import { describe, expect, it } from 'vitest';
import { permissionsOf, type Principal } from './principal';
import { PrincipalCache } from './principal-cache';

const principal = (userId: number): Principal => ({ kind: 'user', userId, username: `u${userId}`, roles: ['dispatcher'], permissions: permissionsOf(['dispatcher']), scope: { all: true, prefixes: [] }, mustChangePassword: false });

/** A lookup the test settles by hand, counting how often it was started. */
function manualLookUp(): { started: () => number; lookUp: () => Promise<Principal>; settle: (p: Principal | Error) => void } {
  let count = 0;
  const pending: Array<(p: Principal | Error) => void> = [];
  return {
    started: () => count,
    lookUp: () => {
      count += 1;
      return new Promise<Principal>((resolve, reject) => pending.push((p) => (p instanceof Error ? reject(p) : resolve(p))));
    },
    settle: (p) => {
      for (const f of pending.splice(0)) f(p);
    },
  };
}

describe('PrincipalCache.lookUpOnce', () => {
  it('lets concurrent requests with one token share one lookup, and looks up again once it settled', async () => {
    const cache = new PrincipalCache();
    const m = manualLookUp();
    const answers = Array.from({ length: 20 }, () => cache.lookUpOnce('wga_token', m.lookUp));
    expect(m.started()).toBe(1);
    m.settle(principal(7));
    expect((await Promise.all(answers)).map((p) => p.userId)).toEqual(Array(20).fill(7));
    const again = cache.lookUpOnce('wga_token', m.lookUp);
    expect(m.started()).toBe(2);
    m.settle(principal(7));
    await again;
  });

  it('shares a refusal, and does not keep it', async () => {
    const cache = new PrincipalCache();
    const m = manualLookUp();
    const a = cache.lookUpOnce('wga_bad', m.lookUp);
    const b = cache.lookUpOnce('wga_bad', m.lookUp);
    m.settle(new Error('The bearer token is not valid.'));
    await expect(a).rejects.toThrow('not valid');
    await expect(b).rejects.toThrow('not valid');
    void cache.lookUpOnce('wga_bad', m.lookUp).catch(() => undefined);
    expect(m.started()).toBe(2);
    m.settle(new Error('still not valid'));
  });

  it('does not answer a request that arrives after an invalidation from a lookup that started before it', async () => {
    const cache = new PrincipalCache();
    const m = manualLookUp();
    const before = cache.lookUpOnce('wga_token', m.lookUp);
    cache.forgetUser(7); // e.g. the token was revoked meanwhile
    const after = cache.lookUpOnce('wga_token', m.lookUp);
    expect(m.started()).toBe(2);
    const third = cache.lookUpOnce('wga_token', m.lookUp); // joins the newer lookup
    expect(m.started()).toBe(2);
    m.settle(principal(7));
    await Promise.all([before, after, third]);
  });

  it('keeps different tokens apart', () => {
    const cache = new PrincipalCache();
    const m = manualLookUp();
    void cache.lookUpOnce('wga_one', m.lookUp);
    void cache.lookUpOnce('wga_two', m.lookUp);
    expect(m.started()).toBe(2);
    m.settle(principal(1));
  });
});
