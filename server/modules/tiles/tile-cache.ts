/**
 * Tiles cached in memory, keyed by layer, layout, z/x/y and the layer's data version. Versions follow
 * `data_versions` through NOTIFY (migrations/0009_data_versions.sql): an edit, import or publish bumps
 * the version and every process forgets that layer's tiles. While the LISTEN connection is down the
 * cache is bypassed, because it could not hear about changes.
 */
import { hash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, brotliCompressSync, constants, gzip, gzipSync, type BrotliOptions, type ZlibOptions } from 'node:zlib';
import type { TileEncoding } from './accept-encoding';

export interface CachedTile {
  /** Uncompressed MVT, as PostGIS built it (the ETag is its hash, whatever the encoding sent). */
  raw: Buffer;
  /**
   * The tile compressed, per encoding: made on the first request that needs it (`TileCache.encoded`) and kept
   * with the tile, so a 304 or a client without compression never pays for compressing.
   */
  gzip?: Buffer;
  br?: Buffer;
  etag: string;
}

interface Entry {
  key: string;
  tile: CachedTile;
  /** Used since it last came up for eviction (second chance, see evictOverLimits). */
  used: boolean;
  /** Bytes held: the raw tile and every encoding made of it so far. */
  bytes: number;
}

export function etagFor(raw: Buffer): string {
  return `W/"${hash('sha1', raw, 'base64url')}"`;
}

/**
 * Level 1: MVT compresses almost as well as at the default level (a 13.7 KB z15 events tile: 5,409 B
 * at level 1, 5,155 B at 6) for under half the CPU (about 120 µs against 280 µs).
 */
const GZIP_OPTIONS: ZlibOptions = { level: 1 };
/**
 * Quality 1: the size of gzip level 1 for half its CPU (84 z15 events tiles of 8.6 KB on average: 58.4 %
 * of the bytes in ~61 µs a tile, gzip 57.6 % in ~123 µs). Quality 2 is 2 % smaller for 78 µs, 0 is 13 %
 * larger for 45 µs. A window below 16 bits makes it slower, not faster (README "Benchmarks").
 */
function brotliOptions(size: number): BrotliOptions {
  return { params: { [constants.BROTLI_PARAM_QUALITY]: 1, [constants.BROTLI_PARAM_SIZE_HINT]: size } };
}
/**
 * Tiles up to this size are compressed inline, on the event loop; only larger ones go to libuv's thread
 * pool. Handing a tile to the pool costs more CPU than compressing it: a 17.7 KB z15 events tile took
 * ~75 µs of CPU inline against 200–300 µs through zlib.gzip (a zlib stream, its ~300 KB of state set up
 * in a pool thread, and the callback), and on a 2-core machine PostgreSQL, not the event loop, needs that
 * CPU (README "Benchmarks"). Past 64 KB (~0.3 ms inline) the event loop's latency matters more.
 */
const INLINE_COMPRESS_MAX_BYTES = 64 * 1024;
const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

function compressInline(raw: Buffer, encoding: TileEncoding): Buffer {
  return encoding === 'br' ? brotliCompressSync(raw, brotliOptions(raw.length)) : gzipSync(raw, GZIP_OPTIONS);
}

/**
 * These bytes in memory of their own. zlib hands back a slice of its 16 KiB output chunk, and Node's
 * small buffers are slices of a shared 8 KiB slab: kept in the cache, a 2 KB slice would hold its whole
 * chunk (5,000 cached tiles counted 20 MiB and held 167 MiB). A copy of a tile costs well under 1 µs.
 */
export function ownBytes(buf: Buffer): Buffer {
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.length) return buf;
  const own = Buffer.allocUnsafeSlow(buf.length);
  buf.copy(own);
  return own;
}

function compressInPool(raw: Buffer, encoding: TileEncoding): Promise<Buffer> {
  return encoding === 'br' ? brotliAsync(raw, brotliOptions(raw.length)) : gzipAsync(raw, GZIP_OPTIONS);
}

/**
 * A tile in this encoding, compressed on first use and kept with it (so a cached tile is compressed once
 * per encoding). Revalidations answered 304 and clients without compression never pay for it.
 */
export async function encodedTile(tile: CachedTile, encoding: TileEncoding): Promise<Buffer> {
  const kept = tile[encoding];
  if (kept) return kept;
  if (tile.raw.length <= INLINE_COMPRESS_MAX_BYTES) {
    const encoded = ownBytes(compressInline(tile.raw, encoding));
    tile[encoding] = encoded;
    return encoded;
  }
  // In the pool a large tile takes a while: requests for it meanwhile wait for the same compression.
  const pending = inPool.get(tile) ?? {};
  inPool.set(tile, pending);
  const running = pending[encoding] ?? compressInPool(tile.raw, encoding).then((compressed) => {
    const encoded = ownBytes(compressed);
    tile[encoding] = encoded;
    return encoded;
  }).finally(() => {
    delete pending[encoding];
  });
  pending[encoding] = running;
  return running;
}

/** Compressions of large tiles under way in the thread pool, per tile and encoding. */
const inPool = new WeakMap<CachedTile, Partial<Record<TileEncoding, Promise<Buffer>>>>();

export interface TileCacheLimits {
  /** Tiles kept at most. */
  maxEntries?: number;
  /**
   * Bytes kept at most: raw tiles and their encodings (TILE_CACHE_MB). Tiles differ a hundredfold in
   * size (a grids tile ~1 KB, a dense buildings tile 100 KB and more), so a count alone bounds nothing.
   */
  maxBytes?: number;
}

export class TileCache {
  private readonly entries = new Map<string, Entry>();
  /** The entry holding a tile, to count its encodings when they are made after it was cached. */
  private readonly entryOf = new WeakMap<CachedTile, Entry>();
  private held = 0;
  private readonly versions = new Map<string, number>();
  private live = false;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(limits: TileCacheLimits = {}) {
    this.maxEntries = limits.maxEntries ?? 20_000;
    this.maxBytes = limits.maxBytes ?? 256 * 1024 * 1024;
  }

  /** Whether cached tiles may be served (versions are known and being followed). */
  get enabled(): boolean {
    return this.live;
  }

  setLive(live: boolean): void {
    this.live = live;
    if (!live) {
      this.entries.clear();
      this.held = 0;
    }
  }

  setVersions(versions: Iterable<[string, number]>): void {
    for (const [layer, version] of versions) this.bump(layer, version);
  }

  /** A layer's data changed: forget every tile that depends on it. */
  bump(layer: string, version?: number): void {
    this.versions.set(layer, version ?? (this.versions.get(layer) ?? 0) + 1);
    const part = `${layer}:`;
    for (const [key, entry] of this.entries) {
      const versions = key.slice(0, key.indexOf('|'));
      if (versions.split(',').some((v) => v.startsWith(part))) this.remove(entry);
    }
  }

  /**
   * The cache key of a tile made from the data of `dependsOn` (data_versions layers, e.g. a grid tile
   * that also carries its community's name: grids and divisions): their current versions, then the
   * tile's own key. A change to any of them gives new keys, and `bump` drops the old entries.
   */
  key(dependsOn: readonly string[], tileKey: string): string {
    let versions = '';
    for (const layer of dependsOn) versions += `${versions === '' ? '' : ','}${layer}:${this.versions.get(layer) ?? 0}`;
    return `${versions}|${tileKey}`;
  }

  get(key: string): CachedTile | undefined {
    if (!this.live) return undefined;
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    // A hit only marks the entry: the hot path writes one boolean, and eviction does the reordering.
    hit.used = true;
    return hit.tile;
  }

  set(key: string, tile: CachedTile): void {
    if (!this.live) return;
    const old = this.entries.get(key);
    if (old) this.remove(old);
    // A tile over the whole limit is served but not kept (making room for it would empty the cache).
    if (bytesOf(tile) > this.maxBytes) return;
    const entry: Entry = { key, tile, used: false, bytes: bytesOf(tile) };
    this.entries.set(key, entry);
    this.entryOf.set(tile, entry);
    this.held += entry.bytes;
    this.evictOverLimits();
  }

  /**
   * The tile in this encoding (encodedTile), counted against the byte limit when the tile is cached:
   * encodings are made on first use, after the tile went in.
   */
  async encoded(tile: CachedTile, encoding: TileEncoding): Promise<Buffer> {
    const kept = tile[encoding];
    if (kept) return kept;
    const encoded = await encodedTile(tile, encoding);
    const entry = this.entryOf.get(tile);
    if (entry && this.entries.get(entry.key) === entry) {
      // Being sent right now: a use.
      entry.used = true;
      const bytes = bytesOf(tile);
      this.held += bytes - entry.bytes;
      entry.bytes = bytes;
      if (bytes > this.maxBytes) this.remove(entry);
      else this.evictOverLimits();
    }
    return encoded;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Bytes held by the cached tiles and their encodings. */
  get bytes(): number {
    return this.held;
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry.key);
    this.held -= entry.bytes;
  }

  /**
   * Second chance ("clock"), oldest insertion first, until both limits hold: an entry used since it last
   * came up goes to the back unmarked, an unused one goes. A tile used at least once per trip through
   * the cache is never evicted, and hits cost no reordering (re-inserting on every hit cost ~5 µs a
   * cached tile, a sixth of its CPU).
   */
  private evictOverLimits(): void {
    while (this.entries.size > this.maxEntries || this.held > this.maxBytes) {
      const oldest = this.entries.values().next().value;
      if (oldest === undefined) return;
      if (oldest.used) {
        oldest.used = false;
        this.entries.delete(oldest.key);
        this.entries.set(oldest.key, oldest);
      } else {
        this.remove(oldest);
      }
    }
  }
}

function bytesOf(tile: CachedTile): number {
  return tile.raw.length + (tile.gzip?.length ?? 0) + (tile.br?.length ?? 0);
}
