import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponseSchema, IdParamsSchema, commonErrorResponses } from '../../contracts/common';
import {
  EditResultSchema,
  GeometryFixQuerySchema,
  GridAtQuerySchema,
  GridAtResultSchema,
  GridCollectionSchema,
  GridListQuerySchema,
  GridFeatureSchema,
  GridInputSchema,
  GridWriteResultSchema,
  MergeBodySchema,
  MergeResultSchema,
  SnapBodySchema,
  SplitBodySchema,
  SplitResultSchema,
} from '../../contracts/grid';
import { FillGapBodySchema } from '../../contracts/layout';
import type { AppConfig } from '../../config';
import type { Database } from '../../db/database';
import { requireRoutePermission } from '../../auth/request-auth';
import { etagOf, parseIfMatch, requireIfMatch } from '../../http/preconditions';
import type { Scope } from '../../auth/principal';
import { clipGrid, createGrid, fillGap, findGridAt, getGrid, listGridCollection, mergeGrids, removeGrid, replaceGrid, snapGrid, splitGrid, type GridWriteOptions } from './grid.service';

const writeErrors = {
  ...commonErrorResponses,
  404: ErrorResponseSchema,
  409: ErrorResponseSchema,
  412: ErrorResponseSchema,
  422: ErrorResponseSchema,
  428: ErrorResponseSchema,
} as const;

export const gridRoutes: FastifyPluginAsyncTypebox<{ db: Database; config: AppConfig }> = async (app, { db, config }) => {
  const geometryOptions = (fix: boolean | undefined, scope: Scope): GridWriteOptions => ({ fix: fix === true, maxVertices: config.maxVertices, scope });

  app.post(
    '/api/v1/layouts/:id/grids',
    {
      config: { permission: 'layouts:write' },
      schema: {
        tags: ['grids'],
        summary: 'Add a grid to a draft layout',
        params: IdParamsSchema,
        querystring: GeometryFixQuerySchema,
        body: GridInputSchema,
        response: { 201: GridWriteResultSchema, ...writeErrors },
      },
    },
    async (request, reply) => {
      const result = await createGrid(db, request.params.id, request.body, geometryOptions(request.query.fix, request.principal.scope));
      return reply.status(201).header('etag', etagOf(result.grid.properties.version)).header('location', `/api/v1/grids/${result.grid.id}`).send(result);
    },
  );

  app.get(
    '/api/v1/grids',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['grids'],
        summary: 'Grids of the published layouts (or of one layout) as GeoJSON, optionally within a bbox',
        querystring: GridListQuerySchema,
        response: { 200: GridCollectionSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      // Published grids are public; one named layout may be a draft, which needs layouts:read.
      if (request.query.layout !== undefined) requireRoutePermission(request.principal, 'layouts:read');
      return listGridCollection(db, { ...(request.query.layout === undefined ? {} : { layoutId: request.query.layout }), ...(request.query.bbox === undefined ? {} : { bbox: request.query.bbox }), ...(request.query.limit === undefined ? {} : { limit: request.query.limit }) }, request.principal.scope);
    },
  );

  app.get(
    '/api/v1/grids/at',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['grids'],
        summary: 'Which published grid covered a point at an instant (layout history)',
        querystring: GridAtQuerySchema,
        response: { 200: GridAtResultSchema, ...commonErrorResponses },
      },
    },
    async (request) => findGridAt(db, request.query.lon, request.query.lat, request.query.at ? new Date(request.query.at) : new Date()),
  );

  app.get(
    '/api/v1/grids/:id',
    {
      config: { permission: 'layouts:read' },
      schema: { tags: ['grids'], summary: 'One grid as a GeoJSON Feature (ETag = version)', params: IdParamsSchema, response: { 200: GridFeatureSchema, 404: ErrorResponseSchema, ...commonErrorResponses } },
    },
    async (request, reply) => {
      const grid = await getGrid(db, request.params.id, request.principal.scope);
      return reply.header('etag', etagOf(grid.properties.version)).send(grid);
    },
  );

  app.put(
    '/api/v1/grids/:id',
    {
      config: { permission: 'layouts:write' },
      schema: {
        tags: ['grids'],
        summary: 'Replace a grid\'s geometry and properties (If-Match required; 412 on a stale version)',
        params: IdParamsSchema,
        querystring: GeometryFixQuerySchema,
        headers: Type.Object({ 'if-match': Type.Optional(Type.String()) }),
        body: GridInputSchema,
        response: { 200: GridWriteResultSchema, ...writeErrors },
      },
    },
    async (request, reply) => {
      const version = requireIfMatch(request.headers['if-match']);
      const result = await replaceGrid(db, request.params.id, version, request.body, geometryOptions(request.query.fix, request.principal.scope));
      return reply.header('etag', etagOf(result.grid.properties.version)).send(result);
    },
  );

  app.delete(
    '/api/v1/grids/:id',
    {
      config: { permission: 'layouts:write' },
      schema: {
        tags: ['grids'],
        summary: 'Delete a grid of a draft layout (If-Match optional)',
        params: IdParamsSchema,
        headers: Type.Object({ 'if-match': Type.Optional(Type.String()) }),
        response: { 204: Type.Null(), ...writeErrors },
      },
    },
    async (request, reply) => {
      await removeGrid(db, request.params.id, parseIfMatch(request.headers['if-match']), request.principal.scope);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/grids/:id/split',
    {
      config: { permission: 'layouts:write' },
      schema: { tags: ['grids'], summary: 'Split a grid by a line; the larger part keeps id and code', params: IdParamsSchema, body: SplitBodySchema, response: { 200: SplitResultSchema, ...writeErrors } },
    },
    async (request) => splitGrid(db, request.params.id, request.body.line, request.principal.scope),
  );

  app.post(
    '/api/v1/grids/merge',
    {
      config: { permission: 'layouts:write' },
      schema: { tags: ['grids'], summary: 'Merge adjacent grids of one draft layout; the largest keeps id and code', body: MergeBodySchema, response: { 200: MergeResultSchema, ...writeErrors } },
    },
    async (request) => mergeGrids(db, request.body.ids, request.principal.scope),
  );

  app.post(
    '/api/v1/grids/:id/snap',
    {
      config: { permission: 'layouts:write' },
      schema: { tags: ['grids'], summary: 'Snap vertices to neighbouring grids and the community boundary', params: IdParamsSchema, body: SnapBodySchema, response: { 200: EditResultSchema, ...writeErrors } },
    },
    async (request) => snapGrid(db, request.params.id, request.body.toleranceM ?? 1, request.principal.scope),
  );

  app.post(
    '/api/v1/grids/:id/clip',
    {
      config: { permission: 'layouts:write' },
      schema: { tags: ['grids'], summary: 'Cut away the parts outside the community boundary', params: IdParamsSchema, response: { 200: EditResultSchema, ...writeErrors } },
    },
    async (request) => clipGrid(db, request.params.id, request.principal.scope),
  );

  app.post(
    '/api/v1/layouts/:id/fill-gap',
    {
      config: { permission: 'layouts:write' },
      schema: {
        tags: ['grids'],
        summary: 'Give a gap to the neighbouring grid sharing the longest edge with it (or to gridId)',
        params: IdParamsSchema,
        body: FillGapBodySchema,
        response: { 200: EditResultSchema, ...writeErrors },
      },
    },
    async (request) => fillGap(db, request.params.id, request.body.gap, request.body.gridId, request.principal.scope),
  );
};
