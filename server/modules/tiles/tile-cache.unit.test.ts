import { randomBytes } from 'node:crypto';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { etagFor, encodedTile, TileCache, type CachedTile } from './tile-cache';

function tile(text: string): CachedTile {
  const raw = Buffer.from(text);
  return { raw, etag: etagFor(raw) };
}

function liveCache(maxEntries: number, maxBytes?: number): TileCache {
  const cache = new TileCache({ maxEntries, ...(maxBytes === undefined ? {} : { maxBytes }) });
  cache.setLive(true);
  return cache;
}

describe('tile cache', () => {
  it('keeps a tile that is used regularly while newer, unused tiles push older ones out', () => {
    const cache = liveCache(4);
    cache.set('grids|0|hot', tile('hot'));
    for (let i = 0; i < 40; i += 1) {
      cache.set(`grids|0|cold${i}`, tile(`cold${i}`));
      expect(cache.get('grids|0|hot')?.raw.toString()).toBe('hot');
    }
    expect(cache.size).toBe(4);
    // The unused tiles went oldest first: only the newest ones are left besides the hot one.
    expect(cache.get('grids|0|cold0')).toBeUndefined();
    expect(cache.get('grids|0|cold36')).toBeUndefined();
    expect(cache.get('grids|0|cold39')?.raw.toString()).toBe('cold39');
  });

  it('evicts the least recently used tile first', () => {
    const cache = liveCache(4);
    for (const k of ['a', 'b', 'c', 'd']) cache.set(`roads|0|${k}`, tile(k));
    // a, b are the older half: touching them moves them behind c and d.
    expect(cache.get('roads|0|a')).toBeDefined();
    expect(cache.get('roads|0|b')).toBeDefined();
    cache.set('roads|0|e', tile('e'));
    cache.set('roads|0|f', tile('f'));
    expect(cache.get('roads|0|c')).toBeUndefined();
    expect(cache.get('roads|0|d')).toBeUndefined();
    expect(['a', 'b', 'e', 'f'].map((k) => cache.get(`roads|0|${k}`)?.raw.toString())).toEqual(['a', 'b', 'e', 'f']);
  });

  it('replacing a key keeps one entry with the new tile', () => {
    const cache = liveCache(4);
    cache.set('grids|0|t', tile('old'));
    cache.set('grids|0|t', tile('new'));
    expect(cache.size).toBe(1);
    expect(cache.get('grids|0|t')?.raw.toString()).toBe('new');
  });

  it('a bumped layer forgets its tiles and changes its keys; other layers keep theirs', () => {
    const cache = liveCache(100);
    const gridKey = cache.key('grids', 'grids//15/1/2');
    const roadKey = cache.key('roads', 'roads//15/1/2');
    cache.set(gridKey, tile('g'));
    cache.set(roadKey, tile('r'));
    cache.bump('grids');
    expect(cache.get(gridKey)).toBeUndefined();
    expect(cache.key('grids', 'grids//15/1/2')).not.toBe(gridKey);
    expect(cache.get(roadKey)?.raw.toString()).toBe('r');
  });

  it('serves nothing and stores nothing while not live', () => {
    const cache = liveCache(100);
    cache.set('grids|0|t', tile('t'));
    cache.setLive(false);
    expect(cache.get('grids|0|t')).toBeUndefined();
    cache.set('grids|0|u', tile('u'));
    cache.setLive(true);
    expect(cache.size).toBe(0);
  });

  it('holds at most maxBytes of tiles and encodings, the least recently used going first', async () => {
    const cache = liveCache(1_000, 1_000);
    const big = (c: string): CachedTile => tile(c.repeat(300));
    cache.set('buildings|0|a', big('a'));
    cache.set('buildings|0|b', big('b'));
    cache.set('buildings|0|c', big('c'));
    expect(cache.bytes).toBe(900);
    // A fourth pushes the oldest out, whatever the count limit says.
    cache.set('buildings|0|d', big('d'));
    expect(cache.size).toBe(3);
    expect(cache.bytes).toBe(900);
    expect(cache.get('buildings|0|a')).toBeUndefined();
    // An encoding made later counts too: b's Brotli (a few bytes of 300 repeated letters) still fits...
    const b = cache.get('buildings|0|b');
    if (!b) throw new Error('b was evicted');
    await cache.encoded(b, 'br');
    expect(cache.bytes).toBe(900 + (b.br?.length ?? 0));
    expect(cache.size).toBe(3);
    // ...a tile that does not compress pushes out as many old ones as its encodings need.
    const noise: CachedTile = { raw: randomBytes(400), etag: 'W/"n"' };
    cache.set('buildings|0|n', noise);
    expect(cache.get('buildings|0|b')).toBeUndefined();
    await cache.encoded(noise, 'gzip');
    expect(cache.bytes).toBeLessThanOrEqual(1_000);
    expect(cache.get('buildings|0|n')).toBe(noise);
    // Its gzip (~420 bytes) needed room for 2 more: c and d, the oldest, went.
    expect(cache.get('buildings|0|c')).toBeUndefined();
    expect(cache.get('buildings|0|d')).toBeUndefined();
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(noise.raw.length + (noise.gzip?.length ?? 0));
  });

  it('keeps no tile larger than the byte limit, and forgets bytes with the tiles', () => {
    const cache = liveCache(1_000, 100);
    cache.set('buildings|0|huge', tile('x'.repeat(101)));
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
    cache.set('grids|0|a', tile('a'.repeat(40)));
    cache.set('roads|0|b', tile('b'.repeat(40)));
    cache.bump('grids');
    expect(cache.bytes).toBe(40);
    cache.set('roads|0|b', tile('b'.repeat(30)));
    expect(cache.bytes).toBe(30);
    cache.setLive(false);
    expect(cache.bytes).toBe(0);
  });

  it('the ETag is a weak quoted hash (one tag for every encoding) that differs when the bytes differ', () => {
    expect(etagFor(Buffer.from('a'))).toMatch(/^W\/"[A-Za-z0-9_-]{27}"$/);
    expect(etagFor(Buffer.from('a'))).toBe(etagFor(Buffer.from('a')));
    expect(etagFor(Buffer.from('a'))).not.toBe(etagFor(Buffer.from('b')));
  });
});

describe('compressing a tile', () => {
  it('compresses small tiles inline and large ones in the thread pool, once per encoding, to the same bytes', async () => {
    // A small tile and one over the inline limit (half random, so it does not shrink to nothing).
    for (const raw of [Buffer.from('a small tile '.repeat(10)), Buffer.concat([randomBytes(40_000), Buffer.alloc(40_000, 7)])]) {
      const tile: CachedTile = { raw, etag: etagFor(raw) };
      const zipped = await encodedTile(tile, 'gzip');
      expect(gunzipSync(zipped).equals(raw)).toBe(true);
      expect(zipped.length).toBeLessThan(raw.length);
      expect(tile.gzip).toBe(zipped);
      expect(await encodedTile(tile, 'gzip')).toBe(zipped);
      expect(tile.br).toBeUndefined();
      const br = await encodedTile(tile, 'br');
      expect(brotliDecompressSync(br).equals(raw)).toBe(true);
      expect(br.length).toBeLessThan(raw.length);
      expect(tile.br).toBe(br);
      expect(await encodedTile(tile, 'br')).toBe(br);
      expect(tile.gzip).toBe(zipped);
    }
  });
});
