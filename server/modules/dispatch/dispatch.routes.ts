/**
 * GET /api/v1/dispatch/lookup (point or address) and POST /api/v1/dispatch/lookup (batch).
 *
 * The point lookup is the hotline's hot path: helmet's page headers (CSP, frame options, …) mean
 * nothing for a JSON answer and cost a large share of the request, so they are off here and nosniff is
 * set by hand; the answer is serialised by the compiled schema serializer of the point result.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { commonErrorResponses, ErrorResponseSchema } from '../../contracts/common';
import {
  DispatchAddressResponseSchema,
  DispatchBatchBodySchema,
  DispatchBatchResponseSchema,
  DispatchLookupQuerySchema,
  DispatchLookupResponseSchema,
  DispatchResultSchema,
} from '../../contracts/dispatch';
import { AppError } from '../../http/errors';
import type { DispatchService } from './dispatch.service';

// Fastify caches compiled serializers per schema object; TypeBox schemas are plain JSON Schema.
const RESULT_SCHEMA = DispatchResultSchema as unknown as Record<string, unknown>;
const ADDRESS_SCHEMA = DispatchAddressResponseSchema as unknown as Record<string, unknown>;

const errors = { ...commonErrorResponses, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 413: ErrorResponseSchema };

export const dispatchRoutes: FastifyPluginAsyncTypebox<{ dispatch: DispatchService }> = async (app, { dispatch }) => {
  app.addHook('onReady', async () => {
    await dispatch.refresh();
  });

  app.get(
    '/api/v1/dispatch/lookup',
    {
      helmet: false,
      config: { permission: 'dispatch:lookup' },
      schema: {
        tags: ['dispatch'],
        summary: 'Who is responsible here and on duty now: by lon/lat (crs wgs84|gcj02|bd09) or by address',
        querystring: DispatchLookupQuerySchema,
        response: { 200: DispatchLookupResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { lon, lat, address, at, crs, limit } = request.query;
      void reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-store');
      if (address !== undefined) {
        if (lon !== undefined || lat !== undefined) {
          throw new AppError('VALIDATION_FAILED', 400, 'Send either address or lon/lat, not both.', { in: 'querystring', reason: 'ADDRESS_AND_POSITION' });
        }
        const answer = await dispatch.lookupAddress(address, { at, limit });
        return reply.serializer(reply.compileSerializationSchema(ADDRESS_SCHEMA)).send(answer);
      }
      if (lon === undefined || lat === undefined) {
        throw new AppError('VALIDATION_FAILED', 400, 'Send lon and lat (or address).', {
          in: 'querystring',
          reason: 'POSITION_REQUIRED',
          missing: [lon === undefined ? 'lon' : null, lat === undefined ? 'lat' : null].filter((f) => f !== null),
        });
      }
      const answer = await dispatch.lookupPoint({ lon, lat, crs, at });
      return reply.serializer(reply.compileSerializationSchema(RESULT_SCHEMA)).send(answer);
    },
  );

  app.post(
    '/api/v1/dispatch/lookup',
    {
      helmet: false,
      config: { permission: 'dispatch:lookup' },
      schema: {
        tags: ['dispatch'],
        summary: 'Batch lookup: up to 10,000 points, answers in the same order',
        body: DispatchBatchBodySchema,
        response: { 200: DispatchBatchResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      void reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-store');
      return { results: await dispatch.lookupBatch(request.body) };
    },
  );
};
