import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponseSchema, commonErrorResponses, PG_INT_MAX } from '../../contracts/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ifNoneMatchHits } from '../../http/preconditions';
import { tileEncoding } from './accept-encoding';
import type { CachedTile } from './tile-cache';
import type { TileService } from './tile.service';

const TileParams = Type.Object({
  layer: Type.String({ pattern: '^[a-z_]{1,32}$' }),
  z: Type.Integer({ minimum: 0, maximum: 22 }),
  x: Type.Integer({ minimum: 0 }),
  y: Type.Integer({ minimum: 0 }),
});

const TileAddress = Type.Object({ z: TileParams.properties.z, x: TileParams.properties.x, y: TileParams.properties.y });

/** Filters of the events layer (each optional; the same meaning as in GET /api/v1/events). */
const EventTileQuery = Type.Object({
  category: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)?$', maxLength: 64, description: 'a sub-type code, or a category code for all its sub-types' })),
  state: Type.Optional(Type.String({ pattern: '^[a-z_]+(,[a-z_]+)*$', maxLength: 200, description: 'comma-separated states' })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'reported at or after' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'reported before' })),
});

/**
 * Answer with a tile: 304 when the client has it, else its Brotli, gzip or raw bytes, as the client
 * accepts (accept-encoding.ts). Synchronous when nothing needs compressing (a cached tile keeps each
 * encoding it was sent in); the first compression of a tile returns a promise. The tile's headers go
 * on only with its bytes, so an error while compressing is a plain error answer, not one that claims
 * to be a compressed, cacheable tile.
 */
function sendTile(tiles: TileService, request: FastifyRequest, reply: FastifyReply, tile: CachedTile, cacheControl: string): void | Promise<void> {
  if (ifNoneMatchHits(request.headers['if-none-match'], tile.etag)) {
    void tileHeaders(reply, tile, cacheControl).status(304).send(null);
    return;
  }
  const encoding = tileEncoding(request.headers['accept-encoding']);
  if (encoding === undefined) {
    void tileHeaders(reply, tile, cacheControl).type('application/vnd.mapbox-vector-tile').send(tile.raw);
    return;
  }
  const kept = tile[encoding];
  if (kept) {
    void tileHeaders(reply, tile, cacheControl).type('application/vnd.mapbox-vector-tile').header('content-encoding', encoding).send(kept);
    return;
  }
  return tiles.encoded(tile, encoding).then((encoded) => {
    void tileHeaders(reply, tile, cacheControl).type('application/vnd.mapbox-vector-tile').header('content-encoding', encoding).send(encoded);
  });
}

/**
 * Validators and caching: clients revalidate each time (cheap 304s), so a tile is never shown stale
 * after an edit. Vary is added to, not replaced: CORS puts `Origin` there, and a shared cache must keep
 * both apart.
 */
function tileHeaders(reply: FastifyReply, tile: CachedTile, cacheControl: string): FastifyReply {
  const vary = reply.getHeader('vary');
  return reply
    .header('etag', tile.etag)
    .header('cache-control', cacheControl)
    .header('vary', vary === undefined ? 'accept-encoding' : `${String(vary)}, accept-encoding`);
}

/** Send a tile the service returned: at once when it came from the cache, else when rendered. */
function answerTile(tiles: TileService, request: FastifyRequest, reply: FastifyReply, tile: CachedTile | Promise<CachedTile>, cacheControl: string): void | Promise<void> {
  if (tile instanceof Promise) return tile.then((t) => sendTile(tiles, request, reply, t, cacheControl));
  return sendTile(tiles, request, reply, tile, cacheControl);
}

export const tileRoutes: FastifyPluginAsyncTypebox<{ tiles: TileService }> = async (app, { tiles }) => {
  // Events are not public (their places and kinds say things about residents): events:read, narrowed to
  // the caller's scope. A static path, so it wins over /tiles/:layer/… (which refuses "events" anyway).
  app.get(
    '/tiles/events/:z/:x/:y.mvt',
    {
      config: { permission: 'events:read' },
      schema: {
        tags: ['tiles'],
        summary: 'Events as a Mapbox Vector Tile: counts per cell below z15, the events from z15 on (no personal data); your scope only',
        params: TileAddress,
        querystring: EventTileQuery,
        response: { 200: Type.Any(), 304: Type.Null(), 401: ErrorResponseSchema, 403: ErrorResponseSchema, ...commonErrorResponses },
      },
    },
    // Not async: a cached tile is sent without a promise (answerTile).
    (request, reply) => {
      const { z, x, y } = request.params;
      // private: the answer depends on who asks (scope), so shared caches must not keep it.
      return answerTile(tiles, request, reply, tiles.eventTile(request.principal, z, x, y, request.query), 'private, max-age=0, must-revalidate');
    },
  );

  app.get(
    '/tiles/events.json',
    {
      config: { permission: 'events:read' },
      schema: { tags: ['tiles'], summary: 'TileJSON 3.0 document of the events layer', response: { 200: Type.Record(Type.String(), Type.Unknown()), 401: ErrorResponseSchema, 403: ErrorResponseSchema, ...commonErrorResponses } },
    },
    async (request) => tiles.eventTileJson(request.principal, `${request.protocol}://${request.host}`),
  );
  app.get(
    '/tiles/:layer/:z/:x/:y.mvt',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['tiles'],
        summary: 'A Mapbox Vector Tile of a layer (divisions, grids, roads, buildings); Brotli or gzip, ETag, revalidated on every use',
        params: TileParams,
        querystring: Type.Object({ layout: Type.Optional(Type.Integer({ minimum: 1, maximum: PG_INT_MAX, description: 'a published or archived layout (grids only)' })) }),
        response: { 200: Type.Any(), 304: Type.Null(), 404: ErrorResponseSchema, ...commonErrorResponses },
      },
    },
    (request, reply) => {
      const { layer, z, x, y } = request.params;
      return answerTile(tiles, request, reply, tiles.tile(layer, z, x, y, request.query.layout), 'public, max-age=0, must-revalidate');
    },
  );

  app.get(
    '/tiles/:layer.json',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['tiles'],
        summary: 'TileJSON 3.0 document of a layer',
        params: Type.Object({ layer: Type.String({ pattern: '^[a-z_]{1,32}$' }) }),
        response: { 200: Type.Record(Type.String(), Type.Unknown()), 404: ErrorResponseSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const base = `${request.protocol}://${request.host}`;
      return tiles.tileJson(request.params.layer, base);
    },
  );
};
