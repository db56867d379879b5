/**
 * Open311 GeoReport v2 at /open311/v2 (JSON): services are our sub-types, requests are events. Public:
 * POST is rate-limited per client address (PUBLIC_INTAKE_RATE_LIMIT_PER_MINUTE); GETs show only the
 * requests filed through Open311, never events reported internally (family disputes, hazards …).
 * POST takes application/x-www-form-urlencoded, as the spec says, or JSON.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppConfig } from '../../config';
import { ErrorResponseSchema, commonErrorResponses } from '../../contracts/common';
import {
  Open311CreateBodySchema,
  Open311CreatedSchema,
  Open311IdParamsSchema,
  Open311QuerySchema,
  Open311RequestListSchema,
  Open311RequestsQuerySchema,
  Open311ServiceListSchema,
} from '../../contracts/open311';
import { IdempotencyHeadersSchema } from '../../contracts/events';
import type { Database } from '../../db/database';
import { auditActor } from '../../auth/request-auth';
import { IDEMPOTENCY_KEY } from '../../http/errors';
import { rateLimitFor } from '../../http/rate-limit';
import { registryCipherFromConfig } from '../registry/registry-crypto';
import type { DispatchService } from '../dispatch/dispatch.service';
import type { EventContext } from './event.service';
import { getOpen311Request, listOpen311Requests, listOpen311Services, submitOpen311Request } from './open311.service';

const errors = { ...commonErrorResponses, 404: ErrorResponseSchema, 409: ErrorResponseSchema, 429: ErrorResponseSchema } as const;
const tags = ['open311'];

export const open311Routes: FastifyPluginAsyncTypebox<{ db: Database; config: AppConfig; dispatch?: DispatchService; context?: Partial<EventContext> }> = async (app, { db, config, dispatch, context }) => {
  const ctx: EventContext = { db, cipher: registryCipherFromConfig(config), ...(dispatch ? { dispatch } : {}), ...context };

  // Form bodies for this plugin's routes only (encapsulated); repeated keys keep the last value.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get('/open311/v2/services.json', {
    config: { permission: 'public' },
    schema: { tags, summary: 'GeoReport v2 service list: the event sub-types', querystring: Open311QuerySchema, response: { 200: Open311ServiceListSchema, ...errors } },
  }, async () => listOpen311Services(db));

  app.post('/open311/v2/requests.json', {
    config: { permission: 'public', rateLimit: rateLimitFor('publicIntake', config) },
    schema: {
      tags, summary: 'GeoReport v2: file a service request (form-encoded or JSON)',
      headers: IdempotencyHeadersSchema, querystring: Open311QuerySchema, body: Open311CreateBodySchema, response: { 201: Open311CreatedSchema, 200: Open311CreatedSchema, ...errors },
    },
  }, async (request, reply) => {
    const result = await submitOpen311Request(ctx, request.principal, request.body, {
      ip: request.ip, actor: auditActor(request),
      ...(request.headers['idempotency-key'] ? { idempotency: { key: request.headers['idempotency-key'], where: IDEMPOTENCY_KEY } } : {}),
    });
    return reply.status(result.statusCode === 200 ? 200 : 201).send(result.body);
  });

  app.get('/open311/v2/requests.json', {
    config: { permission: 'public' },
    schema: { tags, summary: 'GeoReport v2: service requests filed through Open311', querystring: Open311RequestsQuerySchema, response: { 200: Open311RequestListSchema, ...errors } },
  }, async (request) => listOpen311Requests(db, request.query));

  app.get('/open311/v2/requests/:id.json', {
    config: { permission: 'public' },
    schema: { tags, summary: 'GeoReport v2: one service request', params: Open311IdParamsSchema, querystring: Open311QuerySchema, response: { 200: Open311RequestListSchema, ...errors } },
  }, async (request) => getOpen311Request(db, Number(request.params.id)));
};
