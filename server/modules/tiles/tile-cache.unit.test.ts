import { randomBytes } from 'node:crypto';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { etagFor, encodedTile, ownBytes, TileCache, type CachedTile } from './tile-cache';

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

  it('evicts a tile not used since it last came up first (second chance)', () => {
    const cache = liveCache(4);
    for (const k of ['a', 'b', 'c', 'd']) cache.set(`roads|0|${k}`, tile(k));
    // a and b are the oldest, but used: they get a second chance, and c and d, unused, go.
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
    const gridKey = cache.key(['grids'], 'grids//15/1/2');
    const roadKey = cache.key(['roads'], 'roads//15/1/2');
    cache.set(gridKey, tile('g'));
    cache.set(roadKey, tile('r'));
    cache.bump('grids');
    expect(cache.get(gridKey)).toBeUndefined();
    expect(cache.key(['grids'], 'grids//15/1/2')).not.toBe(gridKey);
    expect(cache.get(roadKey)?.raw.toString()).toBe('r');
  });

  it('a tile made from two layers is forgotten when either changes', () => {
    const cache = liveCache(100);
    const gridKey = cache.key(['grids', 'divisions'], 'grids//15/1/2');
    const roadKey = cache.key(['roads'], 'roads//15/1/2');
    cache.set(gridKey, tile('g'));
    cache.set(roadKey, tile('r'));
    cache.bump('divisions');
    expect(cache.get(gridKey)).toBeUndefined();
    expect(cache.get(roadKey)?.raw.toString()).toBe('r');
    const again = cache.key(['grids', 'divisions'], 'grids//15/1/2');
    expect(again).not.toBe(gridKey);
    cache.set(again, tile('g2'));
    cache.bump('grids');
    expect(cache.get(again)).toBeUndefined();
    expect(cache.size).toBe(1);
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
    // ...a tile that does not compress pushes out as many of the least recently used as it needs: b was
    // just used (it moved behind c and d), so c and d go.
    const noise: CachedTile = { raw: randomBytes(400), etag: 'W/"n"' };
    cache.set('buildings|0|n', noise);
    // (Counted in bytes: a get would itself mark b as used.)
    expect(cache.size).toBe(2);
    expect(cache.bytes).toBe(700 + (b.br?.length ?? 0));
    expect(cache.get('buildings|0|c')).toBeUndefined();
    expect(cache.get('buildings|0|d')).toBeUndefined();
    // Its gzip (~420 bytes) needs room too: b, now the least recently used, goes.
    await cache.encoded(noise, 'gzip');
    expect(cache.get('buildings|0|b')).toBeUndefined();
    expect(cache.get('buildings|0|n')).toBe(noise);
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(noise.raw.length + (noise.gzip?.length ?? 0));
  });

  it('keeps a tile in use when bytes, not the count, are the limit', () => {
    const cache = liveCache(1_000, 1_000);
    cache.set('buildings|0|hot', tile('h'.repeat(100)));
    for (let i = 0; i < 50; i += 1) {
      cache.set(`buildings|0|cold${i}`, tile(String(i % 10).repeat(100)));
      expect(cache.get('buildings|0|hot')?.raw.length).toBe(100);
    }
    expect(cache.size).toBe(10);
    expect(cache.bytes).toBe(1_000);
    expect(cache.get('buildings|0|cold40')).toBeUndefined();
    expect(cache.get('buildings|0|cold49')).toBeDefined();
  });

  it('a tile over the whole limit is not kept, and does not push the others out', async () => {
    const cache = liveCache(1_000, 1_000);
    for (const k of ['a', 'b', 'c']) cache.set(`buildings|0|${k}`, tile(k.repeat(300)));
    cache.set('buildings|0|huge', tile('x'.repeat(1_001)));
    expect(cache.get('buildings|0|huge')).toBeUndefined();
    expect(cache.size).toBe(3);
    expect(cache.bytes).toBe(900);
    // An encoding that takes one tile over the limit drops that tile only.
    const cache2 = liveCache(1_000, 1_000);
    cache2.set('buildings|0|a', tile('a'.repeat(300)));
    const noise: CachedTile = { raw: randomBytes(600), etag: 'W/"n"' };
    cache2.set('buildings|0|n', noise);
    await cache2.encoded(noise, 'gzip');
    expect(cache2.get('buildings|0|n')).toBeUndefined();
    expect(cache2.get('buildings|0|a')?.raw.length).toBe(300);
    expect(cache2.bytes).toBe(300);
  });

  it('keeps no tile larger than the byte limit, and forgets bytes with the tiles', () => {
    const cache = liveCache(1_000, 100);
    cache.set('buildings|0|huge', tile('x'.repeat(101)));
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
    cache.set(cache.key(['grids'], 'a'), tile('a'.repeat(40)));
    cache.set(cache.key(['roads'], 'b'), tile('b'.repeat(40)));
    cache.bump('grids');
    expect(cache.bytes).toBe(40);
    cache.set(cache.key(['roads'], 'b'), tile('b'.repeat(30)));
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
  it('compresses a small and a large tile (over the inline limit) once per encoding, into buffers of their own', async () => {
    // A small tile and one over the inline limit (half random, so it does not shrink to nothing).
    for (const raw of [Buffer.from('a small tile '.repeat(10)), Buffer.concat([randomBytes(40_000), Buffer.alloc(40_000, 7)])]) {
      const tile: CachedTile = { raw, etag: etagFor(raw) };
      const zipped = await encodedTile(tile, 'gzip');
      expect(gunzipSync(zipped).equals(raw)).toBe(true);
      // Not a slice of zlib's 16 KiB output chunk: the cache counts what it holds.
      expect(zipped.buffer.byteLength).toBe(zipped.length);
      expect(zipped.length).toBeLessThan(raw.length);
      expect(tile.gzip).toBe(zipped);
      expect(await encodedTile(tile, 'gzip')).toBe(zipped);
      expect(tile.br).toBeUndefined();
      const br = await encodedTile(tile, 'br');
      expect(brotliDecompressSync(br).equals(raw)).toBe(true);
      expect(br.buffer.byteLength).toBe(br.length);
      expect(br.length).toBeLessThan(raw.length);
      expect(tile.br).toBe(br);
      expect(await encodedTile(tile, 'br')).toBe(br);
      expect(tile.gzip).toBe(zipped);
    }
  });
});

describe('compressing a large tile for requests that arrive together', () => {
  it('compresses it once: every request gets the same bytes', async () => {
    const raw = Buffer.concat([randomBytes(40_000), Buffer.alloc(40_000, 7)]);
    const tile: CachedTile = { raw, etag: etagFor(raw) };
    const [a, b, c] = await Promise.all([encodedTile(tile, 'br'), encodedTile(tile, 'br'), encodedTile(tile, 'gzip')]);
    expect(a).toBe(b);
    expect(a).toBe(tile.br);
    expect(c).toBe(tile.gzip);
    expect(brotliDecompressSync(a).equals(raw)).toBe(true);
    expect(gunzipSync(c).equals(raw)).toBe(true);
  });
});

describe('ownBytes', () => {
  it('copies a slice out of a larger memory block, and leaves a buffer that owns its memory alone', () => {
    const block = Buffer.alloc(16_384, 1);
    const slice = block.subarray(100, 2_100);
    const own = ownBytes(slice);
    expect(own.equals(slice)).toBe(true);
    expect(own.buffer.byteLength).toBe(2_000);
    expect(ownBytes(own)).toBe(own);
    // Node's small buffers share an 8 KiB slab.
    const pooled = Buffer.from('a small tile');
    expect(ownBytes(pooled).buffer.byteLength).toBe(pooled.length);
  });
});
