import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponseSchema, commonErrorResponses } from '../../contracts/common';
import type { Database } from '../../db/database';
import { CONFORMANCE, DEFAULT_LIMIT, describeCollection, getItem, getItems, landingPage, listCollections, MAX_LIMIT, queryables, requireCollection } from './ogc.service';

const AnyJson = Type.Record(Type.String(), Type.Unknown());
const errors = { ...commonErrorResponses, 404: ErrorResponseSchema } as const;
const CollectionParams = Type.Object({ collectionId: Type.String({ pattern: '^[a-z_]{1,40}$' }) });
const ItemsQuery = Type.Object(
  {
    bbox: Type.Optional(Type.String()),
    'bbox-crs': Type.Optional(Type.String()),
    crs: Type.Optional(Type.String()),
    datetime: Type.Optional(Type.String()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
    f: Type.Optional(Type.String()),
  },
  { additionalProperties: Type.Union([Type.String(), Type.Number()]) },
);

export const ogcRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  const base = (request: { protocol: string; host: string }): string => `${request.protocol}://${request.host}`;
  const schema = (summary: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ tags: ['ogc'], summary, response: { 200: AnyJson, ...errors }, ...extra });

  app.get('/ogc', { config: { permission: 'public' }, schema: schema('OGC API – Features landing page') }, async (request) => landingPage(base(request)));
  app.get('/ogc/conformance', { config: { permission: 'public' }, schema: schema('Conformance classes') }, async () => ({ conformsTo: CONFORMANCE }));
  app.get('/ogc/collections', { config: { permission: 'public' }, schema: schema('Feature collections') }, async (request) => listCollections(db, base(request)));
  app.get(
    '/ogc/collections/:collectionId',
    { config: { permission: 'public' }, schema: { ...schema('One collection'), params: CollectionParams } },
    async (request) => describeCollection(db, base(request), requireCollection(request.params.collectionId)),
  );
  app.get(
    '/ogc/collections/:collectionId/queryables',
    { config: { permission: 'public' }, schema: { ...schema('Properties usable as filters'), params: CollectionParams } },
    async (request, reply) => reply.type('application/schema+json').send(queryables(base(request), requireCollection(request.params.collectionId))),
  );
  app.get(
    '/ogc/collections/:collectionId/items',
    { config: { permission: 'public' }, schema: { ...schema('Features, paged; bbox, datetime, crs, bbox-crs and property filters'), params: CollectionParams, querystring: ItemsQuery } },
    async (request, reply) => {
      const { bbox, 'bbox-crs': bboxCrs, crs, datetime, limit, offset, f: _format, ...extra } = request.query;
      const { body, crs: used } = await getItems(db, base(request), requireCollection(request.params.collectionId), {
        ...(bbox === undefined ? {} : { bbox }),
        ...(bboxCrs === undefined ? {} : { bboxCrs }),
        ...(crs === undefined ? {} : { crs }),
        ...(datetime === undefined ? {} : { datetime }),
        ...(limit === undefined ? {} : { limit }),
        ...(offset === undefined ? {} : { offset }),
        extra,
      });
      return reply.type('application/geo+json').header('content-crs', `<${used}>`).send(body);
    },
  );
  app.get(
    '/ogc/collections/:collectionId/items/:featureId',
    {
      config: { permission: 'public' },
      schema: { ...schema('One feature'), params: Type.Object({ collectionId: Type.String({ pattern: '^[a-z_]{1,40}$' }), featureId: Type.String({ maxLength: 64 }) }), querystring: Type.Object({ crs: Type.Optional(Type.String()), f: Type.Optional(Type.String()) }) },
    },
    async (request, reply) => {
      const { body, crs } = await getItem(db, base(request), requireCollection(request.params.collectionId), request.params.featureId, request.query.crs);
      return reply.type('application/geo+json').header('content-crs', `<${crs}>`).send(body);
    },
  );
};
