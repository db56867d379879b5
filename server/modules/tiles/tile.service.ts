/**
 * Serving tiles: validate the address, answer from the cache when it is live, otherwise render with
 * PostGIS; gzip on the first request that wants it, and remember both encodings.
 */
import { EVENT_STATES } from '../../contracts/events';
import type { Principal, Scope } from '../../auth/principal';
import type { Database } from '../../db/database';
import type { NotificationHub } from '../../db/notifications';
import { AppError } from '../../http/errors';
import type { TileEncoding } from './accept-encoding';
import { etagFor, ownBytes, TileCache, type CachedTile, type TileCacheLimits } from './tile-cache';
import { TILE_LAYERS, type TileLayerDefinition } from './tile-layers';
import { eventBounds, isTileableLayout, layerBounds, readDataVersions, renderEventTile, renderTile } from './tile.repository';
import { EVENT_CELL_FIELDS, EVENT_MAXZOOM, EVENT_MINZOOM, EVENT_POINT_FIELDS, EVENT_POINT_MINZOOM, type EventTileFilter } from './event-tiles';
import { DATA_CHANGED_CHANNEL } from '../../db/data-changes';

/** Query filters of an event tile (all optional). */
export interface EventTileQuery {
  category?: string;
  /** Comma-separated states. */
  state?: string;
  from?: string;
  to?: string;
}

/**
 * Whether an event is overdue is computed from now(): cached event tiles are also keyed by the minute,
 * so an event turns overdue on the map at most a minute late even when nothing else changed.
 */
const OVERDUE_FRESHNESS_MS = 60_000;

/** Event tiles carry events only (their sub-type code, state and times). */
const EVENT_TILE_DEPENDS_ON = ['events'] as const;


export function requireLayer(id: string): TileLayerDefinition {
  const layer = TILE_LAYERS[id];
  if (!layer) throw new AppError('NOT_FOUND', 404, `No tile layer "${id}". Layers: ${Object.keys(TILE_LAYERS).join(', ')}.`, { in: 'params', field: 'layer', layer: id, layers: Object.keys(TILE_LAYERS) });
  return layer;
}

export function checkTileAddress(z: number, x: number, y: number): void {
  const n = 2 ** z;
  if (x >= n || y >= n) {
    throw new AppError('VALIDATION_FAILED', 400, `Tile ${z}/${x}/${y} does not exist: at zoom ${z}, x and y run from 0 to ${n - 1}.`, { in: 'params', field: x >= n ? 'x' : 'y', z, x, y });
  }
}

export class TileService {
  readonly cache: TileCache;

  constructor(
    private readonly db: Database,
    cacheLimits: TileCacheLimits = {},
  ) {
    this.cache = new TileCache(cacheLimits);
  }

  /** A tile in this encoding, made on first use and kept with it (and counted by the cache). */
  encoded(tile: CachedTile, encoding: TileEncoding): Promise<Buffer> {
    return this.cache.encoded(tile, encoding);
  }

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

  /**
   * A tile of a public layer. Not async: a cached tile is returned as it is, without a promise and its
   * microtasks (the web map's hot path); rendering returns its promise.
   */
  tile(layerId: string, z: number, x: number, y: number, layoutId?: number): CachedTile | Promise<CachedTile> {
    const layer = requireLayer(layerId);
    checkTileAddress(z, x, y);
    if (layoutId !== undefined) return this.layoutTile(layer, z, x, y, layoutId);
    const key = this.cache.key(layer.dependsOn, `${layer.id}//${z}/${x}/${y}`);
    return this.cache.get(key) ?? this.render(key, () => renderTile(this.db, layer, z, x, y));
  }

  /** A grids tile of a given (published or archived) layout. */
  private async layoutTile(layer: TileLayerDefinition, z: number, x: number, y: number, layoutId: number): Promise<CachedTile> {
    if (layer.id !== 'grids') throw new AppError('VALIDATION_FAILED', 400, 'Only the grids layer takes ?layout=.', { in: 'querystring', field: 'layout' });
    if (!(await isTileableLayout(this.db, layoutId))) throw new AppError('LAYOUT_NOT_FOUND', 404, `Layout ${layoutId} is not a published or archived layout.`, { in: 'querystring', field: 'layout', layoutId });
    const key = this.cache.key(layer.dependsOn, `${layer.id}/${layoutId}/${z}/${x}/${y}`);
    return this.cache.get(key) ?? this.render(key, () => renderTile(this.db, layer, z, x, y, layoutId));
  }

  /** Render a tile that is not cached, and cache it. */
  private async render(key: string, render: () => Promise<Buffer>): Promise<CachedTile> {
    const raw = ownBytes(await render());
    const tile: CachedTile = { raw, etag: etagFor(raw) };
    this.cache.set(key, tile);
    return tile;
  }

  /**
   * An events tile for this principal: narrowed to their scope (as the listing is), filtered by the
   * query. Cached like the other layers, keyed by scope and filters as well; a cached tile is returned
   * without a promise, as in `tile`.
   */
  eventTile(principal: Principal, z: number, x: number, y: number, q: EventTileQuery): CachedTile | Promise<CachedTile> {
    checkTileAddress(z, x, y);
    if (z < EVENT_MINZOOM || z > EVENT_MAXZOOM) {
      throw new AppError('VALIDATION_FAILED', 400, `Event tiles exist from zoom ${EVENT_MINZOOM} to ${EVENT_MAXZOOM}.`, { in: 'params', field: 'z', value: z });
    }
    // The common request has no filters: its filter and key need no parsing (the cached path is mostly
    // this key; see README "Benchmarks").
    const unfiltered = q.category === undefined && q.state === undefined && q.from === undefined && q.to === undefined;
    const filter: EventTileFilter = unfiltered ? { scopePrefixes: principal.scope.all ? null : principal.scope.prefixes } : eventTileFilter(principal, q);
    const queryKey = unfiltered ? '' : [filter.category ?? '', filter.states?.join(',') ?? '', filter.from?.toISOString() ?? '', filter.to?.toISOString() ?? ''].join(';');
    const minute = Math.floor(Date.now() / OVERDUE_FRESHNESS_MS);
    const key = this.cache.key(EVENT_TILE_DEPENDS_ON, `events/${minute}/${scopeKeyOf(principal.scope)}/${queryKey}/${z}/${x}/${y}`);
    return this.cache.get(key) ?? this.render(key, () => renderEventTile(this.db, z, x, y, filter));
  }

  /** The events layer's TileJSON for this principal: its bounds are those of the events in their scope. */
  async eventTileJson(principal: Principal, baseUrl: string): Promise<Record<string, unknown>> {
    const bounds = await eventBounds(this.db, principal.scope.all ? null : principal.scope.prefixes);
    const description = `Events (事件): counts per square cell (1/16 of a tile) below zoom ${EVENT_POINT_MINZOOM}, the events themselves from it on; no personal data`;
    return {
      tilejson: '3.0.0',
      name: 'events',
      description,
      scheme: 'xyz',
      tiles: [`${baseUrl}/tiles/events/{z}/{x}/{y}.mvt`],
      minzoom: EVENT_MINZOOM,
      maxzoom: EVENT_MAXZOOM,
      bounds: bounds ?? [-180, -85.0511, 180, 85.0511],
      vector_layers: [
        { id: 'event_cells', description: 'Events per cell: count, open (not closed or rejected), overdue', minzoom: EVENT_MINZOOM, maxzoom: EVENT_POINT_MINZOOM - 1, fields: EVENT_CELL_FIELDS },
        { id: 'events', description: 'One point per event: its id as the feature id; sub-type code, state, reported time (Unix seconds), overdue', minzoom: EVENT_POINT_MINZOOM, maxzoom: EVENT_MAXZOOM, fields: EVENT_POINT_FIELDS },
      ],
    };
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
      vector_layers: [
        { id: layer.id, description: layer.description, minzoom: layer.minzoom, maxzoom: layer.maxzoom, fields: layer.fields },
        ...(layer.labels ? [{ id: layer.labels.id, description: layer.labels.description, minzoom: layer.minzoom, maxzoom: layer.maxzoom, fields: layer.labels.fields }] : []),
      ],
    };
  }
}

/** Cached principals share one frozen scope object: its key is built once, not on every request. */
const scopeKeys = new WeakMap<Scope, string>();

/** The scope part of an event tile's cache key: '*' for everything, else the sorted prefixes. */
function scopeKeyOf(scope: Scope): string {
  let key = scopeKeys.get(scope);
  if (key === undefined) {
    key = scope.all ? '*' : [...scope.prefixes].sort().join(',');
    if (Object.isFrozen(scope)) scopeKeys.set(scope, key);
  }
  return key;
}

function eventTileFilter(principal: Principal, q: EventTileQuery): EventTileFilter {
  const states = q.state?.split(',');
  const bad = states?.find((s) => !(EVENT_STATES as readonly string[]).includes(s));
  if (bad !== undefined) throw new AppError('VALIDATION_FAILED', 400, `Unknown state "${bad}". States: ${EVENT_STATES.join(', ')}.`, { in: 'querystring', field: 'state', value: bad });
  const from = q.from === undefined ? undefined : new Date(q.from);
  const to = q.to === undefined ? undefined : new Date(q.to);
  if (from && to && from.getTime() >= to.getTime()) throw new AppError('VALIDATION_FAILED', 400, '"from" must be before "to".', { in: 'querystring', field: 'from' });
  return {
    scopePrefixes: principal.scope.all ? null : principal.scope.prefixes,
    ...(states ? { states } : {}),
    ...(q.category ? { category: q.category } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
  };
}
