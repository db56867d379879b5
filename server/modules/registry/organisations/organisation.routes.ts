/** /api/v1/organisations: list, get, create, replace (If-Match), soft delete with reason. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponseSchema, IdParamsSchema, commonErrorResponses } from '../../../contracts/common';
import { DeleteBodySchema, OrganisationInputSchema, OrganisationListQuerySchema, OrganisationListSchema, OrganisationSchema } from '../../../contracts/registry';
import type { Database } from '../../../db/database';
import { etagOf, parseIfMatch, requireIfMatch } from '../../../http/preconditions';
import { principalOf } from '../registry-access';
import { createOrganisation, deleteOrganisation, getOrganisation, listOrganisationPage, replaceOrganisation } from './organisation.service';

const errors = { ...commonErrorResponses, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema } as const;
const writeErrors = { ...errors, 409: ErrorResponseSchema, 412: ErrorResponseSchema, 422: ErrorResponseSchema, 428: ErrorResponseSchema } as const;
const tags = ['registry'];

export const organisationRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get('/api/v1/organisations', { config: { permission: 'registry:read' }, schema: { tags, summary: 'Organisations (filters: grid, community, bbox, text, kind)', querystring: OrganisationListQuerySchema, response: { 200: OrganisationListSchema, ...errors } } }, async (request) =>
    listOrganisationPage(db, principalOf(request), request.query),
  );
  app.get('/api/v1/organisations/:id', { config: { permission: 'registry:read' }, schema: { tags, params: IdParamsSchema, response: { 200: OrganisationSchema, ...errors } } }, async (request, reply) => {
    const o = await getOrganisation(db, principalOf(request), request.params.id);
    return reply.header('etag', etagOf(o.version)).send(o);
  });
  app.post('/api/v1/organisations', { config: { permission: 'registry:write' }, schema: { tags, body: OrganisationInputSchema, response: { 201: OrganisationSchema, ...writeErrors } } }, async (request, reply) => {
    const o = await createOrganisation(db, principalOf(request), request.body);
    return reply.status(201).header('etag', etagOf(o.version)).header('location', `/api/v1/organisations/${o.id}`).send(o);
  });
  app.put('/api/v1/organisations/:id', { config: { permission: 'registry:write' }, schema: { tags, params: IdParamsSchema, body: OrganisationInputSchema, response: { 200: OrganisationSchema, ...writeErrors } } }, async (request, reply) => {
    const o = await replaceOrganisation(db, principalOf(request), request.params.id, requireIfMatch(request.headers['if-match']), request.body);
    return reply.header('etag', etagOf(o.version)).send(o);
  });
  app.delete('/api/v1/organisations/:id', { config: { permission: 'registry:write' }, schema: { tags, params: IdParamsSchema, body: DeleteBodySchema, response: { 204: Type.Null(), ...writeErrors } } }, async (request, reply) => {
    await deleteOrganisation(db, principalOf(request), request.params.id, parseIfMatch(request.headers['if-match']), request.body.reason);
    return reply.status(204).send(null);
  });
};
