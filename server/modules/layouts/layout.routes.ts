import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponseSchema, IdParamsSchema, commonErrorResponses } from '../../contracts/common';
import {
  AssignCodesResultSchema,
  CommunityParamsSchema,
  CreateLayoutBodySchema,
  LayoutCollectionSchema,
  LayoutDownloadQuerySchema,
  LayoutListSchema,
  LayoutSchema,
  PublishBodySchema,
} from '../../contracts/layout';
import { LayoutValidationOptionsSchema, LayoutValidationReportSchema } from '../../contracts/layout-validation';
import { auditActor } from '../../auth/request-auth';
import type { AppConfig } from '../../config';
import type { Database } from '../../db/database';
import { validateLayout } from './layout-validation.service';
import { requireReadableLayout, assignCodes, createDraft, deleteDraft, getLayoutCollection, listCommunityLayouts, publishLayout } from './layout.service';

const errors = { ...commonErrorResponses, 404: ErrorResponseSchema, 409: ErrorResponseSchema, 422: ErrorResponseSchema } as const;

const PublishResultSchema = Type.Object({
  layout: LayoutSchema,
  archivedLayoutId: Type.Union([Type.Integer(), Type.Null()]),
  assigned: AssignCodesResultSchema.properties.assigned,
  validation: Type.Unknown(),
});

export const layoutRoutes: FastifyPluginAsyncTypebox<{ db: Database; config: AppConfig }> = async (app, { db }) => {
  app.get(
    '/api/v1/communities/:code/layouts',
    { config: { permission: 'layouts:read' }, schema: { tags: ['layouts'], summary: 'Layouts of a community, newest first', params: CommunityParamsSchema, response: { 200: LayoutListSchema, ...errors } } },
    async (request) => ({ layouts: await listCommunityLayouts(db, request.params.code, request.principal.scope) }),
  );

  app.post(
    '/api/v1/communities/:code/layouts',
    {
      config: { permission: 'layouts:write' },
      schema: {
        tags: ['layouts'],
        summary: 'Create a draft: a copy of the published layout (default) or empty',
        params: CommunityParamsSchema,
        body: CreateLayoutBodySchema,
        response: { 201: LayoutSchema, ...errors },
      },
    },
    async (request, reply) => {
      const layout = await createDraft(db, request.params.code, request.body, request.principal.scope);
      return reply.status(201).header('location', `/api/v1/layouts/${layout.id}`).send(layout);
    },
  );

  app.get(
    '/api/v1/layouts/:id',
    {
      config: { permission: 'layouts:read' },
      schema: {
        tags: ['layouts'],
        summary: 'A layout as a GeoJSON FeatureCollection (export with ?download=true)',
        params: IdParamsSchema,
        querystring: LayoutDownloadQuerySchema,
        response: { 200: LayoutCollectionSchema, ...errors },
      },
    },
    async (request, reply) => {
      const collection = await getLayoutCollection(db, request.params.id, request.principal.scope);
      if (request.query.download) {
        const file = `layout-${collection.layout.communityCode}-${collection.layout.id}.geojson`;
        void reply.header('content-disposition', `attachment; filename="${file}"`).type('application/geo+json');
      }
      return collection;
    },
  );

  app.delete(
    '/api/v1/layouts/:id',
    { config: { permission: 'layouts:write' }, schema: { tags: ['layouts'], summary: 'Delete a draft layout', params: IdParamsSchema, response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await deleteDraft(db, request.params.id, request.principal.scope);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/layouts/:id/validation',
    {
      config: { permission: 'layouts:read' },
      schema: {
        tags: ['layouts'],
        summary: 'Topology report: overlaps, gaps, outside parts, slivers, multi-part grids, household balance',
        params: IdParamsSchema,
        querystring: LayoutValidationOptionsSchema,
        response: { 200: LayoutValidationReportSchema, ...errors },
      },
    },
    async (request) => {
      await requireReadableLayout(db, request.params.id, request.principal.scope);
      return validateLayout(db, request.params.id, request.query);
    },
  );

  app.post(
    '/api/v1/layouts/:id/codes',
    { config: { permission: 'layouts:write' }, schema: { tags: ['layouts'], summary: 'Give uncoded grids of a draft their standard codes now', params: IdParamsSchema, response: { 200: AssignCodesResultSchema, ...errors } } },
    async (request) => assignCodes(db, request.params.id, request.principal.scope),
  );

  app.post(
    '/api/v1/layouts/:id/publish',
    {
      config: { permission: 'layouts:publish' },
      schema: {
        tags: ['layouts'],
        summary: 'Publish a draft; the previous published layout is archived at the same instant',
        params: IdParamsSchema,
        body: Type.Optional(PublishBodySchema),
        response: { 200: PublishResultSchema, ...errors },
      },
    },
    async (request) => publishLayout(db, request.params.id, { strict: request.body?.strict === true, actor: auditActor(request), scope: request.principal.scope }),
  );
};
