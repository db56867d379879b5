import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponseSchema, commonErrorResponses } from '../../contracts/common';
import type { Database } from '../../db/database';
import type { RoutePermission } from '../../auth/principal';
import { OGC_COLLECTIONS } from './ogc-collections';
import { CONFORMANCE, DEFAULT_LIMIT, describeCollection, getItem, getItems, landingPage, listCollections, MAX_LIMIT, queryables, requireCollection, sourceContext } from './ogc.service';

const AnyJson = Type.Record(Type.String(), Type.Unknown());
const errors = { ...commonErrorResponses, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema } as const;
const CollectionParams = Type.Object({ collectionId: Type.String({ pattern: '^[a-z_]{1,40}$' }) });
// No control characters: PostgreSQL text cannot hold NUL, and no feature id has one.
const FeatureId = Type.String({ maxLength: 64, pattern: '^[^\\u0000-\\u001f]*$' });
/** Output formats: only GeoJSON (OGC API clients send f=json); anything else is a 400, not JSON anyway. */
const Format = Type.Union([Type.Literal('json'), Type.Literal('geojson'), Type.Literal('application/json'), Type.Literal('application/geo+json')]);
/**
 * Every OGC resource takes `f` (clients send f=json to each). Unknown query parameters are refused, as
 * OGC API – Features requires (/req/core/query-param-unknown), here by server/http/query-parameters.ts;
 * on items they are property filters, checked by the service against the collection's queryables.
 */
const FormatQuery = Type.Object({ f: Type.Optional(Format) });
const ItemsQuery = Type.Object(
  {
    bbox: Type.Optional(Type.String()),
    'bbox-crs': Type.Optional(Type.String()),
    crs: Type.Optional(Type.String()),
    datetime: Type.Optional(Type.String()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
    f: Type.Optional(Format),
  },
  { additionalProperties: Type.Union([Type.String(), Type.Number()]) },
);

export const ogcRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  const base = (request: { protocol: string; host: string }): string => `${request.protocol}://${request.host}`;
  const schema = (summary: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ tags: ['ogc'], summary, querystring: FormatQuery, response: { 200: AnyJson, ...errors }, ...extra });

  app.get('/ogc', { config: { permission: 'public' }, schema: schema('OGC API – Features landing page') }, async (request) => landingPage(base(request)));
  app.get('/ogc/conformance', { config: { permission: 'public' }, schema: schema('Conformance classes') }, async () => ({ conformsTo: CONFORMANCE }));
  app.get(
    '/ogc/collections',
    { config: { permission: 'public' }, schema: schema('Feature collections (restricted ones, such as events, only when signed in with their permission)') },
    async (request) => listCollections(db, base(request), request.principal),
  );

  /**
   * The four collection routes, registered once with `:collectionId` for the public collections and
   * once per restricted collection on its own static path (find-my-way prefers static segments), so
   * that the route itself declares the permission and the authorization matrix covers it.
   */
  const register = (prefix: string, permission: RoutePermission, fixedId?: string): void => {
    const params = fixedId === undefined ? { params: CollectionParams } : {};
    const idOf = (request: { params: unknown }): string => fixedId ?? (request.params as { collectionId: string }).collectionId;
    const what = fixedId === undefined ? '' : ` (${fixedId}; ${permission}, your scope only)`;
    app.get(prefix, { config: { permission }, schema: { ...schema(`One collection${what}`), ...params } }, async (request) =>
      describeCollection(db, base(request), requireCollection(idOf(request), request.principal), sourceContext(request.principal)),
    );
    app.get(`${prefix}/queryables`, { config: { permission }, schema: { ...schema(`Properties usable as filters${what}`), ...params } }, async (request, reply) =>
      reply.type('application/schema+json').send(queryables(base(request), requireCollection(idOf(request), request.principal))),
    );
    app.get(
      `${prefix}/items`,
      { config: { permission }, schema: { ...schema(`Features, paged; bbox, datetime, crs, bbox-crs and property filters${what}`), ...params, querystring: ItemsQuery } },
      async (request, reply) => {
        const { bbox, 'bbox-crs': bboxCrs, crs, datetime, limit, offset, f: _format, ...extra } = request.query;
        const collection = requireCollection(idOf(request), request.principal);
        const { body, crs: used } = await getItems(db, base(request), collection, sourceContext(request.principal), {
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
      `${prefix}/items/:featureId`,
      {
        config: { permission },
        schema: {
          ...schema(`One feature${what}`),
          params: fixedId === undefined ? Type.Object({ collectionId: CollectionParams.properties.collectionId, featureId: FeatureId }) : Type.Object({ featureId: FeatureId }),
          querystring: Type.Object({ crs: Type.Optional(Type.String()), f: Type.Optional(Format) }),
        },
      },
      async (request, reply) => {
        const { featureId } = request.params;
        const { crs: crsParam } = request.query as { crs?: string };
        const collection = requireCollection(idOf(request), request.principal);
        const { body, crs } = await getItem(db, base(request), collection, sourceContext(request.principal), featureId, crsParam);
        return reply.type('application/geo+json').header('content-crs', `<${crs}>`).send(body);
      },
    );
  };

  register('/ogc/collections/:collectionId', 'public');
  for (const c of OGC_COLLECTIONS) if (c.permission) register(`/ogc/collections/${c.id}`, c.permission, c.id);
};
