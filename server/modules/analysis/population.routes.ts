import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorResponseSchema, commonErrorResponses } from '../../contracts/common';
import { PopulationQuerySchema, PopulationReportSchema } from '../../contracts/population';
import type { Database } from '../../db/database';
import { populationReport } from './population.service';

export const populationRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/api/v1/analysis/population',
    {
      config: { permission: 'analysis:read' },
      schema: {
        tags: ['analysis'],
        summary: 'Residents and households per grid or community, counts below 5 suppressed',
        querystring: PopulationQuerySchema,
        response: { 200: PopulationReportSchema, 403: ErrorResponseSchema, ...commonErrorResponses },
      },
    },
    async (request) => populationReport(db, request.principal, request.query),
  );
};
