/**
 * /api/v1/events: intake (Idempotency-Key), workflow transitions, timeline, listing (JSON or GeoJSON),
 * the taxonomy, daily/monthly reports and KPIs (JSON or CSV).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppConfig } from '../../config';
import { ErrorResponseSchema, commonErrorResponses, PG_INT_MAX } from '../../contracts/common';
import {
  CreateEventBodySchema,
  DailyReportQuerySchema,
  DailyReportSchema,
  EventFeatureCollectionSchema,
  EventIdParamsSchema,
  EventListQuerySchema,
  EventListSchema,
  EventSchema,
  IdempotencyHeadersSchema,
  KpiQuerySchema,
  KpiReportSchema,
  MonthlyEventsReportQuerySchema,
  MonthlyEventsReportSchema,
  TaxonomyInputSchema,
  TaxonomySchema,
  TimelineSchema,
  TransitionBodySchema,
  TransitionResultSchema,
} from '../../contracts/events';
import type { Database } from '../../db/database';
import { auditActor } from '../../auth/request-auth';
import { IDEMPOTENCY_KEY } from '../../http/errors';
import { etagOf, parseIfMatch } from '../../http/preconditions';
import type { DispatchService } from '../dispatch/dispatch.service';
import { registryCipherFromConfig } from '../registry/registry-crypto';
import { dailyReport, dailyReportCsv, kpiCsv, kpiReport, monthlyReport, monthlyReportCsv } from './event-report.service';
import { getEvent, getTaxonomy, getTimeline, listEventPage, publishTaxonomy, reportEvent, toEventFeatureCollection, transitionEvent, type EventContext } from './event.service';

const errors = { ...commonErrorResponses, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema } as const;
const writeErrors = { ...errors, 409: ErrorResponseSchema, 412: ErrorResponseSchema } as const;
const tags = ['events'];

export interface EventRoutesOptions {
  db: Database;
  config: AppConfig;
  /** Intake routes from its in-memory index while that is live (PostGIS otherwise). */
  dispatch?: DispatchService;
  /** Overrides for tests (clock, duplicate window). */
  context?: Partial<EventContext>;
}

export const eventRoutes: FastifyPluginAsyncTypebox<EventRoutesOptions> = async (app, { db, config, dispatch, context }) => {
  const ctx: EventContext = { db, cipher: registryCipherFromConfig(config), ...(dispatch ? { dispatch } : {}), ...context };

  app.post('/api/v1/events', {
    config: { permission: 'events:write' },
    schema: {
      tags, summary: 'Report an event (routed to the grid in force; Idempotency-Key makes retries safe)',
      headers: IdempotencyHeadersSchema, body: CreateEventBodySchema, response: { 200: EventSchema, 201: EventSchema, ...writeErrors },
    },
  }, async (request, reply) => {
    const principal = request.principal;
    const result = await reportEvent(ctx, principal, request.body, {
      source: 'api',
      principalKey: principal.userId !== null ? `user:${principal.userId}` : `token:${principal.tokenId ?? 0}`,
      actor: auditActor(request),
      ...(request.headers['idempotency-key'] ? { idempotency: { key: request.headers['idempotency-key'], where: IDEMPOTENCY_KEY } } : {}),
    });
    if (result.replayed) void reply.header('idempotent-replayed', 'true');
    void reply.header('location', `/api/v1/events/${result.event.id}`).header('etag', etagOf(result.event.version));
    return reply.status(result.statusCode === 200 ? 200 : 201).send(result.event);
  });

  app.get('/api/v1/events', {
    config: { permission: 'events:read' },
    schema: {
      tags, summary: 'List events, newest first (filters; keyset paging by `after`; format=geojson for a FeatureCollection)',
      querystring: EventListQuerySchema, response: { 200: Type.Union([EventListSchema, EventFeatureCollectionSchema]), ...errors },
    },
  }, async (request) => {
    const list = await listEventPage(ctx, request.principal, request.query);
    return request.query.format === 'geojson' ? toEventFeatureCollection(list) : list;
  });

  app.get('/api/v1/events/:id', {
    config: { permission: 'events:read' },
    schema: { tags, summary: 'One event', params: EventIdParamsSchema, response: { 200: EventSchema, ...errors } },
  }, async (request, reply) => {
    const event = await getEvent(ctx, request.principal, request.params.id);
    void reply.header('etag', etagOf(event.version));
    return event;
  });

  app.get('/api/v1/events/:id/timeline', {
    config: { permission: 'events:read' },
    schema: { tags, summary: 'Every transition of an event (who, when, from, to, note)', params: EventIdParamsSchema, response: { 200: TimelineSchema, ...errors } },
  }, async (request) => getTimeline(ctx, request.principal, request.params.id));

  app.post('/api/v1/events/:id/transitions', {
    config: { permission: 'events:write' },
    schema: {
      tags, summary: 'Apply a workflow action (approve/reject_extension also need events:supervise); 409 lists the actions allowed now',
      params: EventIdParamsSchema, body: TransitionBodySchema, response: { 200: TransitionResultSchema, ...writeErrors },
    },
  }, async (request, reply) => {
    const ifMatch = parseIfMatch(request.headers['if-match']);
    const result = await transitionEvent(ctx, request.principal, request.params.id, request.body, { actor: auditActor(request), ...(ifMatch === undefined ? {} : { ifMatch }) });
    void reply.header('etag', etagOf(result.event.version));
    return result;
  });

  app.get('/api/v1/event-categories', {
    config: { permission: 'reports:read' },
    schema: {
      tags, summary: 'The event taxonomy (active version, or ?version=)',
      querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1, maximum: PG_INT_MAX })) }), response: { 200: TaxonomySchema, ...errors },
    },
  }, async (request) => getTaxonomy(db, request.query.version));

  app.post('/api/v1/event-categories', {
    config: { permission: 'events:configure' },
    schema: { tags, summary: 'Publish a new taxonomy version (events:configure, city-wide scope; audited)', body: TaxonomyInputSchema, response: { 201: TaxonomySchema, ...writeErrors } },
  }, async (request, reply) => reply.status(201).send(await publishTaxonomy(db, request.principal, request.body, auditActor(request))));

  app.get('/api/v1/events/reports/daily', {
    config: { permission: 'reports:read' },
    schema: { tags, summary: 'Daily report per grid, community or street (format=csv to download)', querystring: DailyReportQuerySchema, response: { 200: Type.Union([DailyReportSchema, Type.String()]), ...errors } },
  }, async (request, reply) => {
    const report = await dailyReport(db, request.principal, request.query);
    if (request.query.format !== 'csv') return report;
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="events-daily-${report.date}-${report.level}.csv"`).send(dailyReportCsv(report));
  });

  app.get('/api/v1/events/reports/monthly', {
    config: { permission: 'reports:read' },
    schema: { tags, summary: 'Monthly report: registry changes (with registry:read) and the month\'s events', querystring: MonthlyEventsReportQuerySchema, response: { 200: Type.Union([MonthlyEventsReportSchema, Type.String()]), ...errors } },
  }, async (request, reply) => {
    const report = await monthlyReport(db, request.principal, request.query);
    if (request.query.format !== 'csv') return report;
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="events-monthly-${report.month}.csv"`).send(monthlyReportCsv(report));
  });

  app.get('/api/v1/events/kpis', {
    config: { permission: 'reports:read' },
    schema: { tags, summary: 'KPIs per grid or staff member for a period; ranked only with at least minEvents events', querystring: KpiQuerySchema, response: { 200: Type.Union([KpiReportSchema, Type.String()]), ...errors } },
  }, async (request, reply) => {
    const report = await kpiReport(db, request.principal, request.query);
    if (request.query.format !== 'csv') return report;
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="events-kpis-${report.by}.csv"`).send(kpiCsv(report));
  });
};
