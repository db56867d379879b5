import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponseSchema, commonErrorResponses } from '../../contracts/common';
import type { TileService } from './tile.service';

const TileParams = Type.Object({
  layer: Type.String({ pattern: '^[a-z_]{1,32}$' }),
  z: Type.Integer({ minimum: 0, maximum: 22 }),
  x: Type.Integer({ minimum: 0 }),
  y: Type.Integer({ minimum: 0 }),
});

export const tileRoutes: FastifyPluginAsyncTypebox<{ tiles: TileService }> = async (app, { tiles }) => {
  app.get(
    '/tiles/:layer/:z/:x/:y.mvt',
    {
      // Helmet's page headers (CSP, frame options, …) mean nothing for binary tiles and halve the
      // throughput of the cached path; nosniff is set below.
      helmet: false,
      config: { permission: 'public' },
      schema: {
        tags: ['tiles'],
        summary: 'A Mapbox Vector Tile of a layer (divisions, grids, roads); gzip, ETag, revalidated on every use',
        params: TileParams,
        querystring: Type.Object({ layout: Type.Optional(Type.Integer({ minimum: 1, description: 'a published or archived layout (grids only)' })) }),
        response: { 200: Type.Any(), 304: Type.Null(), 404: ErrorResponseSchema, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      const { layer, z, x, y } = request.params;
      const tile = await tiles.tile(layer, z, x, y, request.query.layout);
      // Clients revalidate each time (cheap 304s): a tile is never shown stale after an edit.
      void reply.header('x-content-type-options', 'nosniff').header('etag', tile.etag).header('cache-control', 'public, max-age=0, must-revalidate').header('vary', 'accept-encoding');
      if (request.headers['if-none-match'] === tile.etag) return reply.status(304).send(null);
      void reply.type('application/vnd.mapbox-vector-tile');
      if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) return reply.header('content-encoding', 'gzip').send(tile.gzip);
      return reply.send(tile.raw);
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
