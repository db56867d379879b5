import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  EventClustersQuerySchema,
  EventClustersResponseSchema,
  EventCountsQuerySchema,
  EventCountsResponseSchema,
  EventDensityQuerySchema,
  EventDensityResponseSchema,
  EventEmergingQuerySchema,
  EventEmergingResponseSchema,
  EventHotspotsQuerySchema,
  EventHotspotsResponseSchema,
  EventLocalMoranQuerySchema,
  EventLocalMoranResponseSchema,
  EventPointsQuerySchema,
  EventPointsResponseSchema,
} from '../../contracts/analysis-events';
import { ErrorResponseSchema, commonErrorResponses } from '../../contracts/common';
import type { Database } from '../../db/database';
import { eventClusters, eventCounts, eventDensity, eventEmerging, eventHotspots, eventLocalMoran, eventPoints } from './analysis-events.service';

const errors = { ...commonErrorResponses, 403: ErrorResponseSchema } as const;
// Analysts read aggregates only: no route here returns a reporter, description or address, and
// population-derived numbers follow the small-count suppression of the population report.
const permission = { permission: 'analysis:read' } as const;
const tags = ['analysis'];

/** Analysis over stored events (issue #8); every answer is GeoJSON with the statistics as properties and a summary. */
export const analysisEventRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/api/v1/analysis/counts',
    {
      config: permission,
      schema: { tags, summary: 'Events per grid, hexagon or square (with filters), optionally per 1,000 residents / 100 households', querystring: EventCountsQuerySchema, response: { 200: EventCountsResponseSchema, ...errors } },
    },
    async (request) => eventCounts(db, request.principal, request.query),
  );

  app.get(
    '/api/v1/analysis/hotspots',
    {
      config: permission,
      schema: { tags, summary: 'Getis-Ord Gi* (or Gi) per unit over stored events: gi, z, p, ArcGIS bin', querystring: EventHotspotsQuerySchema, response: { 200: EventHotspotsResponseSchema, ...errors } },
    },
    async (request) => eventHotspots(db, request.principal, request.query),
  );

  app.get(
    '/api/v1/analysis/local-moran',
    {
      config: permission,
      schema: { tags, summary: "Local Moran's I per unit over stored events: Ii, E, Var, Z, p, quadrant", querystring: EventLocalMoranQuerySchema, response: { 200: EventLocalMoranResponseSchema, ...errors } },
    },
    async (request) => eventLocalMoran(db, request.principal, request.query),
  );

  app.get(
    '/api/v1/analysis/density',
    {
      config: permission,
      schema: {
        tags,
        summary: 'Quartic kernel density of stored events (events per km²) as GeoJSON cells, or format=png with X-Bounds: west,south,east,north',
        querystring: EventDensityQuerySchema,
        response: { 200: EventDensityResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      const answer = await eventDensity(db, request.principal, request.query);
      if (answer.kind === 'geojson') return answer.body;
      void reply
        .type('image/png')
        .header('x-bounds', answer.bounds.join(','))
        .header('x-density-max', String(answer.maxDensity))
        .header('x-events', String(answer.events))
        .header('access-control-expose-headers', 'x-bounds, x-density-max, x-events');
      // A Buffer is sent as it is (Fastify serialises only objects), so the JSON schema of 200 does not apply.
      return reply.send(answer.png as never);
    },
  );

  app.get(
    '/api/v1/analysis/clusters',
    {
      config: permission,
      schema: { tags, summary: 'DBSCAN clusters of stored events (ST_ClusterDBSCAN): hull, count, first and last report', querystring: EventClustersQuerySchema, response: { 200: EventClustersResponseSchema, ...errors } },
    },
    async (request) => eventClusters(db, request.principal, request.query),
  );

  app.get(
    '/api/v1/analysis/emerging',
    {
      config: permission,
      schema: { tags, summary: 'Emerging hot spots (space-time Gi* per slice + Mann–Kendall trend, ArcGIS categories)', querystring: EventEmergingQuerySchema, response: { 200: EventEmergingResponseSchema, ...errors } },
    },
    async (request) => eventEmerging(db, request.principal, request.query),
  );

  app.get(
    '/api/v1/analysis/points',
    {
      config: permission,
      schema: { tags, summary: 'Stored events as points (id, category, state, reportedAt; no personal data), newest first, capped', querystring: EventPointsQuerySchema, response: { 200: EventPointsResponseSchema, ...errors } },
    },
    async (request) => eventPoints(db, request.principal, request.query),
  );
};
