/**
 * Serving tiles: validate the address, answer from the cache when it is live, otherwise render with
 * PostGIS, gzip once, and remember both encodings.
 */
import { gzipSync } from 'node:zlib';
import type { Database } from '../../db/database';
import type { NotificationHub } from '../../db/notifications';
import { AppError } from '../../http/errors';
import { etagFor, TileCache, type CachedTile } from './tile-cache';
import { TILE_LAYERS, type TileLayerDefinition } from './tile-layers';
import { isTileableLayout, layerBounds, readDataVersions, renderTile } from './tile.repository';

export const DATA_CHANGED_CHANNEL = 'wangge_data_changed';

export function requireLayer(id: string): TileLayerDefinition {
  const layer = TILE_LAYERS[id];
  if (!layer) throw new AppError('NOT_FOUND', 404, `No tile layer "${id}". Layers: ${Object.keys(TILE_LAYERS).join(', ')}.`, { layer: id, layers: Object.keys(TILE_LAYERS) });
  return layer;
}

export function checkTileAddress(z: number, x: number, y: number): void {
  const n = 2 ** z;
  if (x >= n || y >= n) {
    throw new AppError('VALIDATION_FAILED', 400, `Tile ${z}/${x}/${y} does not exist: at zoom ${z}, x and y run from 0 to ${n - 1}.`, { in: 'params', z, x, y });
  }
}

export class TileService {
  readonly cache = new TileCache();

  constructor(private readonly db: Database) {}

  /** Follow data changes; the cache serves only while the notification connection is up. */
  attach(hub: NotificationHub): void {
    hub.on(DATA_CHANGED_CHANNEL, (layer) => this.cache.bump(layer));
    hub.onReconnect(() => {
      this.cache.setLive(false);
      if (!hub.connected) return;
      void readDataVersions(this.db)
        .then((versions) => {
          this.cache.setVersions(versions);
          this.cache.setLive(hub.connected);
        })
        .catch(() => this.cache.setLive(false));
    });
  }

  async tile(layerId: string, z: number, x: number, y: number, layoutId?: number): Promise<CachedTile> {
    const layer = requireLayer(layerId);
    checkTileAddress(z, x, y);
    if (layoutId !== undefined) {
      if (layer.id !== 'grids') throw new AppError('VALIDATION_FAILED', 400, 'Only the grids layer takes ?layout=.', { in: 'querystring', field: 'layout' });
      if (!(await isTileableLayout(this.db, layoutId))) throw new AppError('LAYOUT_NOT_FOUND', 404, `Layout ${layoutId} is not a published or archived layout.`, { layoutId });
    }
    const key = this.cache.key(layer.versionKey, `${layer.id}/${layoutId ?? ''}/${z}/${x}/${y}`);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const raw = await renderTile(this.db, layer, z, x, y, layoutId);
    // Level 1: tiles compress almost as well as at the default level, at a fraction of the CPU.
    const tile: CachedTile = { raw, gzip: gzipSync(raw, { level: 1 }), etag: etagFor(raw) };
    this.cache.set(key, tile);
    return tile;
  }

  async tileJson(layerId: string, baseUrl: string): Promise<Record<string, unknown>> {
    const layer = requireLayer(layerId);
    const bounds = await layerBounds(this.db, layer.id);
    return {
      tilejson: '3.0.0',
      name: layer.id,
      description: layer.description,
      scheme: 'xyz',
      tiles: [`${baseUrl}/tiles/${layer.id}/{z}/{x}/{y}.mvt`],
      minzoom: layer.minzoom,
      maxzoom: layer.maxzoom,
      bounds: bounds ?? [-180, -85.0511, 180, 85.0511],
      vector_layers: [{ id: layer.id, description: layer.description, minzoom: layer.minzoom, maxzoom: layer.maxzoom, fields: layer.fields }],
    };
  }
}
